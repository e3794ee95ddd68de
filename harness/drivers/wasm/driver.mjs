#!/usr/bin/env node
// DRIVER_PROTOCOL v1 driver over refrtc's own WASM package (wasm/: the C++ stack compiled with
// emscripten, W3C classes in JS, Node host on dgram). Data channels only, like the native driver.
// The package is loaded from the repo (wasm/index.mjs), not from node_modules, so the driver always
// runs the build of this checkout.
import { createRequire } from 'node:module';
import { runW3cDriver } from '../common/w3c_driver.mjs';

const require = createRequire(import.meta.url);
const refrtc = await import('../../../wasm/index.mjs');
await refrtc.ready;
const pkg = require('../../../wasm/package.json');

runW3cDriver(refrtc, {
  name: 'wasm',
  version: pkg.version,
  // The same engine as the native driver: same features.
  features: ['stats', 'restartIce', 'rollback', 'certificates'],
  channelOptions: {},
});
