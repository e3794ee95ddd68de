// Codec-less synthetic media at the RTP level, for drivers whose implementation moves RTP packets but
// has no audio/video codecs (node-datachannel: Track.sendMessageBinary / onMessage; werift:
// MediaStreamTrack.writeRtp / onReceiveRtp). docs/DRIVER_PROTOCOL.md, "Synthetic sources":
//
//   - audio `tone:FREQ` / `silence`: a sine of amplitude 0.3 of full scale (or zeros) as G.711 µ-law
//     (PCMU, static payload type 0, 8 kHz, RFC 3551 §4.5.14), 20 ms = 160 samples per packet;
//   - video `pattern`: the 320×240 pattern refrtc's native stack sends, pre-encoded with libvpx VP8 (a 2 s
//     loop of 60 frames, key frame first) and read at startup from the generated C++ include
//     stack/src/media/vp8_pattern_frames.inc (regenerate it with refrtc_gen_vp8_pattern, see its header),
//     30 fps, packetized per RFC 7741 (payload descriptor with a 15-bit PictureID, ≤ 1100 bytes of VP8
//     data per packet, marker on the last packet of a frame).
//
// Sources are paced by the wall clock: packet k is due at start + k·period and carries timestamp
// base + k·(samples per period), so timer jitter moves packets, never the rate; a stall longer than a
// few periods skips ahead (the timestamps keep following the clock). SSRC, sequence number and
// timestamp bases are random (RFC 3550 §5.1); an implementation may rewrite SSRC and payload type.
//
// Sinks depacketize what the implementation hands over: PCMU/PCMA → G.711 decode → the last second of
// samples → dominantHz / rms (media_core's FFT analysis); VP8 → frames assembled by timestamp and
// marker (tolerating loss, duplicates and reordering), framesReceived counted from the first key frame
// on, width/height from the key frame header (RFC 6386 §9.1).
//
// RTCP (RFC 3550 §6.4, RFC 4585 §6.2.1 / §6.3.1) for an implementation that leaves it to the
// application (node-datachannel without media handlers): sender reports, receiver reports with
// LSR/DLSR, PLI, generic NACK; see RtcpSession.
//
// Plain CommonJS, no dependencies outside Node's standard library and media_core.cjs.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const core = require('./media_core.cjs');

const AUDIO_RATE = 8000;
const AUDIO_PTIME_MS = 20;
const AUDIO_SAMPLES = AUDIO_RATE * AUDIO_PTIME_MS / 1000;  // 160
const VIDEO_CLOCK = 90000;
const VIDEO_FPS = 30;
const VP8_MAX_FRAGMENT = 1100;
const MAX_CATCH_UP = 10;  // periods sent at once after a stall; beyond that the source skips ahead

const PT_PCMU = 0;
const PT_PCMA = 8;

const randomU32 = () => crypto.randomBytes(4).readUInt32BE(0);
const randomU16 = () => crypto.randomBytes(2).readUInt16BE(0);

// ---- RTP (RFC 3550 §5.1) --------------------------------------------------------------------------

// → {marker, payloadType, sequenceNumber, timestamp, ssrc, payload} or null for anything that is not
// a well-formed RTP packet (version 2, header, CSRCs, extension and padding within the buffer).
function parseRtp(buf) {
  if (!buf || buf.length < 12 || (buf[0] >> 6) !== 2) return null;
  const cc = buf[0] & 0x0f;
  let off = 12 + 4 * cc;
  if (buf.length < off) return null;
  if (buf[0] & 0x10) {  // header extension: 16-bit profile, 16-bit length in words
    if (buf.length < off + 4) return null;
    off += 4 + 4 * buf.readUInt16BE(off + 2);
    if (buf.length < off) return null;
  }
  let end = buf.length;
  if (buf[0] & 0x20) {  // padding: the last octet counts the padding octets
    const pad = buf[buf.length - 1];
    if (pad === 0 || off + pad > end) return null;
    end -= pad;
  }
  return {
    marker: (buf[1] & 0x80) !== 0,
    payloadType: buf[1] & 0x7f,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(off, end),
  };
}

