// What every test file shares: the package under test, the shared vectors and error checks.
// Loading the package and reading repository files depend on the host: see env.mjs.
import assert from 'node:assert/strict';

import { ROOT, arrow, fp, readText } from './env.mjs';

export { ROOT, arrow, fp };

/** A vector file of testdata/, parsed. */
export function vectors(name) {
  return JSON.parse(readText(`testdata/${name}.json`));
}

/** A file of the repository, as text. */
export function text(path) {
  return readText(path);
}

/** A vector's graph: an inline one by name, the object itself, or a bundled file's text. */
export function graphSource(ref, inline = {}) {
  if (typeof ref === 'object') return ref;
  if (Object.prototype.hasOwnProperty.call(inline, ref)) return inline[ref];
  return text(ref);
}

/** Runs `fn`, which must throw the error a vector names: class, code, message and fields. */
export function assertError(fn, want, context = '') {
  let thrown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown, `${context}: expected ${want.code}, nothing was thrown`);
  assert.ok(thrown instanceof fp.FleetpathError, `${context}: ${thrown && thrown.stack}`);
  assert.equal(thrown.code, want.code, `${context}: ${thrown.message}`);
  assert.equal(thrown.constructor, fp.errorClass(want.code), context);
  if (want.message !== undefined) assert.equal(thrown.message, want.message, context);
  for (const [key, value] of Object.entries(want.fields || {})) {
    assert.deepEqual(thrown.fields[key], value, `${context}: field ${key}`);
  }
  return thrown;
}
