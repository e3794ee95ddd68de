// The embind boundary (wasm/src/BINDING.md) on its own: two engines in one process, datagrams moved
// between them by this test with virtual time — no sockets, no timers, deterministic. Proves the
// compiled stack (mbedTLS DTLS, usrsctp SCTP, ICE) works in WASM and that errors carry their
// DOMException names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const core = await require('../dist/refrtc_core.cjs')();

function makePc(ip, seed) {
  const r = core.createPeerConnection({}, seed, Math.floor(Date.now() / 1000));
  assert.ok(r.pc, JSON.stringify(r.error));
  assert.deepEqual(r.pc.addLocalAddress(ip, 5000), {});
  return r.pc;
}

// Moves datagrams until both sides are quiet, then advances virtual time to the next deadline.
function run(pcs, untilFn, limitMs = 20000) {
  const byIp = new Map(pcs.map((p) => [p.ip, p]));
  let now = 0;
  const events = new Map(pcs.map((p) => [p.ip, []]));
  while (now < limitMs) {
    let moved = true;
    while (moved) {
      moved = false;
      for (const p of pcs) {
        for (let t = p.pc.pollTransmit(); t; t = p.pc.pollTransmit()) {
          moved = true;
          const dst = byIp.get(t.toIp);
          if (dst) dst.pc.handleReceive(t.data, t.toIp, t.toPort, t.fromIp, t.fromPort, now);
        }
        for (let e = p.pc.pollEvent(); e; e = p.pc.pollEvent()) events.get(p.ip).push(e);
      }
    }
    if (untilFn(events)) return { events, now };
    const deadlines = pcs.map((p) => p.pc.pollTimeout()).filter((d) => d !== null);
    if (deadlines.length === 0) break;
    now = Math.max(now + 1, Math.min(...deadlines));
    for (const p of pcs) p.pc.handleTimeout(now);
  }
  return { events, now };
}

test('two WASM engines connect and exchange data-channel messages over virtual datagrams', () => {
  const a = { ip: '10.0.0.1', pc: makePc('10.0.0.1', 1) };
  const b = { ip: '10.0.0.2', pc: makePc('10.0.0.2', 2) };
  const ch = a.pc.createDataChannel('chat', { ordered: true });
  assert.equal(typeof ch.channel, 'number');
  const offer = a.pc.createOffer({});
  assert.equal(offer.type, 'offer');
  assert.match(offer.sdp, /m=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/);
  assert.deepEqual(a.pc.setLocalDescription('offer', offer.sdp), {});
  assert.deepEqual(b.pc.setRemoteDescription('offer', offer.sdp), {});
  const answer = b.pc.createAnswer();
  assert.deepEqual(b.pc.setLocalDescription('answer', answer.sdp), {});
  assert.deepEqual(a.pc.setRemoteDescription('answer', answer.sdp), {});
  // Trickle: move candidates across as the engines emit them.
  const pcs = [a, b];
  const opened = (ev) => ev.get(a.ip).some((e) => e.type === 'open') && ev.get(b.ip).some((e) => e.type === 'datachannel');
  const trickle = (ev) => {
    for (const [src, dst] of [[a, b], [b, a]]) {
      for (const e of ev.get(src.ip)) {
        if (e.type === 'icecandidate' && !e.moved) {
          e.moved = true;
          assert.deepEqual(dst.pc.addIceCandidate(e.candidate), {});
        }
      }
    }
    return opened(ev);
  };
  const { events } = run(pcs, trickle);
  assert.ok(opened(events), 'channel did not open');
  assert.equal(a.pc.state().connectionState, 'connected');
  assert.equal(a.pc.state().sctp.state, 'connected');
  const remote = events.get(b.ip).find((e) => e.type === 'datachannel').channel;
  assert.equal(b.pc.channelState(remote).label, 'chat');

  assert.deepEqual(a.pc.channelSend(ch.channel, 'hello'), {});
  assert.deepEqual(a.pc.channelSend(ch.channel, new Uint8Array([1, 2, 3, 255])), {});
  const got = run(pcs, (ev) => ev.get(b.ip).filter((e) => e.type === 'message').length >= 2).events.get(b.ip)
    .filter((e) => e.type === 'message');
  assert.equal(got[0].data, 'hello');
  assert.ok(got[1].data instanceof Uint8Array);
  assert.deepEqual([...got[1].data], [1, 2, 3, 255]);
  a.pc.close();
  b.pc.close();
  assert.equal(a.pc.state().signalingState, 'closed');
  a.pc.delete();
  b.pc.delete();
});

test('errors carry the W3C DOMException names', () => {
  const pc = makePc('10.0.0.3', 3);
  // §4.4.1.6: SDP that does not parse rejects with an RTCError (name OperationError, sdp-syntax-error).
  assert.equal(pc.setRemoteDescription('offer', 'garbage').error.name, 'OperationError');
  assert.equal(pc.setRemoteDescription('bogus', '').error.name, 'TypeError');
  assert.equal(pc.createAnswer().error.name, 'InvalidStateError');
  assert.equal(pc.createDataChannel('x', { maxRetransmits: 70000 }).error.name, 'TypeError');
  assert.equal(pc.createDataChannel('x', { maxRetransmits: 1, maxPacketLifeTime: 1 }).error.name, 'TypeError');
  assert.equal(pc.addLocalAddress('not-an-ip', 1).error.name !== undefined, true);
  assert.equal(core.createPeerConnection({ bundlePolicy: 'nope' }, 1, 0).error.name, 'TypeError');
  assert.equal(core.createPeerConnection({ iceServers: [{ urls: 'http://x' }] }, 1, 0).error.name, 'SyntaxError');
  // A datagram that is nothing at all is dropped, not fatal.
  pc.handleReceive(new Uint8Array([0xff, 0, 1]), '10.0.0.3', 5000, '10.0.0.9', 9, 0);
  pc.handleReceive(new Uint8Array([]), '10.0.0.3', 5000, '10.0.0.9', 9, 0);
  pc.close();
  assert.equal(pc.createDataChannel('x', {}).error.name, 'InvalidStateError');
  pc.delete();
});

test('certificates: generated, fingerprinted, used by a peer connection, expired ones refused', () => {
  const now = Math.floor(Date.now() / 1000);
  const { certificate } = core.generateCertificate(7, now, 3600 * 1000);
  assert.ok(certificate);
  assert.ok(Math.abs(certificate.expires() - (now * 1000 + 3600 * 1000)) < 5000);
  const fps = certificate.getFingerprints();
  assert.equal(fps[0].algorithm, 'sha-256');
  assert.match(fps[0].value, /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
  const r = core.createPeerConnection({ certificates: [certificate] }, 8, now);
  assert.ok(r.pc);
  assert.deepEqual(r.pc.certificateFingerprints(), fps);
  r.pc.close();
  r.pc.delete();
  const old = core.generateCertificate(9, now - 7200, 3600 * 1000).certificate;
  assert.equal(core.createPeerConnection({ certificates: [old] }, 10, now).error.name, 'InvalidAccessError');
  assert.equal(core.createPeerConnection({ certificates: [{}] }, 10, now).error.name, 'TypeError');
  certificate.delete();
  old.delete();
});