function buildRtp({ payloadType, sequenceNumber, timestamp, ssrc, marker, payload }) {
  const out = Buffer.alloc(12 + payload.length);
  out[0] = 0x80;
  out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  out.writeUInt16BE(sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(timestamp >>> 0, 4);
  out.writeUInt32BE(ssrc >>> 0, 8);
  payload.copy ? payload.copy(out, 12) : out.set(payload, 12);
  return out;
}

// RFC 5761 §4: with RTP and RTCP multiplexed, octet 2 in 192..223 is RTCP (payload types 64–95 are
// never used for RTP).
const isRtcp = (buf) => !!buf && buf.length >= 8 && (buf[0] >> 6) === 2 && buf[1] >= 192 && buf[1] <= 223;

// ---- G.711 (ITU-T G.711; RFC 3551 §4.5.14) ----------------------------------------------------------
const ULAW_BIAS = 0x84;
const ULAW_CLIP = 32635;

function linearToUlaw(sample) {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (sign) s = -s;
  if (s > ULAW_CLIP) s = ULAW_CLIP;
  s += ULAW_BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

const ULAW_TABLE = new Int16Array(256);
const ALAW_TABLE = new Int16Array(256);
for (let i = 0; i < 256; i++) {
  const u = ~i & 0xff;
  const mag = (((u & 0x0f) << 3) + ULAW_BIAS) << ((u >> 4) & 7);
  ULAW_TABLE[i] = (u & 0x80) ? ULAW_BIAS - mag : mag - ULAW_BIAS;
  const a = i ^ 0x55;
  const e = (a >> 4) & 7, m = a & 0x0f;
  const v = e === 0 ? (m << 4) + 8 : ((m << 4) + 0x108) << (e - 1);
  ALAW_TABLE[i] = (a & 0x80) ? v : -v;  // A-law: sign bit set = positive
}

// ---- the pre-encoded VP8 pattern ------------------------------------------------------------------

const VP8_INC = path.join(__dirname, '..', '..', '..', 'stack', 'src', 'media', 'vp8_pattern_frames.inc');
let vp8Frames = null;

// RFC 6386 §9.1: a key frame (bit 0 of the frame tag clear) has the start code 9d 01 2a after the
// 3-byte tag, then 14-bit width and height (little endian, 2 bits of scaling each).
function vp8KeyFrameSize(frame) {
  if (!frame || frame.length < 10 || (frame[0] & 1) !== 0) return null;
  if (frame[3] !== 0x9d || frame[4] !== 0x01 || frame[5] !== 0x2a) return null;
  return { width: (frame[6] | (frame[7] << 8)) & 0x3fff, height: (frame[8] | (frame[9] << 8)) & 0x3fff };
}

// The loop of kVp8PatternFrameCount frames from the generated include (byte arrays as C text).
function loadVp8Frames(file = VP8_INC) {
  if (vp8Frames && file === VP8_INC) return vp8Frames;
  const text = fs.readFileSync(file, 'utf8');
  const count = /kVp8PatternFrameCount\s*=\s*(\d+)/.exec(text);
  const sizes = /kVp8PatternFrameSizes\[\]\s*=\s*\{([^}]*)\}/.exec(text);
  const data = /kVp8PatternData\[\]\s*=\s*\{([^}]*)\}/.exec(text);
  if (!count || !sizes || !data) throw new Error(`${file}: not a VP8 pattern include`);
  const n = Number(count[1]);
  const sz = sizes[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const bytes = Buffer.from(data[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number));
  if (sz.length < n || sz.reduce((a, b) => a + b, 0) !== bytes.length) throw new Error(`${file}: frame sizes do not add up`);
  const frames = [];
  for (let i = 0, off = 0; i < n; off += sz[i], i++) frames.push(bytes.subarray(off, off + sz[i]));
  const key = vp8KeyFrameSize(frames[0]);
  if (!key || key.width !== core.PATTERN.width || key.height !== core.PATTERN.height) throw new Error(`${file}: frame 0 is not a ${core.PATTERN.width}x${core.PATTERN.height} key frame`);
  if (file === VP8_INC) vp8Frames = frames;
  return frames;
}

// RFC 7741 §4.2 payload descriptor: X=1, S on the first packet of the frame, PID 0; I=1 with M=1 and
// a 15-bit PictureID. Splits `frame` into packets of at most VP8_MAX_FRAGMENT bytes of VP8 data.
function packetizeVp8(frame, pictureId) {
  const out = [];
  for (let off = 0; off < frame.length || off === 0; off += VP8_MAX_FRAGMENT) {
    const chunk = frame.subarray(off, Math.min(frame.length, off + VP8_MAX_FRAGMENT));
    const desc = Buffer.from([0x80 | (off === 0 ? 0x10 : 0), 0x80, 0x80 | ((pictureId >> 8) & 0x7f), pictureId & 0xff]);
    out.push(Buffer.concat([desc, chunk]));
    if (frame.length === 0) break;
  }
  return out;
}

// → {start (S=1 and PID 0: the frame's first packet), data} or null (RFC 7741 §4.2).
function parseVp8Descriptor(p) {
  if (!p || p.length < 1) return null;
  let off = 1;
  const x = p[0] & 0x80, s = p[0] & 0x10, pid = p[0] & 0x07;
  if (x) {
    if (p.length < 2) return null;
    const b = p[1];
    off = 2;
    if (b & 0x80) {  // I: PictureID, 7 or 15 bits
      if (p.length < off + 1) return null;
      off += (p[off] & 0x80) ? 2 : 1;
    }
    if (b & 0x40) off += 1;            // L: TL0PICIDX
    if (b & 0x30) off += 1;            // T / K: TID, Y, KEYIDX
  }
  if (p.length < off) return null;
  return { start: !!s && pid === 0, data: p.subarray(off) };
}

// ---- sources --------------------------------------------------------------------------------------

// Base of the paced sources: `emit(k)` is called for every period k due by the wall clock.
class PacedSource {
  constructor(periodMs) {
    this.periodMs = periodMs;
    this.timer = null;
    this.stopped = true;
    this.k = 0;
  }

  start() {
    if (!this.stopped) return this;
    this.stopped = false;
    this.t0 = performance.now();
    this.k = 0;
    this.schedule();
    return this;
  }

  schedule() {
    if (this.stopped) return;
    const next = this.t0 + this.k * this.periodMs;
    this.timer = setTimeout(() => this.pump(), Math.max(0, next - performance.now()));
    if (this.timer.unref) this.timer.unref();
  }

  pump() {
    this.timer = null;
    if (this.stopped) return;
    const due = Math.floor((performance.now() - this.t0) / this.periodMs) + 1;  // periods 0..due-1 are due
    if (due - this.k > MAX_CATCH_UP) this.k = due - MAX_CATCH_UP;  // a long stall: skip ahead
    for (; this.k < due && !this.stopped; this.k++) {
      try { this.emit(this.k); } catch (e) { /* the implementation refused the packet; keep pacing */ }
    }
    this.schedule();
  }

  stop() {
    this.stopped = true;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
  }
}

// spec: media_core.parseSource's {type: 'tone', hz} | {type: 'silence'}. send(Buffer) hands one RTP
// packet to the implementation (returns false or throws when it cannot send now).
class AudioRtpSource extends PacedSource {
  constructor({ spec, send, ssrc = randomU32(), payloadType = PT_PCMU }) {
    super(AUDIO_PTIME_MS);
    this.spec = spec;
    this.send = send;
    this.ssrc = ssrc;
    this.payloadType = payloadType;
    this.seq = randomU16();
    this.tsBase = randomU32();
    this.packetsSent = 0;
    this.octetsSent = 0;
    this.lastTimestamp = this.tsBase;
    // One period of the tone's µ-law bytes is not periodic in 160 samples in general: compute per packet.
    this.step = spec.type === 'tone' ? 2 * Math.PI * spec.hz / AUDIO_RATE : 0;
  }

  emit(k) {
    const payload = Buffer.alloc(AUDIO_SAMPLES);
    const first = k * AUDIO_SAMPLES;
    for (let i = 0; i < AUDIO_SAMPLES; i++) {
      // Phase from the absolute sample index (mod one second keeps the argument small and exact).
      const v = this.step ? core.TONE_AMPLITUDE * 32767 * Math.sin(this.step * ((first + i) % (AUDIO_RATE * 1000))) : 0;
      payload[i] = linearToUlaw(v);
    }
    const timestamp = (this.tsBase + first) >>> 0;
    const pkt = buildRtp({ payloadType: this.payloadType, sequenceNumber: this.seq, timestamp, ssrc: this.ssrc, marker: k === 0, payload });
    this.seq = (this.seq + 1) & 0xffff;
    if (this.send(pkt) !== false) {
      this.packetsSent++;
      this.octetsSent += payload.length;
      this.lastTimestamp = timestamp;
    }
  }
}

// The VP8 pattern at 30 fps. requestKeyFrame() (PLI / FIR) makes the next frame the loop's key frame.
class VideoRtpSource extends PacedSource {
  constructor({ send, ssrc = randomU32(), payloadType = 96, history = 1024 }) {
    super(1000 / VIDEO_FPS);
    this.frames = loadVp8Frames();
    this.send = send;
    this.ssrc = ssrc;
    this.payloadType = payloadType;
    this.seq = randomU16();
    this.tsBase = randomU32();
    this.pictureId = randomU16() & 0x7fff;
    this.pos = 0;
    this.packetsSent = 0;
    this.octetsSent = 0;
    this.framesSent = 0;
    this.keyFramesSent = 0;
    this.lastTimestamp = this.tsBase;
    this.history = new Map();  // seq → packet, for NACK (RFC 4585 §6.2.1)
    this.historySize = history;
  }

  requestKeyFrame() { this.pos = 0; }

  emit(k) {
    const frame = this.frames[this.pos];
    if (this.pos === 0) this.keyFramesSent++;
    this.pos = (this.pos + 1) % this.frames.length;
    const timestamp = (this.tsBase + Math.round(k * VIDEO_CLOCK / VIDEO_FPS)) >>> 0;
    const parts = packetizeVp8(frame, this.pictureId);
    this.pictureId = (this.pictureId + 1) & 0x7fff;
    parts.forEach((payload, i) => {
      const pkt = buildRtp({ payloadType: this.payloadType, sequenceNumber: this.seq, timestamp, ssrc: this.ssrc, marker: i === parts.length - 1, payload });
      this.history.set(this.seq, pkt);
      this.history.delete((this.seq - this.historySize) & 0xffff);
      this.seq = (this.seq + 1) & 0xffff;
      if (this.send(pkt) !== false) {
        this.packetsSent++;
        this.octetsSent += payload.length;
      }
    });
    this.framesSent++;
    this.lastTimestamp = timestamp;
  }

  // Generic NACK: resend the packets still in the history (RFC 4585 §6.2.1, same SSRC and sequence
  // number when no RTX is negotiated). → how many were resent.
  retransmit(seqs) {
    let n = 0;
    for (const s of seqs) {
      const pkt = this.history.get(s & 0xffff);
      if (pkt && this.send(pkt) !== false) n++;
    }
    return n;
  }
}

// ---- sinks ----------------------------------------------------------------------------------------

// Extended sequence numbers (RFC 3550 Appendix A.1, simplified): the 16-bit number nearest the last one.
class SeqTracker {
  constructor() { this.max = null; }
  extend(seq) {
    if (this.max === null) { this.max = seq; return seq; }
    let ext = (this.max & ~0xffff) | seq;
    if (ext - this.max > 0x8000) ext -= 0x10000;
    else if (this.max - ext > 0x8000) ext += 0x10000;
    if (ext > this.max) this.max = ext;
    return ext;
  }
}

// G.711 audio: decodes each packet of a known payload type in order of arrival, dropping duplicates
// and packets older than the newest one played (a jitter buffer of depth zero), into media_core's
// AudioAnalyser (last second at 8 kHz).
class AudioRtpSink {
  constructor({ payloadTypes = { [PT_PCMU]: 'PCMU', [PT_PCMA]: 'PCMA' } } = {}) {
    this.payloadTypes = payloadTypes;
    this.analyser = new core.AudioAnalyser();
    this.seqs = new SeqTracker();
    this.lastPlayed = null;
    this.packetsReceived = 0;
    this.undecodable = 0;
  }

  // rtp: parseRtp's shape (payloadType, sequenceNumber, payload).
  push(rtp) {
    this.packetsReceived++;
    const ext = this.seqs.extend(rtp.sequenceNumber);
    if (this.lastPlayed !== null && ext <= this.lastPlayed) return;
    const codec = this.payloadTypes[rtp.payloadType];
    const table = codec === 'PCMU' ? ULAW_TABLE : codec === 'PCMA' ? ALAW_TABLE : null;
    if (!table) { this.undecodable++; return; }
    this.lastPlayed = ext;
    const mono = new Float32Array(rtp.payload.length);
    for (let i = 0; i < mono.length; i++) mono[i] = table[rtp.payload[i]] / 32768;
    this.analyser.push(mono, AUDIO_RATE);
  }

  info() { return this.analyser.info(); }
}

// VP8 frames: packets grouped by RTP timestamp; a frame is complete when the packet with S=1/PID 0,
// the marked packet and every sequence number between them are present. Frames are counted from the
// first complete key frame on (a decoder cannot start before one). A frame still incomplete when 20
// newer timestamps have been seen is lost: `needKeyFrame` is set until the next key frame (the driver
// sends PLI while it is set).
class Vp8RtpSink {
  constructor() {
    this.seqs = new SeqTracker();
    this.pending = new Map();  // timestamp → {packets: Map extSeq → data, first, last, order}
    this.done = new Set();      // timestamps of completed frames (recent ones), to drop retransmissions
    this.doneOrder = [];
    this.arrivals = 0;
    this.framesReceived = 0;
    this.keyFramesReceived = 0;
    this.framesLost = 0;
    this.width = null;
    this.height = null;
    this.needKeyFrame = true;
    this.packetsReceived = 0;
  }

  push(rtp) {
    this.packetsReceived++;
    const d = parseVp8Descriptor(rtp.payload);
    if (!d) return;
    const ext = this.seqs.extend(rtp.sequenceNumber);
    const ts = rtp.timestamp >>> 0;
    if (this.done.has(ts)) return;
    let f = this.pending.get(ts);
    if (!f) {
      f = { packets: new Map(), first: null, last: null, order: this.arrivals++ };
      this.pending.set(ts, f);
    }
    f.packets.set(ext, d.data);
    if (d.start) f.first = ext;
    if (rtp.marker) f.last = ext;
    if (f.first !== null && f.last !== null && f.last >= f.first && f.packets.size >= f.last - f.first + 1) {
      const parts = [];
      for (let s = f.first; s <= f.last; s++) {
        const p = f.packets.get(s);
        if (!p) return;  // a packet outside the frame shares the timestamp: wait
        parts.push(p);
      }
      this.pending.delete(ts);
      this.markDone(ts);
      this.frame(Buffer.concat(parts));
    }
    this.expire();
  }

  markDone(ts) {
    this.done.add(ts);
    this.doneOrder.push(ts);
    if (this.doneOrder.length > 128) this.done.delete(this.doneOrder.shift());
  }

  expire() {
    for (const [ts, f] of this.pending) {
      if (this.arrivals - f.order <= 20) continue;
      this.pending.delete(ts);
      this.markDone(ts);
      this.framesLost++;
      this.needKeyFrame = true;
    }
  }

  frame(data) {
    const key = vp8KeyFrameSize(data);
    if (key) {
      this.keyFramesReceived++;
      this.width = key.width;
      this.height = key.height;
      this.needKeyFrame = false;
    }
    if (this.keyFramesReceived > 0) this.framesReceived++;
  }

  info() { return { framesReceived: this.framesReceived, width: this.width, height: this.height }; }
}

// ---- RTCP (RFC 3550 §6.4, RFC 4585 §6.1–6.3) ------------------------------------------------------

const NTP_EPOCH_OFFSET = 2208988800;  // seconds from 1900-01-01 to 1970-01-01

// Wall clock as 64-bit NTP: [seconds, fraction].
function ntpNow() {
  const ms = Date.now();
  const sec = Math.floor(ms / 1000) + NTP_EPOCH_OFFSET;
  const frac = Math.floor(((ms % 1000) / 1000) * 0x100000000);
  return [sec >>> 0, frac >>> 0];
}
const ntpMiddle = ([sec, frac]) => (((sec & 0xffff) << 16) | (frac >>> 16)) >>> 0;

function rtcpHeader(count, pt, words) {
  const b = Buffer.alloc(4);
  b[0] = 0x80 | (count & 0x1f);
  b[1] = pt;
  b.writeUInt16BE(words, 2);
  return b;
}

// Report block (RFC 3550 §6.4.1): ssrc, fraction lost, cumulative lost, extended highest sequence
// number, jitter, LSR, DLSR.
function reportBlock(r) {
  const b = Buffer.alloc(24);
  b.writeUInt32BE(r.ssrc >>> 0, 0);
  const lost = Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost | 0));
  b.writeUInt32BE((((r.fractionLost & 0xff) << 24) | (lost & 0xffffff)) >>> 0, 4);
  b.writeUInt32BE(r.extendedMax >>> 0, 8);
  b.writeUInt32BE(r.jitter >>> 0, 12);
  b.writeUInt32BE(r.lsr >>> 0, 16);
  b.writeUInt32BE(r.dlsr >>> 0, 20);
  return b;
}

