#!/usr/bin/env node
// DRIVER_PROTOCOL v1 driver over @roamhq/wrtc (libwebrtc), data channels only.
// See docs/DRIVER_PROTOCOL.md; quirks handled here are listed in peer-quirks (wrtc section).
import { createRequire } from 'node:module';
import { startDriver, emit, log, DriverError, notFound } from '../common/jsonlines.mjs';
import { candidateInit } from '../common/candidates.mjs';
import { pcStateFields } from '../common/state.mjs';
import { ChannelTable } from '../common/channels.mjs';

const require = createRequire(import.meta.url);
const wrtc = require('@roamhq/wrtc');
const pkg = require('@roamhq/wrtc/package.json');

const pcs = new Map();           // pc handle → RTCPeerConnection
// wrtc quirks: negotiated channels created once SCTP is up never fire `open` (watch readyState
// instead); no bufferedAmountLowThreshold / bufferedamountlow (emulated); id is -1 before it is
// assigned and unset maxPacketLifeTime/maxRetransmits read 65535 where W3C says null.
const channels = new ChannelTable({
  syntheticOpen: true,
  emulateBufferedAmountLow: true,
  normalizeState: (st) => ({
    ...st,
    id: typeof st.id === 'number' && st.id >= 0 ? st.id : null,
    maxPacketLifeTime: st.maxPacketLifeTime === 65535 ? null : st.maxPacketLifeTime,
    maxRetransmits: st.maxRetransmits === 65535 ? null : st.maxRetransmits,
  }),
});

function getPc(handle) {
  const pc = typeof handle === 'string' ? pcs.get(handle) : undefined;
  if (!pc) throw notFound('pc', handle);
  return pc;
}

const desc = (d) => (d ? { type: d.type, sdp: d.sdp } : null);


function attachPcEvents(handle, pc) {
  pc.addEventListener('icecandidate', (e) => {
    emit({ event: 'icecandidate', pc: handle, candidate: e.candidate ? candidateInit(e.candidate, pc) : null });
  });
  pc.addEventListener('icegatheringstatechange', () => emit({ event: 'icegatheringstatechange', pc: handle, state: pc.iceGatheringState }));
  pc.addEventListener('iceconnectionstatechange', () => emit({ event: 'iceconnectionstatechange', pc: handle, state: pc.iceConnectionState }));
  pc.addEventListener('connectionstatechange', () => emit({ event: 'connectionstatechange', pc: handle, state: pc.connectionState }));
  pc.addEventListener('signalingstatechange', () => emit({ event: 'signalingstatechange', pc: handle, state: pc.signalingState }));
  pc.addEventListener('negotiationneeded', () => emit({ event: 'negotiationneeded', pc: handle }));
  pc.addEventListener('datachannel', (e) => {
    const ch = channels.add(handle, e.channel);
    emit({ event: 'datachannel', pc: handle, ...channels.state(ch) });
  });
}

function sctpState(pc) {
  const s = pc.sctp;
  if (!s) return null;
  const num = (v) => (typeof v === 'number' ? v : null);
  return { maxMessageSize: num(s.maxMessageSize), maxChannels: num(s.maxChannels), state: s.state || null };
}

