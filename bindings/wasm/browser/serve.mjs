// What the browser runs share (browser/run.mjs, bench/browser.mjs): a static server for the
// repository root on 127.0.0.1 and Debian's Chromium, headless, through playwright-core.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import { dirname, extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

/** The repository's root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
};

/**
 * Serves the repository root on a free port; resolves to `{ origin, close }`. A `.wasm` goes
 * gzipped to a browser that accepts it, as static hosts and CDNs serve it (compressed once).
 */
export async function serve() {
  const gzipped = new Map();
  const server = createServer((req, res) => {
    const path = resolve(ROOT, `.${decodeURIComponent(new URL(req.url, 'http://host').pathname)}`);
    if (!path.startsWith(ROOT + sep) || !existsSync(path) || !statSync(path).isFile()) return res.writeHead(404).end();
    const type = TYPES[extname(path)] || 'application/octet-stream';
    if (extname(path) === '.wasm' && /\bgzip\b/.test(req.headers['accept-encoding'] || '')) {
      const key = `${path}:${statSync(path).mtimeMs}`;
      if (!gzipped.has(key)) gzipped.set(key, gzipSync(readFileSync(path)));
      return res.writeHead(200, { 'content-type': type, 'content-encoding': 'gzip' }).end(gzipped.get(key));
    }
    res.writeHead(200, { 'content-type': type });
    createReadStream(path).pipe(res);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

/** Debian's Chromium, headless (flags from ../shared/notes/browser-testing.md). */
export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