function buildSr(ssrc, { ntp, rtpTimestamp, packets, octets }, reports = []) {
  const body = Buffer.alloc(24);
  body.writeUInt32BE(ssrc >>> 0, 0);
  body.writeUInt32BE(ntp[0], 4);
  body.writeUInt32BE(ntp[1], 8);
  body.writeUInt32BE(rtpTimestamp >>> 0, 12);
  body.writeUInt32BE(packets >>> 0, 16);
  body.writeUInt32BE(octets >>> 0, 20);
  const blocks = reports.slice(0, 31).map(reportBlock);
  return Buffer.concat([rtcpHeader(blocks.length, 200, 6 + 6 * blocks.length), body, ...blocks]);
}

function buildRr(ssrc, reports) {
  const body = Buffer.alloc(4);
  body.writeUInt32BE(ssrc >>> 0, 0);
  const blocks = reports.slice(0, 31).map(reportBlock);
  return Buffer.concat([rtcpHeader(blocks.length, 201, 1 + 6 * blocks.length), body, ...blocks]);
}

// RFC 3550 §6.5: a compound packet needs an SDES with CNAME.
function buildSdes(ssrc, cname) {
  const name = Buffer.from(cname, 'utf8').subarray(0, 255);
  let len = 4 + 2 + name.length + 1;
  len = (len + 3) & ~3;
  const chunk = Buffer.alloc(len);
  chunk.writeUInt32BE(ssrc >>> 0, 0);
  chunk[4] = 1;
  chunk[5] = name.length;
  name.copy(chunk, 6);
  return Buffer.concat([rtcpHeader(1, 202, len / 4), chunk]);
}

