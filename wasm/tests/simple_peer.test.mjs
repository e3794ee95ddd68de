// wrtc-style injection: simple-peer (devDependency) connects two peers with `wrtc: require('refrtc')`.
import test from 'node:test';
import assert from 'node:assert/strict';
import { refrtc, require, usingFake } from './helpers.mjs';

let Peer = null;
try { Peer = require('simple-peer'); } catch (e) { /* not installed: npm install in wasm/ */ }

test('simple-peer with wrtc: refrtc connects, exchanges data both ways and reports addresses',
  { skip: Peer ? false : 'simple-peer not installed (npm install in wasm/)' }, async () => {
    const wrtc = refrtc;
    const p1 = new Peer({ initiator: true, wrtc });
    const p2 = new Peer({ wrtc });
    try {
      p1.on('signal', (d) => p2.signal(d));
      p2.on('signal', (d) => p1.signal(d));
      const connected = Promise.all([new Promise((r) => p1.on('connect', r)), new Promise((r) => p2.on('connect', r))]);
      const failed = new Promise((_, reject) => { p1.on('error', reject); p2.on('error', reject); });
      await Promise.race([connected, failed]);
      const got2 = new Promise((r) => p2.once('data', r));
      p1.send('hello from p1');
      assert.equal(String(await got2), 'hello from p1');
      const got1 = new Promise((r) => p1.once('data', r));
      p2.send(Buffer.from([1, 2, 3]));
      assert.deepEqual([...(await got1)], [1, 2, 3]);
      assert.ok(p1.remotePort > 0 && p1.localPort > 0, 'addresses from getStats');
      assert.equal(p1.remotePort, p2.localPort);
      // The stream interface too.
      const got3 = new Promise((r) => p2.once('data', r));
      p1.write('streamed');
      assert.equal(String(await got3), 'streamed');
    } finally {
      const closed = Promise.all([new Promise((r) => p1.once('close', r)), new Promise((r) => p2.once('close', r))]);
      p1.destroy();
      p2.destroy();
      await closed;
    }
  });

test('simple-peer without trickle (allowHalfTrickle) signals one offer/answer carrying every candidate',
  { skip: Peer ? false : 'simple-peer not installed' }, async () => {
    const p1 = new Peer({ initiator: true, trickle: false, allowHalfTrickle: true, wrtc: refrtc });
    const p2 = new Peer({ trickle: false, allowHalfTrickle: true, wrtc: refrtc });
    try {
      const signals = [];
      p1.on('signal', (d) => { signals.push(d); p2.signal(d); });
      p2.on('signal', (d) => { signals.push(d); p1.signal(d); });
      const failed = new Promise((_, reject) => { p1.on('error', reject); p2.on('error', reject); });
      await Promise.race([failed,
        Promise.all([new Promise((r) => p1.on('connect', r)), new Promise((r) => p2.on('connect', r))])]);
      assert.deepEqual(signals.map((d) => d.type), ['offer', 'answer']);
      assert.ok(signals.every((d) => d.sdp.includes('a=candidate:')), 'descriptions include the gathered candidates');
      const got = new Promise((r) => p2.once('data', r));
      p1.send('x');
      assert.equal(String(await got), 'x');
    } finally {
      p1.destroy();
      p2.destroy();
    }
  });

// simple-peer's plain `trickle: false` removes "a=ice-options:trickle" from the offer before
// setLocalDescription. W3C §4.4.1.5 (setLocalDescription step: sdp differs from
// [[LastCreatedOffer]]) requires InvalidModificationError; Chrome tolerates this munging, refrtc
// follows the spec.
test('simple-peer trickle:false SDP munging is rejected with InvalidModificationError (spec)',
  { skip: !Peer ? 'simple-peer not installed' : usingFake ? 'the fake core does not check SDP munging' : false }, async () => {
    const p1 = new Peer({ initiator: true, trickle: false, wrtc: refrtc });
    try {
      const err = await new Promise((resolve) => p1.on('error', resolve));
      assert.equal(err.name, 'InvalidModificationError');
      assert.equal(err.code, 'ERR_SET_LOCAL_DESCRIPTION');
    } finally {
      p1.destroy();
    }
  });
