#!/usr/bin/env node
// The WASM package beside the Node addon (the native build of the same core): the same
// workloads on the same inputs, in one run, on the addon in Node, the WASM package in Node and
// the WASM package in headless Chromium; then the time to instantiate the package and load the
// seed manifest in fresh Chromium contexts (index.html). The ratios are the price of
// WebAssembly (goal: within 2x of native). A script, not a test: nothing here asserts a time.
// Answers are checked equal across the three first.
//
//   node bindings/wasm/bench/bench.mjs [--releases 10000] [--devices 100000] [--calls 200000] [--loads 9]
//
// Needs both packages built (bindings/wasm/tools/build.sh, `npm run build` in bindings/node)
// and bindings/wasm's npm tools. The inputs are the Node bench's (bindings/node/bench/synthetic.js).
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

import { launch, serve } from '../browser/serve.mjs';

const require = createRequire(import.meta.url);
const { manifestText, fleetCsv, version } = require('../../node/bench/synthetic.js');
const native = require('../../node');
const { default: wasm } = await import('../pkg/node.mjs');

const options = { releases: '10000', devices: '100000', calls: '200000', loads: '9' };
const { values } = parseArgs({ options: Object.fromEntries(Object.keys(options).map((k) => [k, { type: 'string' }])) });
const [RELEASES, DEVICES, CALLS, LOADS] = Object.keys(options).map((k) => Number(values[k] || options[k]));
const at = '2026-11-23T08:00:00Z';
const input = {
  text: manifestText(RELEASES),
  csv: fleetCsv(DEVICES, RELEASES),
  spellings: Array.from({ length: 1000 }, (_, k) => version((k * 7919) % RELEASES)),
  at,
  calls: CALLS,
};

/**
 * Every workload on one package: name -> [seconds per unit, answer]. Self-contained (no
 * closure over this module), so that Chromium runs the very same function. The event loop
 * turns before each run (as the Node bench's runs do): both packages free what JavaScript
 * collected only between tasks, so in one synchronous loop each run would find its memory
 * fresh rather than reuse what the run before let go.
 */
async function workloads(fp, { text, csv, spellings, at, calls }) {
  const out = {};
  const time = async (name, f, per = 1, repeat = 5) => {
    let min = Infinity;
    let answer;
    for (let r = 0; r < repeat; r++) {
      answer = undefined;
      await new Promise((resolve) => setTimeout(resolve, 0));
      const t0 = performance.now();
      answer = f();
      min = Math.min(min, performance.now() - t0);
    }
    out[name] = [min / 1e3 / per, answer];
    return answer;
  };
  const graph = await time('load the manifest', () => fp.UpgradeGraph.load(text), 1, 3);
  const fleet = await time('load the fleet (CSV)', () => fp.Fleet.load(csv), 1, 3);
  const table = await time('routeTable (model m0)', () => graph.routeTable(graph.latestFor('m0'), { model: 'm0' }));
  const decider = await time('new Decider (route tables per model)', () => new fp.Decider(graph), 1, 3);
  const devices = fleet.size;
  await time('decideFleet (per device)', () => decider.decideFleet(fleet, at), devices);
  await time('decideFleetColumns (per device)', () => Array.from(decider.decideFleetColumns(fleet, at).next), devices);
  await time('RouteTable.nextHop (per call)', () => {
    const hops = [];
    for (let k = 0; k < calls; k++) {
      try {
        hops.push(table.nextHop(spellings[k % 1000])?.to ?? null);
      } catch (err) {
        hops.push(err.code);
      }
    }
    return hops.slice(0, 1000);
  }, calls);
  const requests = spellings.map((v, k) => ({ device: `d${k}`, model: 'm0', version: v, at }));
  await time('Decider.decide (per call)', () => requests.map((r) => decider.decide(r)), requests.length);
  // Objects (graph, fleet, table, decider) compare by what they hold; results by their JSON.
  for (const [name, [s, answer]] of Object.entries(out)) {
    const plain = typeof answer.toJSONText === 'function' ? answer.toJSONText() : typeof answer.entries === 'function' ? answer.entries() : answer;
    out[name] = [s, plain === answer && typeof answer === 'object' && !Array.isArray(answer) ? null : JSON.stringify(plain)];
  }
  return out;
}

const fmt = (s) => (s >= 1 ? `${s.toFixed(2)} s` : s >= 1e-3 ? `${(s * 1e3).toFixed(1)} ms` : `${(s * 1e6).toFixed(2)} µs`);
console.log(`graph: ${RELEASES} releases, ${(input.text.length / 1e6).toFixed(1)} MB manifest; fleet: ${DEVICES} devices; Node ${process.version}`);
const results = { native: await workloads(native, input), 'wasm, Node': await workloads(wasm, input) };

const server = await serve();
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(`${server.origin}/bindings/wasm/bench/index.html`);
  await page.waitForFunction(() => window.result);
  await page.addScriptTag({ type: 'module', content: "import fp from '/bindings/wasm/pkg/index.mjs'; window.fp = fp;" });
  await page.waitForFunction(() => window.fp);
  results['wasm, Chromium'] = await page.evaluate(
    ([source, arg]) => new Function(`return (${source})`)()(window.fp, arg),
    [workloads.toString(), input],
  );
  const loads = [];
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.newContext(); // nothing cached: fetch, compile, instantiate
    const fresh = await context.newPage();
    await fresh.goto(`${server.origin}/bindings/wasm/bench/index.html`);
    loads.push(await fresh.evaluate(async () => {
      while (!window.result) await new Promise((r) => setTimeout(r, 5));
      return window.result;
    }));
    await context.close();
  }
  results.loads = loads;
} finally {
  await browser.close();
  server.close();
}

for (const [name, [, answer]] of Object.entries(results.native)) {
  for (const other of ['wasm, Node', 'wasm, Chromium']) {
    if (answer !== results[other][name][1]) throw new Error(`${name}: ${other} answers differently from native`);
  }
}
console.log('answers equal on all three (decisions, columns, hops, paths)\n');
console.log(`${''.padEnd(38)} ${'native'.padStart(10)} ${'wasm, Node'.padStart(12)} ${'wasm, Chromium'.padStart(15)}   wasm / native`);
for (const [name, [s]] of Object.entries(results.native)) {
  const [wn, wc] = [results['wasm, Node'][name][0], results['wasm, Chromium'][name][0]];
  console.log(`${name.padEnd(38)} ${fmt(s).padStart(10)} ${fmt(wn).padStart(12)} ${fmt(wc).padStart(15)}   ${(wn / s).toFixed(2)}x in Node, ${(wc / s).toFixed(2)}x in Chromium`);
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const ms = (key) => `${median(results.loads.map((l) => l[key])).toFixed(1)} ms`;
console.log(`\nChromium, fresh context, median of ${LOADS}: instantiate ${ms('instantiate')} + load seed manifest ${ms('load')} = ${ms('total')}` +
  ` (min ${Math.min(...results.loads.map((l) => l.total)).toFixed(1)} ms, max ${Math.max(...results.loads.map((l) => l.total)).toFixed(1)} ms); path ${results.loads[0].path}`);
