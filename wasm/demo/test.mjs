#!/usr/bin/env node
// Automated test of the refrtc WebAssembly chat demo (ctest wasm_demo_page):
//   serve.mjs (relay + native refrtc peer + HTTP) → headless Chromium opens the page → the page's
//   refrtc engine (WASM) connects to the native peer through the relay → three messages typed in the
//   page's input box, including non-ASCII text, come back as `native refrtc echo: <text>`, exactly and
//   in order.
// Also checks that the page really used refrtc, not Chromium's WebRTC:
//   - the browser's RTCPeerConnection (and its prefixed/alias forms) are replaced by throwing stubs
//     before any page script runs, so using them would fail the page;
//   - window.__refrtcEngine === 'refrtc-wasm' and the engine line names refrtc <version> (WebAssembly);
//   - the page opened a WebSocket to the relay's /v1, and every candidate of its offer is one of the
//     UDP sockets the relay announced on that WebSocket ("ready" message, seen through DevTools);
//   - the offer has the refrtc engine's SDP shape (o=- <id> 0 IN IP4 127.0.0.1: refrtc numbers
//     session versions from 0, Chromium from 2; ice-ufrag of 8 characters, Chromium uses 4;
//     a=end-of-candidates, which Chromium never writes);
//   - the offer the server received is the page's.
// Exit codes: 0 pass, 1 fail, 77 skip (only when wasm/dist/refrtc_core.cjs has not been built).
// Environment: REFRTC_BIN_DIR (refrtc_relay, refrtc_driver_native; default build/bin),
// REFRTC_CHROMIUM_PATH (default /usr/bin/chromium), REFRTC_DEMO_VERBOSE=1 (relay/driver logs).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..');
const coreFile = path.join(repoRoot, 'wasm', 'dist', 'refrtc_core.cjs');
const HARD_TIMEOUT_MS = 60000;
const MESSAGES = ['hello refrtc', 'héllo ✓ 世界', 'third message: 🙂 <b>not html</b> & "quotes"'];

if (!fs.existsSync(coreFile)) {
  console.log(`SKIP: ${path.relative(repoRoot, coreFile)} not built (./refrtc build --wasm)`);
  process.exit(77);
}

const t0 = Date.now();
const note = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

let demo = null;
let browser = null;
let browserProc = null;
let userDataDir = null;
let finished = false;

function killBrowserSync() {
  if (browserProc && browserProc.exitCode === null && browserProc.signalCode === null) {
    try { process.kill(browserProc.pid, 'SIGKILL'); } catch (e) { /* gone */ }
  }
  if (userDataDir) { try { fs.rmSync(userDataDir, { recursive: true, force: true }); } catch (e) { /* best effort */ } }
}
process.on('exit', killBrowserSync);   // serve.mjs's own 'exit' hook kills the relay and the driver

async function cleanup() {
  if (browser) { await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 3000))]); }
  killBrowserSync();
  if (demo) await Promise.race([demo.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
}

async function finish(code, message) {
  if (finished) return;
  finished = true;
  clearTimeout(hardTimer);
  if (code === 0) note(`PASS: ${message}`);
  else console.error(`FAIL: ${message}`);
  await cleanup();
  process.exit(code);
}

const hardTimer = setTimeout(() => {
  console.error(`FAIL: hard timeout: not done after ${HARD_TIMEOUT_MS / 1000} s`);
  Promise.race([dumpPage(), new Promise((r) => setTimeout(r, 3000))]).finally(() => finish(1, 'hard timeout'));
}, HARD_TIMEOUT_MS);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => finish(1, `killed by ${sig}`));

let page = null;
const pageErrors = [];
const clip = (s) => (s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s);
async function dumpPage() {
  if (!page) return;
  try {
    const s = await page.evaluate(() => ({
      status: document.getElementById('status').textContent,
      engine: document.getElementById('engine').textContent,
      log: [...document.querySelectorAll('#log li')].map((li) => `${li.className}: ${li.textContent}`),
      error: window.__refrtcChat && window.__refrtcChat.error,
    }));
    console.error('page state:', JSON.stringify(s, null, 1));
  } catch (e) { console.error(`(page state unavailable: ${e.message})`); }
  if (pageErrors.length) console.error('page console errors:\n  ' + pageErrors.join('\n  '));
}

function check(cond, message) {
  if (!cond) throw new Error(message);
}

