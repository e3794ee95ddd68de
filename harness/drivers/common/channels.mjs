// Data-channel bookkeeping shared by the JavaScript drivers: handles, event forwarding, mute/notifyAfter
// counting, and the flow-controlled sendMany (docs/DRIVER_PROTOCOL.md, "Commands" and "Events").
// Works on any object shaped like the W3C RTCDataChannel (wrtc, node-datachannel's polyfill, werift's
// W3C-ish class, a browser's channel proxied in-page).
import crypto from 'node:crypto';
import { emit, log, DriverError, notFound, decodeData } from './jsonlines.mjs';

const INLINE_LIMIT = 64 * 1024;       // larger messages are reported as {size, sha256}
export const SEND_MANY_HIGH_WATER = 1024 * 1024;
export const SEND_MANY_LOW_THRESHOLD = 256 * 1024;
const FLOW_FALLBACK_MS = 50;           // re-read bufferedAmount if no bufferedamountlow arrives

function listen(target, type, fn) {
  if (typeof target.addEventListener === 'function') target.addEventListener(type, fn);
  else target[`on${type}`] = fn;
}

// String → UTF-8 length; binary (ArrayBuffer, view, Buffer) → byte length.
function toPayload(data) {
  if (typeof data === 'string') return { text: data, size: Buffer.byteLength(data, 'utf8') };
  if (Buffer.isBuffer(data)) return { bin: data, size: data.length };
  if (data instanceof ArrayBuffer) return { bin: Buffer.from(data), size: data.byteLength };
  if (ArrayBuffer.isView(data)) {
    const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return { bin: b, size: b.length };
  }
  return null;
}

export class ChannelTable {
  // opts.syntheticOpen: emit `open` for a channel seen in readyState "open" without an open event
  // (wrtc: negotiated channels created after SCTP is up never fire `open`).
  // opts.emulateBufferedAmountLow: the implementation has no bufferedAmountLowThreshold/bufferedamountlow
  // (wrtc); keep the threshold here and fire the event by watching bufferedAmount on a timer after sends.
  // opts.normalizeState: fn(state) → state, for implementation-specific fixes of getChannel values.
  // opts.sendManyHighWater / opts.sendManyLowThreshold: sendMany flow-control marks (werift needs a smaller
  // high-water mark: its flush is quadratic in the queue length).
  constructor(opts = {}) {
    this.next = 1;
    this.byHandle = new Map();
    this.syntheticOpen = !!opts.syntheticOpen;
    this.emulateLow = !!opts.emulateBufferedAmountLow;
    this.pollMs = this.emulateLow ? 3 : FLOW_FALLBACK_MS;
    this.normalizeState = opts.normalizeState || ((st) => st);
    this.highWater = opts.sendManyHighWater || SEND_MANY_HIGH_WATER;
    this.lowThreshold = Math.min(opts.sendManyLowThreshold || SEND_MANY_LOW_THRESHOLD, this.highWater);
  }

  // Registers a channel and starts forwarding its events. Returns the new handle.
  add(pcHandle, dc) {
    const handle = `ch${this.next++}`;
    const rec = {
      handle, pc: pcHandle, dc,
      muted: false, notifyAfter: null,
      messagesReceived: 0, bytesReceived: 0,
      openSeen: false, closed: false,
      lowWaiters: new Set(),
      threshold: 0, lowWatch: null, // used with emulateBufferedAmountLow
    };
    this.byHandle.set(handle, rec);
    listen(dc, 'open', () => this._open(rec));
    listen(dc, 'closing', () => emit({ event: 'closing', pc: rec.pc, channel: handle }));
    listen(dc, 'close', () => {
      if (rec.closed) return;
      rec.closed = true;
      this._wakeLow(rec);
      emit({ event: 'close', pc: rec.pc, channel: handle });
    });
    listen(dc, 'bufferedamountlow', () => this._low(rec));
    listen(dc, 'error', (ev) => {
      const err = (ev && ev.error) || ev || {};
      emit({
        event: 'error', pc: rec.pc, channel: handle,
        error: { name: err.name || 'OperationError', message: err.message || String(err), errorDetail: err.errorDetail || 'data-channel-failure' },
      });
    });
    listen(dc, 'message', (ev) => this._message(rec, ev.data));
    if (this.syntheticOpen) this._watchOpen(rec);
    return handle;
  }

