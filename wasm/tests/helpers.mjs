// Shared test setup: the real core (dist/refrtc_core.cjs) when it has been built, else the fake
// core (tests/fake_core.cjs); REFRTC_FAKE_CORE=1 forces the fake. Loopback only by default.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

export const wasmDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const realCorePath = path.join(wasmDir, 'dist', 'refrtc_core.cjs');
export const fakeCorePath = path.join(wasmDir, 'tests', 'fake_core.cjs');
export const usingFake = process.env.REFRTC_FAKE_CORE === '1' || !fs.existsSync(realCorePath);
if (usingFake) process.env.REFRTC_CORE = fakeCorePath;
if (!process.env.REFRTC_INTERFACES) process.env.REFRTC_INTERFACES = 'loopback';
export const childEnv = { ...process.env };

export const require = createRequire(import.meta.url);
export const refrtc = require('../index.cjs');
await refrtc.ready;

// Resolves with the first `type` event on `target`; rejects after `ms`.
export function once(target, type, ms = 10000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timeout waiting for '${type}'`)), ms);
    target.addEventListener(type, (ev) => { clearTimeout(t); resolve(ev); }, { once: true });
  });
}

// Offer/answer with trickled candidates between two connections of this process.
export async function negotiate(a, b) {
  a.addEventListener('icecandidate', (e) => { if (e.candidate) b.addIceCandidate(e.candidate).catch(() => {}); });
  b.addEventListener('icecandidate', (e) => { if (e.candidate) a.addIceCandidate(e.candidate).catch(() => {}); });
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription);
}

// Two connected peers with an open channel pair (local `dc` on a, remote `rc` on b).
export async function connectedPair(options = {}) {
  const { RTCPeerConnection } = refrtc;
  const a = new RTCPeerConnection(options.config);
  const b = new RTCPeerConnection(options.config);
  const dc = a.createDataChannel(options.label || 'chat', options.init);
  const remote = once(b, 'datachannel');
  const opened = once(dc, 'open');
  await negotiate(a, b);
  const rc = (await remote).channel;
  if (rc.readyState !== 'open') await once(rc, 'open');
  await opened;
  return { a, b, dc, rc };
}

export async function expectReject(promise, name) {
  try {
    await promise;
  } catch (e) {
    if (e.name !== name) throw new Error(`expected ${name}, got ${e.name}: ${e.message}`);
    return e;
  }
  throw new Error(`expected a rejection with ${name}`);
}
