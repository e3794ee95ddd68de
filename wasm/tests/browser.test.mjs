// The browser bundle (dist/refrtc.browser.mjs, `npm run build:browser`) in headless Chromium:
// the page imports it, configures the relay, and its peer connects to a Node peer on plain UDP
// (and two in-page peers connect to each other). Skipped without chromium, puppeteer-core (from the
// repository's node_modules), the relay binary or the bundle.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { refrtc, wasmDir, once, usingFake } from './helpers.mjs';

const repo = path.resolve(wasmDir, '..');
const bundle = path.join(wasmDir, 'dist', 'refrtc.browser.mjs');
const chromium = process.env.REFRTC_CHROMIUM_PATH || '/usr/bin/chromium';
// REFRTC_RELAY_BIN (set by ctest) must exist: a named binary that is missing is a failure, not a skip.
if (process.env.REFRTC_RELAY_BIN && !fs.existsSync(process.env.REFRTC_RELAY_BIN)) {
  throw new Error(`REFRTC_RELAY_BIN=${process.env.REFRTC_RELAY_BIN} does not exist`);
}
const relayBin = [process.env.REFRTC_RELAY_BIN, path.join(repo, 'build/bin/refrtc_relay')]
  .find((p) => p && fs.existsSync(p));
let puppeteer = null;
try { puppeteer = createRequire(path.join(repo, 'package.json'))('puppeteer-core'); } catch (e) { /* absent */ }
const skip = usingFake ? 'needs the real core' : !fs.existsSync(bundle) ? 'bundle not built (npm run build:browser)'
  : !fs.existsSync(chromium) ? 'no chromium' : !puppeteer ? 'no puppeteer-core' : !relayBin ? 'no relay binary' : false;

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
import * as refrtc from '/refrtc.browser.mjs';
window.refrtc = refrtc;
window.loaded = true;
</script>`;

test('browser bundle in headless Chromium: page peer (via relay) ↔ Node peer (UDP), page ↔ page', { skip, timeout: 60000 }, async () => {
  const relay = spawn(relayBin, ['--listen', '127.0.0.1:0', '--token', 'browser-test'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const info = JSON.parse(await new Promise((r) => readline.createInterface({ input: relay.stdout }).once('line', r)));
  const server = http.createServer((req, res) => {
    if (req.url === '/refrtc.browser.mjs') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      fs.createReadStream(bundle).pipe(res);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(PAGE);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'refrtc-js-chromium-'));
  const browser = await puppeteer.launch({ executablePath: chromium, pipe: true, ignoreDefaultArgs: true,
    args: ['--no-sandbox', '--headless=new', '--disable-gpu', '--no-first-run', `--user-data-dir=${userDataDir}`, 'about:blank'] });
  const node = new refrtc.RTCPeerConnection();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction('window.loaded === true', { timeout: 30000 });
    assert.deepEqual(errors, []);

    // page ↔ page through the relay
    const inPage = await page.evaluate(async (url) => {
      const { RTCPeerConnection, configure } = window.refrtc;
      configure({ relay: { url, token: 'browser-test' } });
      const a = new RTCPeerConnection(), b = new RTCPeerConnection();
      a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
      b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
      const dc = a.createDataChannel('p');
      const got = new Promise((resolve) => { b.ondatachannel = (e) => { e.channel.onmessage = (m) => resolve(m.data); }; });
      dc.onopen = () => dc.send('page to page');
      await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
      await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
      const data = await got;
      a.close(); b.close();
      return data;
    }, `ws://${info.listen}/v1`);
    assert.equal(inPage, 'page to page');

    // page (relay) ↔ Node (dgram): signaling through page.evaluate
    await page.evaluate(() => {
      window.pc = new window.refrtc.RTCPeerConnection();
      window.got = new Promise((resolve) => {
        window.pc.ondatachannel = (e) => { e.channel.onmessage = (m) => { e.channel.send('echo ' + m.data); resolve(m.data); }; };
      });
    });
    const dc = node.createDataChannel('n');
    await node.setLocalDescription();
    while (node.iceGatheringState !== 'complete') await once(node, 'icegatheringstatechange');
    const answer = await page.evaluate(async (offer) => {
      await window.pc.setRemoteDescription(offer);
      await window.pc.setLocalDescription();
      await new Promise((r) => { if (window.pc.iceGatheringState === 'complete') r(); else window.pc.onicegatheringstatechange = () => window.pc.iceGatheringState === 'complete' && r(); });
      return window.pc.localDescription.toJSON();
    }, node.localDescription.toJSON());
    await node.setRemoteDescription(answer);
    if (dc.readyState !== 'open') await once(dc, 'open', 20000);
    const echo = once(dc, 'message');
    dc.send('node to page');
    assert.equal(await page.evaluate(() => window.got), 'node to page');
    assert.equal((await echo).data, 'echo node to page');
    await page.evaluate(() => window.pc.close());
  } finally {
    node.close();
    await browser.close();
    server.close();
    relay.kill();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
});
