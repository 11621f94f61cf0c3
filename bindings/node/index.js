// The npm package `fleetpath`: the Rust core's native addon (native.js loads it) behind the
// API both fleetpath packages share (bindings/js-common/api.mjs, written here as api.js).
'use strict';

const { wrapApi } = require('./api.js');

module.exports = wrapApi(require('./native.js'), require('./errors.js'));
