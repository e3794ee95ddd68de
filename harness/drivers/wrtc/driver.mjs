#!/usr/bin/env node
// DRIVER_PROTOCOL v1 driver over @roamhq/wrtc (libwebrtc): data channels and media.
// See docs/DRIVER_PROTOCOL.md; quirks handled here are listed in peer-quirks (wrtc section).
// Media (feature `media`) uses wrtc's `nonstandard` classes: synthetic sources feed RTCAudioSource
// (10 ms of 16-bit mono PCM per onData) and RTCVideoSource (I420 frames) from timers; received tracks
// are read with RTCAudioSink (ondata: PCM) and RTCVideoSink (onframe: I420), see ./media.mjs.
import { createRequire } from 'node:module';
import { runW3cDriver } from '../common/w3c_driver.mjs';
import { wrtcMedia } from './media.mjs';

const require = createRequire(import.meta.url);
const wrtc = require('@roamhq/wrtc');
const pkg = require('@roamhq/wrtc/package.json');

runW3cDriver(wrtc, {
  name: 'wrtc',
  version: pkg.version,
  features: ['stats', 'restartIce', 'rollback'],
  // wrtc only has the explicit setLocalDescription(description) form.
  emulateImplicitSld: true,
  media: wrtcMedia(wrtc),
  // wrtc quirks: negotiated channels created once SCTP is up never fire `open` (watch readyState
  // instead); no bufferedAmountLowThreshold / bufferedamountlow (emulated); id is -1 before it is
  // assigned and unset maxPacketLifeTime/maxRetransmits read 65535 where W3C says null.
  channelOptions: {
    syntheticOpen: true,
    emulateBufferedAmountLow: true,
    normalizeState: (st) => ({
      ...st,
      id: typeof st.id === 'number' && st.id >= 0 ? st.id : null,
      maxPacketLifeTime: st.maxPacketLifeTime === 65535 ? null : st.maxPacketLifeTime,
      maxRetransmits: st.maxRetransmits === 65535 ? null : st.maxRetransmits,
    }),
  },
});
