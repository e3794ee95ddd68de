'use strict';
// W3C webrtc-pc §4.4 RTCPeerConnection (+ §5.1 RTP media, §6.1 createDataChannel, §8.2 getStats) over the sans-IO
// engine of BINDING.md. The engine does the JSEP/ICE/DTLS/SCTP work and the spec's state checks
// synchronously; this class adds the operations chain (§4.4.1.2), promises, tasks and events, and
// owns one host (node_host.js: dgram sockets; ws_host.js: the WebSocket relay) that feeds the
// engine datagrams and drains its transmits.
const { getCore, settings } = require('./core.js');
const { makeError, domError } = require('./errors.js');
const { defineEventHandlers } = require('./event_handlers.js');
const { queueTask, nowMs, unixTimeS, randomSeed, sameIp } = require('./util.js');
const { RTCSessionDescription, fromEngine } = require('./session_description.js');
const { RTCIceCandidate, parseCandidate } = require('./ice_candidate.js');
const { RTCDataChannel, TOKEN: CHANNEL_TOKEN } = require('./data_channel.js');
const { RTCCertificate, generateCertificate } = require('./certificate.js');
const { RTCPeerConnectionIceEvent, RTCPeerConnectionIceErrorEvent, RTCDataChannelEvent } =
  require('./events.js');
const { RTCDtlsTransport, RTCSctpTransport, TOKEN: TRANSPORT_TOKEN } = require('./transports.js');
const { buildReport } = require('./stats.js');
const { MediaStreamTrack, MediaStream, RTCRtpSender, RTCRtpTransceiver, RTCTrackEvent, TOKEN: MEDIA_TOKEN,
  RTCDTMFToneChangeEvent, RTCDTMFReceivedEvent } = require('./media.js');
const { identityProviders, RTCIdentityProviderRegistry, RTCIdentityAssertion } = require('./identity.js');

const STATE_EVENTS = {
  signalingstatechange: '_signalingState',
  icegatheringstatechange: '_iceGatheringState',
  iceconnectionstatechange: '_iceConnectionState',
  connectionstatechange: '_connectionState',
};
const CHANNEL_EVENTS = new Set(['open', 'closing', 'close', 'bufferedamountlow', 'message', 'error']);
const NEVER = () => new Promise(() => {});   // spec: "abort these steps" leaves the promise pending

// RTCConfiguration (§4.2.1) → the engine's config object. Certificates become engine objects.
function toEngineConfig(configuration) {
  if (configuration === undefined || configuration === null) return {};
  if (typeof configuration !== 'object') throw new TypeError('RTCConfiguration must be an object');
  const out = {};
  for (const k of ['iceTransportPolicy', 'bundlePolicy', 'rtcpMuxPolicy', 'iceCandidatePoolSize', 'peerIdentity']) {
    if (configuration[k] !== undefined) out[k] = configuration[k];
  }
  if (configuration.iceServers !== undefined) {
    if (!Array.isArray(configuration.iceServers)) throw new TypeError('iceServers must be a sequence');
    out.iceServers = configuration.iceServers.map((s) => {
      if (!s || typeof s !== 'object' || s.urls === undefined) {
        throw new TypeError("RTCIceServer: 'urls' is required");
      }
      const o = { urls: Array.isArray(s.urls) ? s.urls.map(String) : String(s.urls) };
      if (s.username !== undefined) o.username = String(s.username);
      if (s.credential !== undefined) o.credential = String(s.credential);
      return o;
    });
  }
  if (configuration.certificates !== undefined) {
    if (!Array.isArray(configuration.certificates)) throw new TypeError('certificates must be a sequence');
    out.certificates = configuration.certificates.map((c) => {
      if (!(c instanceof RTCCertificate)) throw new TypeError('certificates: not an RTCCertificate');
      return c._cert;
    });
  }
  return out;
}

// WebIDL [EnforceRange] unsigned short (RTCDataChannelInit members).
function enforceUShort(v, what) {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new TypeError(`${what} is not a finite number`);
  const t = Math.trunc(n);
  if (t < 0 || t > 0xffff) throw new TypeError(`${what} is outside the range of unsigned short`);
  return t;
}

function sdpCandidates(sdp) {
  const out = [];
  for (const line of String(sdp || '').split(/\r?\n/)) {
    if (line.startsWith('a=candidate:')) out.push(parseCandidate(line.slice(2)));
  }
  return out;
}

