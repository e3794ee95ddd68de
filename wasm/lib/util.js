'use strict';
// Small environment helpers shared by the W3C classes and the hosts. Works in Node >= 18 and in
// browsers (no Node built-ins here).

// "Queue a task" (HTML §8.1.7.3): setImmediate in Node, a MessageChannel task in browsers
// (setTimeout(0) would be clamped to 4 ms after nesting).
const queueTask = (() => {
  if (typeof setImmediate === 'function') return (fn) => { setImmediate(fn); };
  if (typeof MessageChannel === 'function') {
    const q = [];
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { const fn = q.shift(); if (fn) fn(); };
    return (fn) => { q.push(fn); ch.port2.postMessage(0); };
  }
  return (fn) => { setTimeout(fn, 0); };
})();

// The engine's clock: milliseconds on the monotonic clock (BINDING.md "Conventions").
function nowMs() { return performance.now(); }
// Wall clock for certificate validity.
function unixTimeS() { return Date.now() / 1000; }
// A 53-bit seed for the engine's RNG, from the platform CSPRNG.
function randomSeed() {
  const w = new Uint32Array(2);
  globalThis.crypto.getRandomValues(w);
  return (w[0] & 0x1fffff) * 0x100000000 + w[1];
}

// ---- IP address text <-> bytes (needed by the relay framing, PROTOCOL.md §2) ----
function ipv4ToBytes(s) {
  const p = s.split('.');
  if (p.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(p[i]) || +p[i] > 255) return null;
    out[i] = +p[i];
  }
  return out;
}

function ipv6ToBytes(s) {
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  let tail = null;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) >= 0) {  // embedded IPv4 (::ffff:1.2.3.4)
    tail = ipv4ToBytes(s.slice(lastColon + 1));
    if (!tail) return null;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (h) => (h === '' ? [] : h.split(':'));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const fill = 8 - head.length - rest.length;
  if ((halves.length === 1 && fill !== 0) || fill < 0) return null;
  const groups = [...head, ...new Array(halves.length === 2 ? fill : 0).fill('0'), ...rest];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[i])) return null;
    const v = parseInt(groups[i], 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

function bytesToIp(b) {
  if (b.length === 4) return Array.from(b).join('.');
  // RFC 5952 §4: lowercase, longest run (>= 2) of zero groups compressed, first one on ties.
  const g = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i] << 8) | b[2 * i + 1]);
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a) => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return hex(g.slice(0, best)) + '::' + hex(g.slice(best + bestLen));
}

function ipToBytes(s) { return s.includes(':') ? ipv6ToBytes(s) : ipv4ToBytes(s); }

// Two textual addresses name the same IP (e.g. "::1" vs "0:0::1").
function sameIp(a, b) {
  if (a === b) return true;
  const x = ipToBytes(a), y = ipToBytes(b);
  return !!x && !!y && x.length === y.length && x.every((v, i) => v === y[i]);
}

module.exports = { queueTask, nowMs, unixTimeS, randomSeed, ipToBytes, bytesToIp, sameIp };
