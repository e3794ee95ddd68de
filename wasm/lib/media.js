'use strict';
// RTP media objects over the engine's transceivers (BINDING.md "RTP media"):
//  - mediacapture-main §4.3 MediaStreamTrack and §4.2 MediaStream;
//  - W3C webrtc-pc §5.2 RTCRtpSender, §5.3 RTCRtpReceiver, §5.4 RTCRtpTransceiver, §5.7 RTCTrackEvent.
// There are no capture devices: local tracks come from refrtc's synthetic sources
// (createSyntheticTrack('tone:440' | 'silence' | 'pattern'), a refrtc extension), and what a
// receiver's sink measured is read with receiver.trackInfo() (also an extension). The engine owns
// the state; these objects read it through their RTCPeerConnection (its `_core()` PeerConnection)
// and keep a frozen copy once the connection is closed and the engine freed.
const { getCore } = require('./core.js');
const { makeError, domError } = require('./errors.js');
const { defineEventHandlers } = require('./event_handlers.js');
const { queueTask, nowMs } = require('./util.js');

const TOKEN = Symbol('media');
const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive', 'stopped']);

// A UUID v4 (RFC 9562 §5.4) for track and stream ids, from the platform CSPRNG.
function randomId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// Synthetic sources and the settings they produce (media/media_pipeline.h: 48 kHz audio, 320×240
// at 30 fps video).
function sourceSettings(kind, source) {
  if (kind === 'audio') return { sampleRate: 48000, channelCount: 1, sampleSize: 16 };
  if (source) return { width: 320, height: 240, frameRate: 30, aspectRatio: 320 / 240 };
  return {};
}

// ---- mediacapture-main §4.3 MediaStreamTrack ----
class MediaStreamTrack extends EventTarget {
  constructor(token, coreTrack) {
    if (token !== TOKEN) throw new TypeError('Illegal constructor');
    super();
    Object.defineProperty(this, '__core', { value: coreTrack });   // the engine track (binding.cc Track)
    this._kind = coreTrack.kind();
    this._id = coreTrack.id();
    this._label = coreTrack.label();
    this._remote = coreTrack.remote();
    this._source = coreTrack.source();
    this._contentHint = '';
    this._muted = coreTrack.muted();        // last state seen, for mute/unmute events
    this._quietEnd = false;                 // ended by stop()/close(): no 'ended' event
    this._endedFired = false;
  }
  get kind() { return this._kind; }
  get id() { return this._id; }
  get label() { return this._label; }
  get enabled() { return this.__core.enabled(); }
  set enabled(v) { this.__core.setEnabled(!!v); }
  get muted() { return this.__core.muted(); }
  get readyState() { return this.__core.readyState(); }
  get contentHint() { return this._contentHint; }
  set contentHint(v) { this._contentHint = String(v); }

  // §4.3.3.2 stop(): ended for good; a sender of this track sends nothing more. No 'ended' event.
  stop() {
    this._quietEnd = true;
    this.__core.stop();
  }

  // §4.3.3.1 clone(): a new track from the same synthetic source (same enabled and readyState).
  clone() {
    if (this._remote) throw domError('NotSupportedError', 'refrtc: a remote track cannot be cloned');
    const t = createSyntheticTrack(this._source);
    t.enabled = this.enabled;
    if (this.readyState === 'ended') t.stop();
    return t;
  }

  getSettings() {
    const s = { deviceId: '', groupId: '', ...sourceSettings(this._kind, this._source) };
    return s;
  }
  getCapabilities() { return {}; }
  getConstraints() { return {}; }
  applyConstraints(constraints = undefined) { // eslint-disable-line no-unused-vars
    return Promise.resolve(undefined);
  }