class RTCPeerConnection extends EventTarget {
  // §4.4.1.1 constructor.
  constructor(configuration = {}) {
    super();
    const core = getCore();
    const cfg = toEngineConfig(configuration);
    const r = core.createPeerConnection(cfg, randomSeed(), unixTimeS());
    if (r.error) throw makeError(r.error);
    this._pc = r.pc;
    this._certificates = (configuration && configuration.certificates) ? [...configuration.certificates] : [];
    this._closed = false;            // [[IsClosed]]
    this._deleted = false;
    this._operations = [];           // [[OperationsChain]]
    this._nnOnEmptyChain = false;    // [[UpdateNegotiationNeededFlagOnEmptyChain]]
    this._tasks = [];
    this._taskScheduled = false;
    this._channels = new Map();      // engine handle → RTCDataChannel
    this._transceivers = new Map();  // engine handle → RTCRtpTransceiver
    this._remoteStreams = new Map(); // remote stream id (a=msid) → MediaStream
    this._finalTransceivers = null;  // getTransceivers() at close()
    this._stats = { dataChannelsOpened: 0, dataChannelsClosed: 0 };
    this._localCands = [];
    this._remoteCands = [];
    this._path = null;               // where DTLS/SCTP goes (for getStats' candidate pair)
    this._timer = null;
    this._timerDeadline = null;
    this._lastConfig = this._pc.getConfiguration();
    const s = this._pc.state();
    this._snap = s;
    this._signalingState = s.signalingState;
    this._iceGatheringState = s.iceGatheringState;
    this._iceConnectionState = s.iceConnectionState;
    this._connectionState = s.connectionState;
    this._dtls = null;
    this._sctp = null;
    const hostName = settings.relay ? 'relay' : settings.defaultHost;
    const makeHost = settings.hosts[hostName];
    if (!makeHost) throw domError('NotSupportedError', `refrtc: no '${hostName}' host in this environment`);
    this._host = makeHost(this, settings);
    this._hostStart = null;
  }

  static generateCertificate(keygenAlgorithm) { return generateCertificate(keygenAlgorithm); }

  // ---- internals used by the host, the channels and the transports ----
  _alive() { return !this._deleted; }
  _core() { return this._pc; }
  _channelState(handle) { return this._deleted ? null : this._pc.channelState(handle); }
  _channelObjects() { return [...this._channels.values()]; }
  _snapshot() {
    if (!this._deleted) {
      const s = this._pc.state();
      this._snap = { ...this._snap, sctp: s.sctp, dtlsState: s.dtlsState, dtlsCipher: s.dtlsCipher, remoteFingerprint: s.remoteFingerprint };
    }
    return this._snap;
  }
  _startHost() {
    if (!this._hostStart) {
      this._hostStart = Promise.resolve().then(() => this._host.start());
      this._hostStart.catch(() => {});
    }
    return this._hostStart;
  }
  // Host → engine (Endpoint interface).
  _addLocalAddress(ip, port) { if (!this._deleted) this._pc.addLocalAddress(ip, port); }
  _receive(bytes, localIp, localPort, remoteIp, remotePort) {
    if (this._deleted) return;
    this._pc.handleReceive(bytes, localIp, localPort, remoteIp, remotePort, nowMs());
    const p = this._path;
    if (p && p.fromPort === localPort && p.toPort === remotePort && sameIp(p.toIp, remoteIp)) {
      p.packetsReceived++; p.bytesReceived += bytes.length;
    }
    this._pump();
  }
  _streamData(bytes, localIp, localPort, remoteIp, remotePort) {
    if (this._deleted) return;
    this._pc.handleStreamData(bytes, localIp, localPort, remoteIp, remotePort, nowMs());
    this._pump();
  }
  _streamClosed(localIp, localPort, remoteIp, remotePort) {
    if (this._deleted) return;
    this._pc.handleStreamClosed(localIp, localPort, remoteIp, remotePort, nowMs());
    this._pump();
  }

  _drainTransmits() {
    let t;
    while ((t = this._pc.pollTransmit())) {
      // RFC 7983 §7 demultiplexing: 20..63 DTLS, 64..79 TURN ChannelData (relayed DTLS).
      const b = t.data.length ? t.data[0] : 0;
      if (b >= 20 && b <= 79) {
        const p = this._path;
        if (!p || p.fromIp !== t.fromIp || p.fromPort !== t.fromPort || p.toIp !== t.toIp ||
            p.toPort !== t.toPort) {
          this._path = { fromIp: t.fromIp, fromPort: t.fromPort, toIp: t.toIp, toPort: t.toPort,
            protocol: t.protocol, turn: b >= 64, packetsSent: 0, bytesSent: 0, packetsReceived: 0,
            bytesReceived: 0 };
        }
        this._path.packetsSent++; this._path.bytesSent += t.data.length;
      }
      this._host.send(t);
    }
  }
  _drainEvents() {
    const evs = [];
    let e;
    while ((e = this._pc.pollEvent())) evs.push(e);
    return evs;
  }
  // Called after every input to the engine: transmits out, events queued, timer re-armed.
  _pump() {
    if (this._deleted) return;
    this._drainTransmits();
    for (const e of this._drainEvents()) this._queueTask(() => this._fireEngineEvent(e));
    this._pollTracks();
    this._armTimer();
    this._wakeIdp();  // webrtc-identity: calls waiting for an IdP retry
  }
  // mute/unmute/ended of the receivers' tracks (the engine changes them as RTP comes and goes).
  _pollTracks() {
    for (const t of this._transceivers.values()) t.receiver.track._poll();
  }
  // One timer per connection, re-armed from pollTimeout() (kept ref'd: it keeps Node alive while
  // the connection is open).
  _armTimer() {
    if (this._deleted) return;
    const deadline = this._pc.pollTimeout();
    if (deadline === this._timerDeadline && this._timer) return;
    this._cancelTimer();
    this._timerDeadline = deadline;
    if (deadline === null || deadline === undefined) return;
    const fire = () => {
      this._timer = null;
      this._timerDeadline = null;
      if (this._deleted) return;
      this._pc.handleTimeout(nowMs());
      this._pump();
    };
    const delay = deadline - nowMs();
    if (delay <= 0 && typeof setImmediate === 'function') {
      // Due now (the engine has work queued for this turn): setTimeout(0) would cost ≥ 1 ms per hop,
      // which dominated per-message latency; setImmediate runs after pending I/O callbacks.
      const t = setImmediate(fire);
      this._timer = { cancel: () => clearImmediate(t) };
    } else {
      const t = setTimeout(fire, Math.max(0, Math.ceil(delay)));
      this._timer = { cancel: () => clearTimeout(t) };
    }
  }
  _cancelTimer() {
    if (this._timer) this._timer.cancel();
    this._timer = null;
  }

