#!/usr/bin/env node
// DRIVER_PROTOCOL v1 driver over node-datachannel (libdatachannel) through its W3C polyfill
// (`node-datachannel/polyfill`): data channels, and media (feature `media`) at the RTP level on the native
// PeerConnection's tracks (the polyfill has none). See docs/DRIVER_PROTOCOL.md and
// /work/shared/peer-quirks.md (node-datachannel section).
//
// What this driver adapts, and why:
// - Auto-negotiation is disabled (libdatachannel would otherwise set a local offer as soon as a channel is
//   created and answer by itself on a remote offer); setLocalDescription drives the native
//   setLocalDescription(type) instead, as W3C's implicit form does. libdatachannel cannot apply an
//   arbitrary SDP as local description, so an explicit `description.sdp` is only checked for its type.
// - The polyfill dispatches state-change events from native callbacks that arrive late and out of order
//   (it reads the state at dispatch time, so the same state is often reported twice, and a transition
//   may be skipped). Events here are emitted whenever the state read differs from the one last reported,
//   both after each command and on the implementation's events, so each transition appears once.
// - ICE gathering `complete` is reported before the candidates (see peer-quirks). When libdatachannel says
//   complete, its local description already lists every candidate: the ones not yet forwarded are
//   emitted from it, then `complete` and the end-of-candidates `null`; late duplicates are dropped.
//   `gathering` (which libdatachannel never reports) is emitted before the first candidate.
// - Candidates start with `a=candidate:`; the prefix is stripped and sdpMLineIndex filled in.
// - The polyfill captures a channel's id when the channel object is created (65535 = unassigned until the
//   DTLS role is known); locally created channels are therefore built here on the native PeerConnection,
//   so `getChannel` reads the live id.
// - close(): the polyfill leaves readyState `open` until the channel closes; W3C says `closing` at once.
// - libdatachannel runs native threads: shutdown closes everything and calls its cleanup().
// - signalingstatechange comes from libdatachannel's own callback, in order (a state read would coalesce the
//   `stable` of an implicit rollback); SLD/SRD replies wait one turn of the event loop so the events go first.
// - negotiationneeded: the polyfill's createDataChannel (bypassed, see above) fires it for the first channel;
//   this driver does the same.
// - What libdatachannel cannot do is not emulated: no createOffer/createAnswer before setting, no ICE restart,
//   rollback keeps the rolled-back description (and SLD(rollback) in have-remote-offer is ignored), so
//   `features` lists only `stats`; the scenarios record these as ndc known issues.
//
// Media. libdatachannel has tracks (one per m-section: `pc.addTrack(new Audio|Video(mid, direction))`,
// `track.sendMessageBinary(rtp)`, `track.onMessage`) and does SRTP/SRTCP, but no codecs and, without media
// handlers, no RTCP. The driver is the RTP application: ../common/rtp_media.cjs makes the synthetic
// sources (PCMU tone/silence, the pre-encoded VP8 pattern) and the analysing sinks, and its RtcpSession
// sends SR/RR (with LSR/DLSR, so the peer measures the round-trip time), SDES, PLI while a video sink waits
// for a key frame, answers PLI/FIR with a key frame and NACK with retransmissions. What the W3C layer does
// is done here from the SDP, before each setLocalDescription:
// - Each transceiver is a track description the driver rebuilds and re-applies (`addTrack` with an
//   existing mid replaces the description): PCMU (PT 0) or VP8 (PT 96 in offers, the offer's PT in
//   answers), `a=ssrc` with cname/msid when it sends (libdatachannel routes RTP by signalled SSRC), and the
//   direction: the transceiver's own in an offer, the RFC 3264 intersection with the offer in an answer
//   (libdatachannel copies the track's direction into the answer unchanged).
// - libdatachannel creates a track for each new remote m-section itself (recvonly in W3C terms); the
//   driver takes it over by re-adding a description with that mid, so the answer never lists codecs the
//   driver cannot send (the reciprocated description would copy every offered codec).
// - mid is chosen at addTransceiver (the native API needs it) and reported from the first description
//   that carries it; currentDirection from the last answer; `track` events when a remote description
//   starts sending on an m-section (W3C "process the addition of a remote track").
// - Every native Track wrapper is kept: node-datachannel closes the track when a wrapper is collected.
// - `forceMediaTransport` makes DTLS negotiate SRTP from the start, so media added by renegotiation to a
//   data-only connection works.
// - getStats: libdatachannel has no RTP statistics (no outbound-rtp / inbound-rtp / codec entries); the
//   media scenarios' expectStats steps on the ndc side are known issues.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ndc from 'node-datachannel';
import { RTCPeerConnection, RTCDataChannel } from 'node-datachannel/polyfill';
import { startDriver, emit, log, DriverError, notFound } from '../common/jsonlines.mjs';
import { ChannelTable } from '../common/channels.mjs';

