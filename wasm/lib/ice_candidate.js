'use strict';
// W3C webrtc-pc §4.8.1 RTCIceCandidate, with the candidate-attribute grammar of RFC 8839 §5.1:
//   candidate:<foundation> <component-id> <transport> <priority> <address> <port> typ <type>
//             [raddr <addr>] [rport <port>] *(<ext-name> <ext-value>)

const TYPES = ['host', 'srflx', 'prflx', 'relay'];

// §4.8.1.1 step "parse the candidate-attribute": on failure every derived attribute stays null.
function parseCandidate(text) {
  const out = {
    foundation: null, component: null, priority: null, address: null, protocol: null, port: null,
    type: null, tcpType: null, relatedAddress: null, relatedPort: null, usernameFragment: null,
  };
  let s = String(text || '').trim();
  if (s.startsWith('a=')) s = s.slice(2);
  if (!s.startsWith('candidate:')) return out;
  const f = s.slice('candidate:'.length).split(/\s+/);
  if (f.length < 8 || f[6].toLowerCase() !== 'typ') return out;
  const comp = Number(f[1]);
  const proto = f[2].toLowerCase();
  const prio = Number(f[3]);
  const port = Number(f[5]);
  const type = f[7].toLowerCase();
  if (!/^\d+$/.test(f[1]) || !/^\d+$/.test(f[3]) || !/^\d+$/.test(f[5])) return out;
  if (proto !== 'udp' && proto !== 'tcp') return out;
  if (!TYPES.includes(type)) return out;
  out.foundation = f[0];
  out.component = comp === 1 ? 'rtp' : comp === 2 ? 'rtcp' : null;
  out.protocol = proto;
  out.priority = prio;
  out.address = f[4];
  out.port = port;
  out.type = type;
  for (let i = 8; i + 1 < f.length; i += 2) {
    const k = f[i], v = f[i + 1];
    if (k === 'raddr') out.relatedAddress = v;
    else if (k === 'rport' && /^\d+$/.test(v)) out.relatedPort = Number(v);
    else if (k === 'tcptype' && ['active', 'passive', 'so'].includes(v)) out.tcpType = v;
    else if (k === 'ufrag') out.usernameFragment = v;
  }
  return out;
}

class RTCIceCandidate {
  // §4.8.1.1 constructor(optional RTCIceCandidateInit candidateInitDict = {}).
  constructor(init = {}) {
    if (init === null || typeof init !== 'object') init = {};
    const sdpMid = init.sdpMid === undefined || init.sdpMid === null ? null : String(init.sdpMid);
    const idx = init.sdpMLineIndex === undefined || init.sdpMLineIndex === null
      ? null : Number(init.sdpMLineIndex);
    // Step 1: both sdpMid and sdpMLineIndex null → TypeError.
    if (sdpMid === null && idx === null) {
      throw new TypeError('RTCIceCandidate: sdpMid and sdpMLineIndex are both null');
    }
    if (idx !== null && !(Number.isInteger(idx) && idx >= 0 && idx <= 0xffff)) {
      throw new TypeError('RTCIceCandidate: sdpMLineIndex must be an unsigned short');
    }
    const candidate = init.candidate === undefined || init.candidate === null ? '' : String(init.candidate);
    const parsed = parseCandidate(candidate);
    const ufrag = init.usernameFragment === undefined || init.usernameFragment === null
      ? parsed.usernameFragment : String(init.usernameFragment);
    Object.defineProperty(this, '_f', {
      value: Object.freeze({ ...parsed, candidate, sdpMid, sdpMLineIndex: idx, usernameFragment: ufrag }),
    });
  }
  get candidate() { return this._f.candidate; }
  get sdpMid() { return this._f.sdpMid; }
  get sdpMLineIndex() { return this._f.sdpMLineIndex; }
  get foundation() { return this._f.foundation; }
  get component() { return this._f.component; }
  get priority() { return this._f.priority; }
  get address() { return this._f.address; }
  get protocol() { return this._f.protocol; }
  get port() { return this._f.port; }
  get type() { return this._f.type; }
  get tcpType() { return this._f.tcpType; }
  get relatedAddress() { return this._f.relatedAddress; }
  get relatedPort() { return this._f.relatedPort; }
  get usernameFragment() { return this._f.usernameFragment; }
  get relayProtocol() { return null; }
  get url() { return null; }
  // §4.8.1.1 toJSON: the RTCIceCandidateInit members.
  toJSON() {
    const f = this._f;
    return { candidate: f.candidate, sdpMid: f.sdpMid, sdpMLineIndex: f.sdpMLineIndex,
      usernameFragment: f.usernameFragment };
  }
}
Object.defineProperty(RTCIceCandidate.prototype, Symbol.toStringTag, { value: 'RTCIceCandidate' });

module.exports = { RTCIceCandidate, parseCandidate };