  // Every event is dispatched in its own task, in engine order (HTML "queue a task").
  _queueTask(fn) {
    this._tasks.push(fn);
    if (!this._taskScheduled) { this._taskScheduled = true; queueTask(() => this._runTask()); }
  }
  _runTask() {
    const fn = this._tasks.shift();
    if (this._tasks.length) queueTask(() => this._runTask()); else this._taskScheduled = false;
    if (fn) fn();
  }

  _fireEngineEvent(ev) {
    if (this._closed) return;   // no events after close() (§4.4.1.6 "close the connection")
    if (CHANNEL_EVENTS.has(ev.type)) {
      const ch = this._channels.get(ev.channel);
      if (ch) ch._onEngineEvent(ev);
      return;
    }
    const field = STATE_EVENTS[ev.type];
    if (field) {
      // "update the state, then fire" (§4.4.1.5, §4.4.1.3, §5.6)
      if (this[field] === ev.state) return;
      this[field] = ev.state;
      if (ev.type === 'icegatheringstatechange') this._refreshLocalDescriptions();
      this.dispatchEvent(new Event(ev.type));
      return;
    }
    switch (ev.type) {
      case 'icecandidate': {
        // §4.4.1 "surface the candidate": the local description now includes it.
        this._refreshLocalDescriptions();
        let candidate = null;
        if (ev.candidate) {
          candidate = new RTCIceCandidate(ev.candidate);
          if (candidate.address) this._localCands.push(candidate);
        }
        this.dispatchEvent(new RTCPeerConnectionIceEvent('icecandidate', { candidate }));
        break;
      }
      case 'icecandidateerror': {
        this.dispatchEvent(new RTCPeerConnectionIceErrorEvent('icecandidateerror', {
          address: ev.address ?? null, port: ev.port ?? null, url: ev.url || '',
          errorCode: ev.errorCode, errorText: ev.errorText || '' }));
        break;
      }
      case 'negotiationneeded':
        this._fireNegotiationNeeded();
        break;
      case 'track':
        this._fireTrack(ev);
        break;
      case 'tonechange': {
        // webrtc-pc §7.3 at the sender's RTCDTMFSender.
        const t = this._transceiverFor(ev.transceiver);
        if (t && t.sender.dtmf) t.sender.dtmf.dispatchEvent(new RTCDTMFToneChangeEvent('tonechange', { tone: ev.tone }));
        break;
      }
      case 'dtmf': {
        // refrtc extension: a received RFC 4733 digit, at the transceiver's RTCRtpReceiver.
        const t = this._transceiverFor(ev.transceiver);
        if (t) t.receiver.dispatchEvent(new RTCDTMFReceivedEvent('dtmf', { tone: ev.tone, duration: ev.duration, transceiver: t }));
        break;
      }
      case 'peeridentityresult':
        this._onPeerIdentityResult(ev);
        break;
      case 'datachannel': {
        // §6.1.1 "announce the data channel": created open, then 'datachannel', then 'open'
        // (the engine queues the 'open' right after this event).
        const ch = new RTCDataChannel(CHANNEL_TOKEN, this, ev.channel, 'open');
        this._channels.set(ev.channel, ch);
        this.dispatchEvent(new RTCDataChannelEvent('datachannel', { channel: ch }));
        break;
      }
      default:
        break;
    }
  }

  // §4.4.1.6 "process the addition of a remote track": the receiver's track joins the remote
  // streams (one MediaStream object per stream id for the connection's life), then 'track' fires.
  _fireTrack(ev) {
    const t = this._transceiverFor(ev.transceiver);
    if (!t) return;
    const track = t.receiver.track;
    const streams = (ev.streams || []).map((id) => {
      let s = this._remoteStreams.get(id);
      if (!s) { s = MediaStream._withId(id); this._remoteStreams.set(id, s); }
      if (!s.getTracks().includes(track)) s._tracks.add(track);
      return s;
    });
    this.dispatchEvent(new RTCTrackEvent('track', { receiver: t.receiver, track, streams, transceiver: t }));
  }

