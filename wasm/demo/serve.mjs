#!/usr/bin/env node
// refrtc WebAssembly chat demo: the serving script (Node built-ins only).
//
//   node wasm/demo/serve.mjs [--port N] [--host 127.0.0.1] [--bin-dir DIR]
//
// It starts
//   - refrtc_relay (wasm/relay/PROTOCOL.md) on 127.0.0.1, port 0, with a fresh random 128-bit token:
//     the page cannot open UDP sockets, so the refrtc engine running in it sends its datagrams
//     through this WebSocket ↔ UDP relay;
//   - refrtc_driver_native (docs/DRIVER_PROTOCOL.md, JSON lines on stdin/stdout) as the native
//     chat peer: every string received on a data channel is answered with
//     `native refrtc echo: <text>`;
//   - an HTTP server (loopback only) for the page, the package's browser entry and the signaling:
//       GET  /                      index.html          GET /chat.mjs   the page script
//       GET  /refrtc.browser.mjs    the package's browser entry (lib/*.js + dist/refrtc_core.cjs in
//                                   one ES module), generated at start-up by wasm/lib/build_browser.js
//                                   into a temporary directory, so it always matches lib/ and dist/
//       GET  /config                {relay: {url, token}, engine: {name, version}, native: hello}
//       POST /offer                 RTCSessionDescriptionInit offer (non-trickle: all candidates in
//                                   it) → the native peer's answer, also with all its candidates
//
// Import it to embed it (the test does): `const demo = await startDemo({ port: 0 })` →
// { url, relay, offers, close() }.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import readline from 'node:readline';
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const wasmDir = path.resolve(here, '..');
export const repoRoot = path.resolve(wasmDir, '..');
export const coreFile = path.join(wasmDir, 'dist', 'refrtc_core.cjs');

const MAX_BODY = 256 * 1024;
const MAX_SESSIONS = 8;          // native peer connections kept; the oldest is closed beyond that
const NEGOTIATION_TIMEOUT_MS = 15000;

function defaultBinDir() {
  return process.env.REFRTC_BIN_DIR || path.join(repoRoot, 'build', 'bin');
}

// Reads the child's first stdout line (the relay prints one JSON line once listening).
function firstLine(child, what, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => { cleanup(); reject(new Error(`${what}: no start line after ${timeoutMs} ms`)); }, timeoutMs);
    const onExit = (code, sig) => { cleanup(); reject(new Error(`${what} exited (${sig || code}) before printing its start line`)); };
    const onError = (e) => { cleanup(); reject(new Error(`${what}: ${e.message}`)); };
    function cleanup() { clearTimeout(timer); rl.close(); child.off('exit', onExit); child.off('error', onError); }
    rl.once('line', (line) => { cleanup(); resolve(line); });
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

// A DRIVER_PROTOCOL v1 client over a child's stdin/stdout.
class DriverClient {
  constructor(child, log) {
    this.child = child;
    this.log = log;
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = new Set();
    this.exited = false;
    const rl = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
    rl.on('line', (line) => this._onLine(line));
    child.once('exit', (code, sig) => {
      this.exited = true;
      for (const { reject } of this.pending.values()) reject(new Error(`native driver exited (${sig || code})`));
      this.pending.clear();
    });
  }

  _onLine(line) {
    let msg;
    try { msg = JSON.parse(line); } catch (e) { this.log(`native driver: unparsable line: ${line}`); return; }
    if (msg.event) {
      for (const l of [...this.listeners]) {
        try { l(msg); } catch (e) { this.log(`event listener failed: ${e.stack}`); }
      }
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else {
      const e = new Error(`${p.op}: ${msg.error && msg.error.name}: ${msg.error && msg.error.message}`);
      e.name = (msg.error && msg.error.name) || 'Error';
      p.reject(e);
    }
  }

  call(op, args = {}) {
    if (this.exited) return Promise.reject(new Error('native driver is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, op });
      this.child.stdin.write(JSON.stringify({ id, op, ...args }) + '\n');
    });
  }

  // Resolves with the first event for which pred(event) is true.
  waitFor(pred, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const l = (ev) => { if (pred(ev)) { done(); resolve(ev); } };
      const timer = setTimeout(() => { done(); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)); }, timeoutMs);
      const done = () => { clearTimeout(timer); this.listeners.delete(l); };
      this.listeners.add(l);
    });
  }
}

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

