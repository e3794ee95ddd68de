// refrtc chat demo, page half. The WebRTC stack used here is refrtc compiled to WebAssembly,
// loaded from the package's browser entry (served by serve.mjs as /refrtc.browser.mjs); the
// browser's own WebRTC implementation is never touched. A page cannot open UDP sockets, so the
// engine's datagrams go through the refrtc WebSocket ↔ UDP relay, configured from GET /config.
// Signaling is non-trickle: the complete offer (all candidates) is POSTed to /offer once ICE
// gathering is done, and the response is the native peer's complete answer.

const $ = (id) => document.getElementById(id);
const ui = {
  engine: $('engine'), status: $('status'), relay: $('relay'), peer: $('peer'),
  log: $('log'), form: $('composer'), input: $('message'), send: $('send'),
};
// State the automated test (test.mjs) reads; also handy from the DevTools console.
const chat = window.__refrtcChat = { state: 'starting', offer: null, answer: null, pc: null, channel: null, error: null };

function setStatus(state, text = state) {
  chat.state = state;
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

function addLine(kind, who, text) {
  const li = document.createElement('li');
  li.className = kind;
  if (who) {
    const w = document.createElement('span');
    w.className = 'who';
    w.textContent = who;
    li.append(w);
  }
  const t = document.createElement('span');
  t.className = 'text';
  t.textContent = text;
  li.append(t);
  ui.log.append(li);
  ui.log.scrollTop = ui.log.scrollHeight;
}

function fail(e) {
  const msg = e && e.message ? e.message : String(e);
  chat.error = msg;
  setStatus('failed', `failed: ${msg}`);
  addLine('err', null, msg);
  ui.input.disabled = ui.send.disabled = true;
}

async function fetchJson(url, init) {
  const res = await fetch(url, init);
  let body = null;
  try { body = await res.json(); } catch (e) { /* reported below */ }
  if (!res.ok) throw new Error(`${init && init.method || 'GET'} ${url}: HTTP ${res.status} ${body && body.error || ''}`);
  return body;
}

function whenGatheringComplete(pc, ms) {
  return new Promise((resolve, reject) => {
    if (pc.iceGatheringState === 'complete') { resolve(); return; }
    const timer = setTimeout(() => reject(new Error(`ICE gathering not complete after ${ms} ms`)), ms);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { clearTimeout(timer); resolve(); }
    });
  });
}

// "candidate:… udp PRIO 127.0.0.1 40001 typ host" → "udp 127.0.0.1:40001"
function candidateAddresses(sdp) {
  return sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')).map((l) => {
    const f = l.split(' ');
    return `${f[2].toLowerCase()} ${f[4].includes(':') ? `[${f[4]}]` : f[4]}:${f[5]}`;
  });
}

async function start() {
  const config = await fetchJson('/config');

  setStatus('loading', 'loading the refrtc WebAssembly engine…');
  // Top-level await inside the module: once the import resolves, the core is instantiated.
  const refrtc = await import('./refrtc.browser.mjs');
  window.__refrtcEngine = 'refrtc-wasm';
  ui.engine.textContent = `engine: ${config.engine.name} ${config.engine.version} (WebAssembly)`;

  refrtc.configure({ relay: { url: config.relay.url, token: config.relay.token } });
  ui.relay.textContent = config.relay.url;
  ui.peer.textContent = `${config.native.name} ${config.native.version} (native C++ refrtc, echo bot)`;

  const pc = new refrtc.RTCPeerConnection();
  const channel = pc.createDataChannel('chat');
  chat.pc = pc;
  chat.channel = channel;

  pc.addEventListener('connectionstatechange', () => {
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
      setStatus(pc.connectionState, `connection ${pc.connectionState}`);
      ui.input.disabled = ui.send.disabled = true;
    } else if (chat.state !== 'open') {
      setStatus('connecting', `connection ${pc.connectionState}`);
    }
  });
  channel.addEventListener('open', () => {
    setStatus('open', 'data channel "chat" open');
    addLine('sys', null, `data channel "${channel.label}" open — say something`);
    ui.input.disabled = ui.send.disabled = false;
    ui.input.placeholder = 'type a message and press Enter';
    ui.input.focus();
  });
  channel.addEventListener('message', (ev) => {
    const text = typeof ev.data === 'string' ? ev.data : `(binary message, ${ev.data.byteLength ?? ev.data.size} bytes)`;
    addLine('in', 'native', text);
  });
  channel.addEventListener('close', () => {
    setStatus('closed', 'data channel closed');
    addLine('sys', null, 'data channel closed');
    ui.input.disabled = ui.send.disabled = true;
  });

  ui.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = ui.input.value;
    if (!text || channel.readyState !== 'open') return;
    try {
      channel.send(text);
    } catch (e) {
      addLine('err', null, `send failed: ${e.message}`);
      return;
    }
    addLine('out', 'me', text);
    ui.input.value = '';
  });

  setStatus('gathering', 'gathering ICE candidates (relay sockets)…');
  await pc.setLocalDescription();
  await whenGatheringComplete(pc, 15000);
  chat.offer = pc.localDescription.sdp;
  ui.relay.textContent = `${config.relay.url} → ${candidateAddresses(chat.offer).join(', ') || 'no candidates'}`;

  setStatus('signaling', 'sending the offer to the native peer…');
  const answer = await fetchJson('/offer', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: pc.localDescription.type, sdp: pc.localDescription.sdp }),
  });
  chat.answer = answer.sdp;
  await pc.setRemoteDescription(answer);
  if (chat.state !== 'open') setStatus('connecting', 'connecting (ICE, DTLS, SCTP)…');
}

start().catch(fail);
