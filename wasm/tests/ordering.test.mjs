// Event ordering and the operations chain, as browsers do it (W3C webrtc-pc §4.4.1.2 chain,
// §4.4.1.5 "set the session description": update state, fire signalingstatechange, resolve).
import test from 'node:test';
import assert from 'node:assert/strict';
import { refrtc, once, negotiate } from './helpers.mjs';

const { RTCPeerConnection } = refrtc;

test('signalingstatechange fires (with updated attributes) before the SLD promise resolves', async () => {
  const pc = new RTCPeerConnection();
  try {
    pc.createDataChannel('x');
    const log = [];
    pc.onsignalingstatechange = () => {
      log.push(`event:${pc.signalingState}:${pc.pendingLocalDescription ? 'pending' : 'none'}`);
    };
    const offer = await pc.createOffer();
    const p = pc.setLocalDescription(offer).then(() => log.push(`resolved:${pc.signalingState}`));
    log.push(`sync:${pc.signalingState}`);
    await p;
    assert.deepEqual(log, ['sync:stable', 'event:have-local-offer:pending', 'resolved:have-local-offer']);
    assert.equal(pc.localDescription.type, 'offer');
    assert.equal(pc.localDescription.toJSON().type, 'offer');
  } finally { pc.close(); }
});

test('negotiationneeded is queued (not synchronous) and fires once for two channels', async () => {
  const pc = new RTCPeerConnection();
  try {
    let count = 0;
    pc.onnegotiationneeded = () => { count++; };
    pc.createDataChannel('a');
    pc.createDataChannel('b');
    assert.equal(count, 0);
    await once(pc, 'negotiationneeded');
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));   // later tasks run too
    assert.equal(count, 1);
  } finally { pc.close(); }
});

test('operations chain: SLD called without awaiting createOffer runs after it', async () => {
  const pc = new RTCPeerConnection();
  try {
    pc.createDataChannel('x');
    const order = [];
    const p1 = pc.createOffer().then(() => order.push('offer'));
    const p2 = pc.setLocalDescription().then(() => order.push('sld'));
    await Promise.all([p1, p2]);
    assert.deepEqual(order, ['offer', 'sld']);
    assert.equal(pc.signalingState, 'have-local-offer');
  } finally { pc.close(); }
});

test('gathering: icegatheringstatechange and candidates, ending with the null candidate', async () => {
  const pc = new RTCPeerConnection();
  try {
    pc.createDataChannel('x');
    const log = [];
    pc.onicegatheringstatechange = () => log.push('state:' + pc.iceGatheringState);
    const done = new Promise((resolve) => {
      pc.onicecandidate = (e) => {
        if (!e.candidate) { log.push('null'); resolve(); return; }
        log.push('candidate');
        assert.ok(e.candidate instanceof refrtc.RTCIceCandidate);
        assert.ok(e.candidate.address, 'candidate attribute parsed');
        assert.equal(pc.localDescription.sdp.includes(e.candidate.candidate), true,
          'localDescription includes surfaced candidates');
      };
    });
    await pc.setLocalDescription();
    await done;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(log[0], 'state:gathering');
    assert.ok(log.includes('candidate'));
    assert.ok(log.includes('state:complete'));
    assert.equal(log.filter((x) => x === 'null').length, 1);
    assert.ok(log.indexOf('null') > log.lastIndexOf('candidate'));
    assert.equal(pc.iceGatheringState, 'complete');
  } finally { pc.close(); }
});

test("remote channel: 'datachannel' (readyState open) then 'open'; connection events reach connected", async () => {
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  try {
    const log = [];
    const states = [];
    a.onconnectionstatechange = () => states.push(a.connectionState);
    const opened = new Promise((resolve) => {
      b.ondatachannel = (e) => {
        log.push('datachannel:' + e.channel.readyState);
        e.channel.onopen = () => { log.push('open'); resolve(); };
      };
    });
    a.createDataChannel('x');
    await negotiate(a, b);
    await opened;
    assert.deepEqual(log, ['datachannel:open', 'open']);
    if (a.connectionState !== 'connected') await once(a, 'connectionstatechange');
    assert.deepEqual(states.slice(0, 2), ['connecting', 'connected']);
    assert.equal(a.iceConnectionState === 'connected' || a.iceConnectionState === 'completed', true);
  } finally { a.close(); b.close(); }
});

test('no events after close()', async () => {
  const { a, b, dc, rc } = await (await import('./helpers.mjs')).connectedPair();
  let fired = 0;
  for (const t of [a, dc]) for (const type of ['close', 'closing', 'connectionstatechange', 'signalingstatechange', 'message']) {
    t.addEventListener(type, () => { fired++; });
  }
  rc.send('in flight');
  a.close();
  assert.equal(dc.readyState, 'closed');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(fired, 0);
  b.close();
});
