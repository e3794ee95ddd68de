#!/usr/bin/env node
// DRIVER_PROTOCOL v1 driver over werift (pure TypeScript WebRTC): data channels, and media (feature
// `media`) at the RTP level. See docs/DRIVER_PROTOCOL.md and /work/shared/peer-quirks.md (werift section).
//
// Media: werift moves RTP but has no codecs. Its RTCPeerConnection is configured with PCMU (PT 0) for
// audio and VP8 (PT 96, nack/pli/remb feedback) for video; the synthetic sources and analysing sinks are
// ../common/rtp_media.cjs (G.711 tone/silence, the pre-encoded VP8 pattern packetized per RFC 7741), fed
// through MediaStreamTrack.writeRtp and read from the received track's onReceiveRtp. werift does the rest
// (SSRC/PT/sequence rewriting, SRTP, RTCP SR/RR, NACK, stats); the driver answers PLI by sending the key
// frame next and sends PLI (receiver.sendRtcpPLI) while its sink waits for one.
//
// werift's RTCPeerConnection is close to W3C but not identical; what this driver adapts:
// - State changes and candidates are werift `Event`s (`pc.signalingStateChange.subscribe(...)`, ...) carrying
//   the new state; end of gathering is `onIceCandidate` with `undefined` (sent here as `null`, once).
// - RTCDataChannel is a Node EventEmitter: `open`, `close`, `message` ({data}), `bufferedamountlow` are
//   emitted, `closing` only through the `onclosing` callback; there is no binaryType (binary arrives as a
//   Buffer). W3C fires `closing` only on the end that did not call close(), so the closer's is dropped.
// - sctp.maxMessageSize: werift's RTCSctpTransport.maxMessageSize is its own limit; the W3C value (the
//   largest message we may send) is the smaller of it and the remote's a=max-message-size.
// - sendMany: werift flushes its whole queue on every send(), so a large bufferedAmount makes a bulk send
//   quadratic (peer-quirks); the high-water mark is 256 KiB here.
// - An empty string is sent as a DATA chunk with no payload instead of PPID 56 with one byte (RFC 8831
//   §6.6): a peer bug, recorded as a known issue in the scenarios, not worked around here.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as werift from 'werift';
import { startDriver, emit, log, DriverError, notFound } from '../common/jsonlines.mjs';
import { candidateInit } from '../common/candidates.mjs';
import { pcStateFields } from '../common/state.mjs';
import { ChannelTable } from '../common/channels.mjs';

const require = createRequire(import.meta.url);
const core = require('../common/media_core.cjs');
const rtpMedia = require('../common/rtp_media.cjs');
function packageJson(name) {
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) {
      const j = JSON.parse(fs.readFileSync(p, 'utf8'));
      if (j.name === name) return j;
    }
    const up = path.dirname(dir);
    if (up === dir) return { version: 'unknown' };
    dir = up;
  }
}
const pkg = packageJson('werift');

const pcs = new Map();            // pc handle → {pc, endOfCandidates}
const closeRequested = new Set(); // channel handles whose close() this side called

const channels = new ChannelTable({
  // werift fires `open` synchronously inside createDataChannel for a negotiated channel once SCTP is up
  // (W3C queues it), before any listener exists: report it from readyState instead.
  syntheticOpen: true,
  sendManyHighWater: 256 * 1024,
  sendManyLowThreshold: 64 * 1024,
  normalizeState: (st) => ({
    ...st,
    id: typeof st.id === 'number' ? st.id : null,
    maxPacketLifeTime: st.maxPacketLifeTime ?? null,
    maxRetransmits: st.maxRetransmits ?? null,
    binaryType: st.binaryType ?? 'arraybuffer',
  }),
});

function getRec(handle) {
  const rec = typeof handle === 'string' ? pcs.get(handle) : undefined;
  if (!rec) throw notFound('pc', handle);
  return rec;
}

