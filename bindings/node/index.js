// The npm package `fleetpath`: the Rust core's native addon (native.js loads it) behind the
// API both fleetpath packages share (bindings/js-common/api.mjs, written here as api.js).
'use strict';

const { isUtf8 } = require('node:buffer');
const { wrapApi } = require('./api.js');

// A manifest or fleet read from a file or an S3 body is bytes: the addon reads them in place
// (checked as UTF-8 first), where a string would be decoded and then copied out again.
const textBytes = ['UpgradeGraph.load', 'Fleet.load'];

module.exports = wrapApi(require('./native.js'), require('./errors.js'), { isUtf8, textBytes });
