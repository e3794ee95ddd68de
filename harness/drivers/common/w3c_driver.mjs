// A DRIVER_PROTOCOL v1 driver over any W3C-shaped RTCPeerConnection implementation in Node: the wrtc
// driver (libwebrtc) and the wasm driver (refrtc's own WASM package) are this module with their
// implementation object and quirks. Data channels always; media (addTransceiver, addTrack,
// getTransceivers, getTrackInfo, `track` events) when the driver passes opts.media and the
// implementation has addTransceiver (media_core.cjs), plus the mediaControl ops (setDirection,
// stopTransceiver, replaceTrack, removeTrack, setCodecPreferences) when it has the W3C methods.
// See docs/DRIVER_PROTOCOL.md.
import { createRequire } from 'node:module';
import { startDriver, emit, log, DriverError, notFound } from './jsonlines.mjs';
import { candidateInit } from './candidates.mjs';
import { pcStateFields } from './state.mjs';
import { ChannelTable } from './channels.mjs';

const { createMediaOps, hasMediaControl, hasDtmf, MEDIA_CONTROL_OPS, DTMF_OPS } = createRequire(import.meta.url)('./media_core.cjs');

// impl: { RTCPeerConnection } (generateCertificate is used when `certificates` is a feature).
// opts:
//   name, version, features      the hello reply
//   channelOptions               ChannelTable options (quirk handling for this implementation)
//   emulateImplicitSld           the implementation lacks setLocalDescription() without arguments:
//                                create the offer/answer here (W3C §4.4.1.6 steps)
//   onShutdown                   extra cleanup after every pc is closed
//   media                        {createSource(kind, spec), analyse(track, kind, receiver)}: the
//                                implementation's synthetic sources and analysing sinks (media_core.cjs
//                                describes both); feature `media` is advertised only with these AND an
//                                implementation that has RTCPeerConnection.prototype.addTransceiver;
//                                with media.dtmfReceive, analyse() reports received DTMF digits
//                                (feature `dtmfReceive`, media_core.cjs). Feature `dtmf` (insertDTMF,
//                                getDTMF, `tonechange`) when the implementation exports RTCDTMFSender.
// A keygenAlgorithm from JSON as WebCrypto wants it: RSA's publicExponent is a BigInteger
// (Uint8Array), which JSON carries as [1, 0, 1] or as JSON.stringify's {"0": 1, "1": 0, "2": 1}.
export function webCryptoAlgorithm(alg) {
  if (!alg || typeof alg !== 'object' || Array.isArray(alg)) return alg;
  const e = alg.publicExponent;
  if (Array.isArray(e)) return { ...alg, publicExponent: Uint8Array.from(e) };
  if (e && typeof e === 'object' && !ArrayBuffer.isView(e)) {
    const bytes = Object.keys(e).map(Number).sort((a, b) => a - b).map((k) => e[k]);
    return { ...alg, publicExponent: Uint8Array.from(bytes) };
  }
  return alg;
}