// RFC 4585 §6.3.1 PLI: PSFB (206), FMT 1.
function buildPli(senderSsrc, mediaSsrc) {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(senderSsrc >>> 0, 0);
  b.writeUInt32BE(mediaSsrc >>> 0, 4);
  return Buffer.concat([rtcpHeader(1, 206, 2), b]);
}

// A compound RTCP packet → [{type: 'sr'|'rr'|'pli'|'fir'|'nack'|'bye'|'other', ...}].
function parseRtcp(buf) {
  const out = [];
  let off = 0;
  while (off + 4 <= buf.length) {
    if ((buf[off] >> 6) !== 2) break;
    const count = buf[off] & 0x1f, pt = buf[off + 1];
    const len = 4 * (buf.readUInt16BE(off + 2) + 1);
    if (off + len > buf.length) break;
    const p = buf.subarray(off, off + len);
    const blocks = (from, n) => {
      const r = [];
      for (let i = 0; i < n && from + 24 * (i + 1) <= p.length; i++) {
        const o = from + 24 * i;
        r.push({ ssrc: p.readUInt32BE(o), fractionLost: p[o + 4], extendedMax: p.readUInt32BE(o + 8), jitter: p.readUInt32BE(o + 12), lsr: p.readUInt32BE(o + 16), dlsr: p.readUInt32BE(o + 20) });
      }
      return r;
    };
    if (pt === 200 && p.length >= 28) {
      out.push({ type: 'sr', ssrc: p.readUInt32BE(4), ntpMiddle: ((p.readUInt32BE(8) & 0xffff) << 16 | (p.readUInt32BE(12) >>> 16)) >>> 0, reports: blocks(28, count) });
    } else if (pt === 201 && p.length >= 8) {
      out.push({ type: 'rr', ssrc: p.readUInt32BE(4), reports: blocks(8, count) });
    } else if (pt === 206 && count === 1 && p.length >= 12) {
      out.push({ type: 'pli', sender: p.readUInt32BE(4), mediaSsrc: p.readUInt32BE(8) });
    } else if (pt === 206 && count === 4 && p.length >= 20) {
      const ssrcs = [];
      for (let o = 12; o + 8 <= p.length; o += 8) ssrcs.push(p.readUInt32BE(o));
      out.push({ type: 'fir', sender: p.readUInt32BE(4), ssrcs });
    } else if (pt === 205 && count === 1 && p.length >= 12) {
      const seqs = [];
      for (let o = 12; o + 4 <= p.length; o += 4) {
        const pid = p.readUInt16BE(o), blp = p.readUInt16BE(o + 2);
        seqs.push(pid);
        for (let i = 0; i < 16; i++) if (blp & (1 << i)) seqs.push((pid + i + 1) & 0xffff);
      }
      out.push({ type: 'nack', sender: p.readUInt32BE(4), mediaSsrc: p.readUInt32BE(8), seqs });
    } else if (pt === 203) {
      out.push({ type: 'bye' });
    } else {
      out.push({ type: 'other', pt, count });
    }
    off += len;
  }
  return out;
}

