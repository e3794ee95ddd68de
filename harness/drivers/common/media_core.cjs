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
//   hooks.analyse(track, kind, receiver, {onDtmf}) → {info() → object | promise, stop()}
//       audio info: {samplesReceived, sampleRate, dominantHz, rms}; video: {framesReceived, width, height}
//       onDtmf(tone, durationMs): a received DTMF digit (feature `dtmfReceive`, when hooks.dtmfReceive
//       is true); the drivers of libwebrtc call it from a DtmfDetector over the decoded audio
//       (AudioAnalyser does that when given onDtmf), refrtc's WASM driver from its engine's events.
//   hooks.dtmfReceive: true when analyse() reports received digits through onDtmf.
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
  // onDtmf(tone, durationMs), optional: also run a DtmfDetector over the samples.
  class AudioAnalyser {
    constructor(onDtmf) {
      this.dtmf = typeof onDtmf === 'function' ? new DtmfDetector(onDtmf) : null;
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
      if (this.dtmf) this.dtmf.push(mono, sampleRate);
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

  // ---- DTMF tone detection (feature `dtmfReceive` of the libwebrtc drivers) -------------------------
  // The W3C API has no receive side for RFC 4733 events, but libwebrtc's NetEq plays a received
  // telephone-event out as the DTMF tone pair (its DtmfToneGenerator), in place of the decoded audio.
  // So wrtc and Chromium report `dtmf` events by detecting those tones in the decoded audio their sink
  // sees: what is measured is the PLAYOUT, not the RFC 4733 event, and its duration is what NetEq
  // played, not the event's (Chromium 156 and wrtc 0.10.0 receiving): from a Chromium sender much
  // shorter than the event — 40 ms → ≈ 25–45 ms, 100 → ≈ 25–45 with some digits not played at all,
  // 200 → ≈ 45–75, 300 → ≈ 55–85, 1000 → ≈ 200 ms — and from refrtc each event until the next one
  // starts (≈ duration + gap). So scenarios send 300 ms tones and check durations loosely.
  //
  // ITU-T Q.23 frequencies: a digit is one row (low group) plus one column (high group) tone.
  const DTMF_ROWS = [697, 770, 852, 941];
  const DTMF_COLS = [1209, 1336, 1477, 1633];
  const DTMF_KEYS = ['123A', '456B', '789C', '*0#D'];
  const DTMF_WINDOW_MS = 20;     // Goertzel window: 50 Hz bins, enough to part 697 from 770 Hz
  const DTMF_HOP_MS = 10;        // a decision every 10 ms (windows overlap by half)
  const DTMF_MIN_AMP = 0.01;     // each tone's amplitude (of full scale, −40 dBFS) at least
  const DTMF_TWIST_DB = 8;       // row and column power within 8 dB of each other (Q.24-style twist)
  const DTMF_GROUP_DB = 8;       // the strongest tone of a group 8 dB above the group's others
  const DTMF_TONE_SHARE = 0.6;   // the two tones carry ≥ 60 % of the window's energy
  // A digit is on after 2 of 3 decisions saw it (≥ 30 ms of signal) …
  const DTMF_OFF_HOPS = 4;       // … and off after 4 decisions without it (a ≤ 30 ms dropout is bridged);
  const DTMF_MERGE_HOPS = 25;    // the same digit again within 250 ms of its end continues it

  // Goertzel power of `freq` over x[off..off+n) (rectangular window), normalised so a sine of
  // amplitude a gives about a² (whatever n).
  function goertzelPower(x, off, n, freq, sampleRate) {
    const w = 2 * Math.cos(2 * Math.PI * freq / sampleRate);
    let s1 = 0, s2 = 0;
    for (let i = 0; i < n; i++) {
      const s0 = x[off + i] + w * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    const p = s1 * s1 + s2 * s2 - w * s1 * s2;
    return 4 * p / (n * n);
  }

  // The digit in one window, or null: the strongest row and column tones must each reach
  // DTMF_MIN_AMP, stand DTMF_GROUP_DB above the other tones of their group, be within DTMF_TWIST_DB
  // of each other, and carry DTMF_TONE_SHARE of the window's energy (speech or a single tone fails).
  function classifyDtmf(x, off, n, sampleRate) {
    let energy = 0;
    for (let i = 0; i < n; i++) energy += x[off + i] * x[off + i];
    energy /= n;  // mean square; a sine of amplitude a has a²/2
    if (energy < DTMF_MIN_AMP * DTMF_MIN_AMP) return null;
    const best = (freqs) => {
      const p = freqs.map((f) => goertzelPower(x, off, n, f, sampleRate));
      let k = 0;
      for (let i = 1; i < p.length; i++) if (p[i] > p[k]) k = i;
      const ratio = Math.pow(10, DTMF_GROUP_DB / 10);
      for (let i = 0; i < p.length; i++) if (i !== k && p[i] * ratio > p[k]) return null;
      return { k, p: p[k] };
    };
    const row = best(DTMF_ROWS);
    if (!row) return null;
    const col = best(DTMF_COLS);
    if (!col) return null;
    const minP = DTMF_MIN_AMP * DTMF_MIN_AMP;
    if (row.p < minP || col.p < minP) return null;
    const twist = Math.pow(10, DTMF_TWIST_DB / 10);
    if (row.p > col.p * twist || col.p > row.p * twist) return null;
    if ((row.p + col.p) / 2 < DTMF_TONE_SHARE * energy) return null;
    return DTMF_KEYS[row.k][col.k];
  }

  // Streaming detector: push() mono float samples; onTone(tone, durationMs) is called once per
  // detected digit, DTMF_MERGE_HOPS decisions after it ends (or at flush()). The duration counts the
  // decisions that saw the digit (DTMF_HOP_MS each) plus one window less one and a half hops, so a
  // steady tone of L ms reads L ± 5 ms (synthetic tones, 30–500 ms, at 16/44.1/48 kHz); it comes from
  // the sample count, not the wall clock. A change of sample rate starts over.
  //
  // Why the merge: NetEq's playout of one event is not always one clean burst — seen with refrtc as
  // the sender, a tone that stops for ≈ 40–60 ms (its expand/merge operations at the event's end)
  // and comes back for 20–40 ms; and a short replay (≈ 25 ms) up to ≈ 150 ms after the end, when
  // one of the three RFC 4733 end packets — sent at the update interval, §2.5.1.4 — arrives after
  // NetEq finished the event (libwebrtc itself sends its three back to back). The same digit twice
  // with a played gap under 250 ms therefore reads as one digit; with libwebrtc senders the played gaps are ≈ 250 ms, and refrtc's events are played
  // back to back (no gap at all), so nothing separable is lost.
  class DtmfDetector {
    constructor(onTone) {
      this.onTone = onTone;
      this.sampleRate = 0;
      this.buf = new Float32Array(0);
      this.fill = 0;
      this.current = null;  // digit being reported
      this.onCount = 0;     // decisions that saw `current`
      this.miss = 0;        // consecutive decisions without it
      this.prev1 = null;    // the last two decisions
      this.prev2 = null;
      this.held = null;     // {tone, count, age}: an ended digit not reported yet (merge window)
    }

    reset(sampleRate) {
      this.flush();
      this.sampleRate = sampleRate;
      this.win = Math.max(8, Math.round(sampleRate * DTMF_WINDOW_MS / 1000));
      this.hop = Math.max(4, Math.round(sampleRate * DTMF_HOP_MS / 1000));
      this.buf = new Float32Array(this.win);
      this.fill = 0;
      this.prev1 = this.prev2 = null;
    }

    push(mono, sampleRate) {
      if (!(sampleRate > 0)) return;
      if (sampleRate !== this.sampleRate) this.reset(sampleRate);
      let i = 0;
      while (i < mono.length) {
        const take = Math.min(this.win - this.fill, mono.length - i);
        this.buf.set(mono.subarray ? mono.subarray(i, i + take) : mono.slice(i, i + take), this.fill);
        this.fill += take;
        i += take;
        if (this.fill === this.win) {
          this.decide(classifyDtmf(this.buf, 0, this.win, this.sampleRate));
          this.buf.copyWithin(0, this.hop);
          this.fill = this.win - this.hop;
        }
      }
    }

    // Hysteresis over the per-window decisions. A digit starts when two of the last three decisions
    // saw it (so one window of onset transient, e.g. a row tone leaking into its neighbour while
    // NetEq switches from speech to the tone, does not cost the digit); it ends after DTMF_OFF_HOPS
    // decisions without it, or when another digit is seen twice in a row. A decision without the
    // current digit inside the tone counts toward its duration once the digit returns.
    decide(digit) {
      if (this.held && ++this.held.age > DTMF_MERGE_HOPS) this.report();
      const prev1 = this.prev1, prev2 = this.prev2;
      this.prev2 = prev1;
      this.prev1 = digit;
      if (this.current !== null) {
        if (digit === this.current) { this.onCount += 1 + this.miss; this.miss = 0; return; }
        this.miss += 1;
        const other = digit !== null && digit === prev1;
        if (this.miss < DTMF_OFF_HOPS && !other) return;
        this.end();
        if (other) { this.begin(digit, 2); return; }
      }
      if (digit !== null && (digit === prev1 || digit === prev2)) this.begin(digit, digit === prev2 ? 3 : 2);
    }

    begin(digit, count) {
      if (this.held && this.held.tone !== digit) this.report();
      this.current = digit;
      this.onCount = count;
      if (this.held) { this.onCount += this.held.count; this.held = null; }
      this.miss = 0;
      this.prev1 = this.prev2 = null;
    }

    report() {
      const h = this.held;
      this.held = null;
      if (h) this.onTone(h.tone, h.count * DTMF_HOP_MS + (DTMF_WINDOW_MS - DTMF_HOP_MS) - DTMF_HOP_MS / 2);
    }

    end() {
      const tone = this.current, n = this.onCount;
      this.current = null;
      this.onCount = 0;
      this.miss = 0;
      if (tone === null) return;
      if (this.held) this.report();
      this.held = { tone, count: n, age: 0 };
    }

    flush() {
      if (this.current !== null) this.end();
      this.report();
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

    // The sender's RTCDTMFSender (W3C §7.1: null for a video sender — the protocol's
    // InvalidStateError), with its `tonechange` forwarded once per sender.
    const dtmfWatched = new Set();
    function dtmfOf(rec, handle) {
      const sender = rec.t.sender;
      if (!sender || !('dtmf' in sender)) throw mkErr('NotSupportedError', 'this implementation\'s RTCRtpSender has no dtmf');
      const dtmf = sender.dtmf;
      if (!dtmf) throw mkErr('InvalidStateError', `sender ${handle} has no RTCDTMFSender (sender.dtmf is null: not audio)`);
      if (!dtmfWatched.has(dtmf)) {
        dtmfWatched.add(dtmf);
        dtmf.addEventListener('tonechange', (e) => emit({ event: 'tonechange', pc: rec.pc, sender: handle, tone: e.tone }));
      }
      return dtmf;
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
      const onDtmf = (tone, duration) => emit({ event: 'dtmf', pc: rec.pc, transceiver: rec.handle, tone, duration: Math.round(duration) });
      rec.analyser = hooks.analyse(track, track.kind, rec.t.receiver, { onDtmf });
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

      // ---- feature dtmf (docs/DRIVER_PROTOCOL.md): W3C webrtc-pc §7 RTCDTMFSender ----
      // insertDTMF(tones, duration, interToneGap) on the sender's `dtmf`; the implementation's own
      // errors pass through by name (InvalidStateError when canInsertDTMF is false — recvonly /
      // inactive / stopped — InvalidCharacterError for a tone outside 0-9 A-D # * ,). Arguments that
      // are absent keep the W3C defaults (100 ms, 70 ms); clamping to 40–6000 ms / ≥ 30 ms is the
      // implementation's. The first call on a sender starts forwarding its `tonechange` events.
      insertDTMF: async (cmd) => {
        const rec = getSenderRec(cmd.sender);
        const dtmf = dtmfOf(rec, cmd.sender);
        // WebIDL: an undefined optional argument takes its default.
        dtmf.insertDTMF(String(cmd.tones ?? ''), cmd.duration ?? undefined, cmd.interToneGap ?? undefined);
        return {};
      },

      // refrtc op getDTMF: the sender's RTCDTMFSender attributes.
      getDTMF: async (cmd) => {
        const rec = getSenderRec(cmd.sender);
        const dtmf = dtmfOf(rec, cmd.sender);
        return { toneBuffer: dtmf.toneBuffer, canInsertDTMF: dtmf.canInsertDTMF };
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

  // Feature `dtmf` (insertDTMF, getDTMF, `tonechange`): the implementation has RTCDTMFSender.
  const DTMF_OPS = ['insertDTMF', 'getDTMF'];
  function hasDtmf(ctors) {
    return !!ctors && typeof ctors.RTCDTMFSender === 'function';
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

  return {
    TONE_AMPLITUDE, PATTERN, MEDIA_CONTROL_OPS, DTMF_OPS, parseSource, fft, analyseSamples, AudioAnalyser, createMediaOps, hasMediaControl,
    DtmfDetector, classifyDtmf, hasDtmf,
  };
});
