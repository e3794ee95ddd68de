#!/usr/bin/env node
// DRIVER_PROTOCOL v1 driver over node-datachannel (libdatachannel) through its W3C polyfill
// (`node-datachannel/polyfill`), data channels only. See docs/DRIVER_PROTOCOL.md and
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
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ndc from 'node-datachannel';
import { RTCPeerConnection, RTCDataChannel } from 'node-datachannel/polyfill';
import { startDriver, emit, log, DriverError, notFound } from '../common/jsonlines.mjs';
import { ChannelTable } from '../common/channels.mjs';

const require = createRequire(import.meta.url);
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
  const out = { iceServers, disableAutoNegotiation: true };
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

const ops = {
  hello: async () => ({ name: 'ndc', version: pkg.version, protocol: 1, features: ['stats'] }),

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
    if (!(type === 'offer' && st === 'have-local-offer')) nativeCall(() => native.setLocalDescription(type));
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
    else await rec.pc.setRemoteDescription({ type: d.type, sdp: d.sdp || '' }).catch((e) => nativeCall(() => { throw e; }));
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
    rec.pc.close();
    rec.closed = true;
    syncState(cmd.pc);
    return {};
  },
};

for (const op of ['addTransceiver', 'addTrack', 'insertDTMF', 'getTransceivers', 'getTrackInfo', 'restartIce']) {
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
    for (const rec of pcs.values()) { try { rec.pc.close(); } catch (e) { log('close failed', e.message); } }
    // libdatachannel's threads keep the process alive (or crash it at exit) unless cleaned up.
    try { ndc.cleanup(); } catch (e) { log('cleanup failed', e.message); }
  },
});
log(`node-datachannel ${pkg.version} driver ready (pid ${process.pid})`);
