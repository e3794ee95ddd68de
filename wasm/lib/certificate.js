'use strict';
// W3C webrtc-pc §4.9 certificate management: RTCCertificate (§4.9.2) and the static
// RTCPeerConnection.generateCertificate() (§4.9.1 RTCCertificateExpiration, §4.4.3 static method).
const { getCore } = require('./core.js');
const { domError, makeError } = require('./errors.js');
const { queueTask, randomSeed, unixTimeS } = require('./util.js');

const TOKEN = Symbol('RTCCertificate');
const DEFAULT_EXPIRES_MS = 30 * 24 * 3600 * 1000;   // implementation-defined default (30 days)
const MAX_EXPIRES_MS = 365 * 24 * 3600 * 1000;      // §4.9.1: UAs MAY cap at 365 days

const registry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry((c) => { try { c.delete(); } catch (e) { /* already freed */ } })
  : null;

class RTCCertificate {
  constructor(token, engineCert) {
    if (token !== TOKEN) throw new TypeError('Illegal constructor');
    Object.defineProperty(this, '_cert', { value: engineCert });
    Object.defineProperty(this, '_expires', { value: engineCert.expires() });
    Object.defineProperty(this, '_fingerprints', { value: engineCert.getFingerprints() });
    if (registry) registry.register(this, engineCert);
  }
  // binding.cc also accepts a wrapper exposing the engine object as `__core`.
  get __core() { return this._cert; }
  // DOMHighResTimeStamp ms since the epoch (§4.9.2).
  get expires() { return this._expires; }
  getFingerprints() { return this._fingerprints.map((f) => ({ algorithm: f.algorithm, value: f.value })); }
}
Object.defineProperty(RTCCertificate.prototype, Symbol.toStringTag, { value: 'RTCCertificate' });

// WebCrypto's BigInteger (a big-endian Uint8Array) as a number; also accepts a plain array of
// bytes. Returns undefined when it is not a byte sequence, Infinity when it does not fit 2^53.
function bigIntegerToNumber(v) {
  let bytes;
  if (ArrayBuffer.isView(v)) bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  else if (v instanceof ArrayBuffer) bytes = new Uint8Array(v);
  else if (Array.isArray(v) && v.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) bytes = v;
  else return undefined;
  let n = 0;
  for (const b of bytes) {
    n = n * 256 + b;
    if (n > Number.MAX_SAFE_INTEGER) return Infinity;
  }
  return n;
}

// WebCrypto "normalize an algorithm" (generateKey) for the two algorithms §4.9 names, as far as
// the engine needs it: the name matched ASCII case-insensitively; missing required members or wrong
// types → TypeError; unknown algorithms → NotSupportedError. "ECDSA" alone means P-256 (refrtc
// leniency). Whether the values are supported is the engine's call (RTCKeygenAlgorithm).
function normalizeKeygenAlgorithm(keygenAlgorithm) {
  let alg = keygenAlgorithm;
  if (typeof alg === 'string') alg = { name: alg };
  if (!alg || typeof alg !== 'object' || typeof alg.name !== 'string') {
    throw new TypeError('generateCertificate: keygenAlgorithm must name an algorithm');
  }
  const name = alg.name.toUpperCase();
  if (name === 'ECDSA') {
    if (alg.namedCurve !== undefined && typeof alg.namedCurve !== 'string') throw new TypeError('namedCurve must be a string');
    return { name: 'ECDSA', namedCurve: alg.namedCurve === undefined ? 'P-256' : alg.namedCurve };
  }
  if (name === 'RSASSA-PKCS1-V1_5') {
    if (typeof alg.modulusLength !== 'number' || !Number.isFinite(alg.modulusLength) || alg.modulusLength < 0) {
      throw new TypeError('RsaKeyGenParams.modulusLength is required');
    }
    const publicExponent = bigIntegerToNumber(alg.publicExponent);
    if (publicExponent === undefined) throw new TypeError('RsaKeyGenParams.publicExponent must be a Uint8Array');
    const hash = typeof alg.hash === 'string' ? alg.hash : (alg.hash && typeof alg.hash.name === 'string' ? alg.hash.name : undefined);
    if (hash === undefined) throw new TypeError('RsaHashedKeyGenParams.hash is required');
    return {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: Math.floor(alg.modulusLength),
      publicExponent: Number.isFinite(publicExponent) ? publicExponent : -1,
      hash,
    };
  }
  throw domError('NotSupportedError', `generateCertificate: ${alg.name} is not supported (ECDSA P-256 or RSASSA-PKCS1-v1_5)`);
}

// generateCertificate(AlgorithmIdentifier keygenAlgorithm): ECDSA P-256 or RSASSA-PKCS1-v1_5
// (SHA-256, modulusLength 1024..8192, publicExponent 65537); anything else rejects with
// NotSupportedError ("If the normalizedKeygenAlgorithm parameter identifies an algorithm that the user
// agent cannot or will not use to generate a certificate for RTCPeerConnection, return a promise that
// is rejected with a DOMException of type NotSupportedError"). Key generation runs in a later task,
// synchronously on this thread: RSA-2048 takes a moment under WebAssembly (see README).
function generateCertificate(keygenAlgorithm) {
  return new Promise((resolve, reject) => {
    let alg;
    try { alg = normalizeKeygenAlgorithm(keygenAlgorithm); } catch (e) { reject(e); return; }
    // §4.9.1 RTCCertificateExpiration.expires: an unsigned long long of milliseconds.
    let expires = DEFAULT_EXPIRES_MS;
    const given = keygenAlgorithm && typeof keygenAlgorithm === 'object' ? keygenAlgorithm.expires : undefined;
    if (given !== undefined) {
      expires = Number(given);
      if (!Number.isFinite(expires) || expires < 0) {
        reject(new TypeError('generateCertificate: expires must be a non-negative number'));
        return;
      }
      expires = Math.min(Math.floor(expires), MAX_EXPIRES_MS);
    }
    let core;
    try { core = getCore(); } catch (e) { reject(e); return; }
    queueTask(() => {
      // ECDSA through the original entry point (the unit tests' fake core has only that one).
      let r;
      if (alg.name === 'ECDSA' && alg.namedCurve === 'P-256') r = core.generateCertificate(randomSeed(), unixTimeS(), expires);
      else if (typeof core.generateCertificateWith !== 'function') r = { error: { name: 'NotSupportedError', message: `${alg.name} is not supported by this core` } };
      else r = core.generateCertificateWith(randomSeed(), unixTimeS(), expires, alg);
      if (r.error) reject(makeError(r.error));
      else resolve(new RTCCertificate(TOKEN, r.certificate));
    });
  });
}

module.exports = { RTCCertificate, generateCertificate };