  // The owning connection polls remote tracks after each engine input: fires mute/unmute (webrtc-pc
  // §5.3 "muted" when RTP starts/stops) and 'ended' (the remote side stopped the transceiver).
  _poll() {
    const muted = this.__core.muted();
    if (muted !== this._muted) {
      this._muted = muted;
      queueTask(() => this.dispatchEvent(new Event(muted ? 'mute' : 'unmute')));
    }
    if (!this._quietEnd && !this._endedFired && this.__core.readyState() === 'ended') {
      this._endedFired = true;
      queueTask(() => this.dispatchEvent(new Event('ended')));
    }
  }
}
defineEventHandlers(MediaStreamTrack.prototype, ['mute', 'unmute', 'ended']);

// Not W3C (the stand-in for getUserMedia): a live local track from a synthetic source:
// 'tone:FREQ' (audio, a sine of FREQ Hz at 0.3 of full scale), 'silence' (audio), 'pattern'
// (320×240 video at 30 fps). An unknown source is a TypeError.
function createSyntheticTrack(source) {
  if (typeof source !== 'string') throw new TypeError('createSyntheticTrack: source must be a string');
  const r = getCore().createSyntheticTrack(source, randomId());
  if (r.error) throw makeError(r.error);
  return new MediaStreamTrack(TOKEN, r.track);
}

// ---- mediacapture-main §4.2 MediaStream ----
class MediaStream extends EventTarget {
  // new MediaStream(), new MediaStream(stream), new MediaStream(tracks)
  constructor(streamOrTracks = undefined) {
    super();
    this._id = randomId();
    this._tracks = new Set();
    if (streamOrTracks === undefined) return;
    const list = streamOrTracks instanceof MediaStream ? streamOrTracks.getTracks()
      : (streamOrTracks && typeof streamOrTracks[Symbol.iterator] === 'function' ? [...streamOrTracks] : null);
    if (!list) throw new TypeError('MediaStream: argument must be a MediaStream or a sequence of MediaStreamTrack');
    for (const t of list) {
      if (!(t instanceof MediaStreamTrack)) throw new TypeError('MediaStream: not a MediaStreamTrack');
      this._tracks.add(t);
    }
  }
  static _withId(id) {
    const s = new MediaStream();
    s._id = String(id);
    return s;
  }
  get id() { return this._id; }
  get active() { return [...this._tracks].some((t) => t.readyState !== 'ended'); }
  getTracks() { return [...this._tracks]; }
  getAudioTracks() { return this.getTracks().filter((t) => t.kind === 'audio'); }
  getVideoTracks() { return this.getTracks().filter((t) => t.kind === 'video'); }
  getTrackById(id) { return this.getTracks().find((t) => t.id === String(id)) || null; }
  addTrack(track) {
    if (!(track instanceof MediaStreamTrack)) throw new TypeError('addTrack: not a MediaStreamTrack');
    this._tracks.add(track);
  }
  removeTrack(track) {
    if (!(track instanceof MediaStreamTrack)) throw new TypeError('removeTrack: not a MediaStreamTrack');
    this._tracks.delete(track);
  }
  clone() {
    return new MediaStream(this.getTracks().map((t) => t.clone()));
  }
}
defineEventHandlers(MediaStream.prototype, ['addtrack', 'removetrack']);

// W3C §5.2 / §5.3 getCapabilities(kind): { codecs, headerExtensions } or null.
function getCapabilities(kind) {
  return getCore().getCapabilities(String(kind));
}

// Resolves `fn()` in a task (W3C "in parallel … queue a task to resolve").
function inTask(fn) {
  return new Promise((resolve, reject) => {
    queueTask(() => { try { resolve(fn()); } catch (e) { reject(e); } });
  });
}

// ---- W3C §5.2 RTCRtpSender ----
class RTCRtpSender {
  constructor(token, transceiver) {
    if (token !== TOKEN) throw new TypeError('Illegal constructor');
    this._t = transceiver;
    this._track = null;
  }
  get track() { return this._track; }
  get transport() { return this._t._transport(); }
  // §7.1 dtmf: an RTCDTMFSender for audio senders (the same object every time), null for video.
  get dtmf() {
    if (this._t._kind !== 'audio') return null;
    if (!this._dtmf) this._dtmf = new RTCDTMFSender(TOKEN, this);
    return this._dtmf;
  }
  static getCapabilities(kind) { return getCapabilities(kind); }

