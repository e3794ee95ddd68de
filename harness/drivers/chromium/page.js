// In-page half of the chromium driver (see driver.mjs). Runs inside headless Chromium on a file://
// page and owns the real RTCPeerConnection / RTCDataChannel objects.
//
//   window.refrtc.run(cmd)       → {ok: true, result} | {ok: false, error: {name, message, errorDetail}}
//                                  (called by driver.mjs through page.evaluate, one call per command)
//   window.__refrtcOut(json)     ← exposed by driver.mjs (page.exposeFunction); gets a JSON array of
//                                  protocol events, in the order the W3C API fired them
//
// This mirrors harness/drivers/common/channels.mjs (handles, mute/notifyAfter counting, sendMany with
// bufferedAmount/bufferedamountlow flow control), but runs here so that a 5,000-message sendMany or a
// muted receiver costs no DevTools-protocol round trip per message (DRIVER_PROTOCOL "Commands").
//
// Media (feature `media`): the ops and handles are ../common/media_core.cjs (window.refrtcMedia, the same
// code the Node drivers run); the hooks below make the synthetic sources with WebAudio / a canvas and read
// received tracks with WebAudio / a <video> element (see "media" below for Chromium's quirks).
'use strict';
(() => {
  const INLINE_LIMIT = 64 * 1024;   // larger received messages are reported as {size, sha256}
  const FLOW_FALLBACK_MS = 50;      // re-read bufferedAmount if no bufferedamountlow arrives
  const flow = { highWater: 1024 * 1024, lowThreshold: 256 * 1024 }; // set by driver.mjs (configure)

  const pcs = new Map();            // pc handle → RTCPeerConnection
  const chans = new Map();          // channel handle → record
  let nextChannel = 1;

  class DriverError extends Error {
    constructor(name, message) { super(message || name); this.name = name; }
  }
  const notFound = (what, h) => new DriverError('NotFoundError', `unknown ${what} handle ${JSON.stringify(h)}`);

  // ---- ordered event output -------------------------------------------------------------------
  // Entries are events or promises of events (SHA-256 of a large message is asynchronous); they leave
  // strictly in order, batched per task so a burst of events costs one binding call.
  const outQ = [];
  let pumping = false;
  let pumpScheduled = false;
  function out(ev) {
    outQ.push(ev);
    if (!pumping && !pumpScheduled) { pumpScheduled = true; queueMicrotask(pump); }
  }
  const isPromise = (x) => x !== null && typeof x === 'object' && typeof x.then === 'function';
  async function pump() {
    pumpScheduled = false;
    if (pumping) return;
    pumping = true;
    try {
      while (outQ.length) {
        const batch = [];
        while (outQ.length && !isPromise(outQ[0])) {
          const ev = outQ.shift();
          if (ev) batch.push(ev);
        }
        if (batch.length) window.__refrtcOut(JSON.stringify(batch)); // not awaited: order is kept by CDP
        if (outQ.length) {
          let v;
          try { v = await outQ[0]; } catch (e) { v = { event: 'log', pc: null, level: 'error', message: `event failed: ${e}` }; }
          outQ[0] = v || null;
        }
      }
    } finally {
      pumping = false;
    }
  }
  const log = (level, message) => out({ event: 'log', pc: null, level, message });

  // ---- payload helpers ------------------------------------------------------------------------
  function toBase64(u8) {
    let s = '';
    for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
    return btoa(s);
  }
  function fromBase64(b64) {
    let bin;
    try { bin = atob(b64); } catch (e) { throw new DriverError('TypeError', `bad base64: ${e.message}`); }
    const u8 = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
    return u8;
  }
  // UTF-8 length of a JS string (lone surrogates become U+FFFD, 3 bytes, as the encoder does).
  function utf8Length(s) {
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) n += 1;
      else if (c < 0x800) n += 2;
      else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
      else n += 3;
    }
    return n;
  }
  const hex = (ab) => Array.from(new Uint8Array(ab), (b) => b.toString(16).padStart(2, '0')).join('');
  function decodeData(data) {
    if (typeof data === 'string') return data;
    if (data && typeof data === 'object' && typeof data.binary === 'string') return fromBase64(data.binary);
    throw new DriverError('TypeError', 'data must be a string or {"binary": base64}');
  }

  // ---- peer connections -----------------------------------------------------------------------
  function getPc(h) {
    const pc = typeof h === 'string' ? pcs.get(h) : undefined;
    if (!pc) throw notFound('pc', h);
    return pc;
  }
  const desc = (d) => (d ? { type: d.type, sdp: d.sdp } : null);

  // RTCIceCandidateInit in the `candidate:…` form (DRIVER_PROTOCOL "Clarifications").
  function candidateInit(c, pc) {
    let cand = c.candidate || '';
    if (cand.startsWith('a=')) cand = cand.slice(2);
    let sdpMid = c.sdpMid ?? null;
    let sdpMLineIndex = c.sdpMLineIndex ?? null;
    if (sdpMid === null && sdpMLineIndex === null) sdpMLineIndex = 0;
    if (sdpMid === null && pc.localDescription) {
      const mids = [...pc.localDescription.sdp.matchAll(/^a=mid:(\S+)/gm)].map((m) => m[1]);
      if (mids[sdpMLineIndex] !== undefined) sdpMid = mids[sdpMLineIndex];
    }
    const init = { candidate: cand, sdpMid, sdpMLineIndex };
    if (c.usernameFragment) init.usernameFragment = c.usernameFragment;
    return init;
  }

  function attachPcEvents(h, pc) {
    pc.addEventListener('icecandidate', (e) => out({ event: 'icecandidate', pc: h, candidate: e.candidate ? candidateInit(e.candidate, pc) : null }));
    pc.addEventListener('icegatheringstatechange', () => out({ event: 'icegatheringstatechange', pc: h, state: pc.iceGatheringState }));
    pc.addEventListener('iceconnectionstatechange', () => out({ event: 'iceconnectionstatechange', pc: h, state: pc.iceConnectionState }));
    pc.addEventListener('connectionstatechange', () => out({ event: 'connectionstatechange', pc: h, state: pc.connectionState }));
    pc.addEventListener('signalingstatechange', () => out({ event: 'signalingstatechange', pc: h, state: pc.signalingState }));
    pc.addEventListener('negotiationneeded', () => out({ event: 'negotiationneeded', pc: h }));
    pc.addEventListener('datachannel', (e) => {
      const rec = addChannel(h, e.channel);
      out({ event: 'datachannel', pc: h, ...channelState(rec) });
    });
    pc.addEventListener('track', (e) => media.onTrack(h, pc, e));
  }

  function sctpState(pc) {
    const s = pc.sctp;
    if (!s) return null;
    const num = (v) => (typeof v === 'number' ? v : null);
    return { maxMessageSize: num(s.maxMessageSize), maxChannels: num(s.maxChannels), state: s.state || null };
  }

  // ---- data channels --------------------------------------------------------------------------
  function addChannel(pcHandle, dc) {
    // Chromium ≥ 126 defaults to "arraybuffer" (W3C), older ones to "blob"; be explicit.
    dc.binaryType = 'arraybuffer';
    const handle = `ch${nextChannel++}`;
    const rec = { handle, pc: pcHandle, dc, muted: false, notifyAfter: null, messagesReceived: 0, bytesReceived: 0, closed: false, lowWaiters: new Set() };
    chans.set(handle, rec);
    const ev = (event, extra) => out({ event, pc: rec.pc, channel: handle, ...extra });
    dc.addEventListener('open', () => ev('open'));
    dc.addEventListener('closing', () => ev('closing'));
    dc.addEventListener('close', () => {
      if (rec.closed) return;
      rec.closed = true;
      wakeLow(rec);
      ev('close');
    });
    dc.addEventListener('bufferedamountlow', () => { wakeLow(rec); ev('bufferedamountlow'); });
    dc.addEventListener('error', (e) => {
      const err = (e && e.error) || {};
      ev('error', { error: { name: err.name || 'OperationError', message: err.message || String(err), errorDetail: err.errorDetail || 'data-channel-failure' } });
    });
    dc.addEventListener('message', (e) => onMessage(rec, e.data));
    return rec;
  }

  function getChan(h) {
    const rec = typeof h === 'string' ? chans.get(h) : undefined;
    if (!rec) throw notFound('channel', h);
    return rec;
  }

  function channelState(rec) {
    const dc = rec.dc;
    return {
      channel: rec.handle,
      label: dc.label,
      id: dc.id ?? null,
      ordered: dc.ordered,
      maxPacketLifeTime: dc.maxPacketLifeTime ?? null,
      maxRetransmits: dc.maxRetransmits ?? null,
      protocol: dc.protocol || '',
      negotiated: !!dc.negotiated,
      readyState: dc.readyState,
      bufferedAmount: dc.bufferedAmount,
      bufferedAmountLowThreshold: dc.bufferedAmountLowThreshold,
      binaryType: dc.binaryType,
      messagesReceived: rec.messagesReceived,
      bytesReceived: rec.bytesReceived,
    };
  }

  // Counting is synchronous (a muted receiver costs nothing per message); only the event payload of
  // an unmuted message may need an asynchronous step (SHA-256, Blob bytes), which `out` keeps in order.
  function onMessage(rec, data) {
    let size;
    let kind;
    if (typeof data === 'string') { kind = 'text'; size = utf8Length(data); }
    else if (data instanceof ArrayBuffer) { kind = 'ab'; size = data.byteLength; }
    else if (typeof Blob !== 'undefined' && data instanceof Blob) { kind = 'blob'; size = data.size; }
    else { kind = 'text'; data = String(data); size = utf8Length(data); log('warn', `unrecognised message payload type ${typeof data}`); }
    rec.messagesReceived += 1;
    rec.bytesReceived += size;
    if (!rec.muted) {
      const base = { event: 'message', pc: rec.pc, channel: rec.handle };
      if (size > INLINE_LIMIT) {
        out((async () => {
          let bytes;
          if (kind === 'text') bytes = new TextEncoder().encode(data);
          else if (kind === 'blob') bytes = await data.arrayBuffer();
          else bytes = data;
          return { ...base, size, binary: kind !== 'text', sha256: hex(await crypto.subtle.digest('SHA-256', bytes)) };
        })());
      } else if (kind === 'text') {
        out({ ...base, data });
      } else if (kind === 'blob') {
        out(data.arrayBuffer().then((ab) => ({ ...base, data: { binary: toBase64(new Uint8Array(ab)) } })));
      } else {
        out({ ...base, data: { binary: toBase64(new Uint8Array(data)) } });
      }
    }
    maybeNotify(rec);
  }

  function maybeNotify(rec) {
    if (rec.notifyAfter !== null && rec.messagesReceived >= rec.notifyAfter) {
      rec.notifyAfter = null; // one `received` event per setChannel(notifyAfter)
      out({ event: 'received', pc: rec.pc, channel: rec.handle, messages: rec.messagesReceived, bytes: rec.bytesReceived });
    }
  }

  function wakeLow(rec) {
    const waiters = [...rec.lowWaiters];
    rec.lowWaiters.clear();
    for (const w of waiters) w();
  }

  function waitLow(rec) {
    return new Promise((resolve) => {
      let done = false;
      const finish = () => { if (!done) { done = true; clearTimeout(t); rec.lowWaiters.delete(finish); resolve(); } };
      const t = setTimeout(finish, FLOW_FALLBACK_MS);
      rec.lowWaiters.add(finish);
    });
  }

  function setChannel(rec, args) {
    const dc = rec.dc;
    if (args.bufferedAmountLowThreshold !== undefined) {
      const v = Number(args.bufferedAmountLowThreshold);
      if (!Number.isInteger(v) || v < 0) throw new DriverError('TypeError', 'bufferedAmountLowThreshold must be a non-negative integer');
      dc.bufferedAmountLowThreshold = v;
    }
    if (args.binaryType !== undefined) {
      if (args.binaryType !== 'arraybuffer' && args.binaryType !== 'blob') throw new DriverError('SyntaxError', `binaryType ${JSON.stringify(args.binaryType)}`);
      dc.binaryType = args.binaryType;
    }
    if (args.mute !== undefined) rec.muted = !!args.mute;
    if (args.notifyAfter !== undefined) {
      rec.notifyAfter = args.notifyAfter === null ? null : Number(args.notifyAfter);
      maybeNotify(rec);
    }
    return {};
  }

  // `count` messages of `size` bytes: binary message i filled with byte i % 256, string message i with
  // 'a' + i % 26 (DRIVER_PROTOCOL sendMany). Keeps at most flow.highWater bytes in bufferedAmount and
  // waits for bufferedamountlow (threshold flow.lowThreshold) in between; Chromium updates
  // bufferedAmount synchronously in send(), so no extra accounting is needed. send() copies its
  // argument, so one buffer per fill byte is reused.
  async function sendMany(rec, size, count, binary) {
    const dc = rec.dc;
    size = Number(size); count = Number(count);
    if (!Number.isInteger(size) || size < 0 || !Number.isInteger(count) || count < 0) {
      throw new DriverError('TypeError', 'size and count must be non-negative integers');
    }
    const cache = new Map();
    const cacheable = size * (binary ? 256 : 26) <= 64 * 1024 * 1024;
    const message = (i) => {
      const k = binary ? i % 256 : i % 26;
      let m = cache.get(k);
      if (m === undefined) {
        m = binary ? new Uint8Array(size).fill(k) : String.fromCharCode(97 + k).repeat(size);
        if (cacheable) cache.set(k, m);
      }
      return m;
    };
    const saved = dc.bufferedAmountLowThreshold;
    dc.bufferedAmountLowThreshold = flow.lowThreshold;
    try {
      let i = 0;
      while (i < count) {
        if (dc.readyState !== 'open') throw new DriverError('InvalidStateError', `channel is ${dc.readyState} after ${i} of ${count} messages`);
        const queued = dc.bufferedAmount;
        if (queued > 0 && queued + size > flow.highWater) {
          await waitLow(rec);
          continue;
        }
        dc.send(message(i));
        i += 1;
      }
    } finally {
      if (dc.readyState === 'open' || dc.readyState === 'connecting') dc.bufferedAmountLowThreshold = saved;
    }
    return {};
  }

  const certificates = new Map();  // generateCertificate handles → RTCCertificate
  let certificateCount = 0;

  // ---- media ----------------------------------------------------------------------------------
  // Sources: tone = OscillatorNode (sine) → GainNode 0.3 → MediaStreamAudioDestinationNode (mono);
  // silence = ConstantSourceNode with offset 0 → the same; pattern = a 320×240 canvas redrawn on a 30 fps
  // timer (moving box, drifting gradient, frame number) with captureStream(30).
  // Sinks: audio — Chromium feeds a remote WebRTC track into WebAudio only while the stream also plays in a
  // media element (a long-standing Chromium bug; reproduced with Chromium 156: without the element the
  // analyser reads rms 0 for the whole call), so the track goes to a muted Audio element AND a
  // MediaStreamAudioSourceNode → AnalyserNode (fftSize 32768: the newest 0.68 s at 48 kHz); getTrackInfo
  // analyses getFloatTimeDomainData with media_core's FFT (same code as the Node drivers).
  // samplesReceived is an approximation: elapsed AudioContext time since the sink started × sampleRate
  // (WebAudio renders silence when nothing arrives, so only dominantHz/rms prove that audio arrived).
  // Video — a muted <video> element in the page; requestVideoFrameCallback's presentedFrames counts the
  // frames shown, its width/height (else videoWidth/videoHeight) the size.
  const M = window.refrtcMedia;
  let audioCtx = null;
  function ctx() {
    if (!audioCtx) audioCtx = new AudioContext();
    // Needs --autoplay-policy=no-user-gesture-required (driver.mjs), else it stays "suspended".
    if (audioCtx.state === 'suspended') audioCtx.resume().catch(() => {});
    return audioCtx;
  }

  function audioSource(spec) {
    const c = ctx();
    const dest = c.createMediaStreamDestination();
    dest.channelCount = 1;
    let node;
    if (spec.type === 'tone') {
      node = c.createOscillator();
      node.type = 'sine';
      node.frequency.value = spec.hz;
      const gain = c.createGain();
      gain.gain.value = M.TONE_AMPLITUDE;
      node.connect(gain).connect(dest);
    } else {
      node = c.createConstantSource();
      node.offset.value = 0;
      node.connect(dest);
    }
    node.start();
    const track = dest.stream.getAudioTracks()[0];
    return {
      track,
      stream: new MediaStream([track]),
      stop() { try { node.stop(); node.disconnect(); } catch (e) { /* stopped */ } track.stop(); },
    };
  }

  function videoSource() {
    const { width: w, height: h, fps } = M.PATTERN;
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    document.body.appendChild(canvas);
    const g = canvas.getContext('2d');
    let n = 0;
    const draw = () => {
      n += 1;
      const grad = g.createLinearGradient((n * 2) % w, 0, w + (n * 2) % w, h);
      grad.addColorStop(0, '#203040');
      grad.addColorStop(1, '#80a0c0');
      g.fillStyle = grad;
      g.fillRect(0, 0, w, h);
      const box = 48;
      const px = Math.abs(((n * 4) % (2 * (w - box))) - (w - box));
      const py = Math.abs(((n * 3) % (2 * (h - box))) - (h - box));
      g.fillStyle = '#e04030';
      g.fillRect(px, py, box, box);
      g.fillStyle = '#ffffff';
      g.font = '20px monospace';
      g.fillText(String(n), 8, h - 10);
    };
    draw();
    const stream = canvas.captureStream(fps);
    const timer = setInterval(draw, 1000 / fps);
    const track = stream.getVideoTracks()[0];
    return {
      track,
      stream,
      stop() { clearInterval(timer); track.stop(); canvas.remove(); },
    };
  }

  // ctx.onDtmf (feature `dtmfReceive`): a ScriptProcessorNode hands every rendered block of the
  // received audio (1024 frames, ≈ 23 ms at 44.1 kHz) to media_core's DtmfDetector, which reports
  // the DTMF tones libwebrtc's NetEq plays out for received RFC 4733 events (durations are the
  // playout's, approximate; media_core.cjs). ScriptProcessorNode is deprecated but is the one
  // time-domain tap that needs no module URL (an AudioWorklet from a file:// page would need a blob: URL
  // module); its callback runs on the page's main thread, which is idle between commands here.
  function audioSink(track, sinkCtx) {
    const c = ctx();
    const stream = new MediaStream([track]);
    const el = new Audio();
    el.muted = true;
    el.srcObject = stream;
    el.play().catch((e) => log('warn', `audio sink play(): ${e && e.message}`));
    const source = c.createMediaStreamSource(stream);
    const analyser = c.createAnalyser();
    analyser.fftSize = 32768;
    source.connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    const t0 = c.currentTime;
    let stopped = null;
    let tap = null;
    if (sinkCtx && typeof sinkCtx.onDtmf === 'function' && typeof c.createScriptProcessor === 'function') {
      const detector = new M.DtmfDetector(sinkCtx.onDtmf);
      tap = c.createScriptProcessor(1024, 1, 1);
      tap.onaudioprocess = (e) => detector.push(e.inputBuffer.getChannelData(0), c.sampleRate);
      source.connect(tap);
      tap.connect(c.destination);  // a ScriptProcessorNode only runs while connected; it outputs zeros
    }
    return {
      info() {
        const elapsed = (stopped === null ? c.currentTime : stopped) - t0;
        analyser.getFloatTimeDomainData(buf);
        const a = M.analyseSamples(buf, c.sampleRate);
        return { samplesReceived: Math.round(elapsed * c.sampleRate), sampleRate: c.sampleRate, dominantHz: a.dominantHz, rms: Math.round(a.rms * 10000) / 10000 };
      },
      stop() {
        if (stopped !== null) return;
        stopped = c.currentTime;
        try { source.disconnect(); } catch (e) { /* done */ }
        if (tap) { try { tap.disconnect(); } catch (e) { /* done */ } tap.onaudioprocess = null; }
        el.srcObject = null;
      },
    };
  }

  function videoSink(track) {
    const v = document.createElement('video');
    v.muted = true;
    v.playsInline = true;
    v.autoplay = true;
    v.width = 320;
    v.height = 240;
    v.srcObject = new MediaStream([track]);
    document.body.appendChild(v);
    const st = { framesReceived: 0, width: null, height: null, callbacks: 0 };
    let running = true;
    const onFrame = (now, meta) => {
      st.callbacks += 1;
      st.framesReceived = Math.max(st.framesReceived, meta.presentedFrames || 0);
      st.width = meta.width;
      st.height = meta.height;
      if (running) v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
    v.play().catch((e) => log('warn', `video sink play(): ${e && e.message}`));
    return {
      info() {
        return {
          framesReceived: st.framesReceived,
          width: st.width ?? (v.videoWidth || null),
          height: st.height ?? (v.videoHeight || null),
        };
      },
      stop() { running = false; v.srcObject = null; v.remove(); },
    };
  }

  const media = M.createMediaOps({
    getPc,
    emit: out,
    mkErr: (name, message) => new DriverError(name, message),
    hooks: {
      createSource: (kind, spec) => (kind === 'audio' ? audioSource(spec) : videoSource()),
      analyse: (track, kind, receiver, sinkCtx) => (kind === 'audio' ? audioSink(track, sinkCtx) : videoSink(track)),
      dtmfReceive: typeof AudioContext === 'function' && typeof AudioContext.prototype.createScriptProcessor === 'function',
      codecCapabilities: (kind) => (typeof RTCRtpReceiver === 'function' && RTCRtpReceiver.getCapabilities ? RTCRtpReceiver.getCapabilities(kind) : null),
    },
  });

  // ---- commands -------------------------------------------------------------------------------
  const ops = {
    configure: async (cmd) => {
      if (cmd.highWater) flow.highWater = Number(cmd.highWater);
      if (cmd.lowThreshold) flow.lowThreshold = Number(cmd.lowThreshold);
      return {
        ...flow, userAgent: navigator.userAgent, secure: window.isSecureContext, hasPc: typeof RTCPeerConnection === 'function',
        hasMedia: typeof AudioContext === 'function' && typeof HTMLCanvasElement.prototype.captureStream === 'function',
        hasMediaControl: typeof RTCRtpTransceiver === 'function' && M.hasMediaControl({ RTCPeerConnection, RTCRtpSender, RTCRtpTransceiver }),
        // Feature dtmf: W3C §7 RTCDTMFSender; dtmfReceive: the tone detector on the audio sinks.
        hasDtmf: typeof RTCDTMFSender === 'function' && M.hasDtmf({ RTCDTMFSender }),
        hasDtmfReceive: typeof AudioContext === 'function' && typeof AudioContext.prototype.createScriptProcessor === 'function',
      };
    },

    // refrtc's "certificates" feature (docs/DRIVER_PROTOCOL.md): W3C §4.9 generateCertificate.
    generateCertificate: async (cmd) => {
      // RSA's publicExponent is a BigInteger (Uint8Array); JSON carries it as [1, 0, 1].
      let alg = cmd.keygenAlgorithm ?? 'ECDSA';
      if (alg && typeof alg === 'object' && Array.isArray(alg.publicExponent)) {
        alg = { ...alg, publicExponent: Uint8Array.from(alg.publicExponent) };
      }
      const cert = await RTCPeerConnection.generateCertificate(alg);
      const handle = `cert${++certificateCount}`;
      certificates.set(handle, cert);
      return { certificate: handle, expires: cert.expires, fingerprints: cert.getFingerprints() };
    },

    createPeerConnection: async (cmd) => {
      if (typeof cmd.pc !== 'string' || cmd.pc === '') throw new DriverError('TypeError', 'pc handle must be a non-empty string');
      if (pcs.has(cmd.pc)) throw new DriverError('InvalidStateError', `pc ${cmd.pc} already exists`);
      const config = { ...(cmd.config || {}) };
      if (Array.isArray(config.certificates)) {
        config.certificates = config.certificates.map((h) => {
          if (!certificates.has(h)) throw new DriverError('NotFoundError', `unknown certificate ${h}`);
          return certificates.get(h);
        });
      }
      const pc = new RTCPeerConnection(config);
      pcs.set(cmd.pc, pc);
      attachPcEvents(cmd.pc, pc);
      return {};
    },

    createOffer: async (cmd) => desc(await getPc(cmd.pc).createOffer(cmd.options || {})),
    createAnswer: async (cmd) => desc(await getPc(cmd.pc).createAnswer(cmd.options || {})),

    // Chromium has the W3C implicit form (no argument) itself.
    setLocalDescription: async (cmd) => {
      const pc = getPc(cmd.pc);
      const d = cmd.description;
      if (d === undefined || d === null) await pc.setLocalDescription();
      else await pc.setLocalDescription(d.sdp === undefined ? { type: d.type } : { type: d.type, sdp: d.sdp });
      return { description: desc(pc.localDescription) };
    },

    setRemoteDescription: async (cmd) => {
      const pc = getPc(cmd.pc);
      const d = cmd.description;
      if (!d || typeof d !== 'object') throw new DriverError('TypeError', 'description required');
      await pc.setRemoteDescription({ type: d.type, sdp: d.sdp || '' });
      return {};
    },

    addIceCandidate: async (cmd) => {
      const pc = getPc(cmd.pc);
      const c = cmd.candidate;
      if (c === null || c === undefined) {
        await pc.addIceCandidate(); // W3C: no candidate = end-of-candidates
        return {};
      }
      let cand = typeof c.candidate === 'string' ? c.candidate : '';
      if (cand.startsWith('a=')) cand = cand.slice(2);
      const init = { candidate: cand, sdpMid: c.sdpMid ?? null, sdpMLineIndex: c.sdpMLineIndex ?? null };
      if (c.usernameFragment) init.usernameFragment = c.usernameFragment;
      await pc.addIceCandidate(init);
      return {};
    },

    restartIce: async (cmd) => { getPc(cmd.pc).restartIce(); return {}; },

    getState: async (cmd) => {
      const pc = getPc(cmd.pc);
      return {
        signalingState: pc.signalingState,
        iceGatheringState: pc.iceGatheringState,
        iceConnectionState: pc.iceConnectionState,
        connectionState: pc.connectionState,
        localDescription: desc(pc.localDescription),
        remoteDescription: desc(pc.remoteDescription),
        currentLocalDescription: desc(pc.currentLocalDescription),
        currentRemoteDescription: desc(pc.currentRemoteDescription),
        pendingLocalDescription: desc(pc.pendingLocalDescription),
        pendingRemoteDescription: desc(pc.pendingRemoteDescription),
        canTrickleIceCandidates: pc.canTrickleIceCandidates ?? null,
        sctp: sctpState(pc),
        transceivers: media.transceiversOf(cmd.pc, pc),
      };
    },

    createDataChannel: async (cmd) => {
      const pc = getPc(cmd.pc);
      if (typeof cmd.label !== 'string') throw new DriverError('TypeError', 'label must be a string');
      const rec = addChannel(cmd.pc, pc.createDataChannel(cmd.label, cmd.options || {}));
      return channelState(rec);
    },

    send: async (cmd) => { getChan(cmd.channel).dc.send(decodeData(cmd.data)); return {}; },
    sendMany: async (cmd) => sendMany(getChan(cmd.channel), cmd.size, cmd.count, cmd.binary === undefined ? true : !!cmd.binary),
    getChannel: async (cmd) => channelState(getChan(cmd.channel)),
    setChannel: async (cmd) => setChannel(getChan(cmd.channel), cmd),
    closeChannel: async (cmd) => { getChan(cmd.channel).dc.close(); return {}; },

    getStats: async (cmd) => {
      const report = await getPc(cmd.pc).getStats();
      const stats = [];
      report.forEach((s) => stats.push(s));
      return { stats };
    },

    close: async (cmd) => { getPc(cmd.pc).close(); media.closePc(cmd.pc); return {}; },

    closeAll: async () => {
      for (const pc of pcs.values()) { try { pc.close(); } catch (e) { /* already closed */ } }
      media.closeAll();
      return {};
    },

    ...media.ops,
  };

  async function run(cmd) {
    try {
      const op = Object.prototype.hasOwnProperty.call(ops, cmd.op) ? ops[cmd.op] : null;
      if (!op) throw new DriverError('NotSupportedError', `unsupported op ${JSON.stringify(cmd.op)}`);
      const result = await op(cmd);
      return { ok: true, result: result === undefined ? {} : result };
    } catch (e) {
      const err = { name: (e && typeof e.name === 'string') ? e.name : 'OperationError', message: e && e.message !== undefined ? String(e.message) : String(e) };
      if (e && e.errorDetail) err.errorDetail = e.errorDetail;
      return { ok: false, error: err };
    }
  }

  window.refrtc = { run };
})();
