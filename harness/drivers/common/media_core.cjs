// Media half of the DRIVER_PROTOCOL v1 drivers over W3C-shaped implementations (docs/DRIVER_PROTOCOL.md:
// addTransceiver, addTrack, getTransceivers, getTrackInfo, the `track` event, "Synthetic sources").
//
// One plain script, no imports, used twice:
//   - Node (w3c_driver.mjs, the wrtc driver): `require`d / imported as CommonJS;
//   - Chromium (chromium/page.html loads it with a classic <script>): it defines `window.refrtcMedia`.
// So the handle bookkeeping and the analysis are the same code in every JS driver. What differs per
// implementation (how a synthetic source becomes a MediaStreamTrack, how a received track is read) comes
// in as `hooks`:
//   hooks.createSource(kind, spec) → {track, stream?, stop()}       (may return a promise)
//       spec: {type: 'tone', hz} | {type: 'silence'} | {type: 'pattern'}  (parseSource)
//   hooks.analyse(track, kind, receiver) → {info() → object | promise, stop()}
//       audio info: {samplesReceived, sampleRate, dominantHz, rms}; video: {framesReceived, width, height}
'use strict';
(function (root, factory) {
  const api = factory();
  if (typeof module === 'object' && module && module.exports) module.exports = api;
  else root.refrtcMedia = api;
})(typeof self !== 'undefined' ? self : this, () => {
  // ---- synthetic sources (DRIVER_PROTOCOL "Clarifications") ----------------------------------------
  const TONE_AMPLITUDE = 0.3;     // of full scale
  const PATTERN = { width: 320, height: 240, fps: 30 };

  // "tone:FREQ" | "silence" (audio), "pattern" (video). Throws {name: 'TypeError'}-style errors via mkErr.
  function parseSource(kind, source, mkErr) {
    if (typeof source !== 'string') throw mkErr('TypeError', `source must be a string, not ${JSON.stringify(source)}`);
    const m = /^tone:(\d+(?:\.\d+)?)$/.exec(source);
    if (m) {
      const hz = Number(m[1]);
      if (kind !== 'audio') throw mkErr('TypeError', `source ${source} is audio, the transceiver is ${kind}`);
      if (!(hz > 0 && hz < 20000)) throw mkErr('RangeError', `tone frequency ${m[1]} out of (0, 20000) Hz`);
      return { type: 'tone', hz };
    }
    if (source === 'silence') {
      if (kind !== 'audio') throw mkErr('TypeError', `source silence is audio, the transceiver is ${kind}`);
      return { type: 'silence' };
    }
    if (source === 'pattern') {
      if (kind !== 'video') throw mkErr('TypeError', `source pattern is video, the transceiver is ${kind}`);
      return { type: 'pattern' };
    }
    throw mkErr('TypeError', `unknown source ${JSON.stringify(source)} (tone:FREQ, silence, pattern)`);
  }

  // ---- analysis ----------------------------------------------------------------------------------
  // In-place iterative radix-2 FFT (Cooley–Tukey, decimation in time); re/im are Float64Arrays of a
  // power-of-two length.
  function fft(re, im) {
    const n = re.length;
    for (let i = 1, j = 0; i < n; i++) {
      let bit = n >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      if (i < j) {
        let t = re[i]; re[i] = re[j]; re[j] = t;
        t = im[i]; im[i] = im[j]; im[j] = t;
      }
    }
    for (let len = 2; len <= n; len <<= 1) {
      const ang = -2 * Math.PI / len;
      const wr = Math.cos(ang), wi = Math.sin(ang);
      const half = len >> 1;
      for (let i = 0; i < n; i += len) {
        let cr = 1, ci = 0;
        for (let k = 0; k < half; k++) {
          const a = i + k, b = a + half;
          const xr = re[b] * cr - im[b] * ci;
          const xi = re[b] * ci + im[b] * cr;
          re[b] = re[a] - xr; im[b] = im[a] - xi;
          re[a] += xr; im[a] += xi;
          const ncr = cr * wr - ci * wi;
          ci = cr * wi + ci * wr;
          cr = ncr;
        }
      }
    }
  }

  const SILENCE_RMS = 1e-3;  // −60 dBFS: below this there is no dominant frequency (null)

  // RMS of all of `samples` (mono, full scale ±1) and the dominant frequency: the peak of the
  // magnitude spectrum of a Hann-windowed FFT over the newest power-of-two samples (at most `samples`),
  // refined by parabolic interpolation over the log magnitudes of the peak bin and its neighbours.
  function analyseSamples(samples, sampleRate) {
    const total = samples.length;
    if (total === 0 || !(sampleRate > 0)) return { dominantHz: null, rms: 0 };
    let sum = 0;
    for (let i = 0; i < total; i++) sum += samples[i] * samples[i];
    const rms = Math.round(Math.sqrt(sum / total) * 10000) / 10000;
    let n = 1;
    while (n * 2 <= total) n *= 2;
    if (rms < SILENCE_RMS || n < 256) return { dominantHz: null, rms };
    const re = new Float64Array(n), im = new Float64Array(n);
    const off = total - n;
    for (let i = 0; i < n; i++) re[i] = samples[off + i] * (0.5 - 0.5 * Math.cos(2 * Math.PI * i / (n - 1)));
    fft(re, im);
    let peak = 2, best = -1;  // skip DC and the first bin (window leakage of a DC offset)
    for (let k = 2; k < n / 2; k++) {
      const m = re[k] * re[k] + im[k] * im[k];
      if (m > best) { best = m; peak = k; }
    }
    const mag = (k) => Math.log(Math.sqrt(re[k] * re[k] + im[k] * im[k]) + 1e-20);
    let delta = 0;
    if (peak > 0 && peak < n / 2 - 1) {
      const a = mag(peak - 1), b = mag(peak), c = mag(peak + 1);
      const den = a - 2 * b + c;
      if (den !== 0) delta = Math.max(-0.5, Math.min(0.5, 0.5 * (a - c) / den));
    }
    return { dominantHz: Math.round((peak + delta) * sampleRate / n * 100) / 100, rms };
  }

  // Keeps the last second of decoded mono audio (a ring of `sampleRate` samples; a change of rate
  // starts over) and counts every sample pushed.
  class AudioAnalyser {
    constructor() {
      this.sampleRate = 0;
      this.ring = new Float32Array(0);
      this.pos = 0;
      this.filled = 0;
      this.samplesReceived = 0;
    }

    // `frames` mono samples as floats in [-1, 1].
    push(mono, sampleRate) {
      if (sampleRate !== this.sampleRate) {
        this.sampleRate = sampleRate;
        this.ring = new Float32Array(Math.max(1, Math.round(sampleRate)));
        this.pos = 0;
        this.filled = 0;
      }
      this.samplesReceived += mono.length;
      const ring = this.ring, n = ring.length;
      for (let i = 0; i < mono.length; i++) {
        ring[this.pos] = mono[i];
        this.pos = this.pos + 1 === n ? 0 : this.pos + 1;
      }
      this.filled = Math.min(n, this.filled + mono.length);
    }

    // Interleaved int16 (channelCount channels) → mono floats, then push.
    pushInt16(samples, channelCount, sampleRate) {
      const ch = Math.max(1, channelCount | 0);
      const frames = Math.floor(samples.length / ch);
      const mono = new Float32Array(frames);
      for (let f = 0; f < frames; f++) {
        let s = 0;
        for (let c = 0; c < ch; c++) s += samples[f * ch + c];
        mono[f] = s / ch / 32768;
      }
      this.push(mono, sampleRate);
    }

    lastSecond() {
      const out = new Float32Array(this.filled);
      const n = this.ring.length;
      let start = this.pos - this.filled;
      if (start < 0) start += n;
      for (let i = 0; i < this.filled; i++) out[i] = this.ring[(start + i) % n];
      return out;
    }

    info() {
      const a = analyseSamples(this.lastSecond(), this.sampleRate);
      return { samplesReceived: this.samplesReceived, sampleRate: this.sampleRate || null, dominantHz: a.dominantHz, rms: a.rms };
    }
  }

  // ---- handles and ops ---------------------------------------------------------------------------
  // createMediaOps({getPc, emit, mkErr, hooks}) → {ops, onTrack(pcHandle, event), transceiversOf(pcHandle),
  // closePc(pcHandle), closeAll()}
  //   getPc(handle) → RTCPeerConnection (throws NotFoundError); emit(event); mkErr(name, message) → Error.
  function createMediaOps({ getPc, emit, mkErr, hooks }) {
    const byHandle = new Map();     // "t1" → record
    const byTransceiver = new Map();  // RTCRtpTransceiver → record
    const senderHandles = new Map();  // RTCRtpSender → "s1"
    const senderByHandle = new Map();  // "s1" → RTCRtpSender
    let nextT = 1, nextS = 1;

    function senderHandle(sender) {
      if (!sender) return null;
      let h = senderHandles.get(sender);
      if (!h) { h = `s${nextS++}`; senderHandles.set(sender, h); senderByHandle.set(h, sender); }
      return h;
    }

    function record(pcHandle, t) {
      let rec = byTransceiver.get(t);
      if (!rec) {
        rec = { handle: `t${nextT++}`, pc: pcHandle, t, sources: [], analyser: null, analysedTrack: null };
        byTransceiver.set(t, rec);
        byHandle.set(rec.handle, rec);
      }
      return rec;
    }

    // W3C: a transceiver's kind is its receiver track's kind.
    const kindOf = (t) => (t.receiver && t.receiver.track ? t.receiver.track.kind : (t.sender && t.sender.track ? t.sender.track.kind : null));

    function describe(rec) {
      const t = rec.t;
      return {
        transceiver: rec.handle,
        sender: senderHandle(t.sender),
        mid: t.mid ?? null,
        kind: kindOf(t),
        direction: t.direction,
        currentDirection: t.currentDirection ?? null,
      };
    }

    function getRec(h) {
      const rec = typeof h === 'string' ? byHandle.get(h) : undefined;
      if (!rec) throw mkErr('NotFoundError', `unknown transceiver handle ${JSON.stringify(h)}`);
      return rec;
    }

    // The record of the transceiver whose sender has handle h (mediaControl's `sender` argument).
    function getSenderRec(h) {
      const sender = typeof h === 'string' ? senderByHandle.get(h) : undefined;
      if (!sender) throw mkErr('NotFoundError', `unknown sender handle ${JSON.stringify(h)}`);
      for (const rec of byHandle.values()) if (rec.t.sender === sender) return rec;
      throw mkErr('NotFoundError', `sender ${h} belongs to no known transceiver`);
    }

    function stopSources(rec) {
      for (const s of rec.sources) { try { s.stop(); } catch (e) { /* already stopped */ } }
      rec.sources = [];
    }

    // A method the implementation may lack: NotSupportedError (DRIVER_PROTOCOL, unknown op) instead
    // of a TypeError from calling undefined.
    function need(obj, method, op) {
      if (!obj || typeof obj[method] !== 'function') throw mkErr('NotSupportedError', `${op}: this implementation has no ${method}()`);
    }

    // setCodecPreferences' {mimeType, clockRate} list → the implementation's own
    // RTCRtpReceiver.getCapabilities(kind).codecs entries (W3C §5.4: each codec must match one of
    // them, fmtp line included, so the full entries are passed), in the requested order. A mimeType
    // and clockRate matching several entries (e.g. VP9 profiles) keeps all of them. The
    // retransmission entries (video/rtx) are appended when the list names video codecs but no rtx:
    // libwebrtc negotiates RTX only for codecs whose rtx is in the preferences, and refrtc's native
    // driver keeps RTX with each preferred codec, so the list means the same on every driver. A
    // pair matching no capability is passed through as given, so the implementation raises its own
    // error (InvalidModificationError).
    function codecEntries(kind, wanted) {
      if (!Array.isArray(wanted)) throw mkErr('TypeError', 'codecs must be an array');
      if (wanted.length === 0) return [];
      const caps = hooks.codecCapabilities ? hooks.codecCapabilities(kind) : null;
      const all = caps && Array.isArray(caps.codecs) ? caps.codecs : [];
      const isRtx = (c) => /\/rtx$/i.test(c.mimeType || '');
      const out = [];
      let namesRtx = false;
      for (const w of wanted) {
        if (!w || typeof w.mimeType !== 'string') throw mkErr('TypeError', 'each codec needs a mimeType');
        if (isRtx(w)) namesRtx = true;
        const matches = all.filter((c) => typeof c.mimeType === 'string' && c.mimeType.toLowerCase() === w.mimeType.toLowerCase() &&
          (w.clockRate === undefined || w.clockRate === null || c.clockRate === w.clockRate));
        if (matches.length === 0) out.push({ ...w });
        for (const m of matches) if (!out.includes(m)) out.push(m);
      }
      if (!namesRtx && kind === 'video' && out.some((c) => !isRtx(c) && all.includes(c))) {
        for (const c of all) if (isRtx(c) && !out.includes(c)) out.push(c);
      }
      return out;
    }

    function checkKind(kind) {
      if (kind !== 'audio' && kind !== 'video') throw mkErr('TypeError', `kind must be "audio" or "video", not ${JSON.stringify(kind)}`);
    }

    async function makeSource(kind, source) {
      const spec = parseSource(kind, source, mkErr);
      return hooks.createSource(kind, spec);
    }

    // RTCRtpTransceiverInit from the command: direction and sendEncodings pass through.
    function transceiverInit(init, src) {
      const out = {};
      if (init && typeof init === 'object') {
        if (init.direction !== undefined) out.direction = init.direction;
        if (init.sendEncodings !== undefined) out.sendEncodings = init.sendEncodings;
      }
      if (src && src.stream) out.streams = [src.stream];
      return out;
    }

    // restart: a `track` event for the track already analysed (W3C §4.4.1.5: the remote side sends
    // again after a direction change) starts a fresh sink, so the measurement covers the new media.
    // Chromium needs it: a WebAudio sink of a remote track that was muted reads silence after unmute.
    function startAnalysis(rec, track, restart = false) {
      if (!track) return;
      if (rec.analyser && rec.analysedTrack === track && !restart) return;
      if (rec.analyser) { try { rec.analyser.stop(); } catch (e) { /* already stopped */ } }
      rec.analysedTrack = track;
      rec.analyser = hooks.analyse(track, track.kind, rec.t.receiver);
    }

    function stopRec(rec) {
      stopSources(rec);
      if (rec.analyser) { try { rec.analyser.stop(); } catch (e) { /* already stopped */ } }
    }

    const ops = {
      addTransceiver: async (cmd) => {
        const pc = getPc(cmd.pc);
        checkKind(cmd.kind);
        const src = cmd.source === undefined || cmd.source === null ? null : await makeSource(cmd.kind, cmd.source);
        let t;
        try {
          t = src ? pc.addTransceiver(src.track, transceiverInit(cmd.init, src)) : pc.addTransceiver(cmd.kind, transceiverInit(cmd.init, null));
        } catch (e) {
          if (src) src.stop();
          throw e;
        }
        const rec = record(cmd.pc, t);
        if (src) rec.sources.push(src);
        return describe(rec);
      },

      // W3C addTrack: reuses a transceiver of that kind that has never sent (e.g. one a remote offer
      // created), else makes a new sendrecv one.
      addTrack: async (cmd) => {
        const pc = getPc(cmd.pc);
        checkKind(cmd.kind);
        const src = await makeSource(cmd.kind, cmd.source === undefined ? (cmd.kind === 'audio' ? 'silence' : 'pattern') : cmd.source);
        let t;
        try {
          const sender = src.stream ? pc.addTrack(src.track, src.stream) : pc.addTrack(src.track);
          t = pc.getTransceivers().find((x) => x.sender === sender);
          if (!t) throw mkErr('OperationError', 'addTrack: no transceiver has the returned sender');
        } catch (e) {
          src.stop();
          throw e;
        }
        const rec = record(cmd.pc, t);
        rec.sources.push(src);
        return describe(rec);
      },

      getTransceivers: async (cmd) => {
        const pc = getPc(cmd.pc);
        return { transceivers: pc.getTransceivers().map((t) => describe(record(cmd.pc, t))) };
      },

      // ---- feature mediaControl (docs/DRIVER_PROTOCOL.md, refrtc extension) ----
      // W3C webrtc-pc §5.4: RTCRtpTransceiver.direction setter (TypeError for an unknown value,
      // InvalidStateError once stopping).
      setDirection: async (cmd) => {
        const rec = getRec(cmd.transceiver);
        rec.t.direction = cmd.direction;
        // Some implementations ignore an invalid enum value silently (WebIDL says the setter does
        // nothing); the protocol wants the TypeError the native driver gives.
        if (rec.t.direction !== cmd.direction) throw mkErr('TypeError', `invalid direction ${JSON.stringify(cmd.direction)}`);
        return {};
      },

      // W3C §5.4 stop(): the sender stops sending, the receiver track ends; negotiation is needed.
      stopTransceiver: async (cmd) => {
        const rec = getRec(cmd.transceiver);
        need(rec.t, 'stop', 'stopTransceiver');
        rec.t.stop();
        stopSources(rec);
        return {};
      },

      // W3C §5.2 replaceTrack(withTrack): a new synthetic source (or null) on the same sender, no
      // renegotiation; the old source stops once the replacement is in place.
      replaceTrack: async (cmd) => {
        const rec = getSenderRec(cmd.sender);
        need(rec.t.sender, 'replaceTrack', 'replaceTrack');
        const kind = kindOf(rec.t);
        const src = cmd.source === undefined || cmd.source === null ? null : await makeSource(kind, cmd.source);
        try {
          await rec.t.sender.replaceTrack(src ? src.track : null);
        } catch (e) {
          if (src) src.stop();
          throw e;
        }
        stopSources(rec);
        if (src) rec.sources.push(src);
        return {};
      },

      // W3C §4.4.1 removeTrack(sender): the sender's track becomes null and the transceiver stops
      // sending (direction sendrecv → recvonly, sendonly → inactive) after negotiation.
      removeTrack: async (cmd) => {
        const pc = getPc(cmd.pc);
        const rec = getSenderRec(cmd.sender);
        need(pc, 'removeTrack', 'removeTrack');
        pc.removeTrack(rec.t.sender);
        stopSources(rec);
        return {};
      },

      // W3C §5.4 setCodecPreferences(codecs), see codecEntries.
      setCodecPreferences: async (cmd) => {
        const rec = getRec(cmd.transceiver);
        need(rec.t, 'setCodecPreferences', 'setCodecPreferences');
        const kind = kindOf(rec.t);
        rec.t.setCodecPreferences(codecEntries(kind, cmd.codecs === undefined ? [] : cmd.codecs));
        return {};
      },

      // What the sink of the receiver's track measured (analysis starts at the `track` event, or here).
      getTrackInfo: async (cmd) => {
        const rec = getRec(cmd.transceiver);
        const track = rec.t.receiver ? rec.t.receiver.track : null;
        if (!track) throw mkErr('InvalidStateError', `transceiver ${rec.handle} has no receiver track`);
        startAnalysis(rec, track);
        const info = await rec.analyser.info();
        return { kind: track.kind, mid: rec.t.mid ?? null, track: track.id, ...info };
      },
    };

    return {
      ops,
      transceiversOf: (pcHandle, pc) => pc.getTransceivers().map((t) => describe(record(pcHandle, t))),
      onTrack(pcHandle, pc, e) {
        let t = e.transceiver;
        if (!t) t = pc.getTransceivers().find((x) => x.receiver === e.receiver);
        if (!t) return;
        const rec = record(pcHandle, t);
        startAnalysis(rec, e.track, true);
        emit({
          event: 'track',
          pc: pcHandle,
          transceiver: rec.handle,
          kind: e.track.kind,
          mid: t.mid ?? null,
          streams: Array.from(e.streams || [], (s) => s.id),
          track: e.track.id,
        });
      },
      closePc(pcHandle) {
        for (const rec of byHandle.values()) if (rec.pc === pcHandle) stopRec(rec);
      },
      closeAll() {
        for (const rec of byHandle.values()) stopRec(rec);
      },
    };
  }

  // Feature `mediaControl` is advertised when the implementation has the transceiver direction
  // setter, RTCRtpSender.replaceTrack and RTCPeerConnection.removeTrack; stop() and
  // setCodecPreferences() are checked per call (NotSupportedError), so one missing method costs
  // one op, not the feature. ctors: {RTCPeerConnection, RTCRtpSender, RTCRtpTransceiver}.
  const MEDIA_CONTROL_OPS = ['setDirection', 'stopTransceiver', 'replaceTrack', 'removeTrack', 'setCodecPreferences'];
  function hasMediaControl(ctors) {
    const proto = (c) => (c && c.prototype) || null;
    const t = proto(ctors.RTCRtpTransceiver);
    const dir = t && Object.getOwnPropertyDescriptor(t, 'direction');
    return !!(dir && typeof dir.set === 'function' &&
      proto(ctors.RTCRtpSender) && typeof proto(ctors.RTCRtpSender).replaceTrack === 'function' &&
      proto(ctors.RTCPeerConnection) && typeof proto(ctors.RTCPeerConnection).removeTrack === 'function');
  }

  return { TONE_AMPLITUDE, PATTERN, MEDIA_CONTROL_OPS, parseSource, fft, analyseSamples, AudioAnalyser, createMediaOps, hasMediaControl };
});
