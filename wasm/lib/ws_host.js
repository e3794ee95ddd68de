'use strict';
// Browser host: the page cannot open UDP sockets, so datagrams go through the refrtc WebSocket ↔
// UDP relay (wasm/relay/PROTOCOL.md, v1). One WebSocket per RTCPeerConnection; the relay's UDP
// sockets (the "ready" message) are the engine's local addresses, i.e. its host candidates.
// Selected with refrtc.configure({ relay: { url, token, WebSocket? } }). Also usable from Node
// with a WebSocket implementation (global WebSocket in Node >= 22, or `ws` passed as WebSocket).
const { ipToBytes, bytesToIp, sameIp } = require('./util.js');

// PROTOCOL.md §2: [socket id][family 4|6][port BE16][IP 4|16][payload].
function encodeFrame(socketId, toIp, toPort, payload) {
  const ip = ipToBytes(toIp);
  if (!ip) return null;
  const frame = new Uint8Array(4 + ip.length + payload.length);
  frame[0] = socketId;
  frame[1] = ip.length === 4 ? 4 : 6;
  frame[2] = (toPort >> 8) & 0xff;
  frame[3] = toPort & 0xff;
  frame.set(ip, 4);
  frame.set(payload, 4 + ip.length);
  return frame;
}

function decodeFrame(buf) {
  const b = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  if (b.length < 4) return null;
  const len = b[1] === 4 ? 4 : b[1] === 6 ? 16 : 0;
  if (!len || b.length < 4 + len) return null;
  return { socketId: b[0], port: (b[2] << 8) | b[3], ip: bytesToIp(b.subarray(4, 4 + len)),
    payload: b.subarray(4 + len) };
}

function relayUrl(relay) {
  const u = new URL(relay.url);
  if (relay.token !== undefined) u.searchParams.set('token', relay.token);
  return u.toString();
}

function createWsHost(pc, settings) {
  const relay = settings.relay;
  let ws = null;
  let sockets = [];
  let closed = false;
  const host = {
    name: 'relay',
    lastError: null,
    start() {
      return new Promise((resolve, reject) => {
        const WS = (relay && relay.WebSocket) || globalThis.WebSocket;
        if (!relay) {
          reject(new Error('no relay configured: call configure({ relay: { url, token } }) first'));
          return;
        }
        if (typeof WS !== 'function') {
          reject(new Error('no WebSocket implementation (pass configure({relay:{WebSocket}}))'));
          return;
        }
        let ready = false;
        ws = new WS(relayUrl(relay));
        ws.binaryType = 'arraybuffer';
        ws.onmessage = (ev) => {
          if (typeof ev.data === 'string') {
            let msg;
            try { msg = JSON.parse(ev.data); } catch (e) { return; }
            if (msg.type === 'ready' && !ready) {
              if (msg.version !== 1 || !Array.isArray(msg.sockets)) {
                reject(new Error(`unsupported relay protocol version ${msg.version}`));
                ws.close();
                return;
              }
              ready = true;
              sockets = msg.sockets.map((s) => ({ id: s.id, ip: s.ip, port: s.port }));
              if (!closed) for (const s of sockets) pc._addLocalAddress(s.ip, s.port);
              resolve();
            } else if (msg.type === 'error') {
              host.lastError = msg.message;
            }
            return;
          }
          const f = decodeFrame(ev.data);
          if (!f || closed) return;
          const s = sockets.find((x) => x.id === f.socketId);
          if (s) pc._receive(f.payload, s.ip, s.port, f.ip, f.port);
        };
        ws.onerror = () => { if (!ready) reject(new Error(`cannot connect to the relay at ${relay.url}`)); };
        ws.onclose = (ev) => {
          if (!ready) reject(new Error(`relay closed the connection (${ev && ev.code})`));
          sockets = [];
        };
      });
    },
    addresses() { return sockets.map((s) => ({ ip: s.ip, port: s.port })); },
    send(t) {
      if (!ws || ws.readyState !== 1 || t.protocol === 'tcp') return;  // v1 relays UDP only
      const s = sockets.find((x) => x.port === t.fromPort && sameIp(x.ip, t.fromIp));
      if (!s) return;
      const frame = encodeFrame(s.id, t.toIp, t.toPort, t.data);
      if (frame) ws.send(frame);
    },
    close() {
      if (closed) return;
      closed = true;
      if (ws && (ws.readyState === 0 || ws.readyState === 1)) ws.close(1000);
    },
  };
  return host;
}

module.exports = { createWsHost, encodeFrame, decodeFrame };
