'use strict';
// Minimal read-only transport objects: W3C webrtc-pc §5.5 RTCDtlsTransport, §5.6 RTCIceTransport,
// §6.1.1 RTCSctpTransport. Their state is read from the engine (pc.state()) when asked. They are
// EventTargets with on<event> attributes, but the engine reports no per-transport events yet, so
// statechange/error/gatheringstatechange/selectedcandidatepairchange are never fired (the
// RTCPeerConnection-level state events are).
const { defineEventHandlers } = require('./event_handlers.js');

const TOKEN = Symbol('transport');

class RTCIceTransport extends EventTarget {
  constructor(token, pc) { if (token !== TOKEN) throw new TypeError('Illegal constructor'); super(); this._pc = pc; }
  get role() { return 'unknown'; }
  get component() { return 'rtp'; }
  // §5.6: RTCIceTransportState mirrors the aggregate iceConnectionState for a single transport.
  get state() { return this._pc.iceConnectionState; }
  get gatheringState() { return this._pc.iceGatheringState; }
  getSelectedCandidatePair() { return this._pc._selectedCandidatePair(); }
}
defineEventHandlers(RTCIceTransport.prototype, ['statechange', 'gatheringstatechange', 'selectedcandidatepairchange']);

class RTCDtlsTransport extends EventTarget {
  constructor(token, pc) {
    if (token !== TOKEN) throw new TypeError('Illegal constructor');
    super();
    this._pc = pc;
    this._ice = new RTCIceTransport(TOKEN, pc);
  }
  get iceTransport() { return this._ice; }
  get state() { return this._pc._snapshot().dtlsState || 'new'; }
  getRemoteCertificates() { return []; }
}
defineEventHandlers(RTCDtlsTransport.prototype, ['statechange', 'error']);

class RTCSctpTransport extends EventTarget {
  constructor(token, pc, dtls) {
    if (token !== TOKEN) throw new TypeError('Illegal constructor');
    super();
    this._pc = pc;
    this._dtls = dtls;
  }
  _s() { return this._pc._snapshot().sctp || {}; }
  get transport() { return this._dtls; }
  get state() { return this._s().state || 'connecting'; }
  get maxMessageSize() { const m = this._s().maxMessageSize; return m === undefined || m === null ? 65536 : m; }
  get maxChannels() { return this._s().maxChannels ?? null; }
}
defineEventHandlers(RTCSctpTransport.prototype, ['statechange']);

for (const C of [RTCIceTransport, RTCDtlsTransport, RTCSctpTransport]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name });
}

module.exports = { RTCIceTransport, RTCDtlsTransport, RTCSctpTransport, TOKEN };