export async function startDemo(opts = {}) {
  const log = opts.log || ((...a) => console.error('[demo]', ...a));
  const binDir = path.resolve(opts.binDir || defaultBinDir());
  const relayBin = path.join(binDir, 'refrtc_relay');
  const driverBin = path.join(binDir, 'refrtc_driver_native');
  const host = opts.host || '127.0.0.1';
  for (const [f, hint] of [[coreFile, 'build it: ./refrtc build --wasm'],
    [relayBin, 'build it: cmake --build build --target refrtc_relay'],
    [driverBin, 'build it: cmake --build build --target refrtc_driver_native']]) {
    if (!fs.existsSync(f)) throw new Error(`${f} not found (${hint})`);
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(wasmDir, 'package.json'), 'utf8'));

  const children = [];
  let tmpDir = null;
  let server = null;
  let closed = false;
  const sockets = new Set();

  function killChildrenSync() {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) { try { c.kill('SIGKILL'); } catch (e) { /* gone */ } }
    }
    if (tmpDir) { try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch (e) { /* best effort */ } }
  }
  process.on('exit', killChildrenSync);

  async function close() {
    if (closed) return;
    closed = true;
    process.off('exit', killChildrenSync);
    if (server) {
      server.close();
      for (const s of sockets) s.destroy();
    }
    // The driver exits 0 on shutdown (or on stdin EOF); the relay on SIGTERM.
    const waits = children.map((c) => (c.exitCode !== null || c.signalCode !== null) ? Promise.resolve()
      : new Promise((r) => c.once('exit', r)));
    if (driver && !driver.exited) {
      driver.call('shutdown').catch(() => {});
      driver.child.stdin.end();
    }
    if (relayChild.exitCode === null) relayChild.kill('SIGTERM');
    const t = setTimeout(killChildrenSync, 3000);
    await Promise.all(waits);
    clearTimeout(t);
    killChildrenSync();
  }

  let relayChild = null;
  let driver = null;
  try {
    // The browser entry: one self-contained ES module, built from the package's own files.
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'refrtc-demo-'));
    const entryFile = path.join(tmpDir, 'refrtc.browser.mjs');
    execFileSync(process.execPath, [path.join(wasmDir, 'lib', 'build_browser.js'), entryFile],
      { cwd: wasmDir, stdio: ['ignore', 'ignore', 'inherit'] });

    // The relay: loopback only, random token passed in the environment (not visible in `ps`).
    const token = crypto.randomBytes(16).toString('hex');
    relayChild = spawn(relayBin, ['--listen', '127.0.0.1:0', '--udp-bind', '127.0.0.1', '--max-clients', '8'], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REFRTC_RELAY_TOKEN: token },
    });
    children.push(relayChild);
    relayChild.stderr.on('data', (d) => { if (opts.verbose) process.stderr.write(`[relay] ${d}`); });
    const relayInfo = JSON.parse(await firstLine(relayChild, 'refrtc_relay'));
    if (relayInfo.token !== token) throw new Error('refrtc_relay did not take the token from $REFRTC_RELAY_TOKEN');
    const relay = { url: `ws://${relayInfo.listen}/v1`, token };
    relayChild.once('exit', (code, sig) => { if (!closed) log(`refrtc_relay exited unexpectedly (${sig || code})`); });

    // The native peer.
    const driverChild = spawn(driverBin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(driverChild);
    driverChild.stderr.on('data', (d) => { if (opts.verbose) process.stderr.write(`[native] ${d}`); });
    driverChild.once('exit', (code, sig) => { if (!closed) log(`refrtc_driver_native exited unexpectedly (${sig || code})`); });
    driver = new DriverClient(driverChild, log);
    const hello = await Promise.race([driver.call('hello'),
      new Promise((_, rej) => setTimeout(() => rej(new Error('refrtc_driver_native: no reply to hello')), 10000))]);

    // The chat bot: answer every string message on every channel the page opens.
    const channels = new Map();   // channel handle → { pc, label }
    const sessions = [];          // pc handles, oldest first
    const offers = [];            // offers received (the test inspects them)
    driver.listeners.add((ev) => {
      if (ev.event === 'datachannel') {
        channels.set(ev.channel, { pc: ev.pc, label: ev.label });
        log(`native peer ${ev.pc}: data channel "${ev.label}" from the page`);
      } else if (ev.event === 'message' && channels.has(ev.channel)) {
        const text = typeof ev.data === 'string' ? ev.data
          : `(binary, ${ev.data && ev.data.binary ? Buffer.from(ev.data.binary, 'base64').length : ev.size} bytes)`;
        driver.call('send', { channel: ev.channel, data: `native refrtc echo: ${text}` })
          .catch((e) => log(`echo on ${ev.channel} failed: ${e.message}`));
      } else if (ev.event === 'connectionstatechange') {
        log(`native peer ${ev.pc}: connection ${ev.state}`);
      }
    });

    let sessionCount = 0;
    async function answerOffer(offer) {
      const pc = `chat${++sessionCount}`;
      sessions.push(pc);
      while (sessions.length > MAX_SESSIONS) {
        const old = sessions.shift();
        driver.call('close', { pc: old }).catch(() => {});
        for (const [ch, info] of channels) if (info.pc === old) channels.delete(ch);
      }
      await driver.call('createPeerConnection', { pc, config: {} });
      await driver.call('setRemoteDescription', { pc, description: { type: 'offer', sdp: offer.sdp } });
      // Non-trickle: the answer goes back once gathering is complete (W3C icegatheringstatechange).
      const gathered = driver.waitFor((ev) => ev.pc === pc && ev.event === 'icegatheringstatechange' &&
        ev.state === 'complete', NEGOTIATION_TIMEOUT_MS, `ICE gathering of native peer ${pc}`);
      gathered.catch(() => {});
      await driver.call('setLocalDescription', { pc });
      let state = await driver.call('getState', { pc });
      if (state.iceGatheringState !== 'complete') {
        await gathered;
        state = await driver.call('getState', { pc });
      }
      if (!state.localDescription || state.localDescription.type !== 'answer') {
        throw new Error(`native peer ${pc} has no local answer: ${JSON.stringify(state.localDescription)}`);
      }
      return { pc, answer: { type: state.localDescription.type, sdp: state.localDescription.sdp } };
    }

    function send(res, status, body, type = 'application/json; charset=utf-8') {
      const data = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      res.writeHead(status, {
        'Content-Type': type,
        'Content-Length': data.length,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        // The page may load scripts from and talk to only this server and the relay. 'unsafe-eval':
        // the core's embind glue builds its bindings with `new Function` (and compiles the WASM);
        // connect-src data: the SINGLE_FILE core fetches its own inlined data: URI.
        'Content-Security-Policy': `default-src 'self'; script-src 'self' 'unsafe-eval'; ` +
          `connect-src 'self' data: ${relay.url.replace(/\/v1$/, '')}; style-src 'self'; img-src 'self' data:; ` +
          `base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      });
      res.end(data);
    }

    const STATIC = new Map([
      ['/', path.join(here, 'index.html')],
      ['/index.html', path.join(here, 'index.html')],
      ['/chat.mjs', path.join(here, 'chat.mjs')],
      ['/chat.css', path.join(here, 'chat.css')],
      ['/refrtc.browser.mjs', entryFile],
    ]);

    server = http.createServer((req, res) => {
      const url = new URL(req.url, 'http://localhost');
      // DNS-rebinding guard: /config hands out the relay token, so only answer requests that were
      // addressed to this loopback server by name.
      const addr = server.address();
      const okHosts = new Set([`127.0.0.1:${addr.port}`, `localhost:${addr.port}`, `[::1]:${addr.port}`, `${host}:${addr.port}`]);
      if (!okHosts.has(String(req.headers.host || '').toLowerCase())) {
        send(res, 421, { error: 'unexpected Host header' });
        return;
      }
      if (req.method === 'GET' && STATIC.has(url.pathname)) {
        const file = STATIC.get(url.pathname);
        fs.readFile(file, (err, data) => {
          if (err) send(res, 404, { error: 'not found' });
          else send(res, 200, data, CONTENT_TYPES[path.extname(file)] || 'application/octet-stream');
        });
      } else if (req.method === 'GET' && url.pathname === '/config') {
        send(res, 200, { relay, engine: { name: pkg.name, version: pkg.version }, native: hello });
      } else if (req.method === 'POST' && url.pathname === '/offer') {
        if (!String(req.headers['content-type'] || '').startsWith('application/json')) {
          send(res, 415, { error: 'expected application/json' });
          return;
        }
        const chunks = [];
        let size = 0;
        req.on('data', (c) => {
          size += c.length;
          if (size > MAX_BODY) { send(res, 413, { error: 'offer too large' }); req.destroy(); return; }
          chunks.push(c);
        });
        req.on('end', async () => {
          if (size > MAX_BODY) return;
          let offer;
          try { offer = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (e) { offer = null; }
          if (!offer || offer.type !== 'offer' || typeof offer.sdp !== 'string') {
            send(res, 400, { error: 'body must be {"type":"offer","sdp":"…"}' });
            return;
          }
          offers.push(offer.sdp);
          try {
            const { pc, answer } = await answerOffer(offer);
            log(`native peer ${pc}: answered the page's offer`);
            send(res, 200, answer);
          } catch (e) {
            log(`/offer failed: ${e.message}`);
            send(res, 500, { error: e.message });
          }
        });
      } else {
        send(res, 404, { error: 'not found' });
      }
    });
    server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 8090, host, () => { server.off('error', reject); resolve(); });
    });
    const port = server.address().port;
    const hostForUrl = host.includes(':') ? `[${host}]` : host;
    return { url: `http://${hostForUrl}:${port}/`, relay, offers, native: hello, close };
  } catch (e) {
    await close().catch(() => {});
    killChildrenSync();
    throw e;
  }
}