// RTCP for one RTP session of one m-section when the implementation has none (RFC 3550 §6): an SR
// (when sending) or RR every ~1 s (randomized 0.5–1.5 × the interval, §6.3.1) with report blocks for
// every source heard (fraction/cumulative lost, extended highest sequence number, interarrival jitter,
// LSR/DLSR from its last SR), plus SDES CNAME. Incoming SR/RR/PLI/FIR/NACK update `remote` counters
// (round-trip time from report blocks about our SSRC, §6.4.1) and call the hooks.
//   send(Buffer) → sends one RTCP packet; source: the AudioRtpSource/VideoRtpSource or null (read at each
//   report); clockRate: for jitter; hooks: {onKeyFrameRequest(), onNack(seqs)}
class RtcpSession {
  constructor({ send, ssrc = randomU32(), cname = 'refrtc-driver', clockRate, intervalMs = 1000, getSource = () => null, hooks = {} }) {
    this.send = send;
    this.ssrc = ssrc;
    this.cname = cname;
    this.clockRate = clockRate;
    this.intervalMs = intervalMs;
    this.getSource = getSource;
    this.hooks = hooks;
    this.sources = new Map();  // remote ssrc → reception state
    this.remote = { roundTripTime: null, rttMeasurements: 0, totalRoundTripTime: 0, fractionLost: null, reportsReceived: 0, nackCount: 0, pliCount: 0, firCount: 0, retransmitted: 0 };
    this.sent = { nackCount: 0, pliCount: 0, reports: 0 };
    this.timer = null;
    this.schedule();
  }