  // The JS transceiver for an engine handle (created on first sight: addTransceiver/addTrack, or one
  // a remote offer created).
  _transceiverFor(handle) {
    if (handle === undefined || handle === null || handle < 0) return null;
    let t = this._transceivers.get(handle);
    if (!t && !this._deleted) {
      const state = this._pc.transceiverState(handle);
      if (!state) return null;
      t = new RTCRtpTransceiver(MEDIA_TOKEN, this, handle, state);
      this._transceivers.set(handle, t);
    }
    return t || null;
  }
  _dtlsTransport() {
    if (!this._dtls) this._dtls = new RTCDtlsTransport(TRANSPORT_TOKEN, this);
    return this._dtls;
  }

  // §4.7.3 "update the negotiation-needed flag", task part (steps 2.1–2.3, 2.7); the engine did
  // steps 2.4–2.6 when it reported the event.
  _fireNegotiationNeeded() {
    if (this._closed) return;
    if (this._operations.length) { this._nnOnEmptyChain = true; return; }
    if (this._signalingState !== 'stable') return;
    this.dispatchEvent(new Event('negotiationneeded'));
  }

  _refreshLocalDescriptions() {
    if (this._deleted) return;
    const s = this._pc.state();
    this._snap = { ...this._snap, localDescription: s.localDescription,
      currentLocalDescription: s.currentLocalDescription,
      pendingLocalDescription: s.pendingLocalDescription,
      canTrickleIceCandidates: s.canTrickleIceCandidates, sctp: s.sctp, dtlsState: s.dtlsState };
  }
  _refreshAll() { if (!this._deleted) this._snap = this._pc.state(); }

  // §4.4.1.2 chain an operation.
  _chain(op) {
    if (this._closed) return Promise.reject(domError('InvalidStateError', 'RTCPeerConnection is closed'));
    return new Promise((resolve, reject) => {
      this._operations.push({ op, resolve, reject });
      if (this._operations.length === 1) this._runOperation();
    });
  }
  _runOperation() {
    const item = this._operations[0];
    let p;
    try { p = Promise.resolve(item.op()); } catch (e) { p = Promise.reject(e); }
    const after = () => {
      this._operations.shift();
      if (this._operations.length) { this._runOperation(); return; }
      if (this._nnOnEmptyChain) {
        this._nnOnEmptyChain = false;
        this._queueTask(() => this._fireNegotiationNeeded());
      }
    };
    p.then((v) => {
      if (this._closed) return;
      item.resolve(v);
      after();
    }, (e) => {
      if (this._closed) return;
      item.reject(e);
      after();
    });
  }

  // Completes a JSEP call made on the engine: the description attributes are updated and
  // signalingstatechange fires in the same task that resolves the promise (§4.4.1.5 "set the
  // session description", steps 4.x: update, fire, resolve); later events get later tasks.
  _completeJsep(result) {
    if (result.error) {
      this._pump();
      return Promise.reject(makeError(result.error));
    }
    this._drainTransmits();
    const evs = this._drainEvents();
    return new Promise((resolve) => {
      this._queueTask(() => {
        if (this._closed) return;
        this._refreshAll();
        // §4.4.1.6 "set the session description": fire signalingstatechange, then the track
        // events, then resolve.
        for (const e of evs) if (e.type === 'signalingstatechange') this._fireEngineEvent(e);
        for (const e of evs) if (e.type === 'track') this._fireEngineEvent(e);
        resolve(undefined);
      });
      for (const e of evs) {
        if (e.type !== 'signalingstatechange' && e.type !== 'track') this._queueTask(() => this._fireEngineEvent(e));
      }
      this._pollTracks();
      this._armTimer();
    });
  }

  // ---- §4.4.1 / §4.4.3 JSEP methods ----
  createOffer(options = undefined) {
    const iceRestart = !!(options && typeof options === 'object' && options.iceRestart);
    this._startHost();
    return this._chain(() => new Promise((resolve, reject) => {
      queueTask(() => {
        if (this._closed) return;
        // webrtc-identity §9.3: with an IdP set the offer waits for the assertion (_idpCall).
        this._idpCall(() => this._pc.createOffer({ iceRestart })).then((r) => {
          this._pump();
          if (r.error) reject(makeError(r.error)); else resolve({ type: r.type, sdp: r.sdp });
        });
      });
    }));
  }

  createAnswer(options = undefined) { // eslint-disable-line no-unused-vars
    this._startHost();
    return this._chain(() => new Promise((resolve, reject) => {
      queueTask(() => {
        if (this._closed) return;
        this._idpCall(() => this._pc.createAnswer()).then((r) => {
          this._pump();
          if (r.error) reject(makeError(r.error)); else resolve({ type: r.type, sdp: r.sdp });
        });
      });
    }));
  }

  setLocalDescription(description = undefined) {
    let type = '', sdp = '';
    if (description !== undefined && description !== null) {
      if (typeof description !== 'object') {
        return Promise.reject(new TypeError('setLocalDescription: description must be an object'));
      }
      type = description.type === undefined || description.type === null ? '' : String(description.type);
      sdp = description.sdp === undefined || description.sdp === null ? '' : String(description.sdp);
    }
    this._startHost();
    return this._chain(async () => {
      // The host's addresses must be known to the engine before gathering starts.
      try { await this._startHost(); } catch (e) {
        throw domError('OperationError', `refrtc host failed to start: ${e && e.message}`);
      }
      if (this._closed) return NEVER();
      // §4.4.1.5 SLD step: an empty sdp means "create one implicitly" when the type matches.
      let t = type;
      if (sdp === '' && t !== 'rollback') {
        const st = this._pc.state().signalingState;
        const wantsOffer = st === 'stable' || st === 'have-local-offer';
        if (t === '' || (t === 'offer' && wantsOffer) || ((t === 'answer' || t === 'pranswer') && !wantsOffer)) t = '';
      }
      return this._idpCall(() => this._pc.setLocalDescription(t, sdp)).then((r) => this._completeJsep(r));
    });
  }

