// Unit tests of the DTMF tone detector of the libwebrtc drivers (harness/drivers/common/media_core.cjs,
// feature `dtmfReceive`): synthetic Q.23 tone pairs, with and without a background tone, noise and
// the block sizes the drivers' sinks deliver. Run: node --test harness/tests/js/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { DtmfDetector, AudioAnalyser } = require('../../drivers/common/media_core.cjs');

const ROWS = { 1: 697, 2: 697, 3: 697, A: 697, 4: 770, 5: 770, 6: 770, B: 770, 7: 852, 8: 852, 9: 852, C: 852, '*': 941, 0: 941, '#': 941, D: 941 };
const COLS = { 1: 1209, 4: 1209, 7: 1209, '*': 1209, 2: 1336, 5: 1336, 8: 1336, 0: 1336, 3: 1477, 6: 1477, 9: 1477, '#': 1477, A: 1633, B: 1633, C: 1633, D: 1633 };

// A deterministic LCG for noise (no Math.random: the tests must be repeatable).
function lcg(seed) { let x = seed >>> 0; return () => { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; return x / 2 ** 32 - 0.5; }; }

// [{tone | null, ms}] → Float32Array; each tone component at `amp`, plus a background sine and noise.
function synth(plan, rate, { amp = 0.12, bgHz = 0, bgAmp = 0, noise = 0, seed = 1 } = {}) {
  const total = plan.reduce((n, p) => n + Math.round(p.ms * rate / 1000), 0);
  const out = new Float32Array(total);
  const rnd = lcg(seed);
  let i = 0;
  for (const p of plan) {
    const n = Math.round(p.ms * rate / 1000);
    for (let k = 0; k < n; k++, i++) {
      let v = bgAmp * Math.sin(2 * Math.PI * bgHz * i / rate) + noise * rnd();
      if (p.tone) v += amp * (Math.sin(2 * Math.PI * ROWS[p.tone] * i / rate) + Math.sin(2 * Math.PI * COLS[p.tone] * i / rate));
      out[i] = v;
    }
  }
  return out;
}

function detect(samples, rate, chunk) {
  const got = [];
  const d = new DtmfDetector((tone, duration) => got.push({ tone, duration }));
  for (let i = 0; i < samples.length; i += chunk) d.push(samples.subarray(i, Math.min(samples.length, i + chunk)), rate);
  d.flush();
  return got;
}

const ALL = '0123456789*#ABCD';

test('every digit at 48 kHz in 10 ms chunks (wrtc), durations within 5 ms', () => {
  const plan = [{ tone: null, ms: 50 }];
  for (const t of ALL) plan.push({ tone: t, ms: 100 }, { tone: null, ms: 70 });
  const got = detect(synth(plan, 48000), 48000, 480);
  assert.deepEqual(got.map((g) => g.tone).join(''), ALL);
  for (const g of got) assert.ok(Math.abs(g.duration - 100) <= 5, `${g.tone}: ${g.duration} ms`);
});

test('44.1 kHz in 1024-sample chunks (Chromium), over a 440 Hz tone and noise', () => {
  const plan = [{ tone: null, ms: 40 }];
  const durations = [40, 60, 85, 200, 500];
  for (const [i, ms] of durations.entries()) plan.push({ tone: ALL[i * 3], ms }, { tone: null, ms: 30 });
  const got = detect(synth(plan, 44100, { bgHz: 440, bgAmp: 0.05, noise: 0.02 }), 44100, 1024);
  assert.deepEqual(got.map((g) => g.tone), durations.map((_, i) => ALL[i * 3]));
  got.forEach((g, i) => assert.ok(Math.abs(g.duration - durations[i]) <= 5, `${g.tone}: ${g.duration} ms, sent ${durations[i]}`));
});

test('the same digit twice with a 300 ms gap is two digits; a 10 ms dropout is bridged, a 60 ms one merged', () => {
  let got = detect(synth([{ tone: '5', ms: 100 }, { tone: null, ms: 300 }, { tone: '5', ms: 100 }], 48000), 48000, 480);
  assert.deepEqual(got.map((g) => g.tone), ['5', '5']);
  for (const g of got) assert.ok(Math.abs(g.duration - 100) <= 5, `${g.duration}`);
  // NetEq's stutter at an event's end (seen with refrtc senders): tone, 60 ms without, a 30 ms tail.
  got = detect(synth([{ tone: '5', ms: 200 }, { tone: null, ms: 60 }, { tone: '5', ms: 30 }, { tone: null, ms: 200 }], 48000), 48000, 480);
  assert.deepEqual(got.map((g) => g.tone), ['5']);
  assert.ok(got[0].duration >= 200 && got[0].duration <= 240, `${got[0].duration}`);
  // NetEq replaying an event for ≈ 25 ms when a late RFC 4733 end packet arrives 150 ms after it ended.
  got = detect(synth([{ tone: '4', ms: 300 }, { tone: null, ms: 150 }, { tone: '4', ms: 25 }, { tone: null, ms: 300 }], 48000), 48000, 480);
  assert.deepEqual(got.map((g) => g.tone), ['4']);
  // A different digit right after is reported in order, not merged.
  got = detect(synth([{ tone: '5', ms: 100 }, { tone: null, ms: 40 }, { tone: '6', ms: 100 }, { tone: null, ms: 40 }, { tone: '5', ms: 100 }], 48000), 48000, 480);
  assert.deepEqual(got.map((g) => g.tone), ['5', '6', '5']);
  got = detect(synth([{ tone: '5', ms: 100 }, { tone: null, ms: 10 }, { tone: '5', ms: 100 }], 48000), 48000, 480);
  assert.equal(got.length, 1);
  assert.ok(Math.abs(got[0].duration - 210) <= 5, `${got[0].duration}`);
});