  schedule() {
    const delay = this.intervalMs * (0.5 + Math.random());
    this.timer = setTimeout(() => { this.report(); this.schedule(); }, delay);
    if (this.timer.unref) this.timer.unref();
  }

  close() { if (this.timer) clearTimeout(this.timer); this.timer = null; }

  // An RTP packet received (parseRtp shape).
  onRtp(rtp) {
    let s = this.sources.get(rtp.ssrc);
    if (!s) {
      s = { seqs: new SeqTracker(), base: null, received: 0, expectedPrior: 0, receivedPrior: 0, jitter: 0, transit: null, lsr: 0, lsrAt: 0 };
      this.sources.set(rtp.ssrc, s);
    }
    const ext = s.seqs.extend(rtp.sequenceNumber);
    if (s.base === null || ext < s.base) s.base = ext;
    s.received++;
    // §6.4.1 / A.8 interarrival jitter in timestamp units.
    const arrival = performance.now() * this.clockRate / 1000;
    const transit = arrival - rtp.timestamp;
    if (s.transit !== null) {
      let d = Math.abs(transit - s.transit);
      if (d > 0x80000000) d = 0;  // timestamp wrap
      s.jitter += (d - s.jitter) / 16;
    }
    s.transit = transit;
  }

  // An RTCP packet received.
  onRtcp(buf) {
    for (const p of parseRtcp(buf)) {
      if (p.type === 'sr' || p.type === 'rr') {
        if (p.type === 'sr') {
          const s = this.sources.get(p.ssrc);
          if (s) { s.lsr = p.ntpMiddle; s.lsrAt = performance.now(); }
        }
        for (const r of p.reports) {
          if (r.ssrc !== this.currentSendSsrc()) continue;
          this.remote.reportsReceived++;
          this.remote.fractionLost = r.fractionLost / 256;
          if (r.lsr) {
            // §6.4.1: RTT = A − LSR − DLSR, in 1/65536 s.
            const rtt = ((ntpMiddle(ntpNow()) - r.lsr - r.dlsr) >>> 0) / 65536;
            if (rtt < 60) {
              this.remote.roundTripTime = rtt;
              this.remote.totalRoundTripTime += rtt;
              this.remote.rttMeasurements++;
            }
          }
        }
      } else if (p.type === 'pli' || p.type === 'fir') {
        if (p.type === 'pli' ? p.mediaSsrc === this.currentSendSsrc() : p.ssrcs.includes(this.currentSendSsrc())) {
          this.remote[p.type === 'pli' ? 'pliCount' : 'firCount']++;
          if (this.hooks.onKeyFrameRequest) this.hooks.onKeyFrameRequest();
        }
      } else if (p.type === 'nack' && p.mediaSsrc === this.currentSendSsrc()) {
        this.remote.nackCount++;
        if (this.hooks.onNack) this.remote.retransmitted += this.hooks.onNack(p.seqs) || 0;
      }
    }
  }