  // §5.2 getParameters(): a new transactionId each call; encodings { active, maxBitrate, ssrc },
  // the negotiated send codec.
  getParameters() {
    const pc = this._t._pc;
    if (pc._deleted) return { transactionId: '', encodings: [], codecs: [], headerExtensions: [], rtcp: { reducedSize: false } };
    return pc._core().senderGetParameters(this._t._handle);
  }

  // §5.2 setParameters(): only `active` and `maxBitrate` may change.
  setParameters(parameters, setParameterOptions = undefined) { // eslint-disable-line no-unused-vars
    if (!parameters || typeof parameters !== 'object') {
      return Promise.reject(new TypeError('setParameters: parameters must be an object'));
    }
    const pc = this._t._pc;
    if (pc._closed) return Promise.reject(domError('InvalidStateError', 'RTCPeerConnection is closed'));
    const r = pc._core().senderSetParameters(this._t._handle, parameters);
    if (r.error) return Promise.reject(makeError(r.error));
    return inTask(() => undefined);
  }

  // §5.2 replaceTrack(): on the operations chain; no renegotiation.
  replaceTrack(withTrack) {
    if (withTrack === undefined) return Promise.reject(new TypeError('replaceTrack: 1 argument required'));
    if (withTrack !== null && !(withTrack instanceof MediaStreamTrack)) {
      return Promise.reject(new TypeError('replaceTrack: not a MediaStreamTrack'));
    }
    const pc = this._t._pc;
    if (withTrack && withTrack.kind !== this._t._kind) {
      return Promise.reject(new TypeError(`replaceTrack: a ${withTrack.kind} track on a ${this._t._kind} transceiver`));
    }
    return pc._chain(() => {
      const r = pc._core().senderReplaceTrack(this._t._handle, withTrack ? withTrack.__core : null);
      if (r.error) throw makeError(r.error);
      return inTask(() => { this._track = withTrack; return undefined; });
    });
  }

  getStats() { return this._t._pc._statsFor({ sender: this }); }
}

// ---- W3C webrtc-pc §7.3 RTCDTMFToneChangeEvent ----
class RTCDTMFToneChangeEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    Object.defineProperty(this, '_tone', { value: init.tone === undefined ? '' : String(init.tone) });
  }
  get tone() { return this._tone; }
}

// ---- refrtc extension (not W3C): a DTMF digit received as RFC 4733 telephone-events, fired as
// 'dtmf' at the RTCRtpReceiver (ondtmf): tone ('0'-'9', '*', '#', 'A'-'D'), duration (ms),
// transceiver. One per event (see stack/src/rtp/telephone_event.h for the lost-end-packet policy).
class RTCDTMFReceivedEvent extends Event {
  constructor(type, init = {}) {
    super(type, init);
    Object.defineProperties(this, {
      _tone: { value: init.tone === undefined ? '' : String(init.tone) },
      _duration: { value: Number(init.duration) || 0 },
      _transceiver: { value: init.transceiver ?? null },
    });
  }
  get tone() { return this._tone; }
  get duration() { return this._duration; }
  get transceiver() { return this._transceiver; }
}

// WebIDL unsigned long (ToUint32).
function toUint32(v) {
  const n = Number(v);
  if (!Number.isFinite(n)) return 0;
  return Math.trunc(n) >>> 0;
}