test('no digit from silence, a single tone, a chord of non-DTMF tones, noise or a too-short burst', () => {
  const rate = 48000;
  assert.deepEqual(detect(new Float32Array(rate), rate, 480), []);
  assert.deepEqual(detect(synth([{ tone: null, ms: 1000 }], rate, { bgHz: 440, bgAmp: 0.3 }), rate, 480), []);
  assert.deepEqual(detect(synth([{ tone: null, ms: 1000 }], rate, { bgHz: 697, bgAmp: 0.3 }), rate, 480), []);
  assert.deepEqual(detect(synth([{ tone: null, ms: 1000 }], rate, { noise: 0.5 }), rate, 480), []);
  assert.deepEqual(detect(synth([{ tone: '1', ms: 15 }, { tone: null, ms: 100 }], rate), rate, 480), []);
  // A row tone with the wrong column: 697 + 1000 Hz.
  const n = rate;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.1 * Math.sin(2 * Math.PI * 697 * i / rate) + 0.1 * Math.sin(2 * Math.PI * 1000 * i / rate);
  assert.deepEqual(detect(x, rate, 480), []);
});

test('twist: a column 12 dB under the row is rejected, 6 dB is accepted', () => {
  const rate = 48000;
  const mk = (colAmp) => {
    const x = new Float32Array(rate / 5);
    for (let i = 0; i < x.length; i++) x[i] = 0.1 * Math.sin(2 * Math.PI * 770 * i / rate) + colAmp * Math.sin(2 * Math.PI * 1336 * i / rate);
    return x;
  };
  assert.deepEqual(detect(mk(0.1 / 4), rate, 480), []);
  assert.deepEqual(detect(mk(0.1 / 2), rate, 480).map((g) => g.tone), ['5']);
});

test('a sample-rate change starts over, AudioAnalyser forwards digits', () => {
  const got = [];
  const a = new AudioAnalyser((tone, duration) => got.push({ tone, duration }));
  const x16 = synth([{ tone: '9', ms: 120 }, { tone: null, ms: 60 }], 16000);
  const x48 = synth([{ tone: '#', ms: 120 }, { tone: null, ms: 400 }], 48000);  // reported 290 ms after its end
  for (let i = 0; i < x16.length; i += 160) a.push(x16.subarray(i, i + 160), 16000);
  for (let i = 0; i < x48.length; i += 480) a.push(x48.subarray(i, i + 480), 48000);
  assert.deepEqual(got.map((g) => g.tone), ['9', '#']);
  for (const g of got) assert.ok(Math.abs(g.duration - 120) <= 5, `${g.tone}: ${g.duration}`);
});

test('an onset transient or one window of a neighbouring digit inside a tone costs nothing', () => {
  const rate = 48000;
  let got = detect(synth([{ tone: null, ms: 30 }, { tone: '8', ms: 10 }, { tone: '0', ms: 60 }, { tone: null, ms: 60 }], rate), rate, 480);
  assert.deepEqual(got.map((g) => g.tone), ['0']);
  assert.ok(Math.abs(got[0].duration - 60) <= 10, `${got[0].duration}`);
  got = detect(synth([{ tone: '0', ms: 60 }, { tone: '8', ms: 10 }, { tone: '0', ms: 60 }, { tone: null, ms: 60 }], rate), rate, 480);
  assert.deepEqual(got.map((g) => g.tone), ['0']);
  assert.ok(Math.abs(got[0].duration - 130) <= 10, `${got[0].duration}`);
  // A real change of digit without a gap ends the first one.
  got = detect(synth([{ tone: '0', ms: 100 }, { tone: '8', ms: 100 }, { tone: null, ms: 60 }], rate), rate, 480);
  assert.deepEqual(got.map((g) => g.tone), ['0', '8']);
  for (const g of got) assert.ok(Math.abs(g.duration - 100) <= 10, `${g.tone}: ${g.duration}`);
});
