// Where the suite runs: Node. The browser run (bindings/wasm/browser/run.mjs) bundles the suite
// with bindings/wasm/browser/env.mjs in this file's place, so only this file touches node:*.
//
// The package is the one FLEETPATH_JS names (a path or a package name; an ES module file such
// as the WASM package's pkg/node.mjs is imported), else the Node package of this repository:
// the same files run against the Node addon and the WASM package.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const target = process.env.FLEETPATH_JS || join(ROOT, 'bindings', 'node');
/** The package under test. */
export const fp = target.endsWith('.mjs') ? (await import(pathToFileURL(resolve(target)).href)).default : require(target);

/**
 * `apache-arrow`, an optional dependency of both packages that their tests install: resolved
 * from the folder the suite runs in (the package under test).
 */
export const arrow = createRequire(join(process.cwd(), 'package.json'))('apache-arrow');

/** A file of the repository (a path relative to its root), as text. */
export function readText(path) {
  return readFileSync(join(ROOT, path), 'utf8');
}
