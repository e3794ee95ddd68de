// RTP media between two refrtc WASM peers in one Node process (loopback UDP): synthetic tracks
// (createSyntheticTrack), transceivers, track events with streams, what the receivers' sinks measure
// (receiver.trackInfo()), RTP stats, and the W3C error paths. Needs the real core.
import test from 'node:test';
import assert from 'node:assert/strict';
import { refrtc, usingFake, once, negotiate, expectReject } from './helpers.mjs';

const skip = usingFake ? 'needs the real core (the fake one has no media)' : false;
const {
  RTCPeerConnection, MediaStream, MediaStreamTrack, RTCRtpTransceiver, RTCRtpSender, RTCRtpReceiver,
  RTCTrackEvent, createSyntheticTrack,
} = refrtc;

// Resolves once `cond()` returns a truthy value (checked every 50 ms); rejects with `what` and the
// last value of `show()` after `ms`.
function waitFor(cond, what, ms = 10000, show = () => '') {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const check = () => {
      const v = cond();
      if (v) { resolve(v); return; }
      if (Date.now() - t0 > ms) { reject(new Error(`timeout: ${what} ${show()}`)); return; }
      setTimeout(check, 50);
    };
    check();
  });
}

// Offer/answer again over an already connected pair (candidates are already known).
async function renegotiate(a, b) {
  await a.setLocalDescription();
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription();
  await a.setRemoteDescription(b.localDescription);
}

const near = (hz, want) => hz !== null && Math.abs(hz - want) <= 10;