// ---- W3C webrtc-pc §7.2 RTCDTMFSender (the engine runs the §7.2 steps and the Playout task) ----
class RTCDTMFSender extends EventTarget {
  constructor(token, sender) {
    if (token !== TOKEN) throw new TypeError('Illegal constructor');
    super();
    this._sender = sender;
  }
  _state() {
    const pc = this._sender._t._pc;
    if (pc._deleted || pc._closed) return { toneBuffer: '', canInsertDTMF: false };
    return pc._core().senderDtmfState(this._sender._t._handle) || { toneBuffer: '', canInsertDTMF: false };
  }
  insertDTMF(tones, duration = 100, interToneGap = 70) {
    if (arguments.length < 1) throw new TypeError('insertDTMF: 1 argument required');
    const pc = this._sender._t._pc;
    if (pc._deleted || pc._closed) throw domError('InvalidStateError', 'RTCPeerConnection is closed');
    const core = pc._core();
    core.setTime(nowMs());   // the Playout task is queued at the engine's "now"
    const r = core.senderInsertDTMF(this._sender._t._handle, String(tones), toUint32(duration), toUint32(interToneGap));
    if (r && r.error) throw makeError(r.error);
    pc._armTimer();   // the Playout task is due now
  }
  get canInsertDTMF() { return this._state().canInsertDTMF; }
  get toneBuffer() { return this._state().toneBuffer; }
}
defineEventHandlers(RTCDTMFSender.prototype, ['tonechange']);

// ---- W3C §5.3 RTCRtpReceiver ----
// An EventTarget here for the refrtc 'dtmf' extension event (RTCDTMFReceivedEvent).
class RTCRtpReceiver extends EventTarget {
  constructor(token, transceiver, track) {
    if (token !== TOKEN) throw new TypeError('Illegal constructor');
    super();
    this._t = transceiver;
    this._track = track;
    this._info = null;   // trackInfo() frozen at close
  }
  get track() { return this._track; }
  get transport() { return this._t._transport(); }
  static getCapabilities(kind) { return getCapabilities(kind); }

  // §5.3 getParameters(): the negotiated receive codec (from the engine's stats), no extensions.
  getParameters() {
    const pc = this._t._pc;
    const codecs = [];
    const mid = this._t.mid;
    if (!pc._deleted && mid !== null) {
      const stats = pc._core().rtpStats(0, 'T');
      const inbound = stats.find((s) => s.type === 'inbound-rtp' && s.mid === mid);
      const codec = inbound && stats.find((s) => s.id === inbound.codecId);
      if (codec) {
        const c = { mimeType: codec.mimeType, clockRate: codec.clockRate, payloadType: codec.payloadType };
        if (codec.channels !== undefined) c.channels = codec.channels;
        if (codec.sdpFmtpLine !== undefined) c.sdpFmtpLine = codec.sdpFmtpLine;
        codecs.push(c);
      }
    }
    return { codecs, headerExtensions: [], rtcp: { reducedSize: false } };
  }
  getContributingSources() { return []; }
  getSynchronizationSources() { return []; }
  getStats() { return this._t._pc._statsFor({ receiver: this }); }

  // refrtc extension: what the receiver's analysing sink measured so far. Audio: { kind,
  // samplesReceived, sampleRate, dominantHz (peak of a Hann-windowed FFT over the last second of
  // decoded mono audio; null when silent), rms }; video: { kind, framesReceived, framesDecoded (by
  // the decoder-only libvpx of the WASM build), width, height }.
  trackInfo() {
    const pc = this._t._pc;
    if (pc._deleted) return this._info ? { ...this._info } : { kind: this._t._kind };
    return pc._core().receiverTrackInfo(this._t._handle);
  }
  _freeze(core) { this._info = core.receiverTrackInfo(this._t._handle); }
}

