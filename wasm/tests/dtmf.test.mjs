// webrtc-pc §7 RTCDTMFSender between two refrtc WASM peers (loopback UDP): sender.dtmf, insertDTMF
// errors and clamping, tonechange events (RTCDTMFToneChangeEvent, ontonechange), and the refrtc
// 'dtmf' extension event at the receiving RTCRtpReceiver. Needs the real core.
import test from 'node:test';
import assert from 'node:assert/strict';
import { refrtc, usingFake, negotiate } from './helpers.mjs';

const skip = usingFake ? 'needs the real core (the fake one has no media)' : false;
const { RTCPeerConnection, RTCDTMFSender, RTCDTMFToneChangeEvent, RTCDTMFReceivedEvent, createSyntheticTrack } = refrtc;

function waitFor(cond, what, ms = 15000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const check = () => {
      const v = cond();
      if (v) { resolve(v); return; }
      if (Date.now() - t0 > ms) { reject(new Error(`timeout: ${what}`)); return; }
      setTimeout(check, 20);
    };
    check();
  });
}

test('insertDTMF: tonechange sequence, validation, and the digits at the receiver', { skip }, async () => {
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  try {
    const t = a.addTransceiver(createSyntheticTrack('tone:440'), { direction: 'sendonly' });
    const video = a.addTransceiver('video');
    assert.equal(video.sender.dtmf, null);
    const dtmf = t.sender.dtmf;
    assert.ok(dtmf instanceof RTCDTMFSender);
    assert.equal(t.sender.dtmf, dtmf);
    assert.equal(dtmf.canInsertDTMF, false);
    assert.throws(() => dtmf.insertDTMF('1'), { name: 'InvalidStateError' });
    let remote = null;
    b.ontrack = (e) => { if (e.track.kind === 'audio') remote = e.receiver; };
    await negotiate(a, b);
    await waitFor(() => a.connectionState === 'connected' && b.connectionState === 'connected', 'connected');
    assert.ok(remote);
    assert.equal(dtmf.canInsertDTMF, true);
    assert.throws(() => dtmf.insertDTMF('12x'), { name: 'InvalidCharacterError' });
    assert.equal(dtmf.toneBuffer, '');

    const tones = [];
    const digits = [];
    dtmf.ontonechange = (e) => { assert.ok(e instanceof RTCDTMFToneChangeEvent); tones.push(e.tone); };
    remote.addEventListener('dtmf', (e) => { assert.ok(e instanceof RTCDTMFReceivedEvent); digits.push([e.tone, e.duration]); });
    dtmf.insertDTMF('1a#', 10, 10);  // clamped to 40 / 30 ms; a → A
    assert.equal(dtmf.toneBuffer, '1A#');
    await waitFor(() => tones.length === 4, 'tonechange x4');
    assert.deepEqual(tones, ['1', 'A', '#', '']);
    assert.equal(dtmf.toneBuffer, '');
    await waitFor(() => digits.length === 3, 'three digits');
    assert.deepEqual(digits.map((d) => d[0]), ['1', 'A', '#']);
    for (const [, ms] of digits) assert.ok(ms >= 35 && ms <= 45, `duration ${ms}`);
  } finally {
    a.close();
    b.close();
  }
});