test('a 440 Hz tone and the video pattern: track events with streams, sinks, stats, replaceTrack, close', { skip }, async () => {
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  try {
    const tone = createSyntheticTrack('tone:440');
    const pattern = createSyntheticTrack('pattern');
    assert.ok(tone instanceof MediaStreamTrack);
    assert.equal(tone.kind, 'audio');
    assert.equal(pattern.kind, 'video');
    assert.equal(tone.readyState, 'live');
    assert.equal(tone.enabled, true);
    assert.equal(tone.label, 'tone:440');
    assert.match(tone.id, /^[0-9a-f-]{36}$/);
    assert.notEqual(tone.id, pattern.id);
    const stream = new MediaStream([tone, pattern]);

    let nn = 0;
    a.onnegotiationneeded = () => { nn++; };
    const negotiationNeeded = once(a, 'negotiationneeded');
    const audioT = a.addTransceiver(tone, { direction: 'sendrecv', streams: [stream] });
    const videoSender = a.addTrack(pattern, stream);
    assert.ok(audioT instanceof RTCRtpTransceiver);
    assert.ok(videoSender instanceof RTCRtpSender);
    assert.equal(audioT.sender.track, tone);
    assert.equal(videoSender.track, pattern);
    assert.equal(audioT.mid, null);
    assert.equal(audioT.currentDirection, null);
    assert.equal(a.getTransceivers().length, 2);
    assert.deepEqual(a.getSenders(), [audioT.sender, videoSender]);
    assert.ok(audioT.receiver.track instanceof MediaStreamTrack);
    assert.equal(audioT.receiver.track.kind, 'audio');
    assert.equal(audioT.receiver.track.muted, true, 'a remote track is muted until RTP arrives');

    // b: the track events come during setRemoteDescription, before its promise resolves.
    const bTracks = [];
    b.ontrack = (e) => bTracks.push(e);
    const aTracks = [];
    a.addEventListener('track', (e) => aTracks.push(e));
    a.addEventListener('icecandidate', (e) => { if (e.candidate) b.addIceCandidate(e.candidate).catch(() => {}); });
    b.addEventListener('icecandidate', (e) => { if (e.candidate) a.addIceCandidate(e.candidate).catch(() => {}); });
    await negotiationNeeded;
    assert.equal(nn, 1, 'one negotiationneeded for the two changes');
    await a.setLocalDescription();
    await b.setRemoteDescription(a.localDescription);
    assert.equal(bTracks.length, 2, 'one track event per received m-section');
    for (const e of bTracks) {
      assert.ok(e instanceof RTCTrackEvent);
      assert.ok(e.receiver instanceof RTCRtpReceiver);
      assert.equal(e.receiver, e.transceiver.receiver);
      assert.equal(e.track, e.receiver.track);
      assert.equal(e.streams.length, 1);
      assert.equal(e.streams[0].id, stream.id, 'the stream id crosses as a=msid');
    }
    assert.equal(bTracks[0].streams[0], bTracks[1].streams[0], 'one MediaStream object per remote stream id');
    assert.deepEqual(bTracks[0].streams[0].getTracks().map((t) => t.kind), ['audio', 'video']);
    assert.equal(audioT.mid, '0', 'mid set by setLocalDescription(offer)');
    assert.deepEqual(bTracks.map((e) => e.transceiver.mid), ['0', '1']);
    const [bAudio, bVideo] = bTracks;

    // b answers with an 880 Hz tone: addTrack reuses the transceiver the offer created.
    const answerTone = createSyntheticTrack('tone:880');
    const bSender = b.addTrack(answerTone);
    assert.equal(bSender, bAudio.transceiver.sender, 'addTrack reused the offered audio transceiver');
    assert.equal(bAudio.transceiver.direction, 'sendrecv');
    await b.setLocalDescription();
    await a.setRemoteDescription(b.localDescription);
    assert.equal(aTracks.length, 1);
    assert.equal(aTracks[0].transceiver, audioT);
    assert.deepEqual(aTracks[0].streams, [], 'addTrack without streams: no stream');
    assert.equal(audioT.currentDirection, 'sendrecv');
    assert.equal(a.getTransceivers()[1].currentDirection, 'sendonly');
    assert.equal(bVideo.transceiver.currentDirection, 'recvonly');
    assert.ok(audioT.sender.transport, 'the sender has a transport once negotiated');

    // RTP arrives: the tracks unmute and the sinks measure the tones and count the frames.
    if (bAudio.track.muted) await once(bAudio.track, 'unmute');
    const heard = await waitFor(() => {
      const i = bAudio.receiver.trackInfo();
      return near(i.dominantHz, 440) && i.samplesReceived >= 48000 ? i : null;
    }, 'b hears 440 Hz', 10000, () => JSON.stringify(bAudio.receiver.trackInfo()));
    assert.equal(heard.kind, 'audio');
    assert.equal(heard.sampleRate, 48000);
    assert.ok(heard.rms > 0.05, `rms ${heard.rms}`);
    await waitFor(() => near(audioT.receiver.trackInfo().dominantHz, 880), 'a hears 880 Hz', 10000,
      () => JSON.stringify(audioT.receiver.trackInfo()));
    const video = await waitFor(() => {
      const i = bVideo.receiver.trackInfo();
      return i.framesReceived >= 30 ? i : null;
    }, 'b receives 30 video frames', 10000, () => JSON.stringify(bVideo.receiver.trackInfo()));
    assert.equal(video.kind, 'video');
    assert.equal(video.width, 320);
    assert.equal(video.height, 240);
    assert.equal(bVideo.track.muted, false);

    // getStats: RTP objects from the engine; a track selector picks its stream.
    const bStats = [...(await b.getStats()).values()];
    const inAudio = bStats.find((s) => s.type === 'inbound-rtp' && s.kind === 'audio');
    const inVideo = bStats.find((s) => s.type === 'inbound-rtp' && s.kind === 'video');
    assert.ok(inAudio.packetsReceived >= 50, `audio packets ${inAudio.packetsReceived}`);
    assert.ok(inVideo.framesReceived >= 30);
    assert.equal(inAudio.trackIdentifier, bAudio.track.id);
    assert.equal(bStats.find((s) => s.id === inAudio.codecId).mimeType, 'audio/opus');
    const sel = [...(await a.getStats(pattern)).values()];
    assert.deepEqual(sel.filter((s) => s.type.endsWith('-rtp')).map((s) => s.type).sort(),
      sel.some((s) => s.type === 'remote-inbound-rtp') ? ['outbound-rtp', 'remote-inbound-rtp'] : ['outbound-rtp']);
    const out = sel.find((s) => s.type === 'outbound-rtp');
    assert.equal(out.kind, 'video');
    assert.ok(out.framesEncoded >= 30);
    assert.equal(sel.find((s) => s.id === out.mediaSourceId).trackIdentifier, pattern.id);
    assert.ok(sel.some((s) => s.type === 'transport'), 'the selection includes the transport it refers to');
    const recvOnly = [...(await bVideo.receiver.getStats()).values()];
    assert.ok(recvOnly.some((s) => s.type === 'inbound-rtp' && s.kind === 'video'));
    assert.ok(!recvOnly.some((s) => s.type === 'inbound-rtp' && s.kind === 'audio'));
    await expectReject(a.getStats(createSyntheticTrack('silence')), 'InvalidAccessError');

    // Parameters: the negotiated codec; setParameters needs the last transactionId.
    const params = audioT.sender.getParameters();
    assert.equal(params.codecs[0].mimeType, 'audio/opus');
    assert.equal(params.encodings.length, 1);
    params.encodings[0].maxBitrate = 64000;
    await audioT.sender.setParameters(params);
    await expectReject(audioT.sender.setParameters(params), 'InvalidStateError');
    assert.equal(audioT.sender.getParameters().encodings[0].maxBitrate, 64000);
    assert.equal(bAudio.receiver.getParameters().codecs[0].mimeType, 'audio/opus');

    // replaceTrack: no renegotiation; the receiver soon hears the new tone.
    const nnBefore = nn;
    await audioT.sender.replaceTrack(createSyntheticTrack('tone:660'));
    assert.equal(audioT.sender.track.label, 'tone:660');
    await waitFor(() => near(bAudio.receiver.trackInfo().dominantHz, 660), 'b hears 660 Hz after replaceTrack', 10000,
      () => JSON.stringify(bAudio.receiver.trackInfo()));
    await expectReject(audioT.sender.replaceTrack(createSyntheticTrack('pattern')), 'TypeError');
    // A disabled audio track sends silence.
    audioT.sender.track.enabled = false;
    await waitFor(() => bAudio.receiver.trackInfo().dominantHz === null, 'b hears silence from a disabled track', 10000,
      () => JSON.stringify(bAudio.receiver.trackInfo()));
    assert.equal(nn, nnBefore, 'replaceTrack and enabled need no negotiation');

    // transceiver.stop(): the remote m-section is rejected in the next negotiation and b's track ends.
    const ended = once(bVideo.track, 'ended');
    a.getTransceivers()[1].stop();
    assert.equal(a.getTransceivers()[1].direction, 'stopped');
    await renegotiate(a, b);
    await ended;
    assert.equal(bVideo.track.readyState, 'ended');
    assert.equal(a.getTransceivers().length, 1, 'the stopped transceiver is gone once negotiated');
    assert.equal(b.getReceivers().length, 1);

    // close(): every transceiver stopped, receiver tracks ended, what was measured still readable.
    a.close();
    assert.equal(audioT.direction, 'stopped');
    assert.equal(audioT.currentDirection, 'stopped');
    assert.equal(audioT.receiver.track.readyState, 'ended');
    assert.ok(audioT.receiver.trackInfo().samplesReceived > 0);
    assert.deepEqual(a.getSenders(), []);
  } finally {
    a.close();
    b.close();
  }
});

