'use strict';
// Loads the embind core (dist/refrtc_core.cjs, BINDING.md) once, and holds the package-level
// settings (configure()). The W3C constructors are synchronous, so they need the core to be loaded
// already: `await ready` first (the ESM entries do it with top-level await).

let factory = null;      // () => Promise<core>
let core = null;
let readyPromise = null;
let loadError = null;

const settings = {
  relay: null,           // { url, token, WebSocket? } → every new RTCPeerConnection uses ws_host
  defaultHost: null,     // 'node' | 'relay' (set by the entry point)
  hosts: {},             // name → (pc, settings) => host; registered by the entry point
};

function setCoreFactory(f) { factory = f; }

function load() {
  if (!readyPromise) {
    readyPromise = Promise.resolve()
      .then(() => {
        if (!factory) throw new Error('refrtc: no core factory registered');
        return factory();
      })
      .then((c) => { core = c; return undefined; }, (e) => { loadError = e; throw e; });
    // An application that never awaits `ready` must not die of an unhandled rejection here; the
    // error is rethrown by `ready` and by the constructors.
    readyPromise.catch(() => {});
  }
  return readyPromise;
}

function getCore() {
  if (core) return core;
  if (loadError) {
    throw new DOMException(`refrtc: the WebAssembly core failed to load: ${loadError.message}`,
      'InvalidStateError');
  }
  throw new DOMException('refrtc: the WebAssembly core is not loaded yet; ' +
    "`await require('refrtc').ready` (CommonJS) before using the API, or import the ES module " +
    'entry, which waits for it', 'InvalidStateError');
}

// configure({ relay: { url: 'ws://127.0.0.1:8787/v1', token: '…', WebSocket? } | null })
function configure(options = {}) {
  if (!options || typeof options !== 'object') throw new TypeError('configure: options must be an object');
  if ('relay' in options) {
    const r = options.relay;
    if (r === null || r === undefined) {
      settings.relay = null;
    } else {
      if (typeof r !== 'object' || typeof r.url !== 'string') {
        throw new TypeError('configure: relay.url must be a string (ws://HOST:PORT/v1)');
      }
      settings.relay = { url: r.url, token: r.token === undefined ? undefined : String(r.token),
        WebSocket: r.WebSocket };
    }
  }
  return { relay: settings.relay ? { url: settings.relay.url } : null };
}

module.exports = { setCoreFactory, load, getCore, settings, configure };