  currentSendSsrc() {
    const src = this.getSource();
    return src ? src.ssrc : this.ssrc;
  }

  reportBlocks() {
    const now = performance.now();
    const out = [];
    for (const [ssrc, s] of this.sources) {
      if (s.base === null) continue;
      const expected = s.seqs.max - s.base + 1;
      const lost = expected - s.received;
      const expInt = expected - s.expectedPrior, recInt = s.received - s.receivedPrior;
      s.expectedPrior = expected;
      s.receivedPrior = s.received;
      const lostInt = expInt - recInt;
      out.push({
        ssrc,
        fractionLost: expInt === 0 || lostInt <= 0 ? 0 : Math.min(255, Math.floor((lostInt << 8) / expInt)),
        cumulativeLost: lost,
        extendedMax: s.seqs.max,
        jitter: Math.round(s.jitter),
        lsr: s.lsr,
        dlsr: s.lsr ? Math.round((now - s.lsrAt) * 65.536) : 0,
      });
    }
    return out;
  }

  report() {
    const src = this.getSource();
    const blocks = this.reportBlocks();
    let first;
    const ssrc = src ? src.ssrc : this.ssrc;
    if (src && src.packetsSent > 0) {
      first = buildSr(ssrc, { ntp: ntpNow(), rtpTimestamp: src.lastTimestamp, packets: src.packetsSent, octets: src.octetsSent }, blocks);
    } else if (blocks.length > 0) {
      first = buildRr(ssrc, blocks);
    } else {
      return;
    }
    try {
      if (this.send(Buffer.concat([first, buildSdes(ssrc, this.cname)])) !== false) this.sent.reports++;
    } catch (e) { /* not open yet */ }
  }