const desc = (d) => (d && d.sdp ? { type: d.type, sdp: d.sdp } : null);

function addChannel(pcHandle, dc) {
  const ch = channels.add(pcHandle, dc);
  dc.onclosing = () => {
    if (!closeRequested.has(ch)) emit({ event: 'closing', pc: pcHandle, channel: ch });
  };
  return ch;
}


function attachPcEvents(handle, rec) {
  const pc = rec.pc;
  pc.onIceCandidate.subscribe((c) => {
    if (c) {
      rec.endOfCandidates = false;
      emit({ event: 'icecandidate', pc: handle, candidate: candidateInit(c, pc) });
    } else if (!rec.endOfCandidates) {
      rec.endOfCandidates = true;
      emit({ event: 'icecandidate', pc: handle, candidate: null });
    }
  });
  const states = {};
  const onState = (event) => (state) => {
    if (states[event] === state) return;
    states[event] = state;
    emit({ event, pc: handle, state });
  };
  pc.iceGatheringStateChange.subscribe(onState('icegatheringstatechange'));
  pc.iceConnectionStateChange.subscribe(onState('iceconnectionstatechange'));
  pc.connectionStateChange.subscribe(onState('connectionstatechange'));
  pc.signalingStateChange.subscribe(onState('signalingstatechange'));
  pc.onNegotiationneeded.subscribe(() => emit({ event: 'negotiationneeded', pc: handle }));
  pc.addEventListener('track', (e) => onTrack(handle, e));
  pc.onDataChannel.subscribe((dc) => {
    const ch = addChannel(handle, dc);
    emit({ event: 'datachannel', pc: handle, ...channels.state(ch) });
  });
}

function sctpState(pc) {
  const s = pc.sctp;
  if (!s) return null;
  const local = typeof s.maxMessageSize === 'number' ? s.maxMessageSize : null;
  const remote = typeof s.remoteMaxMessageSize === 'number' ? s.remoteMaxMessageSize : null;
  let max = local;
  if (remote !== null) max = remote === 0 ? local : (local === null || local === 0 ? remote : Math.min(local, remote));
  let state = 'connecting';
  if (pc.connectionState === 'connected') state = 'connected';
  else if (pc.connectionState === 'closed' || pc.connectionState === 'failed') state = 'closed';
  return { maxMessageSize: max, maxChannels: 65535, state };
}

// werift's PeerConfig differs from RTCConfiguration in a few names; pass what maps directly.
function weriftConfig(config) {
  const out = {};
  if (Array.isArray(config.iceServers)) out.iceServers = config.iceServers;
  if (config.iceTransportPolicy) out.iceTransportPolicy = config.iceTransportPolicy;
  if (config.bundlePolicy) out.bundlePolicy = config.bundlePolicy;
  return out;
}


// ---- media (feature `media`, RTP level; see the header) ---------------------------------------------

// What werift negotiates: PCMU for audio, VP8 for video (the only formats the RTP-level sources and sinks
// know). A fresh list per peer connection: werift keeps state in the codec objects.
const mediaCodecs = () => ({ audio: [werift.usePCMU()], video: [werift.useVP8({ payloadType: 96 })] });

const mkErr = (name, message) => new DriverError(name, message);
const transceivers = new Map();    // handle → rec {handle, pc, t, source, sink, sinkTrack, pliTimer}
const recByTransceiver = new Map(); // werift RTCRtpTransceiver → rec
const senderHandles = new Map();   // RTCRtpSender → "s1"
let nextTransceiver = 1;
let nextSender = 1;

function mediaRec(pcHandle, t) {
  let rec = recByTransceiver.get(t);
  if (!rec) {
    rec = { handle: `t${nextTransceiver++}`, pc: pcHandle, t, source: null, sink: null, sinkTrack: null, pliTimer: null };
    recByTransceiver.set(t, rec);
    transceivers.set(rec.handle, rec);
  }
  return rec;
}