const require = createRequire(import.meta.url);
const core = require('../common/media_core.cjs');
const rtpMedia = require('../common/rtp_media.cjs');
// package.json is not in the package's `exports`: read it next to the resolved entry point.
function packageJson(name) {
  let dir = path.dirname(require.resolve(name));
  while (!fs.existsSync(path.join(dir, 'package.json')) || JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name !== name) {
    const up = path.dirname(dir);
    if (up === dir) return { version: 'unknown' };
    dir = up;
  }
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
}
const pkg = packageJson('node-datachannel');

const UNASSIGNED_ID = 65535;
const pcs = new Map();           // pc handle → record {pc, native, reported: {...}, sentCandidates, gathering}
const nativeChannels = new Map(); // channel handle → native DataChannel (locally created channels)
const closeRequested = new Set(); // channel handles closed by closeChannel and not yet `closed`

const channels = new ChannelTable({
  normalizeState: (st) => {
    const out = { ...st };
    const nch = nativeChannels.get(st.channel);
    if (nch) {
      try { out.id = nch.getId(); } catch (e) { /* closed channel: keep the polyfill's value */ }
    }
    if (out.id === UNASSIGNED_ID) out.id = null;
    if (out.readyState === 'open' && closeRequested.has(st.channel)) out.readyState = 'closing';
    if (out.readyState === 'closed') closeRequested.delete(st.channel);
    return out;
  },
});

function getRec(handle) {
  const rec = typeof handle === 'string' ? pcs.get(handle) : undefined;
  if (!rec) throw notFound('pc', handle);
  return rec;
}

// The polyfill returns {sdp: ""} with no type when there is no description.
const desc = (d) => (d && d.sdp && d.type ? { type: d.type, sdp: d.sdp } : null);

const mids = (sdp) => [...(sdp || '').matchAll(/^a=mid:(\S+)/gm)].map((m) => m[1]);

function normalizeGathering(s) {
  if (s === 'in-progress') return 'gathering';
  return s;
}

// Emits a state-change event when the state read now differs from the last one reported.
// signalingstatechange is not read here: it comes from libdatachannel's own callback (attachPcEvents),
// which reports every transition in order (a read would coalesce e.g. the `stable` of an implicit
// rollback between have-local-offer and have-remote-offer).
function syncState(handle) {
  const rec = pcs.get(handle);
  if (!rec) return;
  const pc = rec.pc;
  const read = {
    iceconnectionstatechange: () => pc.iceConnectionState,
    connectionstatechange: () => pc.connectionState,
  };
  for (const [event, get] of Object.entries(read)) {
    let state;
    try { state = get(); } catch (e) { continue; }
    if (state && state !== rec.reported[event]) {
      rec.reported[event] = state;
      emit({ event, pc: handle, state });
    }
  }
}

function setGathering(handle, state) {
  const rec = pcs.get(handle);
  if (!rec || rec.gathering === state) return;
  rec.gathering = state;
  emit({ event: 'icegatheringstatechange', pc: handle, state });
}

function emitCandidate(handle, candidate, sdpMid) {
  const rec = pcs.get(handle);
  if (!rec) return;
  let cand = candidate || '';
  if (cand.startsWith('a=')) cand = cand.slice(2);
  if (!cand || rec.sentCandidates.has(cand)) return; // already forwarded from the local description
  if (rec.gathering === 'complete') { log(`dropping candidate after gathering complete: ${cand}`); return; }
  rec.sentCandidates.add(cand);
  setGathering(handle, 'gathering');
  const localMids = mids(rec.pc.localDescription.sdp);
  let mid = sdpMid === undefined || sdpMid === null || sdpMid === '' ? null : sdpMid;
  let index = mid === null ? 0 : localMids.indexOf(mid);
  if (index < 0) index = 0;
  if (mid === null && localMids[index] !== undefined) mid = localMids[index];
  emit({ event: 'icecandidate', pc: handle, candidate: { candidate: cand, sdpMid: mid, sdpMLineIndex: index } });
}

