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
  analyse(track, kind, receiverOrTransceiver) {
    const x = receiverOrTransceiver;
    const receiver = x && x.receiver && typeof x.receiver.trackInfo === 'function' ? x.receiver : x;
    if (!receiver || typeof receiver.trackInfo !== 'function') throw new Error('wasm driver: analyse needs the track\'s RTCRtpReceiver');
    return {
      info() {
        const { kind: _kind, ...info } = receiver.trackInfo();
        return info;
      },
      stop() {},
    };
  },
};
// The name the w3c_driver brief used for the source hook, in case the shared module settles on it.
media.createSourceTrack = media.createSource;

runW3cDriver(refrtc, {
  name: 'wasm',
  version: pkg.version,
  // The same engine as the native driver: same features (`media` is added by w3c_driver.mjs).
  features: ['stats', 'restartIce', 'rollback', 'certificates'],
  channelOptions: {},
  media,
});