  _open(rec) {
    if (rec.openSeen) return;
    rec.openSeen = true;
    emit({ event: 'open', pc: rec.pc, channel: rec.handle });
  }

  // Poll the readyState (a timer, not a busy loop) until the channel leaves "connecting".
  _watchOpen(rec) {
    const check = () => {
      if (rec.openSeen || rec.closed) return;
      const st = rec.dc.readyState;
      if (st === 'open') { this._open(rec); return; }
      if (st === 'connecting') setTimeout(check, 10);
    };
    setImmediate(check);
  }

  _message(rec, data) {
    let p = toPayload(data);
    if (!p && data && typeof data.arrayBuffer === 'function') {
      // Blob: its bytes are only available asynchronously; counted when they arrive.
      data.arrayBuffer().then((ab) => this._message(rec, ab), (e) => log('blob read failed', e));
      return;
    }
    if (!p) { log('unrecognised message payload type', typeof data); p = { text: String(data), size: 0 }; }
    rec.messagesReceived += 1;
    rec.bytesReceived += p.size;
    if (!rec.muted) {
      const ev = { event: 'message', pc: rec.pc, channel: rec.handle };
      if (p.size > INLINE_LIMIT) {
        ev.size = p.size;
        ev.binary = !!p.bin;
        ev.sha256 = crypto.createHash('sha256').update(p.bin || Buffer.from(p.text, 'utf8')).digest('hex');
      } else if (p.bin) {
        ev.data = { binary: p.bin.toString('base64') };
      } else {
        ev.data = p.text;
      }
      emit(ev);
    }
    this._maybeNotify(rec);
  }

  _maybeNotify(rec) {
    if (rec.notifyAfter !== null && rec.messagesReceived >= rec.notifyAfter) {
      rec.notifyAfter = null; // one `received` event per setChannel(notifyAfter)
      emit({ event: 'received', pc: rec.pc, channel: rec.handle, messages: rec.messagesReceived, bytes: rec.bytesReceived });
    }
  }

  _low(rec) {
    this._wakeLow(rec);
    emit({ event: 'bufferedamountlow', pc: rec.pc, channel: rec.handle });
  }

  _threshold(rec) { return this.emulateLow ? rec.threshold : rec.dc.bufferedAmountLowThreshold; }

  _setThreshold(rec, v) {
    if (this.emulateLow) rec.threshold = v; else rec.dc.bufferedAmountLowThreshold = v;
  }

  // Emulated bufferedamountlow: W3C fires it when bufferedAmount drops from above the threshold to at
  // or below it. bufferedAmount may lag send() until the event loop turns, so look on a timer.
  _armLowWatch(rec) {
    if (!this.emulateLow || rec.lowWatch) return;
    let wasAbove = false;
    const check = () => {
      rec.lowWatch = null;
      if (rec.closed) return;
      const above = rec.dc.bufferedAmount > rec.threshold;
      if (above) {
        wasAbove = true;
        rec.lowWatch = setTimeout(check, this.pollMs);
      } else if (wasAbove) {
        this._low(rec);
      }
    };
    rec.lowWatch = setTimeout(check, this.pollMs);
  }

  _wakeLow(rec) {
    const waiters = [...rec.lowWaiters];
    rec.lowWaiters.clear();
    for (const w of waiters) w();
  }

  get(handle) {
    const rec = typeof handle === 'string' ? this.byHandle.get(handle) : undefined;
    if (!rec) throw notFound('channel', handle);
    return rec;
  }

  forPc(pcHandle) { return [...this.byHandle.values()].filter((r) => r.pc === pcHandle); }