// libdatachannel reported `complete`: forward the local description's candidates not yet sent, then
// complete and end-of-candidates.
function onGatheringComplete(handle) {
  const rec = pcs.get(handle);
  if (!rec || rec.gathering === 'complete') return;
  const sdp = rec.pc.localDescription.sdp || '';
  if (!sdp) return; // no local description yet: nothing was gathered (spurious report)
  let mid = null;
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^a=mid:(\S+)/.exec(line);
    if (m) mid = m[1];
    if (line.startsWith('a=candidate:')) emitCandidate(handle, line, mid);
  }
  setGathering(handle, 'complete');
  emit({ event: 'icecandidate', pc: handle, candidate: null });
}

function attachPcEvents(handle, rec) {
  const pc = rec.pc;
  pc.addEventListener('icecandidate', (e) => {
    if (e.candidate) emitCandidate(handle, e.candidate.candidate, e.candidate.sdpMid);
  });
  pc.addEventListener('icegatheringstatechange', () => {
    const st = normalizeGathering(pc.iceGatheringState);
    if (st === 'complete') onGatheringComplete(handle);
    else if (st === 'gathering') setGathering(handle, st);
  });
  for (const ev of ['iceconnectionstatechange', 'connectionstatechange']) {
    pc.addEventListener(ev, () => syncState(handle));
  }
  // Replaces the polyfill's signaling callback on the native PeerConnection (the polyfill's getter reads
  // the native state directly, so nothing there depends on it): each transition, in order.
  rec.native.onSignalingStateChange((state) => {
    if (!state || state === rec.reported.signalingstatechange || rec.closed) return;
    rec.reported.signalingstatechange = state;
    emit({ event: 'signalingstatechange', pc: handle, state });
  });
  pc.addEventListener('datachannel', (e) => {
    const ch = channels.add(handle, e.channel);
    emit({ event: 'datachannel', pc: handle, ...channels.state(ch) });
  });
}

// RTCConfiguration → libdatachannel RtcConfig (iceServers as URL strings, credentials inline).
function nativeConfig(config) {
  const iceServers = [];
  for (const server of config.iceServers || []) {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    for (const url of urls) {
      if (typeof url !== 'string') throw new DriverError('TypeError', 'iceServers urls must be strings');
      if (server.username && server.credential) {
        const [scheme, rest] = url.split(/:(.*)/);
        iceServers.push(`${scheme}:${encodeURIComponent(server.username)}:${encodeURIComponent(server.credential)}@${rest}`);
      } else {
        iceServers.push(url);
      }
    }
  }
  const out = { iceServers, disableAutoNegotiation: true, forceMediaTransport: true };
  if (config.iceTransportPolicy) out.iceTransportPolicy = config.iceTransportPolicy;
  return out;
}

function sctpState(pc) {
  if (!desc(pc.remoteDescription)) return null;
  const s = pc.sctp;
  if (!s) return null;
  const num = (v) => (typeof v === 'number' ? v : null);
  return { maxMessageSize: num(s.maxMessageSize), maxChannels: num(s.maxChannels), state: s.state || null };
}

// libdatachannel's callbacks reach JS through the event loop; W3C fires signalingstatechange before the
// setLocalDescription/setRemoteDescription promise resolves, so let them through before replying.
const flushCallbacks = () => new Promise((r) => setImmediate(r));

// W3C createAnswer state check (RFC 9429 §5.5/§5.6: a type that is not valid in the current
// signalingState is an InvalidStateError).
function checkState(pc, op, allowed) {
  const st = pc.signalingState;
  if (st === 'closed' || !allowed.includes(st)) throw new DriverError('InvalidStateError', `${op} in signaling state ${st}`);
}

function nativeCall(fn) {
  try { return fn(); } catch (e) {
    if (e && typeof e.name === 'string' && e.name !== 'Error') throw e;
    const msg = e && e.message ? e.message : String(e);
    // A closed ("destroyed") connection is W3C's InvalidStateError too.
    throw new DriverError(/state|destroyed/i.test(msg) ? 'InvalidStateError' : 'OperationError', msg);
  }
}


// ---- media (feature `media`, RTP level; see the header) ---------------------------------------------

const NDC_DIRECTION = { sendrecv: 'SendRecv', sendonly: 'SendOnly', recvonly: 'RecvOnly', inactive: 'Inactive' };
const DIRECTIONS = Object.keys(NDC_DIRECTION);
const VIDEO_PT = 96;
const sends = (dir) => dir === 'sendrecv' || dir === 'sendonly';
const mkErr = (name, message) => new DriverError(name, message);

const transceivers = new Map(); // handle → rec (insertion order = creation order)
let nextTransceiver = 1;

function getMediaRec(handle) {
  const rec = typeof handle === 'string' ? transceivers.get(handle) : undefined;
  if (!rec) throw new DriverError('NotFoundError', `unknown transceiver handle ${JSON.stringify(handle)}`);
  return rec;
}

