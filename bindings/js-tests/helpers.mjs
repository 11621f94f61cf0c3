// What every test file shares: the package under test, the shared vectors and error checks.
//
// The package is the one FLEETPATH_JS names (a path or a package name), else the Node package
// of this repository: the same files run against the Node addon and the WASM package.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const target = process.env.FLEETPATH_JS || join(ROOT, 'bindings', 'node');
/** The package under test. */
export const fp = require(target);

/** A vector file of testdata/, parsed. */
export function vectors(name) {
  return JSON.parse(readFileSync(join(ROOT, 'testdata', `${name}.json`), 'utf8'));
}

/** A file of the repository, as text. */
export function text(path) {
  return readFileSync(join(ROOT, path), 'utf8');
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