  state(handle) {
    const rec = this.get(handle);
    const dc = rec.dc;
    const nn = (v) => (v === undefined ? null : v);
    return this.normalizeState({
      channel: handle,
      label: dc.label,
      id: nn(dc.id),
      ordered: dc.ordered,
      maxPacketLifeTime: nn(dc.maxPacketLifeTime),
      maxRetransmits: nn(dc.maxRetransmits),
      protocol: dc.protocol || '',
      negotiated: !!dc.negotiated,
      readyState: dc.readyState,
      bufferedAmount: dc.bufferedAmount,
      bufferedAmountLowThreshold: this._threshold(rec),
      binaryType: dc.binaryType,
      messagesReceived: rec.messagesReceived,
      bytesReceived: rec.bytesReceived,
    });
  }

  set(handle, args) {
    const rec = this.get(handle);
    if (args.bufferedAmountLowThreshold !== undefined) {
      const v = Number(args.bufferedAmountLowThreshold);
      if (!Number.isInteger(v) || v < 0) throw new DriverError('TypeError', 'bufferedAmountLowThreshold must be a non-negative integer');
      this._setThreshold(rec, v);
    }
    if (args.binaryType !== undefined) {
      if (args.binaryType !== 'arraybuffer' && args.binaryType !== 'blob') {
        throw new DriverError('SyntaxError', `binaryType ${JSON.stringify(args.binaryType)}`);
      }
      rec.dc.binaryType = args.binaryType;
    }
    if (args.mute !== undefined) rec.muted = !!args.mute;
    if (args.notifyAfter !== undefined) {
      rec.notifyAfter = args.notifyAfter === null ? null : Number(args.notifyAfter);
      this._maybeNotify(rec);
    }
    return {};
  }

  send(handle, data) {
    const rec = this.get(handle);
    rec.dc.send(decodeData(data));
    this._armLowWatch(rec);
    return {};
  }

  close(handle) {
    this.get(handle).dc.close();
    return {};
  }

  _waitLow(rec) {
    return new Promise((resolve) => {
      let done = false;
      const finish = () => { if (!done) { done = true; clearTimeout(t); rec.lowWaiters.delete(finish); resolve(); } };
      const t = setTimeout(finish, this.pollMs);
      rec.lowWaiters.add(finish);
    });
  }

  // `count` messages of `size` bytes: binary message i filled with byte i % 256, string message i with
  // 'a' + i % 26. Keeps at most ~SEND_MANY_HIGH_WATER queued; waits for bufferedamountlow (threshold
  // SEND_MANY_LOW_THRESHOLD) in between. Some implementations (wrtc) update bufferedAmount only after
  // the event loop turns, so bytes sent since the last wait are counted here too.
  async sendMany(handle, size, count, binary = true) {
    const rec = this.get(handle);
    const dc = rec.dc;
    size = Number(size); count = Number(count);
    if (!Number.isInteger(size) || size < 0 || !Number.isInteger(count) || count < 0) {
      throw new DriverError('TypeError', 'size and count must be non-negative integers');
    }
    const savedThreshold = this._threshold(rec);
    this._setThreshold(rec, this.lowThreshold);
    const strings = new Map();
    const message = (i) => {
      if (binary) return Buffer.alloc(size, i % 256);
      const k = i % 26;
      let s = strings.get(k);
      if (s === undefined) {
        s = String.fromCharCode(97 + k).repeat(size);
        if (size * 26 <= 64 * 1024 * 1024) strings.set(k, s);
      }
      return s;
    };
    try {
      let sentSinceWait = 0;
      let i = 0;
      while (i < count) {
        if (dc.readyState !== 'open') {
          throw new DriverError('InvalidStateError', `channel is ${dc.readyState} after ${i} of ${count} messages`);
        }
        const queued = Math.max(dc.bufferedAmount, sentSinceWait);
        if (queued > 0 && queued + size > this.highWater) {
          await this._waitLow(rec);
          sentSinceWait = 0;
          continue;
        }
        dc.send(message(i));
        this._armLowWatch(rec);
        sentSinceWait += size;
        i += 1;
      }
    } finally {
      if (dc.readyState === 'open' || dc.readyState === 'connecting') this._setThreshold(rec, savedThreshold);
    }
    return {};
  }
}
