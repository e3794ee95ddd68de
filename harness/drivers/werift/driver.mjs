#!/usr/bin/env node
// DRIVER_PROTOCOL v1 driver over werift (pure TypeScript WebRTC), data channels only.
// See docs/DRIVER_PROTOCOL.md and /work/shared/peer-quirks.md (werift section).
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

const ops = {
  hello: async () => ({ name: 'werift', version: pkg.version, protocol: 1, features: ['stats', 'restartIce', 'rollback'] }),

  createPeerConnection: async (cmd) => {
    if (typeof cmd.pc !== 'string' || cmd.pc === '') throw new DriverError('TypeError', 'pc handle must be a non-empty string');
    if (pcs.has(cmd.pc)) throw new DriverError('InvalidStateError', `pc ${cmd.pc} already exists`);
    const pc = new werift.RTCPeerConnection(weriftConfig(cmd.config || {}));
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

  close: async (cmd) => { await getRec(cmd.pc).pc.close(); return {}; },
};

for (const op of ['addTransceiver', 'addTrack', 'insertDTMF', 'getTransceivers', 'getTrackInfo']) {
  ops[op] = async () => { throw new DriverError('NotSupportedError', `${op}: media is not supported by the werift driver yet`); };
}

startDriver({
  ops,
  onShutdown: async () => {
    await Promise.race([
      Promise.allSettled([...pcs.values()].map((r) => r.pc.close())),
      new Promise((r) => setTimeout(r, 1000).unref()),
    ]);
  },
});
log(`werift ${pkg.version} driver ready (pid ${process.pid})`);
