'use strict';
// Error objects: DOMException (WebIDL §3.14) for the names the engine reports, real ECMAScript
// TypeError/RangeError for those two, and RTCError / RTCErrorEvent (W3C webrtc-pc §11.1, §11.2).

// The engine reports `{ error: { name, message } }` (BINDING.md "Conventions").
function makeError(err) {
  const name = (err && err.name) || 'OperationError';
  const message = (err && err.message) || name;
  if (name === 'TypeError') return new TypeError(message);
  if (name === 'RangeError') return new RangeError(message);
  if (name === 'SyntaxError' && err && err.ecma) return new SyntaxError(message);
  // An RTCError (webrtc-pc §11.1) when the engine gave an errorDetail (e.g. webrtc-identity's idp-*).
  if (name === 'OperationError' && err && err.errorDetail && ERROR_DETAILS.has(err.errorDetail)) {
    return new RTCError({ errorDetail: err.errorDetail }, message);
  }
  return new DOMException(message, name);
}

function domError(name, message) { return new DOMException(message || name, name); }

// Throws the converted error if `result` carries one, else returns it.
function check(result) {
  if (result && result.error) throw makeError(result.error);
  return result;
}

const ERROR_DETAILS = new Set([
  'data-channel-failure', 'dtls-failure', 'fingerprint-failure', 'sctp-failure',
  'sdp-syntax-error', 'hardware-encoder-not-available', 'hardware-encoder-error',
  // webrtc-identity §9.5 (RTCErrorDetailType extension)
  'idp-bad-script-failure', 'idp-execution-failure', 'idp-load-failure', 'idp-need-login', 'idp-timeout',
  'idp-tls-failure', 'idp-token-expired', 'idp-token-invalid',
]);

// §11.1 RTCError: a DOMException whose name is always "OperationError".
class RTCError extends DOMException {
  constructor(init, message = '') {
    if (!init || typeof init !== 'object') throw new TypeError('RTCError: init must be an object');
    if (!ERROR_DETAILS.has(String(init.errorDetail))) {
      throw new TypeError(`RTCError: invalid errorDetail '${init.errorDetail}'`);
    }
    super(String(message), 'OperationError');
    const opt = (v) => (v === undefined || v === null ? null : Number(v));
    Object.defineProperties(this, {
      _errorDetail: { value: String(init.errorDetail) },
      _sdpLineNumber: { value: opt(init.sdpLineNumber) },
      _sctpCauseCode: { value: opt(init.sctpCauseCode) },
      _receivedAlert: { value: opt(init.receivedAlert) },
      _sentAlert: { value: opt(init.sentAlert) },
      _httpRequestStatusCode: { value: opt(init.httpRequestStatusCode) },
    });
  }
  get errorDetail() { return this._errorDetail; }
  get sdpLineNumber() { return this._sdpLineNumber; }
  get sctpCauseCode() { return this._sctpCauseCode; }
  get receivedAlert() { return this._receivedAlert; }
  get sentAlert() { return this._sentAlert; }
  get httpRequestStatusCode() { return this._httpRequestStatusCode; }
}

// §11.2 RTCErrorEvent.
class RTCErrorEvent extends Event {
  constructor(type, init) {
    if (!init || !(init.error instanceof DOMException)) {
      throw new TypeError("RTCErrorEvent: init.error must be an RTCError");
    }
    super(type, init);
    Object.defineProperty(this, '_error', { value: init.error });
  }
  get error() { return this._error; }
}

module.exports = { makeError, domError, check, RTCError, RTCErrorEvent };
