'use strict';
// W3C webrtc-pc §6.2 RTCDataChannel. The engine owns the channel (named by a numeric handle,
// BINDING.md "Data channels"); this object mirrors it for JS: readyState is updated when the
// corresponding event fires ("update the state, then fire"), the rest is read from the engine.
const { defineEventHandlers } = require('./event_handlers.js');
const { domError, makeError, RTCError, RTCErrorEvent } = require('./errors.js');

const TOKEN = Symbol('RTCDataChannel');
const ERROR_DETAILS = ['data-channel-failure', 'dtls-failure', 'fingerprint-failure',
  'sctp-failure', 'sdp-syntax-error'];

function byteLengthOf(data) {
  if (typeof data === 'string') return new TextEncoder().encode(data).length;
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  return data.byteLength;
}

function toBytes(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // SharedArrayBuffer and others: copy through a view.
  return new Uint8Array(data);
}

class RTCDataChannel extends EventTarget {
  constructor(token, pc, handle, readyState) {
    if (token !== TOKEN) throw new TypeError('Illegal constructor');
    super();
    this._pc = pc;
    this._handle = handle;
    this._readyState = readyState;   // "connecting" for local, "open" for announced remote ones
    this._binaryType = 'arraybuffer';
    this._last = pc._channelState(handle) || {};
    this._pendingSends = [];          // sends queued behind an unread Blob (order preserved)
    this._pendingBytes = 0;
    this._wasOpen = false;
    this.stats = { messagesSent: 0, bytesSent: 0, messagesReceived: 0, bytesReceived: 0 };
  }

  _state() {
    const s = this._pc._channelState(this._handle);
    if (s) this._last = s;
    return this._last;
  }

  get label() { return this._last.label; }
  get ordered() { return this._last.ordered; }
  get maxPacketLifeTime() { return this._last.maxPacketLifeTime ?? null; }
  get maxRetransmits() { return this._last.maxRetransmits ?? null; }
  get protocol() { return this._last.protocol; }
  get negotiated() { return this._last.negotiated; }
  // §6.2: null until the SCTP stream id is chosen (after the DTLS role is known).
  get id() { return this._state().id ?? null; }
  get readyState() { return this._readyState; }
  get bufferedAmount() { return (this._state().bufferedAmount || 0) + this._pendingBytes; }
  get bufferedAmountLowThreshold() { return this._state().bufferedAmountLowThreshold || 0; }
  set bufferedAmountLowThreshold(v) {
    const n = Number(v) >>> 0;   // WebIDL unsigned long
    if (this._pc._alive()) this._pc._core().channelSetBufferedAmountLowThreshold(this._handle, n);
    this._last = { ...this._last, bufferedAmountLowThreshold: n };
  }
  get binaryType() { return this._binaryType; }
  // §6.2 binaryType: anything but "blob" / "arraybuffer" throws SyntaxError.
  set binaryType(v) {
    v = String(v);
    if (v !== 'blob' && v !== 'arraybuffer') {
      throw domError('SyntaxError', `binaryType '${v}' is not 'blob' or 'arraybuffer'`);
    }
    this._binaryType = v;
  }

  // §6.2 send(): state check, size check against the remote's max-message-size, then queue.
  send(data) {
    if (arguments.length < 1) throw new TypeError('send: 1 argument required');
    if (this._readyState !== 'open') {
      throw domError('InvalidStateError', `send: readyState is '${this._readyState}'`);
    }
    const isBlob = typeof Blob !== 'undefined' && data instanceof Blob;
    if (typeof data !== 'string' && !isBlob && !(data instanceof ArrayBuffer) &&
        !ArrayBuffer.isView(data)) {
      data = String(data);   // WebIDL overload resolution falls back to USVString
    }
    // The remote's max-message-size (RFC 8841 §6) from the last applied description; reading the
    // snapshot avoids a full engine state() round trip per message.
    const sctp = this._pc._snap.sctp;
    const max = sctp && typeof sctp.maxMessageSize === 'number' ? sctp.maxMessageSize : Infinity;
    const size = byteLengthOf(data);
    if (size > max) throw new TypeError(`send: message of ${size} bytes exceeds maxMessageSize ${max}`);
    if (isBlob || this._pendingSends.length) {
      this._pendingSends.push(data);
      this._pendingBytes += size;
      if (this._pendingSends.length === 1) this._flushPending();
      return;
    }
    this._sendNow(data);
  }