const pcTransceivers = (pcHandle) => [...transceivers.values()].filter((r) => r.pc === pcHandle);

// The smallest unused number as a mid: not taken by a transceiver nor by any m-section either side has
// described (e.g. the data channel's).
function allocateMid(pcHandle) {
  const { pc } = getRec(pcHandle);
  const used = new Set(pcTransceivers(pcHandle).map((r) => r.mid));
  for (const d of [pc.localDescription, pc.remoteDescription]) for (const m of mids(d && d.sdp)) used.add(m);
  let n = 0;
  while (used.has(String(n))) n++;
  return String(n);
}

function newMediaRec(pcHandle, kind, mid, direction) {
  const handle = `t${nextTransceiver++}`;
  const rec = {
    handle, pc: pcHandle, kind, mid, direction, currentDirection: null, midKnown: false,
    sender: `s${handle.slice(1)}`, ssrc: rtpMedia.randomU32(), cname: `ndc-${process.pid}`,
    streamId: `stream-${handle}`, trackId: `track-${handle}`, videoPt: VIDEO_PT,
    source: null, everSent: false, sink: null, remoteSending: false, remoteTrackId: null, remoteSsrc: null,
    wrappers: [], track: null, rtcp: null, pliTimer: null,
  };
  rec.rtcp = new rtpMedia.RtcpSession({
    send: (buf) => (rec.track && rec.track.isOpen() ? rec.track.sendMessageBinary(buf) : false),
    ssrc: rec.ssrc,
    cname: rec.cname,
    clockRate: kind === 'audio' ? rtpMedia.AUDIO_RATE : rtpMedia.VIDEO_CLOCK,
    getSource: () => (rec.source && sends(rec.currentDirection) ? rec.source : null),
    hooks: {
      onKeyFrameRequest: () => { if (rec.source && rec.source.requestKeyFrame) rec.source.requestKeyFrame(); },
      onNack: (seqs) => (rec.source && rec.source.retransmit ? rec.source.retransmit(seqs) : 0),
    },
  });
  transceivers.set(handle, rec);
  return rec;
}

// The track description for `dir`, applied to libdatachannel (a new track, or the existing one of that mid).
function applyTrack(rec, dir) {
  const { native } = getRec(rec.pc);
  const m = rec.kind === 'audio' ? new ndc.Audio(rec.mid, NDC_DIRECTION[dir]) : new ndc.Video(rec.mid, NDC_DIRECTION[dir]);
  if (rec.kind === 'audio') m.addAudioCodec(rtpMedia.PT_PCMU, 'PCMU/8000');
  else m.addVideoCodec(rec.videoPt, 'VP8');
  if (rec.source && sends(dir)) m.addSSRC(rec.ssrc, rec.cname, rec.streamId, rec.trackId);
  const track = nativeCall(() => native.addTrack(m));
  rec.wrappers.push(track);
  rec.track = track;
  track.onMessage((buf) => onTrackMessage(rec, buf));
}

function onTrackMessage(rec, buf) {
  if (rtpMedia.isRtcp(buf)) { rec.rtcp.onRtcp(buf); return; }
  const p = rtpMedia.parseRtp(buf);
  if (!p) return;
  if (p.ssrc === rec.ssrc) return; // our own (a looped-back packet)
  rec.remoteSsrc = p.ssrc;
  rec.rtcp.onRtp(p);
  if (rec.sink && (rec.kind === 'audio' || p.payloadType === rec.videoPt)) rec.sink.push(p);
}

function startSink(rec) {
  if (rec.sink) return;
  rec.sink = rec.kind === 'audio' ? new rtpMedia.AudioRtpSink() : new rtpMedia.Vp8RtpSink();
  if (rec.kind === 'video') {
    // RFC 4585 §6.3.1: PLI while the sink has no decodable key frame.
    rec.pliTimer = setInterval(() => {
      if (rec.sink && rec.sink.needKeyFrame && rec.sink.packetsReceived > 0 && rec.remoteSsrc !== null) rec.rtcp.requestKeyFrame(rec.remoteSsrc);
    }, 500);
    rec.pliTimer.unref();
  }
}

function attachSource(rec, source) {
  const spec = core.parseSource(rec.kind, source, mkErr);
  const send = (pkt) => {
    if (!rec.track || !sends(rec.currentDirection) || !rec.track.isOpen()) return false;
    pkt.writeUInt8((pkt[1] & 0x80) | (rec.kind === 'audio' ? rtpMedia.PT_PCMU : rec.videoPt), 1);
    const ok = rec.track.sendMessageBinary(pkt);
    if (ok) rec.everSent = true;
    return ok;
  };
  rec.source = rec.kind === 'audio'
    ? new rtpMedia.AudioRtpSource({ spec, send, ssrc: rec.ssrc })
    : new rtpMedia.VideoRtpSource({ send, ssrc: rec.ssrc, payloadType: rec.videoPt });
  rec.source.start();
}