function senderHandle(sender) {
  if (!sender) return null;
  let h = senderHandles.get(sender);
  if (!h) { h = `s${nextSender++}`; senderHandles.set(sender, h); }
  return h;
}

function describe(rec) {
  const t = rec.t;
  return {
    transceiver: rec.handle,
    sender: senderHandle(t.sender),
    mid: t.mid ?? null,
    kind: t.kind,
    direction: t.stopping || t.stopped ? 'stopped' : t.direction,
    currentDirection: t.currentDirection ?? null,
  };
}

function getMediaRec(handle) {
  const rec = typeof handle === 'string' ? transceivers.get(handle) : undefined;
  if (!rec) throw new DriverError('NotFoundError', `unknown transceiver handle ${JSON.stringify(handle)}`);
  return rec;
}

function checkKind(kind) {
  if (kind !== 'audio' && kind !== 'video') throw new DriverError('TypeError', `kind must be "audio" or "video", not ${JSON.stringify(kind)}`);
}

// A synthetic source as a werift MediaStreamTrack fed by rtp_media's paced generator. werift's sender
// sends asynchronously and fails (unhandled) without a connected DTLS transport and a negotiated codec,
// so packets are only written once the sender has both; until then they are dropped (the source keeps
// its clock).
function makeSource(kind, source) {
  const spec = core.parseSource(kind, source, mkErr);
  const track = new werift.MediaStreamTrack({ kind });
  const stream = new werift.MediaStream({ tracks: [track] });
  let sender = null;
  const send = (pkt) => {
    const dt = sender && sender.dtlsTransport;
    if (!dt || dt.state !== 'connected' || !sender.codec || sender.stopped) return false;
    track.writeRtp(pkt);
    return true;
  };
  const gen = kind === 'audio' ? new rtpMedia.AudioRtpSource({ spec, send }) : new rtpMedia.VideoRtpSource({ send });
  let unsubscribe = null;
  return {
    track,
    stream,
    // The sender this track went to: key frames on PLI/FIR (werift raises onPictureLossIndication).
    bind(s) {
      sender = s;
      if (kind === 'video' && s.onPictureLossIndication) unsubscribe = s.onPictureLossIndication.subscribe(() => gen.requestKeyFrame()).unSubscribe;
      gen.start();
    },
    stop() {
      gen.stop();
      if (typeof unsubscribe === 'function') unsubscribe();
      try { track.stop(); } catch (e) { /* already stopped */ }
    },
  };
}

// The sink of a received track: every RTP packet werift delivers goes to rtp_media's depacketizer; a
// video sink waiting for a key frame sends PLI (RFC 4585 §6.3.1) every 500 ms.
function startSink(rec, track) {
  if (rec.sinkTrack === track) return;
  stopSink(rec);
  const kind = rec.t.kind;
  const sink = kind === 'audio' ? new rtpMedia.AudioRtpSink() : new rtpMedia.Vp8RtpSink();
  const sub = track.onReceiveRtp.subscribe((p) => {
    const h = p.header;
    sink.push({ payloadType: h.payloadType, sequenceNumber: h.sequenceNumber, timestamp: h.timestamp, ssrc: h.ssrc, marker: h.marker, payload: p.payload });
  });
  rec.sink = sink;
  rec.sinkTrack = track;
  rec.sinkStop = sub && sub.unSubscribe;
  if (kind === 'video') {
    rec.pliTimer = setInterval(() => {
      if (!sink.needKeyFrame || sink.packetsReceived === 0 || !track.ssrc) return;
      rec.t.receiver.sendRtcpPLI(track.ssrc).catch(() => {});
    }, 500);
    rec.pliTimer.unref();
  }
}

function stopSink(rec) {
  if (typeof rec.sinkStop === 'function') rec.sinkStop();
  if (rec.pliTimer) clearInterval(rec.pliTimer);
  rec.sink = null;
  rec.sinkTrack = null;
  rec.sinkStop = null;
  rec.pliTimer = null;
}

