// The shared JS suite (bindings/js-tests/*.test.mjs), unchanged, and the WASM package's own
// tests (bindings/wasm/tests/*.test.mjs) in headless Chromium against the package for browsers:
//
//   node bindings/wasm/browser/run.mjs [--package /url/path/index.mjs]   (or FLEETPATH_WEB=...)
//
// esbuild bundles the test files with this folder's shims in place of node:test,
// node:assert/strict and js-tests/env.mjs. The package stays out of the bundle and is imported by
// URL, so it fetches its .wasm next to itself as it would on a site. One static server on
// 127.0.0.1 serves the repository root: the package, the files the tests read, and the bundle in
// target/browser-tests/. The output is node --test's TAP; exit status 1 on any failure or page error.
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import * as esbuild from 'esbuild';

import { ROOT, launch, serve } from './serve.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const SUITE = join(ROOT, 'bindings', 'js-tests');
const OUT = join(ROOT, 'target', 'browser-tests');
const { values: args } = parseArgs({ options: { package: { type: 'string' } } });
const PKG = args.package || process.env.FLEETPATH_WEB || '/bindings/wasm/pkg/index.mjs';
if (!existsSync(join(ROOT, PKG))) {
  console.log(`Bail out! ${PKG} is not in ${ROOT}: build the WASM package first`);
  process.exit(1);
}

// The shared suite, then the tests of what only the WASM package has (bindings/wasm/tests/).
const WASM_TESTS = join(HERE, '..', 'tests');
const testFiles = (dir) => readdirSync(dir).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join(dir, f));
const entries = [...testFiles(SUITE), ...testFiles(WASM_TESTS)];
const files = entries.map((f) => f.slice(f.lastIndexOf(sep) + 1));
const browserEnv = {
  name: 'browser-env',
  setup(build) {
    const shim = (file) => () => ({ path: join(HERE, file) });
    build.onResolve({ filter: /^node:test$/ }, shim('shim-node-test.mjs'));
    build.onResolve({ filter: /^node:assert\/strict$/ }, shim('shim-node-assert.mjs'));
    build.onResolve({ filter: /^\.\/env\.mjs$/ }, (a) => (a.importer === join(SUITE, 'helpers.mjs') ? shim('env.mjs')() : undefined));
    build.onResolve({ filter: /^fleetpath-under-test$/ }, () => ({ path: PKG, external: true }));
  },
};
rmSync(OUT, { recursive: true, force: true });
// Splitting puts helpers, shims and assert in shared chunks: one test registry for all files.
await esbuild.build({
  entryPoints: entries,
  outdir: OUT,
  entryNames: '[name]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'browser',
  keepNames: true,
  inject: [join(HERE, 'shim-globals.mjs')],
  plugins: [browserEnv],
  logLevel: 'warning',
});
writeFileSync(join(OUT, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>fleetpath JS suite</title>\n');

const server = await serve();

// Runs in the page: the timing first (the package's first import instantiates the wasm), then
// each file: import it (its top-level code queues its tests), run its tests.
async function inPage({ pkg, files }) {
  const seed = await (await fetch('/examples/data/seed-ip-module.json')).text();
  let timing;
  try {
    const t0 = performance.now();
    const { default: fp } = await import(pkg);
    const t1 = performance.now();
    fp.UpgradeGraph.load(seed);
    const t2 = performance.now();
    const wasm = performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm'));
    const fetched = wasm ? `, of which the .wasm's fetch ${(wasm.responseEnd - wasm.startTime).toFixed(1)} ms` : '';
    timing = `${(t2 - t0).toFixed(1)} ms (import and instantiate ${(t1 - t0).toFixed(1)} ms${fetched}; load ${(t2 - t1).toFixed(1)} ms)`;
  } catch (err) {
    timing = `failed: ${err}`;
  }
  const results = [];
  for (const file of files) {
    try {
      await import(`./${file.replace(/\.mjs$/, '.js')}`);
    } catch (err) {
      globalThis.nodeTestShim?.drop();
      results.push({ file, name: `${file} (loading)`, error: { message: String(err?.message ?? err), stack: String(err?.stack ?? '') } });
      continue;
    }
    for (const r of await globalThis.nodeTestShim.run()) results.push({ file, ...r });
  }
  return { timing, results };
}

const started = performance.now();
const pageErrors = [];
const consoleErrors = [];
const browser = await launch();
let report = { timing: 'not measured', results: [] };
try {
  const page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.stack || String(err)));
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  await page.goto(`${server.origin}/target/browser-tests/index.html`);
  report = await page.evaluate(inPage, { pkg: PKG, files });
} catch (err) {
  pageErrors.push(err.stack || String(err));
} finally {
  await browser.close();
  server.close();
}

const indent = (s, by) => s.split('\n').map((l) => by + l).join('\n');
report.results.forEach(({ file, name, error }, i) => {
  if (!error) return console.log(`ok ${i + 1} - ${name}`);
  console.log(`not ok ${i + 1} - ${name}\n  ---\n  file: ${file}\n  error: |-\n${indent(error.message, '    ')}`);
  // The frames after the message, down to the shim's runner (the page's own frames are noise).
  const at = error.stack.indexOf(error.message);
  const frames = [];
  for (const line of error.stack.slice(at < 0 ? 0 : at + error.message.length).split('\n')) {
    if (/^\s+at (async )?(Object\.run|inPage) /.test(line)) break;
    if (/^\s+at /.test(line)) frames.push(line.trim());
  }
  console.log(`  stack: |-\n${indent(frames.slice(0, 8).join('\n'), '    ')}\n  ...`);
});
for (const text of consoleErrors) console.log(`# console error: ${text}`);
for (const err of pageErrors) console.log(`# page error: ${err.split('\n').join('\n#   ')}`);
const failed = report.results.filter((r) => r.error).length;
console.log(`# instantiate+load seed manifest: ${report.timing}`);
console.log(`# tests ${report.results.length}\n# pass ${report.results.length - failed}\n# fail ${failed}`);
console.log(`# duration_ms ${(performance.now() - started).toFixed(0)}`);
process.exitCode = failed || pageErrors.length || !report.results.length ? 1 : 0;