  setRemoteDescription(description) {
    if (!description || typeof description !== 'object' || description.type === undefined) {
      return Promise.reject(new TypeError("setRemoteDescription: 'type' is required"));
    }
    const type = String(description.type);
    const sdp = description.sdp === undefined || description.sdp === null ? '' : String(description.sdp);
    this._startHost();
    return this._chain(() => {
      // webrtc-identity §9.4: with a target peer identity the engine waits for validation (_idpCall).
      return this._idpCall(() => this._pc.setRemoteDescription(type, sdp)).then((r) => {
        if (!r.error) this._remoteCands.push(...sdpCandidates(sdp));
        return this._completeJsep(r);
      });
    });
  }

  addIceCandidate(candidate = undefined) {
    let init = null;
    if (candidate !== undefined && candidate !== null) {
      if (typeof candidate !== 'object') {
        return Promise.reject(new TypeError('addIceCandidate: candidate must be an object'));
      }
      const j = candidate instanceof RTCIceCandidate ? candidate.toJSON() : candidate;
      init = {
        candidate: j.candidate === undefined || j.candidate === null ? '' : String(j.candidate),
        sdpMid: j.sdpMid === undefined ? null : j.sdpMid,
        sdpMLineIndex: j.sdpMLineIndex === undefined ? null : j.sdpMLineIndex,
        usernameFragment: j.usernameFragment === undefined ? null : j.usernameFragment,
      };
      // §4.4.1 addIceCandidate step 4.
      if (init.candidate !== '' && init.sdpMid === null && init.sdpMLineIndex === null) {
        return Promise.reject(new TypeError('addIceCandidate: sdpMid and sdpMLineIndex are both null'));
      }
    }
    return this._chain(() => {
      this._pc.setTime(nowMs());
      const r = this._pc.addIceCandidate(init);
      if (!r.error && init && init.candidate) {
        const c = parseCandidate(init.candidate);
        if (c.address) this._remoteCands.push(c);
      }
      return this._completeJsep(r);
    });
  }

  restartIce() {
    if (this._closed) return;
    this._pc.setTime(nowMs());
    this._pc.restartIce();
    this._pump();
  }

  getConfiguration() {
    const c = this._deleted ? this._lastConfig : this._pc.getConfiguration();
    return { ...c, certificates: [...this._certificates] };
  }

  setConfiguration(configuration) {
    if (this._closed) throw domError('InvalidStateError', 'RTCPeerConnection is closed');
    const r = this._pc.setConfiguration(toEngineConfig(configuration));
    if (r && r.error) throw makeError(r.error);
    this._lastConfig = this._pc.getConfiguration();
    if (configuration && configuration.certificates) this._certificates = [...configuration.certificates];
  }

  // §4.4.1.6 close(): states change without events; channels are closed abruptly.
  close() {
    if (this._closed) return;
    this._closed = true;
    this._lastConfig = this._pc.getConfiguration();
    for (const ch of this._channels.values()) ch._closeSilently();
    const media = typeof this._pc.transceivers === 'function';
    if (media) this._finalTransceivers = this.getTransceivers();
    this._pc.setTime(nowMs());
    this._pc.close();
    this._drainTransmits();   // e.g. SCTP ABORT / DTLS close_notify go out before the sockets close
    this._drainEvents();
    this._refreshAll();
    // Every transceiver is stopped now (close() "stop the RTCRtpTransceiver", no events); keep what
    // they look like for the getters once the engine is freed.
    if (media) for (const t of this._transceivers.values()) t._freeze(this._pc);
    this._signalingState = 'closed';
    this._iceConnectionState = 'closed';
    this._connectionState = 'closed';
    this._cancelTimer();
    this._host.close();
    this._deleted = true;
    try { this._pc.delete(); } catch (e) { /* already freed */ }
  }

  // ---- attributes ----
  get localDescription() { return fromEngine(this._snap.localDescription); }
  get currentLocalDescription() { return fromEngine(this._snap.currentLocalDescription); }
  get pendingLocalDescription() { return fromEngine(this._snap.pendingLocalDescription); }
  get remoteDescription() { return fromEngine(this._snap.remoteDescription); }
  get currentRemoteDescription() { return fromEngine(this._snap.currentRemoteDescription); }
  get pendingRemoteDescription() { return fromEngine(this._snap.pendingRemoteDescription); }
  get signalingState() { return this._signalingState; }
  get iceGatheringState() { return this._iceGatheringState; }
  get iceConnectionState() { return this._iceConnectionState; }
  get connectionState() { return this._connectionState; }
  get canTrickleIceCandidates() { return this._snap.canTrickleIceCandidates ?? null; }
  // §6.1 sctp: non-null once a description with an SCTP m-section has been applied.
  get sctp() {
    const s = this._snapshot().sctp;
    if (!s) return this._closed ? this._sctp : null;
    if (!this._sctp) this._sctp = new RTCSctpTransport(TRANSPORT_TOKEN, this, this._dtlsTransport());
    return this._sctp;
  }