function stopMediaRec(rec) {
  if (rec.source) rec.source.stop();
  rec.source = null;
  stopSink(rec);
}

const trackId = (track, t) => track.id ?? t.receiver.remoteTrackId ?? track.uuid;

function onTrack(pcHandle, e) {
  const rec = mediaRec(pcHandle, e.transceiver);
  startSink(rec, e.track);
  emit({
    event: 'track',
    pc: pcHandle,
    transceiver: rec.handle,
    kind: e.track.kind,
    mid: e.transceiver.mid ?? null,
    streams: (e.streams || []).map((st) => st.id),
    track: trackId(e.track, e.transceiver),
  });
}

const mediaOps = {
  addTransceiver: async (cmd) => {
    const { pc } = getRec(cmd.pc);
    checkKind(cmd.kind);
    const init = cmd.init && typeof cmd.init === 'object' ? cmd.init : {};
    const src = cmd.source === undefined || cmd.source === null ? null : makeSource(cmd.kind, cmd.source);
    const opts = {};
    if (init.direction !== undefined) opts.direction = init.direction;
    if (src) opts.streams = [src.stream];
    let t;
    try {
      t = pc.addTransceiver(src ? src.track : cmd.kind, opts);
    } catch (e) {
      if (src) src.stop();
      throw e;
    }
    const rec = mediaRec(cmd.pc, t);
    if (src) { rec.source = src; src.bind(t.sender); }
    return describe(rec);
  },

  // W3C addTrack reuses a transceiver of that kind that never sent (e.g. one a remote offer created).
  addTrack: async (cmd) => {
    const { pc } = getRec(cmd.pc);
    checkKind(cmd.kind);
    const src = makeSource(cmd.kind, cmd.source === undefined ? (cmd.kind === 'audio' ? 'silence' : 'pattern') : cmd.source);
    let t;
    try {
      const sender = pc.addTrack(src.track, src.stream);
      t = pc.getTransceivers().find((x) => x.sender === sender);
      if (!t) throw new DriverError('OperationError', 'addTrack: no transceiver has the returned sender');
    } catch (e) {
      src.stop();
      throw e;
    }
    const rec = mediaRec(cmd.pc, t);
    if (rec.source) rec.source.stop();
    rec.source = src;
    src.bind(t.sender);
    return describe(rec);
  },

  getTransceivers: async (cmd) => {
    const { pc } = getRec(cmd.pc);
    return { transceivers: pc.getTransceivers().map((t) => describe(mediaRec(cmd.pc, t))) };
  },

  getTrackInfo: async (cmd) => {
    const rec = getMediaRec(cmd.transceiver);
    const track = rec.t.receiver ? rec.t.receiver.track : null;
    if (!track) throw new DriverError('InvalidStateError', `transceiver ${rec.handle} has no receiver track`);
    startSink(rec, track);
    return { kind: rec.t.kind, mid: rec.t.mid ?? null, track: trackId(track, rec.t), ...rec.sink.info() };
  },
};

