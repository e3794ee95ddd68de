'use strict';
// Event interfaces of W3C webrtc-pc: §4.8.2 RTCPeerConnectionIceEvent, §4.8.3
// RTCPeerConnectionIceErrorEvent, §6.3 RTCDataChannelEvent. (RTCErrorEvent is in errors.js.)

class RTCPeerConnectionIceEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    Object.defineProperties(this, {
      _candidate: { value: init.candidate ?? null },
      _url: { value: init.url ?? null },
    });
  }
  get candidate() { return this._candidate; }
  get url() { return this._url; }
}

class RTCPeerConnectionIceErrorEvent extends Event {
  constructor(type, init) {
    if (!init || init.errorCode === undefined) {
      throw new TypeError("RTCPeerConnectionIceErrorEvent: 'errorCode' is required");
    }
    super(type, init);
    Object.defineProperties(this, {
      _address: { value: init.address ?? null },
      _port: { value: init.port ?? null },
      _url: { value: init.url === undefined ? '' : String(init.url) },
      _errorCode: { value: Number(init.errorCode) & 0xffff },
      _errorText: { value: init.errorText === undefined ? '' : String(init.errorText) },
    });
  }
  get address() { return this._address; }
  get port() { return this._port; }
  get url() { return this._url; }
  get errorCode() { return this._errorCode; }
  get errorText() { return this._errorText; }
}

class RTCDataChannelEvent extends Event {
  constructor(type, init) {
    if (!init || !init.channel) throw new TypeError("RTCDataChannelEvent: 'channel' is required");
    super(type, init);
    Object.defineProperty(this, '_channel', { value: init.channel });
  }
  get channel() { return this._channel; }
}

module.exports = { RTCPeerConnectionIceEvent, RTCPeerConnectionIceErrorEvent, RTCDataChannelEvent };