  // §6.1 createDataChannel(label, dataChannelDict).
  createDataChannel(label, init = undefined) {
    if (arguments.length < 1) throw new TypeError('createDataChannel: 1 argument required');
    if (this._closed) throw domError('InvalidStateError', 'RTCPeerConnection is closed');
    if (init === null || init === undefined) init = {};
    if (typeof init !== 'object') throw new TypeError('createDataChannel: init must be an object');
    const o = {};
    if (init.ordered !== undefined) o.ordered = !!init.ordered;
    if (init.maxPacketLifeTime !== undefined && init.maxPacketLifeTime !== null) {
      o.maxPacketLifeTime = enforceUShort(init.maxPacketLifeTime, 'maxPacketLifeTime');
    }
    if (init.maxRetransmits !== undefined && init.maxRetransmits !== null) {
      o.maxRetransmits = enforceUShort(init.maxRetransmits, 'maxRetransmits');
    }
    if (init.protocol !== undefined) o.protocol = String(init.protocol);
    if (init.negotiated !== undefined) o.negotiated = !!init.negotiated;
    if (init.id !== undefined && init.id !== null) o.id = enforceUShort(init.id, 'id');
    this._pc.setTime(nowMs());
    const r = this._pc.createDataChannel(String(label), o);
    if (r.error) { this._pump(); throw makeError(r.error); }
    const ch = new RTCDataChannel(CHANNEL_TOKEN, this, r.channel, 'connecting');
    this._channels.set(r.channel, ch);
    this._pump();
    return ch;
  }

  // §8.2 getStats(): see stats.js for what is reported.
  // WebIDL: optional arguments do not count in `length` (simple-peer checks getStats.length === 0
  // to pick the promise form), hence the `= undefined` defaults below.
  // §8.2 getStats(selector): a MediaStreamTrack selector picks the one sender or receiver that has
  // it (none or several → InvalidAccessError) and the report holds that RTP stream and the stats it
  // refers to.
  getStats(selector = undefined) {
    if (selector === undefined || selector === null) return this._statsFor(null);
    if (!(selector instanceof MediaStreamTrack)) {
      return Promise.reject(new TypeError('getStats: selector must be a MediaStreamTrack or null'));
    }
    const senders = this.getSenders().filter((s) => s.track === selector);
    const receivers = this.getReceivers().filter((r) => r.track === selector);
    if (senders.length + receivers.length !== 1) {
      return Promise.reject(domError('InvalidAccessError', 'getStats: the track is not sent or received exactly once'));
    }
    return this._statsFor(senders.length ? { sender: senders[0] } : { receiver: receivers[0] });
  }
  _statsFor(filter) {
    return new Promise((resolve) => {
      queueTask(() => resolve(buildReport(this, performance.timeOrigin + nowMs(), filter)));
    });
  }

  // The candidate pair the DTLS/SCTP traffic uses, as the host observes it (for getStats).
  _selectedCandidatePair() {
    const p = this._path;
    if (!p || this._iceConnectionState === 'new' || this._iceConnectionState === 'checking') return null;
    const local = (p.turn ? this._localCands.find((c) => c.type === 'relay')
      : this._localCands.find((c) => c.port === p.fromPort && sameIp(c.address, p.fromIp))) ||
      { address: p.fromIp, port: p.fromPort, protocol: 'udp', type: p.turn ? 'relay' : 'host' };
    const remote = this._remoteCands.find((c) => c.port === p.toPort && sameIp(c.address, p.toIp)) ||
      { address: p.toIp, port: p.toPort, protocol: 'udp', type: p.turn ? 'relay' : 'prflx' };
    const pick = (c) => ({ address: c.address, port: c.port, protocol: c.protocol, type: c.type,
      priority: c.priority ?? null, foundation: c.foundation ?? null });
    return { local: pick(local), remote: pick(remote), packetsSent: p.packetsSent,
      bytesSent: p.bytesSent, packetsReceived: p.packetsReceived, bytesReceived: p.bytesReceived };
  }

  // ---- §5.1 RTP media extensions ----
  _hasMedia() { return this._deleted || typeof this._pc.addTransceiver === 'function'; }
  _noMedia() { return domError('NotSupportedError', 'refrtc: this core has no media support'); }

  // getTransceivers(): [[Transceivers]] in creation order (those negotiation stopped are gone).
  getTransceivers() {
    if (this._deleted) return this._finalTransceivers ? [...this._finalTransceivers] : [];
    if (!this._hasMedia()) return [];
    return this._pc.transceivers().map((h) => this._transceiverFor(h)).filter((t) => t);
  }
  getSenders() {
    return this.getTransceivers().filter((t) => !t._state().stopped).map((t) => t.sender);
  }
  getReceivers() {
    return this.getTransceivers().filter((t) => !t._state().stopped).map((t) => t.receiver);
  }

