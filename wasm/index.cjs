'use strict';
// CommonJS entry (Node). The classes are exported synchronously, but the WebAssembly core loads
// asynchronously: `await require('refrtc').ready` before constructing anything (the constructors
// throw an InvalidStateError DOMException with a clear message until then). The ES module entry
// (index.mjs) awaits it for you.
const api = require('./lib/api.js');
const { createNodeHost } = require('./lib/node_host.js');

const core = api._core;
core.settings.hosts.node = createNodeHost;
core.settings.defaultHost = 'node';
// REFRTC_CORE (testing only): path of an alternative core module with the same interface.
core.setCoreFactory(() => {
  // Emscripten's Node glue installs process-wide 'uncaughtException' / 'unhandledRejection'
  // handlers that rethrow (and print the whole single-line core). A library must not change the
  // application's error handling: remove whatever the core's instantiation added.
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = events.map((e) => process.listeners(e));
  const strip = () => events.forEach((e, i) => {
    for (const l of process.listeners(e)) if (!before[i].includes(l)) process.removeListener(e, l);
  });
  const p = require(process.env.REFRTC_CORE || './dist/refrtc_core.cjs')();
  strip();
  return Promise.resolve(p).then((c) => { strip(); return c; });
});

const exported = { ...api };
delete exported._core;
exported.ready = core.load();
module.exports = exported;