function parseArgs(argv) {
  const o = { port: 8090 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    if (a === '--port') o.port = Number(val());
    else if (a === '--host') o.host = val();
    else if (a === '--bin-dir') o.binDir = val();
    else if (a === '-v' || a === '--verbose') o.verbose = true;
    else if (a === '-h' || a === '--help') o.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new Error('--port must be 0..65535');
  return o;
}

async function main() {
  let o;
  try { o = parseArgs(process.argv.slice(2)); } catch (e) {
    console.error(`serve.mjs: ${e.message}`);
    process.exit(2);
  }
  if (o.help) {
    console.log('usage: node wasm/demo/serve.mjs [--port N (default 8090, 0 = any)] [--host 127.0.0.1] ' +
      '[--bin-dir DIR (default $REFRTC_BIN_DIR or build/bin)] [-v]');
    return;
  }
  let demo;
  try { demo = await startDemo(o); } catch (e) {
    console.error(`serve.mjs: ${e.message}`);
    process.exit(1);
  }
  console.log(`refrtc chat demo: open ${demo.url}`);
  console.log(`  relay ${demo.relay.url} (token handed to the page by /config), native peer ${demo.native.name} ${demo.native.version}`);
  console.log('  Ctrl-C to stop');
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      console.error(`serve.mjs: ${sig}, stopping the relay and the native peer`);
      demo.close().finally(() => process.exit(0));
    });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