function stopMediaRec(rec) {
  if (rec.source) rec.source.stop();
  if (rec.pliTimer) clearInterval(rec.pliTimer);
  rec.pliTimer = null;
  rec.rtcp.close();
}

function describeMedia(rec) {
  return {
    transceiver: rec.handle,
    sender: rec.sender,
    mid: rec.midKnown ? rec.mid : null,
    kind: rec.kind,
    direction: rec.direction,
    currentDirection: rec.currentDirection,
  };
}

// Before setLocalDescription(type): each transceiver's description with the direction it offers or
// answers (RFC 3264 §6.1), and the offer's VP8 payload type when answering.
function prepareMedia(pcHandle, type) {
  const { pc } = getRec(pcHandle);
  const remote = type === 'answer' || type === 'pranswer' ? rtpMedia.parseSdpMedia(desc(pc.remoteDescription) ? pc.remoteDescription.sdp : '') : null;
  for (const rec of pcTransceivers(pcHandle)) {
    if (!remote) { applyTrack(rec, rec.direction); continue; }
    const rm = remote.find((m) => m.mid === rec.mid);
    if (!rm) continue;
    if (rec.kind === 'video') {
      const pt = rtpMedia.payloadTypeFor(rm, 'VP8');
      if (pt !== null) rec.videoPt = pt;
      if (rec.source) rec.source.payloadType = rec.videoPt;
    }
    applyTrack(rec, rm.port === 0 ? 'inactive' : rtpMedia.intersectDirection(rec.direction, rm.direction));
  }
}

// After setLocalDescription: mids become visible; a local answer sets currentDirection.
function afterLocalDescription(pcHandle) {
  const { pc } = getRec(pcHandle);
  const d = desc(pc.localDescription);
  if (!d) return;
  const local = rtpMedia.parseSdpMedia(d.sdp);
  for (const rec of pcTransceivers(pcHandle)) {
    const lm = local.find((m) => m.mid === rec.mid);
    if (!lm) continue;
    rec.midKnown = true;
    if (d.type === 'answer') rec.currentDirection = lm.port === 0 ? 'inactive' : lm.direction;
  }
}

// After setRemoteDescription: a transceiver for each new audio/video m-section (libdatachannel made the
// track; W3C makes a recvonly transceiver), currentDirection from an answer, and `track` events for the
// m-sections that start sending to us.
function afterRemoteDescription(pcHandle) {
  const { pc } = getRec(pcHandle);
  const d = desc(pc.remoteDescription);
  if (!d) return;
  const remote = rtpMedia.parseSdpMedia(d.sdp);
  const recs = pcTransceivers(pcHandle);
  for (const rm of remote) {
    if ((rm.kind !== 'audio' && rm.kind !== 'video') || rm.mid === null) continue;
    let rec = recs.find((r) => r.mid === rm.mid);
    if (!rec) {
      if (rm.port === 0) continue;
      rec = newMediaRec(pcHandle, rm.kind, rm.mid, 'recvonly');
      if (rm.kind === 'video') rec.videoPt = rtpMedia.payloadTypeFor(rm, 'VP8') ?? VIDEO_PT;
      applyTrack(rec, 'recvonly');
    }
    rec.midKnown = true;
    if (d.type === 'answer') rec.currentDirection = rm.port === 0 ? 'inactive' : rtpMedia.REVERSE_DIRECTION[rm.direction];
    const remoteSends = rm.port !== 0 && sends(rm.direction);
    if (remoteSends && !rec.remoteSending) {
      startSink(rec);
      rec.remoteTrackId = rm.trackId || rec.remoteTrackId || `remote-${rec.handle}`;
      emit({ event: 'track', pc: pcHandle, transceiver: rec.handle, kind: rec.kind, mid: rec.mid, streams: rm.streams, track: rec.remoteTrackId });
    }
    rec.remoteSending = remoteSends;
  }
}

function announceNegotiation(pcHandle) {
  const rec = getRec(pcHandle);
  if (rec.closed || rec.pc.signalingState !== 'stable') return;
  setImmediate(() => { if (!rec.closed) emit({ event: 'negotiationneeded', pc: pcHandle }); });
}

