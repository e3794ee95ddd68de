#!/usr/bin/env node
// DRIVER_PROTOCOL v1 driver for headless Debian Chromium (the browser's own RTCPeerConnection):
// data channels and media (synthetic WebAudio/canvas sources, analysing sinks: page.js). See
// docs/DRIVER_PROTOCOL.md and the Chromium section of peer-quirks.
//
// Node half (this file): JSON-lines plumbing (../common/jsonlines.mjs), launching and always killing
// the browser. Page half (page.js, loaded from file:// so the page is a secure context): the real
// RTCPeerConnection, channel bookkeeping, mute/notifyAfter counting and sendMany flow control — so a
// sendMany or a muted receiver costs one DevTools call, not one per message. Commands go in with one
// page.evaluate each; events come out through page.exposeFunction, in order, batched per page task.
//
// Environment:
//   REFRTC_CHROMIUM_PATH    browser binary (default /usr/bin/chromium)
//   REFRTC_CHROMIUM_MDNS    1: Chromium's default, host candidates hidden behind mDNS `.local` names;
//                           0: --disable-features=WebRtcHideLocalIpsWithMdns, real host addresses.
//                           Default 0 for now because refrtc cannot resolve `.local` candidates yet.
//                           TODO: flip the default to 1 once the stack resolves mDNS candidates —
//                           users' browsers do not have that flag, so 1 is the configuration that matters.
//   REFRTC_CHROMIUM_HIGH_WATER / REFRTC_CHROMIUM_LOW_THRESHOLD   sendMany flow control (bytes)
import { createRequire } from 'node:module';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startDriver, emit, log, DriverError } from '../common/jsonlines.mjs';

const require = createRequire(import.meta.url);
const puppeteer = require('puppeteer-core');

const here = dirname(fileURLToPath(import.meta.url));
const executablePath = process.env.REFRTC_CHROMIUM_PATH || '/usr/bin/chromium';
const mdns = (process.env.REFRTC_CHROMIUM_MDNS ?? '0') === '1';
// sendMany flow control. Chromium drops 20–40 % of its outgoing SCTP packets on this 2-core box when
// a lot is in flight (peer-quirks); with 4 MiB queued, 1 KiB runs sometimes collapse to ≈ 1 MB/s.
// A 1 MiB high-water mark / 256 KiB low threshold keeps the SCTP send queue short while still
// covering the bandwidth-delay product of a loopback-class path.
const HIGH_WATER = Number(process.env.REFRTC_CHROMIUM_HIGH_WATER) || 1024 * 1024;
const LOW_THRESHOLD = Number(process.env.REFRTC_CHROMIUM_LOW_THRESHOLD) || 256 * 1024;

// Profiles are named after the driver's pid. A driver killed with SIGKILL (the harness does that to
// the whole process group on a timeout; the browser goes with it) cannot remove its profile, so the
// next driver removes profiles whose driver is gone.
const PROFILE_PREFIX = 'refrtc-chromium-';
function sweepStaleProfiles() {
  let names = [];
  try { names = readdirSync(tmpdir()); } catch (e) { return; }
  for (const n of names) {
    const m = n.startsWith(PROFILE_PREFIX) ? /^(\d+)-/.exec(n.slice(PROFILE_PREFIX.length)) : null;
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = true;
    try { process.kill(pid, 0); } catch (e) { alive = e.code === 'EPERM'; }
    if (!alive) { try { rmSync(join(tmpdir(), n), { recursive: true, force: true }); } catch (e) { /* racing sweeper */ } }
  }
}
sweepStaleProfiles();
const userDataDir = mkdtempSync(join(tmpdir(), `${PROFILE_PREFIX}${process.pid}-`));
let browser = null;
let hasMedia = false;  // the page has AudioContext and canvas captureStream (configure)
let hasMediaControl = false;  // …and the W3C transceiver/sender methods of feature mediaControl
let hasDtmf = false;  // …and RTCDTMFSender (feature dtmf: insertDTMF, getDTMF, tonechange)
let hasDtmfReceive = false;  // …and the tone detector on received audio (feature dtmfReceive, page.js)
let browserProc = null;
let exiting = false;

// Last-resort cleanup, synchronous so it also works from 'exit' and signal handlers: the browser
// must never outlive the driver.
function killBrowserSync() {
  if (browserProc && browserProc.exitCode === null && browserProc.signalCode === null) {
    try { process.kill(browserProc.pid, 'SIGKILL'); } catch (e) { /* already gone */ }
  }
  try { rmSync(userDataDir, { recursive: true, force: true }); } catch (e) { /* best effort */ }
}
process.on('exit', killBrowserSync);
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => {
    exiting = true;
    log(`${sig}: killing chromium and exiting`);
    killBrowserSync();
    process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 })[sig]);
  });
}