async function main() {
  const require = createRequire(path.join(repoRoot, 'package.json'));
  let puppeteer;
  try { puppeteer = require('puppeteer-core'); } catch (e) {
    throw new Error(`puppeteer-core not found in ${repoRoot}/node_modules (npm ci at the repo root): ${e.message}`);
  }
  const executablePath = process.env.REFRTC_CHROMIUM_PATH || '/usr/bin/chromium';
  check(fs.existsSync(executablePath), `${executablePath} not found (set REFRTC_CHROMIUM_PATH)`);

  const { startDemo } = await import('./serve.mjs');
  demo = await startDemo({
    port: 0,
    binDir: process.env.REFRTC_BIN_DIR || path.join(repoRoot, 'build', 'bin'),
    verbose: process.env.REFRTC_DEMO_VERBOSE === '1',
    log: (...a) => note('[serve]', ...a),
  });
  note(`demo at ${demo.url}, relay ${demo.relay.url}`);

  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'refrtc-demo-chromium-'));
  browser = await puppeteer.launch({
    executablePath,
    ignoreDefaultArgs: true,
    args: [
      '--no-sandbox', '--headless=new', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      `--user-data-dir=${userDataDir}`,
      '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows', '--mute-audio', '--no-default-browser-check',
      '--password-store=basic', '--use-mock-keychain', 'about:blank',
    ],
    pipe: true,
    detached: false,
    handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
    protocolTimeout: 30000,
  });
  browserProc = browser.process();
  note(`${await browser.version()} up`);
  page = (await browser.pages())[0] || await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(clip(`pageerror: ${e && e.message}`)));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') pageErrors.push(clip(`console.${m.type()}: ${m.text()}`)); });

  // Chromium's own WebRTC must not be used: replace it before any page script runs.
  await page.evaluateOnNewDocument(() => {
    window.__browserWebRtcUsed = [];
    for (const name of ['RTCPeerConnection', 'webkitRTCPeerConnection', 'RTCDataChannel', 'RTCSessionDescription', 'RTCIceCandidate']) {
      const stub = function () {
        window.__browserWebRtcUsed.push(name);
        throw new Error(`the demo page must not use the browser's ${name}`);
      };
      Object.defineProperty(window, name, { value: stub, writable: false, configurable: false });
    }
  });

  // Watch the page's WebSockets through DevTools: the relay's "ready" message names its UDP sockets.
  const cdp = await page.target().createCDPSession();
  await cdp.send('Network.enable');
  const webSockets = new Map();   // requestId → { url, ready }
  cdp.on('Network.webSocketCreated', (e) => webSockets.set(e.requestId, { url: e.url, ready: null }));
  cdp.on('Network.webSocketFrameReceived', (e) => {
    const ws = webSockets.get(e.requestId);
    if (!ws || e.response.opcode !== 1) return;
    try {
      const msg = JSON.parse(e.response.payloadData);
      if (msg.type === 'ready') ws.ready = msg;
    } catch (err) { /* not JSON */ }
  });

  await page.goto(demo.url, { waitUntil: 'load' });
  note('page loaded; waiting for the data channel');
  await page.waitForFunction(() => {
    const s = document.getElementById('status').dataset.state;
    return s === 'open' || s === 'failed' || s === 'closed';
  }, { timeout: 30000, polling: 100 });
  const state = await page.$eval('#status', (el) => ({ state: el.dataset.state, text: el.textContent }));
  check(state.state === 'open', `the data channel did not open: ${state.text}`);
  note('data channel "chat" open');

  // The engine really is refrtc.
  const engine = await page.evaluate(() => ({
    flag: window.__refrtcEngine,
    text: document.getElementById('engine').textContent,
    browserUsed: window.__browserWebRtcUsed,
    offer: window.__refrtcChat.offer,
    label: window.__refrtcChat.channel && window.__refrtcChat.channel.label,
  }));
  const version = JSON.parse(fs.readFileSync(path.join(repoRoot, 'wasm', 'package.json'), 'utf8')).version;
  check(engine.flag === 'refrtc-wasm', `window.__refrtcEngine is ${JSON.stringify(engine.flag)}, expected "refrtc-wasm"`);
  check(engine.text === `engine: refrtc ${version} (WebAssembly)`, `engine line is ${JSON.stringify(engine.text)}`);
  check(engine.browserUsed.length === 0, `the page called the browser's ${engine.browserUsed.join(', ')}`);
  check(engine.label === 'chat', `channel label ${JSON.stringify(engine.label)}`);
  const offer = engine.offer || '';
  check(demo.offers.length === 1 && demo.offers[0] === offer, `the server received ${demo.offers.length} offer(s), not exactly the page's`);
  check(/^o=- \d+ 0 IN IP4 127\.0\.0\.1\r?$/m.test(offer), `offer o= line is not refrtc's: ${(/^o=.*$/m.exec(offer) || ['none'])[0]}`);
  check(/^a=ice-ufrag:[^\r\n]{8}\r?$/m.test(offer), `offer ice-ufrag is not refrtc's 8 characters: ${(/^a=ice-ufrag:.*$/m.exec(offer) || ['none'])[0]}`);
  check(/^a=end-of-candidates\r?$/m.test(offer), 'offer has no a=end-of-candidates (refrtc writes it once gathering is complete)');
  check(/^m=application 9 UDP\/DTLS\/SCTP webrtc-datachannel\r?$/m.test(offer), 'offer has no data-channel m= section');

  const sockets = [...webSockets.values()];
  const relayUrl = new URL(demo.relay.url);
  const toRelay = sockets.filter((w) => { const u = new URL(w.url); return u.host === relayUrl.host && u.pathname === '/v1'; });
  check(toRelay.length === 1, `expected one WebSocket to the relay ${demo.relay.url}, saw: ${sockets.map((w) => w.url.replace(/token=[^&]*/, 'token=…')).join(', ') || 'none'}`);
  const ready = toRelay[0].ready;
  check(ready && ready.version === 1 && Array.isArray(ready.sockets) && ready.sockets.length > 0, 'no "ready" message from the relay on the page\'s WebSocket');
  const relayAddrs = new Set(ready.sockets.map((s) => `${s.ip} ${s.port}`));
  const cands = offer.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')).map((l) => l.split(' '));
  check(cands.length > 0, 'offer has no candidates');
  for (const c of cands) {
    check(c[2].toLowerCase() === 'udp' && c[7] === 'host' && relayAddrs.has(`${c[4]} ${c[5]}`),
      `offer candidate ${c.join(' ')} is not one of the relay's UDP sockets (${[...relayAddrs].join(', ')})`);
  }
  note(`engine checks passed: refrtc ${version} (WebAssembly), offer candidates = relay sockets ${[...relayAddrs].join(', ')}`);

  // Chat through the UI: type each message and press Enter (without waiting for the echoes).
  for (const m of MESSAGES) {
    await page.click('#message');
    await page.type('#message', m);
    const typed = await page.$eval('#message', (el) => el.value);
    check(typed === m, `typing produced ${JSON.stringify(typed)}, expected ${JSON.stringify(m)}`);
    await page.keyboard.press('Enter');
  }
  const expected = MESSAGES.map((m) => `native refrtc echo: ${m}`);
  await page.waitForFunction((n) => document.querySelectorAll('#log li.in').length >= n,
    { timeout: 15000, polling: 100 }, expected.length).catch(() => {});
  const got = await page.$$eval('#log li', (lis) => lis.map((li) => ({
    kind: li.className, text: li.querySelector('.text').textContent })));
  const sent = got.filter((l) => l.kind === 'out').map((l) => l.text);
  const echoes = got.filter((l) => l.kind === 'in').map((l) => l.text);
  check(JSON.stringify(sent) === JSON.stringify(MESSAGES), `page log shows sent ${JSON.stringify(sent)}, expected ${JSON.stringify(MESSAGES)}`);
  check(JSON.stringify(echoes) === JSON.stringify(expected), `page log shows echoes ${JSON.stringify(echoes)}, expected ${JSON.stringify(expected)}`);
  check(await page.$eval('#message', (el) => el.value === '' && !el.disabled), 'input box not cleared/enabled after sending');
  check(pageErrors.length === 0, `page reported errors:\n  ${pageErrors.join('\n  ')}`);
  for (const e of echoes) note(`page shows: ${e}`);
  return `3 messages echoed exactly and in order by the native peer, through refrtc ${version} (WebAssembly) in Chromium and the relay`;
}

main().then((msg) => finish(0, msg), async (e) => {
  await dumpPage();
  finish(1, e && e.message);
});
