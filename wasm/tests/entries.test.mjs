// Package entries and process lifetime, in child processes: the CJS ready rule, the ESM entry's
// top-level await, and a Node process exiting by itself once its connections are closed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { wasmDir, childEnv } from './helpers.mjs';

function run(args, { timeoutMs = 20000, input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: wasmDir, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '', killed = false;
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('exit', (code) => { clearTimeout(t); resolve({ code, out, err, killed }); });
    child.stdin.end(input || '');
  });
}

const index = JSON.stringify(path.join(wasmDir, 'index.cjs'));

test('a script that connects two peers, exchanges a message and closes exits by itself', async () => {
  const script = `
    const { RTCPeerConnection, ready } = require(${index});
    ready.then(async () => {
      const a = new RTCPeerConnection(), b = new RTCPeerConnection();
      a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
      b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
      const dc = a.createDataChannel('x');
      b.ondatachannel = (e) => { e.channel.onmessage = (m) => {
        console.log('got ' + m.data); a.close(); b.close(); }; };
      dc.onopen = () => dc.send('hi');
      await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
      await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
    });`;
  const t0 = Date.now();
  const r = await run(['-e', script]);
  assert.equal(r.killed, false, 'process had to be killed: something keeps it alive after close()');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), 'got hi');
  assert.ok(Date.now() - t0 < 20000);
});

test('an open connection keeps the process alive (the timer/sockets are ref’d)', async () => {
  const script = `
    const { RTCPeerConnection, ready } = require(${index});
    ready.then(async () => {
      const a = new RTCPeerConnection();
      a.createDataChannel('x');
      await a.setLocalDescription();
      console.log('gathered');
      setTimeout(() => { console.log('still alive'); a.close(); }, 300).unref();
    });`;
  const r = await run(['-e', script]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), ['gathered', 'still alive']);
});

test('CommonJS: constructing before `ready` throws a clear InvalidStateError; after it works', async () => {
  const script = `
    const refrtc = require(${index});
    try { new refrtc.RTCPeerConnection(); console.log('no throw'); }
    catch (e) { console.log(e.name + ': ' + (e.message.includes('ready') ? 'mentions ready' : e.message)); }
    refrtc.ready.then(() => { const pc = new refrtc.RTCPeerConnection(); console.log(pc.signalingState); pc.close(); });`;
  const r = await run(['-e', script]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.trim().split('\n'), ['InvalidStateError: mentions ready', 'stable']);
});

test('ES module entry: usable immediately after import (top-level await)', async () => {
  const script = `
    import { RTCPeerConnection, RTCIceCandidate, configure } from ${JSON.stringify(path.join(wasmDir, 'index.mjs'))};
    import def from ${JSON.stringify(path.join(wasmDir, 'index.mjs'))};
    const pc = new RTCPeerConnection();
    console.log(pc.signalingState, typeof RTCIceCandidate, typeof configure, def.RTCPeerConnection === RTCPeerConnection);
    pc.close();`;
  const r = await run(['--input-type=module', '-e', script]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), 'stable function function true');
});

test('package self-reference: require("refrtc") and import "refrtc" resolve through exports', async () => {
  const script = `
    const r = require('refrtc');
    import('refrtc').then((m) => { console.log(typeof r.RTCPeerConnection, m.RTCPeerConnection === r.RTCPeerConnection); });`;
  const r = await run(['-e', script]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), 'function true');
});