async function launch() {
  const args = [
    '--no-sandbox', '--headless=new', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    `--user-data-dir=${userDataDir}`,
    // Timers in the page drive the sendMany fallback; never let the browser throttle them.
    '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
    '--mute-audio', '--no-default-browser-check', '--password-store=basic', '--use-mock-keychain',
    // Media: the page's AudioContext and the sinks' <audio>/<video> elements start without a user
    // gesture. (No getUserMedia, so no fake-device flags.)
    '--autoplay-policy=no-user-gesture-required',
  ];
  if (!mdns) args.push('--disable-features=WebRtcHideLocalIpsWithMdns');
  args.push('about:blank');
  browser = await puppeteer.launch({
    executablePath,
    ignoreDefaultArgs: true,    // exactly the flags above (puppeteer still adds --remote-debugging-pipe)
    args,
    pipe: true,                 // the browser exits when the pipe closes, i.e. when this process dies
    detached: false,            // stay in the driver's process group: the harness kills the group
    handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false, // handled above
    protocolTimeout: 10 * 60 * 1000, // a sendMany may await for a long time inside page.evaluate
    dumpio: false,
  });
  browserProc = browser.process();
  browser.on('disconnected', () => {
    if (exiting) return;
    log('chromium disconnected unexpectedly; exiting');
    emit({ event: 'log', pc: null, level: 'error', message: 'chromium disconnected unexpectedly' });
    process.exit(1);
  });
  const page = (await browser.pages())[0] || await browser.newPage();
  page.on('pageerror', (e) => log('page error:', e && e.message));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warn') log(`page console.${m.type()}:`, m.text()); });
  page.on('error', (e) => log('page crashed:', e && e.message));
  await page.exposeFunction('__refrtcOut', (json) => {
    // A JSON array of protocol events, in the order the page's RTCPeerConnection fired them.
    for (const ev of JSON.parse(json)) emit(ev);
  });
  await page.goto(pathToFileURL(join(here, 'page.html')).href, { waitUntil: 'load' });
  const version = await browser.version();
  hasMedia = false;
  const info = await page.evaluate((c) => window.refrtc.run(c), { op: 'configure', highWater: HIGH_WATER, lowThreshold: LOW_THRESHOLD });
  if (!info.ok || !info.result.secure || !info.result.hasPc) {
    throw new Error(`page not usable: ${JSON.stringify(info)}`);
  }
  hasMedia = !!info.result.hasMedia;
  hasMediaControl = hasMedia && !!info.result.hasMediaControl;
  hasDtmf = hasMedia && !!info.result.hasDtmf;
  hasDtmfReceive = hasMedia && !!info.result.hasDtmfReceive;
  log(`${version} up (pid ${browserProc && browserProc.pid}), mDNS host candidates ${mdns ? 'on' : 'off'}, sendMany ${HIGH_WATER}/${LOW_THRESHOLD}`);
  return { page, version };
}

const ready = launch();
ready.catch((e) => {
  log('cannot start chromium:', e && e.stack);
  // Replies to commands carry the error; the harness fails the cell with our stderr.
});

// Runs one protocol command in the page; the page replies {ok, result} or {ok: false, error}.
async function inPage(cmd) {
  const { page } = await ready;
  const r = await page.evaluate((c) => window.refrtc.run(c), cmd);
  if (r.ok) return r.result;
  const e = new DriverError(r.error.name, r.error.message);
  if (r.error.errorDetail) e.errorDetail = r.error.errorDetail;
  throw e;
}

const PAGE_OPS = [
  'createPeerConnection', 'createOffer', 'createAnswer', 'setLocalDescription', 'setRemoteDescription',
  'addIceCandidate', 'restartIce', 'getState', 'createDataChannel', 'send', 'sendMany', 'getChannel',
  'setChannel', 'closeChannel', 'getStats', 'close', 'generateCertificate',
  'addTransceiver', 'addTrack', 'getTransceivers', 'getTrackInfo',
  'setDirection', 'stopTransceiver', 'replaceTrack', 'removeTrack', 'setCodecPreferences',
  'insertDTMF', 'getDTMF',
];

const ops = {
  hello: async () => {
    const { version } = await ready;
    return {
      name: 'chromium',
      version: version.replace(/^[A-Za-z]+\//, ''),
      protocol: 1,
      features: ['stats', 'restartIce', 'rollback', 'certificates', ...(hasMedia ? ['media'] : []), ...(hasMediaControl ? ['mediaControl'] : []),
        ...(hasDtmf ? ['dtmf'] : []), ...(hasDtmfReceive ? ['dtmfReceive'] : [])],
    };
  },
};
for (const op of PAGE_OPS) {
  // The page gets only what it needs: op and arguments (the id stays here).
  ops[op] = (cmd) => { const { id, ...rest } = cmd; return inPage(rest); };
}

const withTimeout = (p, ms) => Promise.race([p, new Promise((r) => setTimeout(r, ms).unref())]);

startDriver({
  ops,
  // shutdown and stdin EOF: close the peer connections, then the browser; kill it if it lingers.
  onShutdown: async () => {
    exiting = true;
    try {
      const { page } = await withTimeout(ready, 1000) || {};
      if (page) await withTimeout(page.evaluate(() => window.refrtc.run({ op: 'closeAll' })), 1000);
    } catch (e) { log('closing peer connections failed:', e && e.message); }
    if (browser) {
      try { await withTimeout(browser.close(), 2000); } catch (e) { log('browser.close failed:', e && e.message); }
    }
    killBrowserSync();
  },
});
log(`chromium driver starting (pid ${process.pid}, ${executablePath})`);