  requestKeyFrame(mediaSsrc) {
    try {
      const src = this.getSource();
      if (this.send(buildPli(src ? src.ssrc : this.ssrc, mediaSsrc)) !== false) this.sent.pliCount++;
    } catch (e) { /* not open yet */ }
  }
}

// ---- SDP helpers (RFC 8866), enough to follow negotiation at the RTP level -------------------------

// → [{index, kind, port, mid, direction, rtpmap: {pt: 'NAME/RATE'}, ssrcs: [n], streams: [id], trackId, formats}]
// per m-section.
function parseSdpMedia(sdp) {
  const out = [];
  let cur = null;
  let sessionDir = null;
  for (const line of String(sdp || '').split(/\r?\n/)) {
    if (line.startsWith('m=')) {
      const [kind, port] = line.slice(2).split(' ');
      cur = { index: out.length, kind, port: Number(port), mid: null, direction: null, rtpmap: {}, ssrcs: [], streams: [], trackId: null, formats: line.split(' ').slice(3) };
      out.push(cur);
      continue;
    }
    const dir = /^a=(sendrecv|sendonly|recvonly|inactive)$/.exec(line);
    if (dir) { if (cur) cur.direction = dir[1]; else sessionDir = dir[1]; continue; }
    if (!cur) continue;
    let m;
    if ((m = /^a=mid:(\S+)/.exec(line))) cur.mid = m[1];
    else if ((m = /^a=rtpmap:(\d+) (\S+)/.exec(line))) cur.rtpmap[Number(m[1])] = m[2];
    else if ((m = /^a=ssrc:(\d+)/.exec(line))) { const s = Number(m[1]); if (!cur.ssrcs.includes(s)) cur.ssrcs.push(s); }
    else if ((m = /^a=msid:(\S+)(?: (\S+))?/.exec(line))) { if (m[1] !== '-') cur.streams.push(m[1]); if (m[2]) cur.trackId = m[2]; }
  }
  for (const m of out) if (!m.direction) m.direction = sessionDir || 'sendrecv';
  return out;
}

// The payload type a media section uses for codec NAME (case-insensitive, e.g. 'VP8', 'PCMU'); static
// types without an rtpmap (RFC 3551) count too.
function payloadTypeFor(media, name) {
  for (const [pt, enc] of Object.entries(media.rtpmap)) if (enc.split('/')[0].toLowerCase() === name.toLowerCase()) return Number(pt);
  const statics = { pcmu: PT_PCMU, pcma: PT_PCMA };
  const pt = statics[name.toLowerCase()];
  return pt !== undefined && media.formats.includes(String(pt)) ? pt : null;
}

const REVERSE_DIRECTION = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' };

// RFC 3264 §6.1 / RFC 8829 §5.3.1: the answer direction from what this side wants and what the offer says.
function intersectDirection(local, remoteOffered) {
  const canSend = (local === 'sendrecv' || local === 'sendonly') && (remoteOffered === 'sendrecv' || remoteOffered === 'recvonly');
  const canRecv = (local === 'sendrecv' || local === 'recvonly') && (remoteOffered === 'sendrecv' || remoteOffered === 'sendonly');
  return canSend && canRecv ? 'sendrecv' : canSend ? 'sendonly' : canRecv ? 'recvonly' : 'inactive';
}

module.exports = {
  AUDIO_RATE, AUDIO_SAMPLES, VIDEO_CLOCK, VIDEO_FPS, VP8_MAX_FRAGMENT, PT_PCMU, PT_PCMA,
  parseRtp, buildRtp, isRtcp,
  linearToUlaw, ULAW_TABLE, ALAW_TABLE,
  loadVp8Frames, vp8KeyFrameSize, packetizeVp8, parseVp8Descriptor,
  AudioRtpSource, VideoRtpSource, AudioRtpSink, Vp8RtpSink,
  ntpNow, ntpMiddle, buildSr, buildRr, buildSdes, buildPli, parseRtcp, RtcpSession,
  parseSdpMedia, payloadTypeFor, REVERSE_DIRECTION, intersectDirection,
  randomU32,
};
