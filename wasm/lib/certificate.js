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

// generateCertificate(AlgorithmIdentifier keygenAlgorithm). Only ECDSA P-256 is implemented
// by the engine; RSASSA-PKCS1-v1_5 and anything else reject with NotSupportedError (step 2:
// "If the algorithm is not supported ... reject with NotSupportedError").
function generateCertificate(keygenAlgorithm) {
  return new Promise((resolve, reject) => {
    let alg = keygenAlgorithm;
    if (typeof alg === 'string') alg = { name: alg };
    if (!alg || typeof alg !== 'object' || typeof alg.name !== 'string') {
      reject(new TypeError('generateCertificate: keygenAlgorithm must name an algorithm'));
      return;
    }
    const name = alg.name.toUpperCase();
    if (name !== 'ECDSA' || (alg.namedCurve !== undefined && alg.namedCurve !== 'P-256')) {
      reject(domError('NotSupportedError',
        `generateCertificate: ${alg.name}${alg.namedCurve ? ' ' + alg.namedCurve : ''} is not supported (only ECDSA P-256)`));
      return;
    }
    // §4.9.1 RTCCertificateExpiration.expires: an unsigned long long of milliseconds.
    let expires = DEFAULT_EXPIRES_MS;
    if (alg.expires !== undefined) {
      expires = Number(alg.expires);
      if (!Number.isFinite(expires) || expires < 0) {
        reject(new TypeError('generateCertificate: expires must be a non-negative number'));
        return;
      }
      expires = Math.min(Math.floor(expires), MAX_EXPIRES_MS);
    }
    let core;
    try { core = getCore(); } catch (e) { reject(e); return; }
    queueTask(() => {
      const r = core.generateCertificate(randomSeed(), unixTimeS(), expires);
      if (r.error) reject(makeError(r.error));
      else resolve(new RTCCertificate(TOKEN, r.certificate));
    });
  });
}

module.exports = { RTCCertificate, generateCertificate };
