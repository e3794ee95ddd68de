'use strict';
// A small stand-in for dist/refrtc_core.cjs with the interface of wasm/src/BINDING.md, used to
// unit-test the JS layer without the WebAssembly build (REFRTC_CORE=tests/fake_core.cjs). It
// really exchanges datagrams through the host: "ICE" is a hello/ack over every local×remote
// candidate pair, "DTLS/SCTP" is JSON in datagrams whose first byte is 23 (so RFC 7983 demux sees
// DTLS). It enforces a few of the spec's state checks, not all.
let nextHandle = 1;
let nextPc = 1;
const err = (name, message) => ({ error: { name, message: message || name } });
const enc = new TextEncoder();
const dec = new TextDecoder();

function frame(kind, obj) {
  const body = enc.encode(JSON.stringify(obj));
  const out = new Uint8Array(1 + body.length);
  out[0] = kind;
  out.set(body, 1);
  return out;
}
const b64 = (u8) => Buffer.from(u8).toString('base64');
const unb64 = (s) => new Uint8Array(Buffer.from(s, 'base64'));

class FakePc {
  constructor(config) {
    this.id = nextPc++;
    this.config = config;
    this.ufrag = 'u' + this.id;
    this.sig = 'stable'; this.gather = 'new'; this.ice = 'new'; this.conn = 'new';
    this.local = null; this.remote = null; this.currentLocal = null; this.currentRemote = null;
    this.addrs = []; this.remoteCands = []; this.events = []; this.tx = [];
    this.closed = false; this.now = 0; this.deadline = null; this.path = null;
    this.channels = new Map();   // handle → channel
    this.version = 0; this.role = null; this.nextId = null; this.nnFired = false;
  }
  emit(e) { this.events.push(e); }
  setSig(s) { if (this.sig !== s) { this.sig = s; this.emit({ type: 'signalingstatechange', state: s }); } }
  setIce(s) { if (this.ice !== s) { this.ice = s; this.emit({ type: 'iceconnectionstatechange', state: s }); } }
  setConn(s) { if (this.conn !== s) { this.conn = s; this.emit({ type: 'connectionstatechange', state: s }); } }
  sdp(type) {
    let s = `v=0\r\no=- ${this.id} ${++this.version} IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n` +
      `m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\na=ice-ufrag:${this.ufrag}\r\n` +
      `a=setup:${type === 'offer' ? 'actpass' : 'active'}\r\n`;
    if (this.gather === 'complete') for (const c of this.cands()) s += `a=${c}\r\n`;
    return s;
  }
  cands() {
    return this.addrs.map((a, i) => `candidate:${i + 1} 1 udp ${2130706431 - i} ${a.ip} ${a.port} typ host`);
  }
  createOffer() {
    if (this.closed) return err('InvalidStateError');
    return { type: 'offer', sdp: this.sdp('offer') };
  }
  createAnswer() {
    if (this.closed) return err('InvalidStateError');
    if (this.sig !== 'have-remote-offer') return err('InvalidStateError', 'createAnswer in ' + this.sig);
    return { type: 'answer', sdp: this.sdp('answer') };
  }
  setLocalDescription(type, sdp) {
    if (this.closed) return err('InvalidStateError');
    if (type === '') type = this.sig === 'have-remote-offer' ? 'answer' : 'offer';
    if (type === 'offer' && this.sig !== 'stable' && this.sig !== 'have-local-offer') return err('InvalidModificationError');
    if (type === 'answer' && this.sig !== 'have-remote-offer') return err('InvalidStateError');
    if (!sdp) sdp = this.sdp(type);
    this.local = { type, sdp };
    if (this.role === null) this.role = type === 'offer' ? 'offerer' : 'answerer';
    if (type === 'offer') this.setSig('have-local-offer');
    else { this.currentLocal = this.local; this.currentRemote = this.remote; this.setSig('stable'); }
    if (this.gather === 'new') {
      this.gather = 'gathering';
      this.emit({ type: 'icegatheringstatechange', state: 'gathering' });
      for (const c of this.cands()) this.emit({ type: 'icecandidate', candidate: { candidate: c, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: this.ufrag } });
      this.gather = 'complete';
      this.local.sdp = this.sdp(type);
      this.emit({ type: 'icegatheringstatechange', state: 'complete' });
      this.emit({ type: 'icecandidate', candidate: null });
    }
    this.maybeStart();
    return {};
  }
  setRemoteDescription(type, sdp) {
    if (this.closed) return err('InvalidStateError');
    if (!['offer', 'answer', 'pranswer', 'rollback'].includes(type)) return err('TypeError', 'bad type');
    if (!sdp.startsWith('v=0') || !sdp.includes('m=application')) return err('OperationError', 'failed to parse SDP');
    if (type === 'answer' && this.sig !== 'have-local-offer') return err('InvalidStateError', 'answer in ' + this.sig);
    if (type === 'offer' && this.sig !== 'stable') return err('InvalidStateError');
    this.remote = { type, sdp };
    for (const line of sdp.split('\r\n')) {
      const m = /^a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ/.exec(line);
      if (m) this.remoteCands.push({ ip: m[1], port: +m[2] });
    }
    if (type === 'offer') this.setSig('have-remote-offer');
    else { this.currentLocal = this.local; this.currentRemote = this.remote; this.setSig('stable'); }
    this.maybeStart();
    return {};
  }
  addIceCandidate(init) {
    if (this.closed) return err('InvalidStateError');
    if (!this.remote) return err('InvalidStateError', 'no remote description');
    if (init && init.candidate) {
      const m = /candidate:\S+ 1 udp \d+ (\S+) (\d+) typ/.exec(init.candidate);
      if (!m) return err('OperationError', 'bad candidate');
      this.remoteCands.push({ ip: m[1], port: +m[2] });
      this.maybeStart();
    }
    return {};
  }
  maybeStart() {
    if (this.sig !== 'stable' || !this.remote || !this.local || this.ice === 'connected') return;
    if (this.ice === 'new') { this.setIce('checking'); this.setConn('connecting'); }
    this.sendHellos();
  }
  sendHellos() {
    for (const a of this.addrs) for (const r of this.remoteCands) {
      if (a.ip.includes(':') !== r.ip.includes(':')) continue;
      this.tx.push({ data: frame(0, { hello: this.ufrag }), fromIp: a.ip, fromPort: a.port, toIp: r.ip, toPort: r.port, protocol: 'udp' });
    }
    this.deadline = this.now + 50;
  }
  restartIce() {}
  close() {
    if (this.closed) return;
    if (this.path) this.send({ op: 'bye' });
    this.closed = true; this.sig = 'closed'; this.deadline = null;
  }
  getConfiguration() { return { iceServers: [], iceTransportPolicy: 'all', bundlePolicy: 'balanced', rtcpMuxPolicy: 'require', iceCandidatePoolSize: 0, ...this.config }; }
  setConfiguration(c) {
    if (c.iceTransportPolicy && !['all', 'relay'].includes(c.iceTransportPolicy)) return err('TypeError');
    this.config = c; return {};
  }
  state() {
    const sctpUp = !!(this.currentRemote || this.remote);
    return { signalingState: this.sig, iceGatheringState: this.gather, iceConnectionState: this.ice,
      connectionState: this.conn, canTrickleIceCandidates: this.remote ? true : null,
      localDescription: this.local, currentLocalDescription: this.currentLocal,
      pendingLocalDescription: this.sig === 'have-local-offer' ? this.local : null,
      remoteDescription: this.remote, currentRemoteDescription: this.currentRemote,
      pendingRemoteDescription: this.sig === 'have-remote-offer' ? this.remote : null,
      sctp: sctpUp ? { maxMessageSize: 262144, maxChannels: 65535, state: this.path ? 'connected' : 'connecting' } : null,
      dtlsState: this.path ? 'connected' : 'new' };
  }
  certificateFingerprints() { return [{ algorithm: 'sha-256', value: '00' }]; }
  createDataChannel(label, init) {
    if (this.closed) return err('InvalidStateError');
    if (label.length > 65535) return err('TypeError');
    if (init.maxPacketLifeTime !== undefined && init.maxRetransmits !== undefined) return err('TypeError', 'both maxPacketLifeTime and maxRetransmits');
    if (init.negotiated && init.id === undefined) return err('TypeError', 'negotiated without id');
    const h = nextHandle++;
    const ch = { handle: h, label, ordered: init.ordered !== false, maxPacketLifeTime: init.maxPacketLifeTime ?? null,
      maxRetransmits: init.maxRetransmits ?? null, protocol: init.protocol || '', negotiated: !!init.negotiated,
      id: init.negotiated ? init.id : null, readyState: 'connecting', bufferedAmount: 0, bufferedAmountLowThreshold: 0 };
    this.channels.set(h, ch);
    if (!ch.negotiated && !this.nnFired) { this.nnFired = true; this.emit({ type: 'negotiationneeded' }); }
    if (this.path) this.openChannel(ch);
    return { channel: h };
  }
  openChannel(ch) {
    if (ch.id === null) {
      if (this.nextId === null) this.nextId = this.role === 'offerer' ? 0 : 1;
      ch.id = this.nextId; this.nextId += 2;
    }
    if (ch.negotiated) { ch.readyState = 'open'; this.emit({ type: 'open', channel: ch.handle }); return; }
    this.send({ op: 'open', id: ch.id, label: ch.label, protocol: ch.protocol, ordered: ch.ordered });
  }
  channelState(h) {
    const c = this.channels.get(h);
    if (!c) return null;
    const { handle, ...rest } = c;
    return rest;
  }
  channelSend(h, data) {
    const c = this.channels.get(h);
    if (!c || c.readyState !== 'open') return err('InvalidStateError');
    const bin = typeof data !== 'string';
    this.send({ op: 'msg', id: c.id, bin, data: bin ? b64(data) : data });
    return {};
  }
  channelClose(h) {
    const c = this.channels.get(h);
    if (!c || c.readyState === 'closed' || c.readyState === 'closing') return;
    c.readyState = 'closing';
    if (this.path) this.send({ op: 'close', id: c.id });
    c.readyState = 'closed';
    this.emit({ type: 'close', channel: h });
  }
  channelSetBufferedAmountLowThreshold(h, n) { const c = this.channels.get(h); if (c) c.bufferedAmountLowThreshold = n; }
  addLocalAddress(ip, port) { this.addrs.push({ ip, port }); return {}; }
  send(obj) {
    const p = this.path;
    this.tx.push({ data: frame(23, obj), fromIp: p.localIp, fromPort: p.localPort, toIp: p.remoteIp, toPort: p.remotePort, protocol: 'udp' });
  }
  byId(id) { for (const c of this.channels.values()) if (c.id === id) return c; return null; }
  handleReceive(bytes, lip, lport, rip, rport, now) {
    this.now = now;
    if (this.closed || !bytes.length) return;
    let msg;
    try { msg = JSON.parse(dec.decode(bytes.subarray(1))); } catch (e) { return; }
    if (bytes[0] === 0 || bytes[0] === 1) {
      if (bytes[0] === 0) this.tx.push({ data: frame(1, { ack: this.ufrag }), fromIp: lip, fromPort: lport, toIp: rip, toPort: rport, protocol: 'udp' });
      if (!this.path && this.sig === 'stable' && this.local && this.remote) {
        this.path = { localIp: lip, localPort: lport, remoteIp: rip, remotePort: rport };
        this.deadline = null;
        this.setIce('connected'); this.setConn('connected');
        for (const c of this.channels.values()) if (c.readyState === 'connecting') this.openChannel(c);
      }
      return;
    }
    if (!this.path) return;
    if (msg.op === 'open') {
      const h = nextHandle++;
      const ch = { handle: h, label: msg.label, ordered: msg.ordered, maxPacketLifeTime: null, maxRetransmits: null,
        protocol: msg.protocol, negotiated: false, id: msg.id, readyState: 'open', bufferedAmount: 0, bufferedAmountLowThreshold: 0 };
      this.channels.set(h, ch);
      this.send({ op: 'ack', id: msg.id });
      this.emit({ type: 'datachannel', channel: h });
      this.emit({ type: 'open', channel: h });
    } else if (msg.op === 'ack') {
      const c = this.byId(msg.id);
      if (c && c.readyState === 'connecting') { c.readyState = 'open'; this.emit({ type: 'open', channel: c.handle }); }
    } else if (msg.op === 'msg') {
      const c = this.byId(msg.id);
      if (c && c.readyState === 'open') this.emit({ type: 'message', channel: c.handle, data: msg.bin ? unb64(msg.data) : msg.data });
    } else if (msg.op === 'close') {
      const c = this.byId(msg.id);
      if (c && c.readyState === 'open') {
        c.readyState = 'closing'; this.emit({ type: 'closing', channel: c.handle });
        c.readyState = 'closed'; this.emit({ type: 'close', channel: c.handle });
      }
    } else if (msg.op === 'bye') {
      for (const c of this.channels.values()) {
        if (c.readyState === 'open') { c.readyState = 'closed'; this.emit({ type: 'close', channel: c.handle }); }
      }
      this.setIce('disconnected'); this.setConn('failed');
    }
  }
  handleStreamData() {}
  handleStreamClosed() {}
  handleTimeout(now) {
    this.now = now;
    if (this.deadline !== null && now >= this.deadline && !this.path && !this.closed) this.sendHellos();
  }
  setTime(now) { this.now = now; }
  pollTransmit() { return this.tx.shift() || null; }
  pollTimeout() { return this.deadline; }
  pollEvent() { return this.events.shift() || null; }
  // webrtc-identity (the fake has no IdP: nothing is ever queued for JS).
  identityState() { return { idpLoginUrl: null, idpErrorInfo: null, peerIdentity: null }; }
  registerIdpBridge() {}
  pollIdpRequest() { return null; }
  settleIdpRequest() {}
  setIdpTimeout() {}
  delete() { this.deleted = true; }
}

module.exports = async function createFakeCore() {
  return {
    fake: true,
    generateCertificate(seed, unixTimeS, expiresMs) {
      const expires = unixTimeS * 1000 + expiresMs;
      return { certificate: { expires: () => expires, getFingerprints: () => [{ algorithm: 'sha-256', value: 'ab:cd' }], delete() {} } };
    },
    createPeerConnection(config, seed, unixTimeS) {
      if (config.iceTransportPolicy !== undefined && !['all', 'relay'].includes(config.iceTransportPolicy)) {
        return err('TypeError', 'bad iceTransportPolicy');
      }
      return { pc: new FakePc(config) };
    },
  };
};
