// Where the suite runs: a browser page. run.mjs bundles the suite with this file in place of
// bindings/js-tests/env.mjs; the page is served from the repository root.
//
// `fleetpath-under-test` is resolved by run.mjs to the package's URL and left out of the bundle,
// so the package fetches its .wasm next to itself, as on a real site. Its default export is the
// counterpart of require(): one object holding every export.
import * as arrow from 'apache-arrow';
import fp from 'fleetpath-under-test';

export { arrow, fp };
export const ROOT = '';

/** A file of the repository (a path relative to its root), as text. */
export function readText(path) {
  // Synchronous, because the suite reads its vectors at the top of a module, as with readFileSync.
  const xhr = new XMLHttpRequest();
  xhr.open('GET', `/${path}`, false);
  xhr.overrideMimeType('text/plain; charset=utf-8');
  xhr.send();
  if (xhr.status !== 200) throw new Error(`cannot read ${path} from the test server: HTTP ${xhr.status}`);
  return xhr.responseText;
}