const ops = {
  hello: async () => ({
    name: 'wrtc',
    version: pkg.version,
    protocol: 1,
    features: ['stats', 'restartIce', 'rollback'],
  }),

  createPeerConnection: async (cmd) => {
    if (typeof cmd.pc !== 'string' || cmd.pc === '') throw new DriverError('TypeError', 'pc handle must be a non-empty string');
    if (pcs.has(cmd.pc)) throw new DriverError('InvalidStateError', `pc ${cmd.pc} already exists`);
    const pc = new wrtc.RTCPeerConnection(cmd.config || {});
    pcs.set(cmd.pc, pc);
    attachPcEvents(cmd.pc, pc);
    return {};
  },

  createOffer: async (cmd) => desc(await getPc(cmd.pc).createOffer(cmd.options || {})),
  createAnswer: async (cmd) => desc(await getPc(cmd.pc).createAnswer(cmd.options || {})),

  // W3C setLocalDescription(): with no description (or one without sdp) it creates an offer in
  // stable / have-local-offer / have-remote-pranswer and an answer otherwise. wrtc only has the
  // explicit form, so emulate that step here.
  setLocalDescription: async (cmd) => {
    const pc = getPc(cmd.pc);
    let d = cmd.description;
    if (!d || (d.type !== 'rollback' && !d.sdp)) {
      const st = pc.signalingState;
      const offer = st === 'stable' || st === 'have-local-offer' || st === 'have-remote-pranswer';
      const wantType = d && d.type ? d.type : (offer ? 'offer' : 'answer');
      if (wantType === 'offer' && !offer) throw new DriverError('InvalidModificationError', `cannot set an offer in ${st}`);
      if ((wantType === 'answer' || wantType === 'pranswer') && offer) throw new DriverError('InvalidModificationError', `cannot set an answer in ${st}`);
      const created = wantType === 'offer' ? await pc.createOffer() : await pc.createAnswer();
      d = { type: wantType, sdp: created.sdp };
    }
    await pc.setLocalDescription({ type: d.type, sdp: d.sdp });
    return { description: desc(pc.localDescription) };
  },

  setRemoteDescription: async (cmd) => {
    const pc = getPc(cmd.pc);
    const d = cmd.description;
    if (!d || typeof d !== 'object') throw new DriverError('TypeError', 'description required');
    await pc.setRemoteDescription({ type: d.type, sdp: d.sdp || '' });
    return {};
  },

  addIceCandidate: async (cmd) => {
    const pc = getPc(cmd.pc);
    const c = cmd.candidate;
    if (c === null || c === undefined) {
      await pc.addIceCandidate(null); // end-of-candidates
      return {};
    }
    let cand = typeof c.candidate === 'string' ? c.candidate : '';
    if (cand.startsWith('a=')) cand = cand.slice(2);
    const init = { candidate: cand, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null };
    if (init.sdpMid === null && init.sdpMLineIndex === null) {
      throw new DriverError('TypeError', 'candidate needs sdpMid or sdpMLineIndex');
    }
    if (c.usernameFragment) init.usernameFragment = c.usernameFragment;
    await pc.addIceCandidate(init);
    return {};
  },

  restartIce: async (cmd) => { getPc(cmd.pc).restartIce(); return {}; },

  getState: async (cmd) => {
    const pc = getPc(cmd.pc);
    return { ...pcStateFields(pc, desc), sctp: sctpState(pc) };
  },

  createDataChannel: async (cmd) => {
    const pc = getPc(cmd.pc);
    if (typeof cmd.label !== 'string') throw new DriverError('TypeError', 'label must be a string');
    const dc = pc.createDataChannel(cmd.label, cmd.options || {});
    dc.binaryType = 'arraybuffer';
    const ch = channels.add(cmd.pc, dc);
    return channels.state(ch);
  },

  send: async (cmd) => channels.send(cmd.channel, cmd.data),
  sendMany: async (cmd) => channels.sendMany(cmd.channel, cmd.size, cmd.count, cmd.binary === undefined ? true : !!cmd.binary),
  getChannel: async (cmd) => channels.state(cmd.channel),
  setChannel: async (cmd) => channels.set(cmd.channel, cmd),
  closeChannel: async (cmd) => channels.close(cmd.channel),

  getStats: async (cmd) => {
    const report = await getPc(cmd.pc).getStats();
    const stats = [];
    report.forEach((s) => stats.push(s));
    return { stats };
  },

  close: async (cmd) => { getPc(cmd.pc).close(); return {}; },
};

// Media is not wired up in this driver yet.
for (const op of ['addTransceiver', 'addTrack', 'insertDTMF', 'getTransceivers', 'getTrackInfo']) {
  ops[op] = async () => { throw new DriverError('NotSupportedError', `${op}: media is not supported by the wrtc driver yet`); };
}

startDriver({
  ops,
  onShutdown: async () => {
    for (const pc of pcs.values()) { try { pc.close(); } catch (e) { log('close failed', e.message); } }
  },
});
log(`wrtc ${pkg.version} driver ready (pid ${process.pid})`);