// ---- W3C §5.4 RTCRtpTransceiver ----
class RTCRtpTransceiver {
  constructor(token, pc, handle, state) {
    if (token !== TOKEN) throw new TypeError('Illegal constructor');
    this._pc = pc;
    this._handle = handle;
    this._kind = state.kind;
    this._frozen = null;   // the state at close()
    this._sender = new RTCRtpSender(TOKEN, this);
    const track = new MediaStreamTrack(TOKEN, pc._core().receiverTrack(handle));
    this._receiver = new RTCRtpReceiver(TOKEN, this, track);
  }
  _state() {
    if (this._frozen) return this._frozen;
    return this._pc._core().transceiverState(this._handle) || { mid: null, direction: 'stopped', currentDirection: 'stopped', stopped: true, stopping: true, senderStreams: [], receiverStreams: [] };
  }
  _transport() {
    return this._state().mid === null ? null : this._pc._dtlsTransport();
  }
  _freeze(core) {
    this._frozen = core.transceiverState(this._handle);
    this._receiver._freeze(core);
    this._receiver.track._quietEnd = true;
  }

  get mid() { return this._state().mid; }
  get sender() { return this._sender; }
  get receiver() { return this._receiver; }
  get direction() { return this._state().direction; }
  // §5.4 direction setter. WebIDL: an invalid enum value assigned to an attribute is ignored.
  set direction(v) {
    const d = String(v);
    if (!DIRECTIONS.has(d)) return;
    if (this._pc._closed) throw domError('InvalidStateError', 'RTCPeerConnection is closed');
    const r = this._pc._core().transceiverSetDirection(this._handle, d);
    if (r.error) throw makeError(r.error);
    this._pc._pump();
  }
  get currentDirection() { return this._state().currentDirection; }

  // §5.4 stop(): stopping now (the receiver's track ends), stopped after the next negotiation.
  stop() {
    if (this._pc._closed) throw domError('InvalidStateError', 'RTCPeerConnection is closed');
    this._receiver.track._quietEnd = true;
    const r = this._pc._core().transceiverStop(this._handle);
    if (r.error) throw makeError(r.error);
    this._pc._pump();
  }

  // §5.4 setCodecPreferences(codecs): [] restores the defaults; a codec this build cannot receive
  // → InvalidModificationError.
  setCodecPreferences(codecs) {
    if (!codecs || typeof codecs[Symbol.iterator] !== 'function') {
      throw new TypeError('setCodecPreferences: codecs must be a sequence of RTCRtpCodec');
    }
    if (this._pc._closed) throw domError('InvalidStateError', 'RTCPeerConnection is closed');
    const list = [...codecs].map((c) => {
      if (!c || typeof c !== 'object') throw new TypeError('setCodecPreferences: not an RTCRtpCodec');
      return { mimeType: c.mimeType, clockRate: c.clockRate, channels: c.channels, sdpFmtpLine: c.sdpFmtpLine };
    });
    const r = this._pc._core().transceiverSetCodecPreferences(this._handle, list);
    if (r.error) throw makeError(r.error);
  }
}

// ---- W3C §5.7 RTCTrackEvent ----
class RTCTrackEvent extends Event {
  constructor(type, init) {
    if (!init || !init.receiver || !init.track || !init.transceiver) {
      throw new TypeError("RTCTrackEvent: 'receiver', 'track' and 'transceiver' are required");
    }
    super(type, init);
    Object.defineProperties(this, {
      _receiver: { value: init.receiver },
      _track: { value: init.track },
      _streams: { value: Object.freeze([...(init.streams || [])]) },
      _transceiver: { value: init.transceiver },
    });
  }
  get receiver() { return this._receiver; }
  get track() { return this._track; }
  get streams() { return this._streams; }
  get transceiver() { return this._transceiver; }
}

for (const C of [MediaStreamTrack, MediaStream, RTCRtpSender, RTCRtpReceiver, RTCRtpTransceiver, RTCTrackEvent]) {
  Object.defineProperty(C.prototype, Symbol.toStringTag, { value: C.name });
}

defineEventHandlers(RTCRtpReceiver.prototype, ['dtmf']);

module.exports = {
  RTCDTMFSender, RTCDTMFToneChangeEvent, RTCDTMFReceivedEvent,
  MediaStreamTrack, MediaStream, RTCRtpSender, RTCRtpReceiver, RTCRtpTransceiver, RTCTrackEvent,
  createSyntheticTrack, TOKEN, DIRECTIONS,
};
