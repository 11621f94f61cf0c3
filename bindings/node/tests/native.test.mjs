// The addon called directly, past the package's JavaScript (Node only): what it checks again
// gives the error the package gives, in the addon's raw form (code `FLEETPATH`, the payload as
// the message), so a caller that bypasses `index.js` learns the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const fp = require('..');
const native = require('../native.js');

/** The `{code, message, fields}` an error carries: the package's class, or the addon's payload. */
function payload(call) {
  try {
    call();
  } catch (err) {
    if (err instanceof fp.FleetpathError) return { code: err.code, message: err.message, fields: err.fields };
    assert.equal(err.code, 'FLEETPATH');
    return JSON.parse(err.message);
  }
  assert.fail('no error');
}

test('bytes that are not UTF-8 are named as the package names them', () => {
  const bytes = Buffer.from([0x69, 0x64, 0xff]);
  for (const name of ['UpgradeGraph', 'Fleet']) {
    const direct = payload(() => native[name].load(bytes));
    assert.deepEqual(direct, payload(() => fp[name].load(bytes)));
    assert.equal(direct.fields.what, `${name}.load`);
  }
});
