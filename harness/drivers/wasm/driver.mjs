#!/usr/bin/env node
// DRIVER_PROTOCOL v1 driver over refrtc's own WASM package (wasm/: the C++ stack compiled with
// emscripten, W3C classes in JS, Node host on dgram). Data channels and media, like the native driver.
// The package is loaded from the repo (wasm/index.mjs), not from node_modules, so the driver always
// runs the build of this checkout.
import { createRequire } from 'node:module';
import { runW3cDriver } from '../common/w3c_driver.mjs';

const require = createRequire(import.meta.url);
const refrtc = await import('../../../wasm/index.mjs');
await refrtc.ready;
const pkg = require('../../../wasm/package.json');

// Media hooks (w3c_driver.mjs opts.media; contract in ../common/media_core.cjs). The engine has the
// synthetic sources and the analysing sinks itself (the same C++ as the native driver's), so:
//   - a source is the package's synthetic track (refrtc.createSyntheticTrack, a refrtc extension),
//     in a MediaStream of its own (the track's a=msid, like the other JS drivers);
//   - the analysis is what the receiver's engine sink measured (receiver.trackInfo(), also an
//     extension): audio {samplesReceived, sampleRate, dominantHz, rms}, video {framesReceived,
//     framesDecoded, width, height}.
function sourceName(spec) {
  if (spec.type === 'tone') return `tone:${spec.hz}`;
  return spec.type;  // 'silence' | 'pattern'
}

const media = {
  createSource(kind, spec) {
    const track = refrtc.createSyntheticTrack(sourceName(spec));
    return { track, stream: new refrtc.MediaStream([track]), stop() { track.stop(); } };
  },
  // The third argument is the track's RTCRtpReceiver (media_core.cjs) or its RTCRtpTransceiver.
  // {onDtmf}: received RFC 4733 digits come from the engine itself (the receiver's refrtc 'dtmf'
  // event, RTCDTMFReceivedEvent: tone, duration in ms), not from tone detection.
  analyse(track, kind, receiverOrTransceiver, { onDtmf } = {}) {
    const x = receiverOrTransceiver;
    const receiver = x && x.receiver && typeof x.receiver.trackInfo === 'function' ? x.receiver : x;
    if (!receiver || typeof receiver.trackInfo !== 'function') throw new Error('wasm driver: analyse needs the track\'s RTCRtpReceiver');
    const listener = typeof onDtmf === 'function' ? (e) => onDtmf(e.tone, e.duration) : null;
    if (listener && typeof receiver.addEventListener === 'function') receiver.addEventListener('dtmf', listener);
    return {
      info() {
        const { kind: _kind, ...info } = receiver.trackInfo();
        return info;
      },
      stop() {
        if (listener && typeof receiver.removeEventListener === 'function') receiver.removeEventListener('dtmf', listener);
      },
    };
  },
  // Feature dtmfReceive (w3c_driver.mjs): analyse() reports the engine's received digits.
  dtmfReceive: true,
};
// The name the w3c_driver brief used for the source hook, in case the shared module settles on it.
media.createSourceTrack = media.createSource;

// webrtc-identity extension ops (feature "identity", docs/DRIVER_PROTOCOL.md refrtc notes), as in
// the native driver: the package's refrtc test IdP (wasm/lib/test_idp.js) in a registry of the pc's own.
function identityOps({ getPc, DriverError }) {
  const registries = new WeakMap();
  const registryOf = (pc) => {
    let r = registries.get(pc);
    if (!r) { r = new refrtc.RTCIdentityProviderRegistry(); registries.set(pc, r); pc.setIdentityProviderRegistry(r); }
    return r;
  };
  const str = (v, d) => (typeof v === 'string' ? v : d);
  const timeout = (pc, cmd) => { if (typeof cmd.idpTimeoutMs === 'number') pc.setIdpTimeout(cmd.idpTimeoutMs); };
  const registerTestIdp = (pc, t, domain, protocol) => {
    let idp;
    try {
      idp = new refrtc.TestIdentityProvider({ domain, key: str(t.key, ''), name: str(t.name, ''), fail: str(t.fail, 'none'),
        loginUrl: t.loginUrl });
    } catch (e) { throw new DriverError('TypeError', e.message); }
    registryOf(pc).register(domain, idp, protocol);
  };
  const settledNow = (p) => Promise.race([p.then((v) => ({ v }), (e) => ({ e })), new Promise((r) => setImmediate(() => r(null)))]);
  return {
    registerTestIdp: async (cmd) => {
      const pc = getPc(cmd.pc);
      timeout(pc, cmd);
      registerTestIdp(pc, cmd, str(cmd.domain, 'idp.example'), str(cmd.protocol, 'default'));
      return {};
    },
    setIdentityProvider: async (cmd) => {
      const pc = getPc(cmd.pc);
      timeout(pc, cmd);
      const provider = str(cmd.provider, str(cmd.idp, ''));
      const protocol = str(cmd.protocol, 'default');
      registryOf(pc);
      if (cmd.testIdp && typeof cmd.testIdp === 'object') registerTestIdp(pc, cmd.testIdp, provider, protocol);
      const o = { protocol };
      if (typeof cmd.usernameHint === 'string') o.usernameHint = cmd.usernameHint;
      if (typeof cmd.peerIdentity === 'string') o.peerIdentity = cmd.peerIdentity;
      pc.setIdentityProvider(provider, o);
      return {};
    },
    getIdentityAssertion: async (cmd) => ({ assertion: await getPc(cmd.pc).getIdentityAssertion() }),
    // The settled peerIdentity ({idp, name} or its rejection); "wait": false → the state now.
    getPeerIdentity: async (cmd) => {
      const pc = getPc(cmd.pc);
      const extra = () => ({ idpLoginUrl: pc.idpLoginUrl ?? null, idpErrorInfo: pc.idpErrorInfo ?? null });
      if (cmd.wait === false) {
        const s = await settledNow(pc.peerIdentity);
        if (!s) return { state: 'pending', ...extra() };
        if (s.v) return { state: 'fulfilled', idp: s.v.idp, name: s.v.name, ...extra() };
        const e = s.e || {};
        const error = { name: e.name || 'OperationError', message: e.message || String(e) };
        if (e.errorDetail) error.errorDetail = e.errorDetail;
        return { state: 'rejected', error, ...extra() };
      }
      const a = await pc.peerIdentity;
      return { state: 'fulfilled', idp: a.idp, name: a.name, ...extra() };
    },
  };
}

runW3cDriver(refrtc, {
  name: 'wasm',
  version: pkg.version,
  // The same engine as the native driver: same features (`media` is added by w3c_driver.mjs).
  features: ['stats', 'restartIce', 'rollback', 'certificates', 'identity'],
  channelOptions: {},
  media,
  extraOps: identityOps,
});