function checkMediaArgs(cmd) {
  const rec = getRec(cmd.pc);
  if (rec.closed) throw new DriverError('InvalidStateError', 'peer connection is closed');
  if (cmd.kind !== 'audio' && cmd.kind !== 'video') throw new DriverError('TypeError', `kind must be "audio" or "video", not ${JSON.stringify(cmd.kind)}`);
  return rec;
}

const mediaOps = {
  addTransceiver: async (cmd) => {
    checkMediaArgs(cmd);
    const init = cmd.init && typeof cmd.init === 'object' ? cmd.init : {};
    const direction = init.direction === undefined ? 'sendrecv' : init.direction;
    if (!DIRECTIONS.includes(direction)) throw new DriverError('TypeError', `invalid direction ${JSON.stringify(direction)}`);
    if (cmd.source !== undefined && cmd.source !== null) core.parseSource(cmd.kind, cmd.source, mkErr);
    const rec = newMediaRec(cmd.pc, cmd.kind, allocateMid(cmd.pc), direction);
    if (cmd.source !== undefined && cmd.source !== null) attachSource(rec, cmd.source);
    applyTrack(rec, direction);
    announceNegotiation(cmd.pc);
    return describeMedia(rec);
  },

  // W3C addTrack: reuses a transceiver of that kind that has no track and never sent (e.g. one a remote
  // offer created; its direction gains send), else makes a new sendrecv one.
  addTrack: async (cmd) => {
    checkMediaArgs(cmd);
    const source = cmd.source === undefined ? (cmd.kind === 'audio' ? 'silence' : 'pattern') : cmd.source;
    core.parseSource(cmd.kind, source, mkErr);
    let rec = pcTransceivers(cmd.pc).find((r) => r.kind === cmd.kind && !r.source && !r.everSent && !sends(r.currentDirection ?? 'inactive'));
    if (rec) {
      if (rec.direction === 'recvonly') rec.direction = 'sendrecv';
      else if (rec.direction === 'inactive') rec.direction = 'sendonly';
      attachSource(rec, source);
    } else {
      rec = newMediaRec(cmd.pc, cmd.kind, allocateMid(cmd.pc), 'sendrecv');
      attachSource(rec, source);
      applyTrack(rec, 'sendrecv');
    }
    announceNegotiation(cmd.pc);
    return describeMedia(rec);
  },

  getTransceivers: async (cmd) => {
    getRec(cmd.pc);
    return { transceivers: pcTransceivers(cmd.pc).map(describeMedia) };
  },

  getTrackInfo: async (cmd) => {
    const rec = getMediaRec(cmd.transceiver);
    startSink(rec);
    return { kind: rec.kind, mid: rec.midKnown ? rec.mid : null, track: rec.remoteTrackId || `remote-${rec.handle}`, ...rec.sink.info() };
  },
};

