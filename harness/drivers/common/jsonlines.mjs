// JSON-lines plumbing shared by the JavaScript drivers (docs/DRIVER_PROTOCOL.md, "Framing").
//
// A driver module builds a table of op handlers and calls startDriver(). Each handler gets the parsed
// command and returns (or resolves to) the reply's `result` object; throwing replies with an error whose
// `name` is a DOMException/RTCError name (see toProtocolError). Events go out through emit().
// stdout carries protocol lines only; everything else goes to stderr through log().
import readline from 'node:readline';

// Names the W3C API can raise, which pass through unchanged (DRIVER_PROTOCOL "Framing" + NotFoundError).
export const DOM_ERROR_NAMES = new Set([
  'InvalidStateError', 'InvalidAccessError', 'OperationError', 'InvalidModificationError',
  'SyntaxError', 'TypeError', 'RangeError', 'NotSupportedError', 'InvalidCharacterError',
  'NotFoundError', 'NetworkError', 'DataError', 'AbortError', 'NotReadableError', 'RTCError',
]);

// libwebrtc RTCErrorType names (as wrtc reports them) → the DOMException the W3C API would raise.
const RTC_ERROR_MAP = {
  INVALID_STATE: 'InvalidStateError',
  INVALID_SESSION_DESCRIPTION: 'InvalidAccessError',
  INCOMPATIBLE_SESSION_DESCRIPTION: 'InvalidAccessError',
  INVALID_CONSTRAINTS_TYPE: 'TypeError',
  INCOMPATIBLE_CONSTRAINTS: 'OperationError',
  INVALID_CANDIDATE_TYPE: 'OperationError',
  INVALID_PARAMETER: 'InvalidAccessError',
  INVALID_RANGE: 'RangeError',
  INVALID_MODIFICATION: 'InvalidModificationError',
  UNSUPPORTED_OPERATION: 'OperationError',
  UNSUPPORTED_PARAMETER: 'OperationError',
  SYNTAX_ERROR: 'SyntaxError',
  NETWORK_ERROR: 'NetworkError',
  RESOURCE_EXHAUSTED: 'OperationError',
  OPERATION_ERROR_WITH_DATA: 'OperationError',
  INTERNAL_ERROR: 'OperationError',
};

export class DriverError extends Error {
  constructor(name, message) {
    super(message || name);
    this.name = name;
  }
}

export const notFound = (what, handle) => new DriverError('NotFoundError', `unknown ${what} handle ${JSON.stringify(handle)}`);

// Any thrown value → {"name", "message"[, "errorDetail"]}. Implementations' errors are often not
// `instanceof DOMException` (wrtc's come from a polyfill), so go by `.name`.
export function toProtocolError(e) {
  if (e === null || e === undefined) return { name: 'OperationError', message: String(e) };
  const rawName = typeof e.name === 'string' ? e.name : '';
  let name = DOM_ERROR_NAMES.has(rawName) ? rawName : RTC_ERROR_MAP[rawName];
  if (!name) name = 'OperationError';
  const out = { name, message: typeof e.message === 'string' ? e.message : String(e) };
  if (e.errorDetail) out.errorDetail = e.errorDetail;
  if (name !== rawName && rawName) out.message = `${rawName}: ${out.message}`;
  return out;
}

function writeLine(obj) {
  // Pipes are written synchronously by Node on POSIX, so lines never interleave and survive exit().
  process.stdout.write(JSON.stringify(obj) + '\n');
}

export function emit(event) { writeLine(event); }

export function log(...args) {
  process.stderr.write(`[${process.argv[1] ? process.argv[1].split('/').slice(-2).join('/') : 'driver'}] ${args.join(' ')}\n`);
}

// Starts reading commands. `ops` maps op name → async (cmd) => result. `shutdown` is handled here:
// it runs `onShutdown` (close everything), replies {} and exits 0.
export function startDriver({ ops, onShutdown }) {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let exiting = false;
  const inflight = new Set();
  // Lets commands already received reply first (bounded: a stuck sendMany must not keep us alive).
  const settle = () => Promise.race([
    Promise.allSettled([...inflight]),
    new Promise((r) => setTimeout(r, 2000).unref()),
  ]);
  const finish = async (code) => {
    if (exiting) return;
    exiting = true;
    await settle();
    try { if (onShutdown) await onShutdown(); } catch (e) { log('shutdown error:', e && e.stack); }
    process.exit(code);
  };
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    let cmd;
    try {
      cmd = JSON.parse(line);
      if (cmd === null || typeof cmd !== 'object' || Array.isArray(cmd)) throw new Error('not an object');
    } catch (e) {
      writeLine({ id: null, ok: false, error: { name: 'SyntaxError', message: `bad command line: ${e.message}` } });
      return;
    }
    const id = cmd.id === undefined ? null : cmd.id;
    if (cmd.op === 'shutdown') {
      settle().then(() => { writeLine({ id, ok: true, result: {} }); finish(0); });
      return;
    }
    const handler = typeof cmd.op === 'string' && Object.prototype.hasOwnProperty.call(ops, cmd.op) ? ops[cmd.op] : null;
    if (!handler) {
      writeLine({ id, ok: false, error: { name: 'NotSupportedError', message: `unsupported op ${JSON.stringify(cmd.op)}` } });
      return;
    }
    // Handlers run concurrently: a long sendMany never blocks other commands.
    const p = Promise.resolve()
      .then(() => handler(cmd))
      .then((result) => writeLine({ id, ok: true, result: result === undefined ? {} : result }),
        (e) => writeLine({ id, ok: false, error: toProtocolError(e) }))
      .finally(() => inflight.delete(p));
    inflight.add(p);
  });
  rl.on('close', () => finish(0));
  process.on('uncaughtException', (e) => {
    log('uncaught exception:', e && e.stack);
    emit({ event: 'log', pc: null, level: 'error', message: `uncaught exception: ${e && e.message}` });
  });
  process.on('unhandledRejection', (e) => log('unhandled rejection:', e && e.stack));
}

// Binary payloads travel as {"binary": base64}; strings as JSON strings.
export function decodeData(data) {
  if (typeof data === 'string') return data;
  if (data && typeof data === 'object' && typeof data.binary === 'string') return Buffer.from(data.binary, 'base64');
  throw new DriverError('TypeError', 'data must be a string or {"binary": base64}');
}