  _sendNow(data) {
    const payload = typeof data === 'string' ? data : toBytes(data);
    const r = this._pc._core().channelSend(this._handle, payload);
    if (r && r.error) throw makeError(r.error);
    this.stats.messagesSent++;
    this.stats.bytesSent += byteLengthOf(data);
    this._pc._pump();
  }

  async _flushPending() {
    while (this._pendingSends.length) {
      let data = this._pendingSends[0];
      const size = byteLengthOf(data);
      if (typeof Blob !== 'undefined' && data instanceof Blob) data = await data.arrayBuffer();
      this._pendingSends.shift();
      this._pendingBytes -= size;
      if (this._readyState !== 'open' || !this._pc._alive()) continue;
      try {
        this._sendNow(data);
      } catch (e) {
        // Failure after the send() call returned: report it as an RTCError on the channel.
        this._fireError({ name: e.name, message: e.message, errorDetail: 'data-channel-failure' });
      }
    }
  }

  // §6.2 close(): set readyState to "closing" and start the closing procedure.
  close() {
    if (this._readyState === 'closing' || this._readyState === 'closed') return;
    this._readyState = 'closing';
    if (this._pc._alive()) {
      this._pc._core().channelClose(this._handle);
      this._pc._pump();
    }
  }

  // Engine events (BINDING.md pollEvent), dispatched by the peer connection in their own task.
  _onEngineEvent(ev) {
    switch (ev.type) {
      case 'open':
        if (this._readyState === 'closing' || this._readyState === 'closed') return;
        this._readyState = 'open';   // §6.1.1 announce the channel as open
        this._state();
        if (!this._wasOpen) { this._wasOpen = true; this._pc._stats.dataChannelsOpened++; }
        this.dispatchEvent(new Event('open'));
        break;
      case 'bufferedamountlow':
        this.dispatchEvent(new Event('bufferedamountlow'));
        break;
      case 'closing':
        // §6.2 "closing procedure" started by the transport: only if not already closing/closed.
        if (this._readyState === 'closing' || this._readyState === 'closed') return;
        this._readyState = 'closing';
        this.dispatchEvent(new Event('closing'));
        break;
      case 'close':
        if (this._readyState === 'closed') return;
        this._readyState = 'closed';   // §6.2 "announce the data channel as closed"
        this._state();
        if (this._wasOpen) this._pc._stats.dataChannelsClosed++;
        this.dispatchEvent(new Event('close'));
        break;
      case 'message': {
        if (this._readyState !== 'open') return;   // §6.2 receive a message: step 2
        let data = ev.data;
        this.stats.messagesReceived++;
        if (typeof data === 'string') {
          this.stats.bytesReceived += byteLengthOf(data);
        } else {
          this.stats.bytesReceived += data.byteLength;
          data = this._binaryType === 'blob'
            ? new Blob([data])
            : (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
              ? data.buffer : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
        }
        this.dispatchEvent(new MessageEvent('message', { data }));
        break;
      }
      case 'error':
        this._fireError(ev);
        break;
      default:
        break;
    }
  }

  _fireError(ev) {
    const detail = ERROR_DETAILS.includes(ev.errorDetail) ? ev.errorDetail : 'data-channel-failure';
    const error = new RTCError({ errorDetail: detail }, ev.message || ev.name || 'data channel error');
    this.dispatchEvent(new RTCErrorEvent('error', { error }));
  }

  // pc.close(): §4.4.1.6 "close the connection" sets every channel to closed without events.
  _closeSilently() { this._state(); this._readyState = 'closed'; }
}
defineEventHandlers(RTCDataChannel.prototype,
  ['open', 'bufferedamountlow', 'error', 'closing', 'close', 'message']);
Object.defineProperty(RTCDataChannel.prototype, Symbol.toStringTag, { value: 'RTCDataChannel' });

module.exports = { RTCDataChannel, TOKEN };
