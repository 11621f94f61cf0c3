// The npm package `fleetpath`: the Rust core's native addon (native.js loads it) behind the
// API both fleetpath packages share (bindings/js-common/api.mjs, written here as api.js).
'use strict';

const { wrapApi } = require('./api.js');

// A manifest or fleet read from a file or an S3 body is bytes: the addon reads them in place
// (and checks them as UTF-8), where a string would be decoded and then copied out again.
const textBytes = ['UpgradeGraph.load', 'Fleet.load'];

module.exports = wrapApi(require('./native.js'), require('./errors.js'), { textBytes });
