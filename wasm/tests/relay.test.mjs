// The relay host (lib/ws_host.js, the browser's datagram path) from Node: a peer behind the
// WebSocket↔UDP relay of wasm/relay/PROTOCOL.md connects to a peer on plain UDP (node_host), and
// two relayed peers connect to each other. Uses the real relay binary when built
// (REFRTC_RELAY_BIN, else build/bin), and a WebSocket implementation: Node >= 22's
// global one, else the `ws` package of the repository's node_modules.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { refrtc, wasmDir, once, negotiate } from './helpers.mjs';

const repo = path.resolve(wasmDir, '..');
// REFRTC_RELAY_BIN (set by ctest) must exist: a named binary that is missing is a failure, not a skip.
if (process.env.REFRTC_RELAY_BIN && !fs.existsSync(process.env.REFRTC_RELAY_BIN)) {
  throw new Error(`REFRTC_RELAY_BIN=${process.env.REFRTC_RELAY_BIN} does not exist`);
}
const relayBin = [process.env.REFRTC_RELAY_BIN, path.join(repo, 'build/bin/refrtc_relay')]
  .find((p) => p && fs.existsSync(p));
let WS = globalThis.WebSocket;
if (!WS) {
  try { WS = createRequire(path.join(repo, 'package.json'))('ws'); } catch (e) { WS = null; }
}
const skip = !relayBin ? 'relay binary not built' : !WS ? 'no WebSocket implementation' : false;

async function startRelay(token) {
  const child = spawn(relayBin, ['--listen', '127.0.0.1:0', '--token', token], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    rl.once('line', resolve);
    child.once('exit', (c) => reject(new Error('relay exited ' + c)));
  });
  return { child, info: JSON.parse(line) };
}

async function pingPong(a, b) {
  const dc = a.createDataChannel('relay');
  const remote = once(b, 'datachannel');
  const opened = once(dc, 'open');
  await negotiate(a, b);
  const rc = (await remote).channel;
  await opened;
  const m = once(rc, 'message');
  dc.send('via relay');
  assert.equal((await m).data, 'via relay');
  const m2 = once(dc, 'message');
  rc.send(new Uint8Array([5, 6]));
  assert.deepEqual([...new Uint8Array((await m2).data)], [5, 6]);
}

test('relayed peer ↔ UDP peer, and relayed ↔ relayed', { skip }, async () => {
  const token = 'tok' + Math.random().toString(16).slice(2);
  const { child, info } = await startRelay(token);
  const { RTCPeerConnection, configure } = refrtc;
  try {
    const url = `ws://${info.listen}/v1`;
    configure({ relay: { url, token, WebSocket: WS } });
    const relayed = new RTCPeerConnection();
    const r2 = new RTCPeerConnection();
    const r3 = new RTCPeerConnection();
    configure({ relay: null });
    const direct = new RTCPeerConnection();
    try {
      await pingPong(relayed, direct);
      // host candidates of the relayed peer are the relay's sockets
      assert.match(relayed.localDescription.sdp, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
      await pingPong(r2, r3);
      const stats = [...(await r2.getStats()).values()];
      const pair = stats.find((x) => x.type === 'candidate-pair');
      assert.ok(pair && pair.bytesReceived > 0, 'selected pair sees traffic through the relay');
    } finally {
      for (const pc of [relayed, r2, r3, direct]) pc.close();
    }
  } finally {
    configure({ relay: null });
    child.kill();
  }
});

test('wrong token: setLocalDescription rejects with OperationError', { skip }, async () => {
  const { child, info } = await startRelay('right');
  const { RTCPeerConnection, configure } = refrtc;
  try {
    configure({ relay: { url: `ws://${info.listen}/v1`, token: 'wrong', WebSocket: WS } });
    const pc = new RTCPeerConnection();
    configure({ relay: null });
    try {
      pc.createDataChannel('x');
      const e = await pc.setLocalDescription().then(() => null, (err) => err);
      assert.ok(e, 'rejected');
      assert.equal(e.name, 'OperationError');
    } finally { pc.close(); }
  } finally {
    configure({ relay: null });
    child.kill();
  }
});