const ops = {
  hello: async () => ({ name: 'werift', version: pkg.version, protocol: 1, features: ['stats', 'restartIce', 'rollback', 'media'] }),

  createPeerConnection: async (cmd) => {
    if (typeof cmd.pc !== 'string' || cmd.pc === '') throw new DriverError('TypeError', 'pc handle must be a non-empty string');
    if (pcs.has(cmd.pc)) throw new DriverError('InvalidStateError', `pc ${cmd.pc} already exists`);
    const pc = new werift.RTCPeerConnection({ ...weriftConfig(cmd.config || {}), codecs: mediaCodecs() });
    const rec = { pc, endOfCandidates: false };
    pcs.set(cmd.pc, rec);
    attachPcEvents(cmd.pc, rec);
    return {};
  },

  createOffer: async (cmd) => desc(await getRec(cmd.pc).pc.createOffer(cmd.options || {})),
  createAnswer: async (cmd) => desc(await getRec(cmd.pc).pc.createAnswer()),

  // werift implements the implicit form itself; it returns its SessionDescription, so read
  // localDescription afterwards.
  setLocalDescription: async (cmd) => {
    const { pc } = getRec(cmd.pc);
    const d = cmd.description;
    if (d && d.type === 'rollback') await pc.setLocalDescription({ type: 'rollback' });
    else if (d && d.sdp) await pc.setLocalDescription({ type: d.type, sdp: d.sdp });
    else if (d && d.type) await pc.setLocalDescription({ type: d.type });
    else await pc.setLocalDescription();
    return { description: desc(pc.localDescription) };
  },

  setRemoteDescription: async (cmd) => {
    const { pc } = getRec(cmd.pc);
    const d = cmd.description;
    if (!d || typeof d !== 'object') throw new DriverError('TypeError', 'description required');
    await pc.setRemoteDescription({ type: d.type, sdp: d.sdp || '' });
    return {};
  },

  addIceCandidate: async (cmd) => {
    const { pc } = getRec(cmd.pc);
    const c = cmd.candidate;
    if (c === null || c === undefined) {
      await pc.addIceCandidate(null);
      return {};
    }
    let cand = typeof c.candidate === 'string' ? c.candidate : '';
    if (cand.startsWith('a=')) cand = cand.slice(2);
    const init = { candidate: cand, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null };
    if (init.sdpMid === null && init.sdpMLineIndex === null) throw new DriverError('TypeError', 'candidate needs sdpMid or sdpMLineIndex');
    if (c.usernameFragment) init.usernameFragment = c.usernameFragment;
    await pc.addIceCandidate(init);
    return {};
  },

  restartIce: async (cmd) => { getRec(cmd.pc).pc.restartIce(); return {}; },

  getState: async (cmd) => {
    const { pc } = getRec(cmd.pc);
    return { ...pcStateFields(pc, desc), sctp: sctpState(pc) };
  },

  createDataChannel: async (cmd) => {
    const rec = getRec(cmd.pc);
    if (typeof cmd.label !== 'string') throw new DriverError('TypeError', 'label must be a string');
    const o = { ...(cmd.options || {}) };
    for (const k of Object.keys(o)) if (o[k] === null) delete o[k];
    const dc = rec.pc.createDataChannel(cmd.label, o);
    const ch = addChannel(cmd.pc, dc);
    return channels.state(ch);
  },

  send: async (cmd) => channels.send(cmd.channel, cmd.data),
  sendMany: async (cmd) => channels.sendMany(cmd.channel, cmd.size, cmd.count, cmd.binary === undefined ? true : !!cmd.binary),
  getChannel: async (cmd) => channels.state(cmd.channel),
  setChannel: async (cmd) => channels.set(cmd.channel, cmd),
  closeChannel: async (cmd) => {
    channels.get(cmd.channel);
    closeRequested.add(cmd.channel);
    return channels.close(cmd.channel);
  },

  getStats: async (cmd) => {
    const report = await getRec(cmd.pc).pc.getStats();
    const stats = [];
    report.forEach((s) => stats.push(s));
    return { stats };
  },

  close: async (cmd) => {
    const { pc } = getRec(cmd.pc);
    for (const rec of transceivers.values()) if (rec.pc === cmd.pc) stopMediaRec(rec);
    await pc.close();
    return {};
  },

  ...mediaOps,

  insertDTMF: async () => { throw new DriverError('NotSupportedError', 'insertDTMF: werift has no DTMF sender'); },
};

startDriver({
  ops,
  onShutdown: async () => {
    for (const rec of transceivers.values()) stopMediaRec(rec);
    await Promise.race([
      Promise.allSettled([...pcs.values()].map((r) => r.pc.close())),
      new Promise((r) => setTimeout(r, 1000).unref()),
    ]);
  },
});
log(`werift ${pkg.version} driver ready (pid ${process.pid})`);
