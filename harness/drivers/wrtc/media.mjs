// Media hooks of the wrtc driver (w3c_driver.mjs opts.media; contract in ../common/media_core.cjs):
// synthetic sources on wrtc's nonstandard RTCAudioSource / RTCVideoSource, analysing sinks on
// RTCAudioSink / RTCVideoSink.
//
// wrtc quirks seen here (peer-quirks, wrtc section):
//   - RTCAudioSource.onData takes exactly 10 ms of 16-bit PCM per call; we feed 48 kHz mono.
//   - RTCAudioSink delivers 10 ms chunks at the rate of the decoder's output, which is 16 kHz for the
//     first few chunks and 48 kHz after that; the analyser restarts its one-second window on a rate change.
//   - RTCVideoSink's onframe event is {type, frame: {width, height, data (I420), rotation}}.
//   - No DTMF sending: wrtc 0.10.0 binds no RTCDTMFSender (RTCRtpSender has no `dtmf`, there is no
//     RTCDTMFSender export) although its libwebrtc has DtmfSender inside, so the driver does not list
//     feature `dtmf`. Receiving works: NetEq plays received RFC 4733 events out as tones, which the
//     sink's detector turns into `dtmf` events (feature `dtmfReceive`).
//   - Nothing here keeps the process alive (timers are unref'd); a process with live wrtc objects never
//     exits by itself, so the driver always ends with process.exit (jsonlines.mjs).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { TONE_AMPLITUDE, PATTERN, AudioAnalyser } = require('../common/media_core.cjs');

const AUDIO_RATE = 48000;
const CHUNK = AUDIO_RATE / 100;  // 10 ms
const MAX_CATCH_UP = 20;         // chunks/frames per tick at most; a longer stall skips ahead

// One timer drives every source: each source produces what is due by the wall clock since it started,
// so timer jitter changes chunk timing but never the rate (and the sine phase is continuous).
const sources = new Set();
let ticker = null;
function tick() {
  const now = performance.now();
  for (const s of sources) s.pump(now);
}
function addSource(s) {
  sources.add(s);
  if (!ticker) { ticker = setInterval(tick, 5); ticker.unref(); }
}
function removeSource(s) {
  sources.delete(s);
  if (sources.size === 0 && ticker) { clearInterval(ticker); ticker = null; }
}

function audioSource(wrtc, spec) {
  const source = new wrtc.nonstandard.RTCAudioSource();
  const track = source.createTrack();
  const step = spec.type === 'tone' ? 2 * Math.PI * spec.hz / AUDIO_RATE : 0;
  let phase = 0;
  let sent = 0;  // chunks
  const start = performance.now();
  const s = {
    pump(now) {
      let due = Math.floor((now - start) / 10) + 1 - sent;
      if (due > MAX_CATCH_UP) { sent += due - MAX_CATCH_UP; due = MAX_CATCH_UP; }
      for (; due > 0; due--, sent++) {
        const samples = new Int16Array(CHUNK);
        if (step) {
          for (let i = 0; i < CHUNK; i++) {
            samples[i] = Math.round(TONE_AMPLITUDE * 32767 * Math.sin(phase));
            phase += step;
            if (phase > 2 * Math.PI) phase -= 2 * Math.PI;
          }
        }
        source.onData({ samples, sampleRate: AUDIO_RATE, bitsPerSample: 16, channelCount: 1, numberOfFrames: CHUNK });
      }
    },
  };
  addSource(s);
  return { track, stream: new wrtc.MediaStream([track]), stop() { removeSource(s); try { track.stop(); } catch (e) { /* ended */ } } };
}

// PATTERN (320×240 at 30 fps) in I420: a diagonal gradient drifting one pixel per frame and a 48×48
// box bouncing around, coloured in the chroma planes, so every frame differs from the last.
function drawPattern(n) {
  const { width: w, height: h } = PATTERN;
  const y = new Uint8Array(w * h * 3 / 2);
  for (let r = 0; r < h; r++) {
    const row = r * w;
    for (let c = 0; c < w; c++) y[row + c] = 16 + ((c + r + n) & 127);
  }
  const box = 48;
  const px = Math.abs(((n * 4) % (2 * (w - box))) - (w - box));
  const py = Math.abs(((n * 3) % (2 * (h - box))) - (h - box));
  for (let r = py; r < py + box; r++) y.fill(235, r * w + px, r * w + px + box);
  const u = w * h, v = u + (w / 2) * (h / 2);
  y.fill(128, u);
  for (let r = py / 2 | 0; r < (py + box) / 2; r++) {
    y.fill(90, u + r * (w / 2) + (px >> 1), u + r * (w / 2) + ((px + box) >> 1));
    y.fill(240, v + r * (w / 2) + (px >> 1), v + r * (w / 2) + ((px + box) >> 1));
  }
  return { width: w, height: h, data: y };
}

function videoSource(wrtc) {
  const source = new wrtc.nonstandard.RTCVideoSource();
  const track = source.createTrack();
  let sent = 0;
  const start = performance.now();
  const period = 1000 / PATTERN.fps;
  const s = {
    pump(now) {
      let due = Math.floor((now - start) / period) + 1 - sent;
      if (due > MAX_CATCH_UP) { sent += due - MAX_CATCH_UP; due = MAX_CATCH_UP; }
      // Only the newest due frame is worth encoding.
      if (due > 0) {
        sent += due;
        source.onFrame(drawPattern(sent));
      }
    },
  };
  addSource(s);
  return { track, stream: new wrtc.MediaStream([track]), stop() { removeSource(s); try { track.stop(); } catch (e) { /* ended */ } } };
}

// ctx.onDtmf: feature `dtmfReceive` — AudioAnalyser's DtmfDetector reports the DTMF tones NetEq plays
// out for received RFC 4733 events (media_core.cjs; durations are the playout's, approximate).
function audioSink(wrtc, track, ctx) {
  const analyser = new AudioAnalyser(ctx && ctx.onDtmf);
  const sink = new wrtc.nonstandard.RTCAudioSink(track);
  sink.ondata = (d) => analyser.pushInt16(d.samples, d.channelCount || 1, d.sampleRate);
  return { info: () => analyser.info(), stop() { if (!sink.stopped) sink.stop(); } };
}

function videoSink(wrtc, track) {
  const st = { framesReceived: 0, width: null, height: null };
  const sink = new wrtc.nonstandard.RTCVideoSink(track);
  sink.onframe = (e) => {
    const f = e.frame || e;
    st.framesReceived += 1;
    st.width = f.width;
    st.height = f.height;
  };
  return { info: () => ({ ...st }), stop() { if (!sink.stopped) sink.stop(); } };
}

export function wrtcMedia(wrtc) {
  return {
    createSource: (kind, spec) => (kind === 'audio' ? audioSource(wrtc, spec) : videoSource(wrtc)),
    analyse: (track, kind, receiver, ctx) => (kind === 'audio' ? audioSink(wrtc, track, ctx) : videoSink(wrtc, track)),
    dtmfReceive: true,
  };
}