const ops = {
  hello: async () => ({ name: 'ndc', version: pkg.version, protocol: 1, features: ['stats', 'media'] }),

  createPeerConnection: async (cmd) => {
    if (typeof cmd.pc !== 'string' || cmd.pc === '') throw new DriverError('TypeError', 'pc handle must be a non-empty string');
    if (pcs.has(cmd.pc)) throw new DriverError('InvalidStateError', `pc ${cmd.pc} already exists`);
    const config = cmd.config || {};
    const native = nativeCall(() => new ndc.PeerConnection(`${cmd.pc}-${process.pid}`, nativeConfig(config)));
    const pc = new RTCPeerConnection({ ...config, peerConnection: native });
    const rec = { pc, native, reported: {}, sentCandidates: new Set(), gathering: 'new' };
    pcs.set(cmd.pc, rec);
    attachPcEvents(cmd.pc, rec);
    return {};
  },

  // libdatachannel creates a description only by setting it, so createOffer/createAnswer return the
  // pending local description of that type when there is one.
  createOffer: async (cmd) => {
    const { pc, closed } = getRec(cmd.pc);
    if (closed) throw new DriverError('InvalidStateError', 'peer connection is closed');
    const d = desc(pc.localDescription);
    if (pc.signalingState === 'have-local-offer' && d && d.type === 'offer') return d;
    throw new DriverError('NotSupportedError', 'ndc: createOffer without setLocalDescription is not supported (use the implicit setLocalDescription)');
  },
  createAnswer: async (cmd) => {
    const rec = getRec(cmd.pc);
    if (rec.closed) throw new DriverError('InvalidStateError', 'peer connection is closed');
    checkState(rec.pc, 'createAnswer', ['have-remote-offer', 'have-local-pranswer']);
    throw new DriverError('NotSupportedError', 'ndc: createAnswer is not supported (use the implicit setLocalDescription)');
  },

  setLocalDescription: async (cmd) => {
    const rec = getRec(cmd.pc);
    const { pc, native } = rec;
    const d = cmd.description;
    const st = pc.signalingState;
    let type;
    if (d && d.type === 'rollback') {
      // W3C setLocalDescription: rollback in stable / have-*-pranswer is an InvalidStateError
      // (libdatachannel ignores it silently).
      if (st === 'stable' || st === 'closed' || st.endsWith('pranswer')) throw new DriverError('InvalidStateError', `cannot roll back in ${st}`);
      type = 'rollback';
    } else {
      const offer = st === 'stable' || st === 'have-local-offer' || st === 'have-remote-pranswer';
      type = d && d.type ? d.type : (offer ? 'offer' : 'answer');
      if (type === 'offer' && !offer) throw new DriverError('InvalidStateError', `cannot set an offer in ${st}`);
      if ((type === 'answer' || type === 'pranswer') && offer) throw new DriverError('InvalidStateError', `cannot set an answer in ${st}`);
      if (d && d.sdp) log(`setLocalDescription: libdatachannel cannot apply a given SDP; using its own ${type}`);
    }
    if (!(type === 'offer' && st === 'have-local-offer')) {
      if (type !== 'rollback') prepareMedia(cmd.pc, type);
      nativeCall(() => native.setLocalDescription(type));
    }
    if (type !== 'rollback') afterLocalDescription(cmd.pc);
    await flushCallbacks();
    syncState(cmd.pc);
    return { description: desc(pc.localDescription) };
  },

  setRemoteDescription: async (cmd) => {
    const rec = getRec(cmd.pc);
    const d = cmd.description;
    if (!d || typeof d !== 'object') throw new DriverError('TypeError', 'description required');
    if (d.type === 'rollback') {
      const st = rec.pc.signalingState; // same W3C check as setLocalDescription's rollback
      if (st === 'stable' || st === 'closed' || st.endsWith('pranswer')) throw new DriverError('InvalidStateError', `cannot roll back in ${st}`);
      nativeCall(() => rec.native.setRemoteDescription('', 'rollback'));
    }
    else {
      await rec.pc.setRemoteDescription({ type: d.type, sdp: d.sdp || '' }).catch((e) => nativeCall(() => { throw e; }));
      afterRemoteDescription(cmd.pc);
    }
    await flushCallbacks();
    syncState(cmd.pc);
    return {};
  },

  addIceCandidate: async (cmd) => {
    const rec = getRec(cmd.pc);
    const c = cmd.candidate;
    if (c === null || c === undefined || !c.candidate) return {}; // end-of-candidates: nothing to tell libdatachannel
    if (!desc(rec.pc.remoteDescription)) throw new DriverError('InvalidStateError', 'no remote description');
    let cand = String(c.candidate);
    if (cand.startsWith('a=')) cand = cand.slice(2);
    let mid = c.sdpMid ?? null;
    if (mid === null) {
      if (c.sdpMLineIndex === null || c.sdpMLineIndex === undefined) throw new DriverError('TypeError', 'candidate needs sdpMid or sdpMLineIndex');
      mid = mids(rec.pc.remoteDescription.sdp)[c.sdpMLineIndex];
      if (mid === undefined) throw new DriverError('OperationError', `no m-section ${c.sdpMLineIndex}`);
    }
    nativeCall(() => rec.native.addRemoteCandidate(cand, mid));
    return {};
  },

  getState: async (cmd) => {
    const { pc } = getRec(cmd.pc);
    syncState(cmd.pc);
    const rec = pcs.get(cmd.pc);
    const sig = pc.signalingState;
    const local = desc(pc.localDescription);
    const remote = desc(pc.remoteDescription);
    // The polyfill has no current/pending split; derive it from the signaling state.
    const localPending = sig === 'have-local-offer' || sig === 'have-local-pranswer';
    const remotePending = sig === 'have-remote-offer' || sig === 'have-remote-pranswer';
    return {
      signalingState: sig,
      iceGatheringState: rec.gathering,
      iceConnectionState: pc.iceConnectionState,
      connectionState: pc.connectionState,
      localDescription: local,
      remoteDescription: remote,
      currentLocalDescription: localPending ? null : local,
      currentRemoteDescription: remotePending ? null : remote,
      pendingLocalDescription: localPending ? local : null,
      pendingRemoteDescription: remotePending ? remote : null,
      canTrickleIceCandidates: remote ? /^a=ice-options:.*trickle/m.test(remote.sdp) : null,
      sctp: sctpState(pc),
    };
  },

  createDataChannel: async (cmd) => {
    const rec = getRec(cmd.pc);
    if (typeof cmd.label !== 'string') throw new DriverError('TypeError', 'label must be a string');
    const o = cmd.options || {};
    // W3C createDataChannel steps (argument checks the native layer does not make).
    if (Buffer.byteLength(cmd.label, 'utf8') > 65535) throw new DriverError('TypeError', 'label longer than 65535 bytes');
    if (o.protocol !== undefined && Buffer.byteLength(String(o.protocol), 'utf8') > 65535) throw new DriverError('TypeError', 'protocol longer than 65535 bytes');
    const has = (v) => v !== undefined && v !== null;
    if (has(o.maxPacketLifeTime) && has(o.maxRetransmits)) throw new DriverError('TypeError', 'maxPacketLifeTime and maxRetransmits are exclusive');
    if (o.negotiated && !has(o.id)) throw new DriverError('TypeError', 'negotiated channel needs an id');
    if (has(o.id) && (!Number.isInteger(o.id) || o.id < 0 || o.id > 65534)) throw new DriverError('TypeError', `id ${o.id} out of range`);
    if (rec.pc.signalingState === 'closed') throw new DriverError('InvalidStateError', 'peer connection is closed');
    const nativeOpts = { unordered: o.ordered === false };
    if (has(o.protocol)) nativeOpts.protocol = String(o.protocol);
    if (o.negotiated) nativeOpts.negotiated = true;
    if (has(o.id) && o.negotiated) nativeOpts.id = o.id;
    if (has(o.maxPacketLifeTime)) nativeOpts.maxPacketLifeTime = o.maxPacketLifeTime;
    if (has(o.maxRetransmits)) nativeOpts.maxRetransmits = o.maxRetransmits;
    const nch = nativeCall(() => rec.native.createDataChannel(cmd.label, nativeOpts));
    const dc = new RTCDataChannel(nch, {
      ordered: o.ordered !== false,
      negotiated: !!o.negotiated,
      maxPacketLifeTime: has(o.maxPacketLifeTime) ? o.maxPacketLifeTime : null,
      maxRetransmits: has(o.maxRetransmits) ? o.maxRetransmits : null,
    });
    dc.binaryType = 'arraybuffer';
    const ch = channels.add(cmd.pc, dc);
    nativeChannels.set(ch, nch);
    // The polyfill's own createDataChannel (bypassed above) fires negotiationneeded for the first channel
    // of a connection; do the same, as a queued task (W3C "update the negotiation-needed flag").
    if (!rec.announcedNegotiation) {
      rec.announcedNegotiation = true;
      setImmediate(() => { if (!rec.closed) emit({ event: 'negotiationneeded', pc: cmd.pc }); });
    }
    return channels.state(ch);
  },

  send: async (cmd) => channels.send(cmd.channel, cmd.data),
  sendMany: async (cmd) => channels.sendMany(cmd.channel, cmd.size, cmd.count, cmd.binary === undefined ? true : !!cmd.binary),
  getChannel: async (cmd) => channels.state(cmd.channel),
  setChannel: async (cmd) => channels.set(cmd.channel, cmd),
  closeChannel: async (cmd) => {
    const rec = channels.get(cmd.channel);
    if (rec.dc.readyState === 'closed' || closeRequested.has(cmd.channel)) return {};
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
    const rec = getRec(cmd.pc);
    for (const t of pcTransceivers(cmd.pc)) stopMediaRec(t);
    rec.pc.close();
    rec.closed = true;
    syncState(cmd.pc);
    return {};
  },

  ...mediaOps,
};

for (const op of ['insertDTMF', 'restartIce']) {
  ops[op] = async () => { throw new DriverError('NotSupportedError', `${op} is not supported by the ndc driver`); };
}

// The polyfill's `send` on a channel whose close() was requested must throw InvalidStateError (W3C: the
// readyState is `closing`), which the polyfill does not do until the channel is closed.
const baseSend = channels.send.bind(channels);
channels.send = (handle, data) => {
  if (closeRequested.has(handle)) throw new DriverError('InvalidStateError', 'channel is closing');
  return baseSend(handle, data);
};

startDriver({
  ops,
  onShutdown: async () => {
    for (const t of transceivers.values()) stopMediaRec(t);
    for (const rec of pcs.values()) { try { rec.pc.close(); } catch (e) { log('close failed', e.message); } }
    // libdatachannel's threads keep the process alive (or crash it at exit) unless cleaned up.
    try { ndc.cleanup(); } catch (e) { log('cleanup failed', e.message); }
  },
});
log(`node-datachannel ${pkg.version} driver ready (pid ${process.pid})`);
