'use strict';
// Node host: one `dgram` socket per usable local interface address per RTCPeerConnection, plus
// `net` sockets for TURN-over-TCP transmits. Interface selection mirrors the native host
// (harness/drivers/native/main.cc, stack/io/interfaces.h):
//   REFRTC_INTERFACES unset or "all": every interface incl. loopback, IPv4 and IPv6, no link-local
//   (RFC 8445 §5.1.1.1: link-local addresses SHOULD NOT be used unless known to be useful);
//   "loopback": loopback only; "eth0,wlan0": those interface names. Extension: the token
//   "link-local" in the list (e.g. "all,link-local") also includes fe80::/10 and 169.254/16.
const dgram = require('dgram');
const net = require('net');
const os = require('os');
const { sameIp } = require('./util.js');

function isLinkLocal(address, family) {
  return family === 6 ? /^fe[89ab][0-9a-f]:/i.test(address) : address.startsWith('169.254.');
}

function usableAddresses(spec = process.env.REFRTC_INTERFACES, ifaces = os.networkInterfaces()) {
  let tokens = String(spec || 'all').split(',').map((t) => t.trim()).filter(Boolean);
  const linkLocal = tokens.includes('link-local');
  tokens = tokens.filter((t) => t !== 'link-local');
  const loopbackOnly = tokens.length === 1 && tokens[0] === 'loopback';
  const names = tokens.length === 0 || (tokens.length === 1 && (tokens[0] === 'all' || loopbackOnly))
    ? null : tokens;
  const out = [];
  for (const [name, addrs] of Object.entries(ifaces)) {
    if (names && !names.includes(name)) continue;
    for (const a of addrs || []) {
      const family = a.family === 'IPv4' || a.family === 4 ? 4 : 6;
      if (loopbackOnly && !a.internal) continue;
      const ll = isLinkLocal(a.address, family);
      if (ll && !linkLocal) continue;
      if (out.some((o) => sameIp(o.address, a.address))) continue;
      out.push({ address: a.address.split('%')[0], family, name, linkLocal: ll });
    }
  }
  // Stable order, as EnumerateInterfaces() sorts: IPv4 first, then by address text.
  out.sort((x, y) => (x.family - y.family) || (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
  return out;
}

// Addresses are literals already; answering synchronously also makes send() synchronous, so the
// datagrams drained by pc.close() leave before the socket closes.
function directLookup(address, options, cb) {
  const fam = typeof options === 'number' ? options : (options && options.family) || 0;
  cb(null, address, fam || (address.includes(':') ? 6 : 4));
}

function createNodeHost(pc) {
  const sockets = [];        // { sock, ip, port, scope }
  const streams = new Map(); // "fromIp|fromPort|toIp|toPort" → net.Socket (TURN over TCP)
  let closed = false;
  let pendingSends = 0;
  let closeWhenIdle = false;

  function closeUdp() {
    for (const s of sockets) { try { s.sock.close(); } catch (e) { /* already closed */ } }
    sockets.length = 0;
  }

  function bindOne(a) {
    return new Promise((resolve) => {
      const sock = dgram.createSocket({ type: a.family === 4 ? 'udp4' : 'udp6', ipv6Only: a.family === 6,
        lookup: directLookup });
      const scope = a.linkLocal && a.family === 6 ? a.name : null;
      const onBindError = () => { try { sock.close(); } catch (e) { /* ignore */ } resolve(null); };
      sock.once('error', onBindError);
      sock.bind({ address: scope ? `${a.address}%${scope}` : a.address, port: 0, exclusive: true }, () => {
        sock.removeListener('error', onBindError);
        sock.on('error', () => {});   // ICMP errors etc.: UDP semantics, drop
        const entry = { sock, ip: a.address, port: sock.address().port, scope };
        sock.on('message', (msg, rinfo) => {
          pc._receive(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), entry.ip, entry.port,
            rinfo.address.split('%')[0], rinfo.port);
        });
        resolve(entry);
      });
    });
  }

  function sendTcp(t) {
    const key = `${t.fromIp}|${t.fromPort}|${t.toIp}|${t.toPort}`;
    let s = streams.get(key);
    if (!s) {
      s = net.connect({ host: t.toIp, port: t.toPort, localAddress: t.fromIp, lookup: directLookup });
      s.setNoDelay(true);
      streams.set(key, s);
      s.on('data', (buf) => pc._streamData(new Uint8Array(buf.buffer, buf.byteOffset, buf.length),
        t.fromIp, t.fromPort, t.toIp, t.toPort));
      s.on('error', () => {});
      s.on('close', () => {
        streams.delete(key);
        if (!closed) pc._streamClosed(t.fromIp, t.fromPort, t.toIp, t.toPort);
      });
    }
    s.write(t.data);
  }

  return {
    name: 'node',
    async start() {
      const bound = (await Promise.all(usableAddresses().map(bindOne))).filter(Boolean);
      sockets.push(...bound);
      if (closed) { closeUdp(); return; }
      for (const s of sockets) pc._addLocalAddress(s.ip, s.port);
    },
    addresses() { return sockets.map((s) => ({ ip: s.ip, port: s.port })); },
    send(t) {
      if (closed && !closeWhenIdle) return;
      if (t.protocol === 'tcp') { if (!closed) sendTcp(t); return; }
      const s = sockets.find((x) => x.port === t.fromPort && sameIp(x.ip, t.fromIp));
      if (!s) return;   // not one of ours (or closed): drop, as a failed UDP send would
      const to = s.scope && isLinkLocal(t.toIp, 6) ? `${t.toIp}%${s.scope}` : t.toIp;
      pendingSends++;
      try {
        s.sock.send(t.data, t.toPort, to, () => {
          pendingSends--;
          if (closeWhenIdle && pendingSends === 0) { closeWhenIdle = false; closeUdp(); }
        });
      } catch (e) {
        pendingSends--;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      for (const s of streams.values()) s.destroy();
      streams.clear();
      if (pendingSends === 0) closeUdp(); else closeWhenIdle = true;
    },
  };
}

module.exports = { createNodeHost, usableAddresses };