test('removeTrack and direction: the other side sees the direction change; recvonly offers', { skip }, async () => {
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  try {
    const t = a.addTransceiver('audio', { direction: 'recvonly' });
    assert.equal(t.sender.track, null);
    assert.equal(t.direction, 'recvonly');
    let bTrack = null;
    b.ontrack = (e) => { bTrack = e; };
    await negotiate(a, b);
    assert.equal(bTrack, null, 'a recvonly offer gives the answerer no track event');
    const bt = b.getTransceivers()[0];
    assert.equal(bt.currentDirection, 'inactive', 'nothing to send on b: the answer is inactive');
    assert.equal(t.currentDirection, 'inactive');

    // a starts sending: sendrecv, renegotiate, b gets its track.
    const tone = createSyntheticTrack('tone:1000');
    await t.sender.replaceTrack(tone);
    t.direction = 'bogus';                  // WebIDL: an invalid enum value is ignored
    assert.equal(t.direction, 'recvonly');
    assert.throws(() => { t.direction = 'stopped'; }, TypeError);
    t.direction = 'sendrecv';
    await renegotiate(a, b);
    assert.ok(bTrack, 'track event once a sends');
    assert.equal(bt.currentDirection, 'recvonly');
    await waitFor(() => near(bTrack.receiver.trackInfo().dominantHz, 1000), 'b hears 1 kHz', 10000,
      () => JSON.stringify(bTrack.receiver.trackInfo()));

    // removeTrack: no track, direction drops send; b's track is muted after renegotiation.
    a.removeTrack(t.sender);
    assert.equal(t.sender.track, null);
    assert.equal(t.direction, 'recvonly');
    const muted = bTrack.track.muted ? Promise.resolve() : once(bTrack.track, 'mute');
    await renegotiate(a, b);
    await muted;
    assert.equal(bt.currentDirection, 'inactive');
  } finally {
    a.close();
    b.close();
  }
});

