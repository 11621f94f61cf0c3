// Builds the static dashboard into examples/dashboard/dist/ (any static host serves it):
//   app.js            src/*.mjs with Chart.js and @viz-js/viz bundled by esbuild (no CDN)
//   fleetpath/        the WASM package for browsers (bindings/wasm/pkg: build it first)
//   data/             the seed story: the snapshot of seed_story --snapshot and its manifest and calendar
//   index.html, style.css
//
//   node tools/build.mjs            (npm run build)
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const HERE = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(HERE, '..', '..');
const DIST = join(HERE, 'dist');
const PKG = join(ROOT, 'bindings', 'wasm', 'pkg');

if (!existsSync(join(PKG, 'index.mjs'))) {
  console.error(`${PKG}/index.mjs is missing: build the WASM package first (bindings/wasm/tools/build.sh)`);
  process.exit(1);
}
rmSync(DIST, { recursive: true, force: true });
for (const dir of ['fleetpath', 'data']) mkdirSync(join(DIST, dir), { recursive: true });

const started = performance.now();
await esbuild.build({
  entryPoints: [join(HERE, 'src', 'app.mjs')],
  outfile: join(DIST, 'app.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: 'linked',
  external: ['./fleetpath/index.mjs'],
  logLevel: 'warning',
});
const copy = (from, to) => copyFileSync(from, join(DIST, to));
copy(join(HERE, 'src', 'index.html'), 'index.html');
copy(join(HERE, 'src', 'style.css'), 'style.css');
for (const f of ['index.mjs', 'fleetpath_wasm_bg.wasm']) copy(join(PKG, f), join('fleetpath', f));
for (const f of readdirSync(join(HERE, 'data'))) copy(join(HERE, 'data', f), join('data', f));
for (const f of ['seed-story.json', 'plant-calendar.json']) copy(join(ROOT, 'examples', 'data', f), join('data', f));
console.log(`dashboard built in ${(performance.now() - started).toFixed(0)} ms: ${DIST}`);