  // §5.1 addTrack(track, ...streams): reuses a transceiver of the track's kind that never sent (e.g.
  // one a remote offer created), else creates a sendrecv one.
  addTrack(track, ...streams) {
    if (arguments.length < 1) throw new TypeError('addTrack: 1 argument required');
    if (!(track instanceof MediaStreamTrack)) throw new TypeError('addTrack: not a MediaStreamTrack');
    for (const s of streams) if (!(s instanceof MediaStream)) throw new TypeError('addTrack: not a MediaStream');
    if (this._closed) throw domError('InvalidStateError', 'RTCPeerConnection is closed');
    if (!this._hasMedia()) throw this._noMedia();
    this._pc.setTime(nowMs());
    const r = this._pc.addTrack(track.__core, streams.map((s) => s.id));
    if (r.error) { this._pump(); throw makeError(r.error); }
    const t = this._transceiverFor(r.transceiver);
    t.sender._track = track;
    this._pump();
    return t.sender;
  }

  // §5.1 removeTrack(sender): the sender stops sending; the transceiver's direction drops "send".
  removeTrack(sender) {
    if (arguments.length < 1 || !(sender instanceof RTCRtpSender)) throw new TypeError('removeTrack: not an RTCRtpSender');
    if (this._closed) throw domError('InvalidStateError', 'RTCPeerConnection is closed');
    if (!this._hasMedia()) throw this._noMedia();
    if (sender._t._pc !== this) throw domError('InvalidAccessError', 'removeTrack: the sender belongs to another RTCPeerConnection');
    const r = this._pc.removeTrack(sender._t._handle);
    if (r.error) { this._pump(); throw makeError(r.error); }
    if (!sender._t._state().stopping) sender._track = null;
    this._pump();
  }

  // §5.1 addTransceiver(trackOrKind, init): init = { direction, streams, sendEncodings }.
  addTransceiver(trackOrKind, init = undefined) {
    if (arguments.length < 1) throw new TypeError('addTransceiver: 1 argument required');
    const track = trackOrKind instanceof MediaStreamTrack ? trackOrKind : null;
    const kind = track ? track.kind : String(trackOrKind);
    if (init !== undefined && init !== null && typeof init !== 'object') {
      throw new TypeError('addTransceiver: init must be an object');
    }
    const o = {};
    if (init) {
      if (init.direction !== undefined) {
        if (!DIRECTION_VALUES.has(String(init.direction))) {
          throw new TypeError(`addTransceiver: '${init.direction}' is not a valid RTCRtpTransceiverDirection`);
        }
        o.direction = String(init.direction);
      }
      if (init.streams !== undefined) {
        if (!init.streams || typeof init.streams[Symbol.iterator] !== 'function') throw new TypeError('addTransceiver: streams must be a sequence');
        o.streams = [...init.streams].map((s) => {
          if (!(s instanceof MediaStream)) throw new TypeError('addTransceiver: streams must hold MediaStream objects');
          return s.id;
        });
      }
      if (init.sendEncodings !== undefined) {
        if (!init.sendEncodings || typeof init.sendEncodings[Symbol.iterator] !== 'function') {
          throw new TypeError('addTransceiver: sendEncodings must be a sequence');
        }
        o.sendEncodings = [...init.sendEncodings].map((e) => {
          if (!e || typeof e !== 'object') throw new TypeError('addTransceiver: sendEncodings must hold objects');
          const x = {};
          if (e.active !== undefined) x.active = !!e.active;
          if (e.maxBitrate !== undefined) x.maxBitrate = Number(e.maxBitrate);
          return x;
        });
      }
    }
    if (this._closed) throw domError('InvalidStateError', 'RTCPeerConnection is closed');
    if (!this._hasMedia()) throw this._noMedia();
    this._pc.setTime(nowMs());
    const r = this._pc.addTransceiver(track ? track.__core : kind, o);
    if (r.error) { this._pump(); throw makeError(r.error); }
    const t = this._transceiverFor(r.transceiver);
    if (track) t.sender._track = track;
    this._pump();
    return t;
  }

  // ---- webrtc-identity §6 (identity.js; BINDING.md "Identity") ----
  _idState() {
    if (!this.__identity) this.__identity = { registry: identityProviders, bridged: new Set(), waiters: [], peer: null };
    return this.__identity;
  }
  // refrtc extension: the IdP registry this connection loads IdPs from (default: identityProviders).
  setIdentityProviderRegistry(registry) {
    if (!(registry instanceof RTCIdentityProviderRegistry)) throw new TypeError('not an RTCIdentityProviderRegistry');
    this._idState().registry = registry;
  }
  // refrtc extension: the IdP time limit (default 15 s, webrtc-identity §9.5).
  setIdpTimeout(ms) { if (!this._deleted) this._pc.setIdpTimeout(Number(ms)); }