test('media error paths: TypeError, InvalidAccessError, InvalidStateError', { skip }, async () => {
  const pc = new RTCPeerConnection();
  const other = new RTCPeerConnection();
  try {
    assert.throws(() => pc.addTransceiver('data'), TypeError);
    assert.throws(() => pc.addTransceiver('audio', { direction: 'sideways' }), TypeError);
    assert.throws(() => pc.addTransceiver('audio', { direction: 'stopped' }), TypeError);
    assert.throws(() => pc.addTransceiver('audio', { streams: ['not a stream'] }), TypeError);
    assert.throws(() => pc.addTrack({}), TypeError);
    assert.throws(() => pc.addTrack(createSyntheticTrack('silence'), {}), TypeError);
    assert.throws(() => createSyntheticTrack('tone:abc'), TypeError);
    assert.throws(() => createSyntheticTrack('microphone'), TypeError);
    assert.throws(() => new MediaStreamTrack(), TypeError);
    assert.throws(() => new RTCRtpTransceiver(), TypeError);

    const track = createSyntheticTrack('tone:440');
    const sender = pc.addTrack(track);
    assert.throws(() => pc.addTrack(track), (e) => e instanceof DOMException && e.name === 'InvalidAccessError');
    const foreign = other.addTrack(createSyntheticTrack('silence'));
    assert.throws(() => pc.removeTrack(foreign), (e) => e.name === 'InvalidAccessError');
    assert.throws(() => pc.removeTrack({}), TypeError);
    // setParameters without a getParameters first.
    await expectReject(sender.setParameters({ transactionId: 'made-up', encodings: [{}] }), 'InvalidStateError');
    const p = sender.getParameters();
    p.encodings.push({ active: true });
    await expectReject(sender.setParameters(p), 'InvalidModificationError');
    assert.throws(() => pc.getTransceivers()[0].setCodecPreferences([{ mimeType: 'audio/x-unknown', clockRate: 8000 }]),
      (e) => e.name === 'InvalidModificationError');
    pc.getTransceivers()[0].setCodecPreferences([]);

    // A stopped track stays attached but ended.
    track.stop();
    assert.equal(track.readyState, 'ended');
    assert.equal(sender.track, track);

    pc.close();
    assert.throws(() => pc.addTrack(createSyntheticTrack('silence')), (e) => e.name === 'InvalidStateError');
    assert.throws(() => pc.addTransceiver('video'), (e) => e.name === 'InvalidStateError');
    assert.throws(() => pc.removeTrack(sender), (e) => e.name === 'InvalidStateError');
    assert.throws(() => { pc.getTransceivers()[0].direction = 'sendonly'; }, (e) => e.name === 'InvalidStateError');
    assert.throws(() => pc.getTransceivers()[0].stop(), (e) => e.name === 'InvalidStateError');
    await expectReject(sender.replaceTrack(null), 'InvalidStateError');
    assert.equal(pc.getTransceivers().length, 1, 'close() keeps the transceivers (stopped)');
  } finally {
    pc.close();
    other.close();
  }
});

test('getCapabilities and MediaStream basics', { skip }, () => {
  const audio = RTCRtpSender.getCapabilities('audio');
  assert.ok(audio.codecs.some((c) => c.mimeType === 'audio/opus' && c.clockRate === 48000));
  assert.ok(RTCRtpReceiver.getCapabilities('video').codecs.some((c) => c.mimeType === 'video/VP8'));
  assert.equal(RTCRtpSender.getCapabilities('data'), null);
  const t1 = createSyntheticTrack('silence');
  const t2 = createSyntheticTrack('pattern');
  const s = new MediaStream([t1]);
  s.addTrack(t2);
  assert.equal(s.getTracks().length, 2);
  assert.deepEqual(s.getVideoTracks(), [t2]);
  assert.equal(s.getTrackById(t1.id), t1);
  assert.equal(s.active, true);
  const copy = new MediaStream(s);
  assert.notEqual(copy.id, s.id);
  assert.equal(copy.getTracks().length, 2);
  const c = t2.clone();
  assert.notEqual(c.id, t2.id);
  assert.equal(c.kind, 'video');
  assert.equal(c.getSettings().width, 320);
  t1.stop(); t2.stop();
  assert.equal(s.active, false);
  assert.equal(c.readyState, 'live', 'a clone has its own lifetime');
  assert.throws(() => new MediaStream([{}]), TypeError);
});