export function runW3cDriver(impl, opts) {
  const pcs = new Map();  // pc handle → RTCPeerConnection
  const certificates = new Map();  // generateCertificate handles → RTCCertificate
  let certificateCount = 0;
  const channels = new ChannelTable(opts.channelOptions || {});
  const hasMedia = !!opts.media && typeof impl.RTCPeerConnection.prototype.addTransceiver === 'function';
  // Feature mediaControl: with media, when the implementation has the W3C methods (media_core.cjs).
  const hasControl = hasMedia && hasMediaControl(impl);
  const hasDtmfSend = hasMedia && hasDtmf(impl);
  const hasDtmfReceive = hasMedia && !!opts.media.dtmfReceive;
  const features = [...(opts.features || []), ...(hasMedia ? ['media'] : []), ...(hasControl ? ['mediaControl'] : []),
    ...(hasDtmfSend ? ['dtmf'] : []), ...(hasDtmfReceive ? ['dtmfReceive'] : [])];
  const capabilities = (kind) => (impl.RTCRtpReceiver && typeof impl.RTCRtpReceiver.getCapabilities === 'function'
    ? impl.RTCRtpReceiver.getCapabilities(kind) : null);
  const media = hasMedia
    ? createMediaOps({ getPc, emit, mkErr: (name, message) => new DriverError(name, message), hooks: { codecCapabilities: capabilities, ...opts.media } })
    : null;

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
    if (features.includes('icecandidateerror')) {
      pc.addEventListener('icecandidateerror', (e) => emit({
        event: 'icecandidateerror', pc: handle, url: e.url ?? null, errorCode: e.errorCode ?? null, errorText: e.errorText ?? null,
      }));
    }
    pc.addEventListener('icegatheringstatechange', () => emit({ event: 'icegatheringstatechange', pc: handle, state: pc.iceGatheringState }));
    pc.addEventListener('iceconnectionstatechange', () => emit({ event: 'iceconnectionstatechange', pc: handle, state: pc.iceConnectionState }));
    pc.addEventListener('connectionstatechange', () => emit({ event: 'connectionstatechange', pc: handle, state: pc.connectionState }));
    pc.addEventListener('signalingstatechange', () => emit({ event: 'signalingstatechange', pc: handle, state: pc.signalingState }));
    pc.addEventListener('negotiationneeded', () => emit({ event: 'negotiationneeded', pc: handle }));
    pc.addEventListener('datachannel', (e) => {
      const ch = channels.add(handle, e.channel);
      emit({ event: 'datachannel', pc: handle, ...channels.state(ch) });
    });
    if (media) pc.addEventListener('track', (e) => media.onTrack(handle, pc, e));
  }

  function sctpState(pc) {
    const s = pc.sctp;
    if (!s) return null;
    const num = (v) => (typeof v === 'number' ? v : null);
    return { maxMessageSize: num(s.maxMessageSize), maxChannels: num(s.maxChannels), state: s.state || null };
  }

  // W3C setLocalDescription() without a description (§4.4.1.6): an offer in stable /
  // have-local-offer / have-remote-pranswer, an answer otherwise.
  async function implicitDescription(pc, d) {
    const st = pc.signalingState;
    const offer = st === 'stable' || st === 'have-local-offer' || st === 'have-remote-pranswer';
    const wantType = d && d.type ? d.type : (offer ? 'offer' : 'answer');
    if (wantType === 'offer' && !offer) throw new DriverError('InvalidModificationError', `cannot set an offer in ${st}`);
    if ((wantType === 'answer' || wantType === 'pranswer') && offer) throw new DriverError('InvalidModificationError', `cannot set an answer in ${st}`);
    const created = wantType === 'offer' ? await pc.createOffer() : await pc.createAnswer();
    return { type: wantType, sdp: created.sdp };
  }

  const ops = {
    hello: async () => ({ name: opts.name, version: opts.version, protocol: 1, features }),

    createPeerConnection: async (cmd) => {
      if (typeof cmd.pc !== 'string' || cmd.pc === '') throw new DriverError('TypeError', 'pc handle must be a non-empty string');
      if (pcs.has(cmd.pc)) throw new DriverError('InvalidStateError', `pc ${cmd.pc} already exists`);
      const config = { ...(cmd.config || {}) };
      if (Array.isArray(config.certificates)) {
        config.certificates = config.certificates.map((h) => {
          if (!certificates.has(h)) throw new DriverError('NotFoundError', `unknown certificate ${h}`);
          return certificates.get(h);
        });
      }
      const pc = new impl.RTCPeerConnection(config);
      pcs.set(cmd.pc, pc);
      attachPcEvents(cmd.pc, pc);
      return {};
    },

    createOffer: async (cmd) => desc(await getPc(cmd.pc).createOffer(cmd.options || {})),
    createAnswer: async (cmd) => desc(await getPc(cmd.pc).createAnswer(cmd.options || {})),

    setLocalDescription: async (cmd) => {
      const pc = getPc(cmd.pc);
      let d = cmd.description;
      const implicit = !d || (d.type !== 'rollback' && !d.sdp);
      if (implicit && opts.emulateImplicitSld) d = await implicitDescription(pc, d);
      if (implicit && !opts.emulateImplicitSld) await pc.setLocalDescription(d && d.type ? { type: d.type } : undefined);
      else await pc.setLocalDescription({ type: d.type, sdp: d.sdp });
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
      const state = { ...pcStateFields(pc, desc), sctp: sctpState(pc) };
      if (media) state.transceivers = media.transceiversOf(cmd.pc, pc);
      return state;
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

    close: async (cmd) => {
      getPc(cmd.pc).close();
      if (media) media.closePc(cmd.pc);
      return {};
    },
  };

  if (features.includes('certificates')) {
    // refrtc's "certificates" feature (docs/DRIVER_PROTOCOL.md): W3C §4.9 generateCertificate.
    ops.generateCertificate = async (cmd) => {
      const cert = await impl.RTCPeerConnection.generateCertificate(webCryptoAlgorithm(cmd.keygenAlgorithm ?? 'ECDSA'));
      const handle = `cert${++certificateCount}`;
      certificates.set(handle, cert);
      return { certificate: handle, expires: cert.expires, fingerprints: cert.getFingerprints() };
    };
  }

  for (const op of ['addTransceiver', 'addTrack', 'getTransceivers', 'getTrackInfo', ...MEDIA_CONTROL_OPS, ...DTMF_OPS]) {
    if (media && media.ops[op] && (hasControl || !MEDIA_CONTROL_OPS.includes(op)) && (hasDtmfSend || !DTMF_OPS.includes(op))) ops[op] = media.ops[op];
    else ops[op] = async () => { throw new DriverError('NotSupportedError', `${op}: not supported by the ${opts.name} driver`); };
  }

  // Driver-specific extension ops (the wasm driver's webrtc-identity ops, docs/DRIVER_PROTOCOL.md).
  if (opts.extraOps) Object.assign(ops, opts.extraOps({ getPc, DriverError }));

  startDriver({
    ops,
    onShutdown: async () => {
      for (const pc of pcs.values()) { try { pc.close(); } catch (e) { log('close failed', e.message); } }
      if (media) media.closeAll();
      if (opts.onShutdown) await opts.onShutdown();
    },
  });
  log(`${opts.name} ${opts.version} driver ready (pid ${process.pid})`);
}
