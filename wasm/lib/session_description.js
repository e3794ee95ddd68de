'use strict';
// W3C webrtc-pc §4.6.2 RTCSessionDescription.

const SDP_TYPES = ['offer', 'pranswer', 'answer', 'rollback'];

class RTCSessionDescription {
  // §4.6.2: constructor(RTCSessionDescriptionInit descriptionInitDict), `type` is required.
  constructor(init) {
    if (!init || typeof init !== 'object' || init.type === undefined) {
      throw new TypeError("RTCSessionDescription: 'type' is required");
    }
    const type = String(init.type);
    if (!SDP_TYPES.includes(type)) {
      throw new TypeError(`RTCSessionDescription: '${type}' is not a valid RTCSdpType`);
    }
    Object.defineProperties(this, {
      _type: { value: type },
      _sdp: { value: init.sdp === undefined || init.sdp === null ? '' : String(init.sdp) },
    });
  }
  get type() { return this._type; }
  get sdp() { return this._sdp; }
  toJSON() { return { type: this._type, sdp: this._sdp }; }
}
Object.defineProperty(RTCSessionDescription.prototype, Symbol.toStringTag, { value: 'RTCSessionDescription' });

// A description reported by the engine ({type, sdp} or null) as the attribute value.
function fromEngine(d) { return d ? new RTCSessionDescription(d) : null; }

module.exports = { RTCSessionDescription, SDP_TYPES, fromEngine };