  setIdentityProvider(provider, options = undefined) {
    if (this._closed) throw domError('InvalidStateError', 'RTCPeerConnection is closed');
    const o = {};
    if (options && typeof options === 'object') {
      if (options.protocol !== undefined) o.protocol = String(options.protocol);
      if (options.usernameHint !== undefined) o.usernameHint = String(options.usernameHint);
      if (options.peerIdentity !== undefined) o.peerIdentity = String(options.peerIdentity);
    }
    const r = this._pc.setIdentityProvider(String(provider), o);
    if (r && r.error) throw makeError(r.error);
  }

  getIdentityAssertion() {
    if (this._closed) return Promise.reject(domError('InvalidStateError', 'RTCPeerConnection is closed'));
    return this._idpCall(() => this._pc.getIdentityAssertion()).then((r) => {
      this._pump();
      if (r.error) throw makeError(r.error);
      return r.assertion;
    });
  }

  // Promise<RTCIdentityAssertion>: pending until a validated identity; rejected when a validation
  // fails (a later validation replaces it with a new promise).
  get peerIdentity() {
    const st = this._idState();
    if (!st.peer) st.peer = deferred();
    return st.peer.promise;
  }
  get idpLoginUrl() { return this._deleted ? null : this._pc.identityState().idpLoginUrl; }
  get idpErrorInfo() { return this._deleted ? null : this._pc.identityState().idpErrorInfo; }

  _onPeerIdentityResult(ev) {
    const st = this._idState();
    if (!st.peer || st.peer.settled) st.peer = deferred();
    st.peer.settled = true;
    if (ev.state === 'fulfilled') {
      const p = this._pc.identityState().peerIdentity;
      st.peer.resolve(new RTCIdentityAssertion(p.idp, p.name));
    } else {
      st.peer.reject(makeError(ev.error));
    }
  }

  // Makes the engine call `fn` until it stops answering "pending" (an IdP request it depends on is
  // outstanding): the engine's IdP calls go to the JS IdPs, and their settling (or the engine's
  // IdP timeout through the timer) wakes the retry. Returns the final engine result.
  async _idpCall(fn) {
    const st = this._idState();
    for (;;) {
      if (this._deleted) return { error: { name: 'InvalidStateError', message: 'RTCPeerConnection is closed' } };
      for (const [domain, protocol] of st.registry._registered()) {
        const key = `${domain}\n${protocol}`;
        if (st.bridged.has(key)) continue;
        st.bridged.add(key);
        this._pc.registerIdpBridge(domain, protocol);
      }
      this._pc.setTime(nowMs());
      const r = fn();
      this._serviceIdp();
      if (!(r && r.error && r.error.pending)) return r;
      // Our own pump must not wake the waiters (they would retry at once: a busy loop); the IdP
      // settling and the engine's timer pump normally and wake them.
      st.quiet = true;
      try { this._pump(); } finally { st.quiet = false; }
      await new Promise((resolve) => st.waiters.push(resolve));
    }
  }
  _wakeIdp() {
    const st = this.__identity;
    if (!st || st.quiet || !st.waiters.length) return;
    const w = st.waiters;
    st.waiters = [];
    for (const f of w) f();
  }
  // Hands the engine's queued IdP calls to the registered JS IdPs (§9.3 step 2, §9.4 step 4).
  _serviceIdp() {
    const st = this._idState();
    let c;
    while (!this._deleted && (c = this._pc.pollIdpRequest())) {
      const call = c;
      const idp = st.registry._lookup(call.domain, call.protocol);
      let p;
      try {
        if (!idp) throw new Error('IdP no longer registered');
        p = Promise.resolve(call.kind === 'generate'
          ? idp.generateAssertion(call.contents, call.origin, call.options)
          : idp.validateAssertion(call.assertion, call.origin));
      } catch (e) { p = Promise.reject(e); }
      p.then((v) => this._settleIdp(call.id, true, v), (e) => this._settleIdp(call.id, false, {
        errorDetail: (e && typeof e.errorDetail === 'string') ? e.errorDetail : '',
        message: (e && e.message) ? String(e.message) : String(e),
        idpLoginUrl: e && e.idpLoginUrl !== undefined ? String(e.idpLoginUrl) : undefined,
        idpErrorInfo: e && e.idpErrorInfo !== undefined ? String(e.idpErrorInfo) : undefined,
      }));
    }
  }
  _settleIdp(id, ok, value) {
    if (this._deleted) return;
    let v = value;
    if (ok && (!v || typeof v !== 'object')) v = {};
    this._pc.settleIdpRequest(id, ok, v);
    this._pump();
  }
}

function deferred() {
  const d = { settled: false };
  d.promise = new Promise((resolve, reject) => { d.resolve = resolve; d.reject = reject; });
  d.promise.catch(() => {});  // no unhandled-rejection noise when nobody awaits peerIdentity
  return d;
}
const DIRECTION_VALUES = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive', 'stopped']);
defineEventHandlers(RTCPeerConnection.prototype, ['negotiationneeded', 'icecandidate',
  'icecandidateerror', 'signalingstatechange', 'iceconnectionstatechange', 'icegatheringstatechange',
  'connectionstatechange', 'datachannel', 'track']);
Object.defineProperty(RTCPeerConnection.prototype, Symbol.toStringTag, { value: 'RTCPeerConnection' });

module.exports = { RTCPeerConnection, RTCSessionDescription };
