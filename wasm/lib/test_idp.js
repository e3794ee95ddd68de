'use strict';
// "refrtc-test-idp" for tests and examples — the JS twin of stack/include/refrtc/test_identity_provider.h
// (same token, same key → a native peer validates a WASM peer's assertion and back). Not for
// production: a shared HMAC key stands in for the IdP's server.
//
// Token (the assertion string), JSON: {"identity", "contents", "expires" (unix ms, 0 = never),
// "signature": lowercase hex HMAC-SHA256(key, "refrtc-test-idp\n" + identity + "\n" + expires +
// "\n" + contents)}. HMAC through WebCrypto (globalThis.crypto.subtle: Node >= 19 and browsers).
const { RTCError } = require('./errors.js');

const FAILURES = new Set(['none', 'badSignature', 'error', 'timeout', 'needLogin']);
const enc = new TextEncoder();

async function sign(key, identity, contents, expires) {
  const subtle = globalThis.crypto && globalThis.crypto.subtle;
  if (!subtle) throw new Error('refrtc-test-idp: WebCrypto (crypto.subtle) is not available');
  const k = await subtle.importKey('raw', enc.encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await subtle.sign('HMAC', k, enc.encode(`refrtc-test-idp\n${identity}\n${expires}\n${contents}`)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}

function idpError(errorDetail, message, extra = {}) {
  const e = new RTCError({ errorDetail }, message);
  Object.assign(e, extra);
  return e;
}

class TestIdentityProvider {
  // options: {domain = 'idp.example', key, name = '' (usernameHint, else user@domain),
  //   fail = 'none'|'badSignature'|'error'|'timeout'|'needLogin', loginUrl, lifetimeMs = 0 (never expires)}
  constructor(options = {}) {
    const fail = options.fail || 'none';
    if (!FAILURES.has(fail)) throw new TypeError(`refrtc-test-idp: unknown failure '${fail}'`);
    this.domain = options.domain || 'idp.example';
    this.key = String(options.key ?? '');
    this.name = options.name || '';
    this.fail = fail;
    this.loginUrl = options.loginUrl || 'https://idp.example/login';
    this.lifetimeMs = options.lifetimeMs || 0;
  }
  static sign(key, identity, contents, expires) { return sign(key, identity, contents, expires); }
  static async makeToken(key, identity, contents, expires = 0) {
    return JSON.stringify({ identity, contents, expires, signature: await sign(key, identity, contents, expires) });
  }

  // GenerateAssertionCallback(contents, origin, options) → Promise<RTCIdentityAssertionResult>.
  async generateAssertion(contents, origin, options = {}) {
    if (this.fail === 'error') throw new Error('refrtc-test-idp: injected error');
    if (this.fail === 'timeout') return new Promise(() => {});
    if (this.fail === 'needLogin') {
      // §9.3.1: a login error is an RTCError "idp-need-login" carrying the login URL.
      throw idpError('idp-need-login', 'refrtc-test-idp: the user is not logged in',
        { idpLoginUrl: this.loginUrl, idpErrorInfo: 'login-required' });
    }
    const name = this.name || options.usernameHint || `user@${this.domain}`;
    const expires = this.lifetimeMs > 0 ? Date.now() + this.lifetimeMs : 0;
    const token = JSON.parse(await TestIdentityProvider.makeToken(this.key, name, contents, expires));
    if (this.fail === 'badSignature') token.signature = (token.signature[0] === '0' ? '1' : '0') + token.signature.slice(1);
    return { idp: { domain: this.domain, protocol: options.protocol || 'default' }, assertion: JSON.stringify(token) };
  }

  // ValidateAssertionCallback(assertion, origin) → Promise<RTCIdentityValidationResult>.
  async validateAssertion(assertion, origin) { // eslint-disable-line no-unused-vars
    if (this.fail === 'error') throw new Error('refrtc-test-idp: injected error');
    if (this.fail === 'timeout') return new Promise(() => {});
    const invalid = (why) => idpError('idp-token-invalid', `refrtc-test-idp: ${why}`);
    let t;
    try { t = JSON.parse(assertion); } catch { throw invalid('token is not JSON'); }
    if (!t || typeof t !== 'object' || typeof t.identity !== 'string' || typeof t.contents !== 'string' ||
        typeof t.signature !== 'string' || !Number.isInteger(t.expires)) {
      throw invalid('token lacks identity/contents/expires/signature');
    }
    if (await sign(this.key, t.identity, t.contents, t.expires) !== t.signature) throw invalid('bad signature');
    if (t.expires !== 0 && Date.now() > t.expires) throw idpError('idp-token-expired', 'refrtc-test-idp: the token expired');
    return { identity: t.identity, contents: t.contents };
  }
}

module.exports = { TestIdentityProvider };
