#!/usr/bin/env node
// The WASM package beside the Node addon (the native build of the same core), same inputs, same
// run, in Node: the ratio is the price of WebAssembly (goal: within 2x of native). A script, not
// a test: nothing here asserts a time. Answers are checked equal first.
//
//   node bindings/wasm/bench/bench.mjs [--releases 10000] [--devices 100000] [--calls 200000]
//
// Needs both packages built (bindings/wasm/tools/build.sh, `npm run build` in bindings/node).
// The inputs are the Node bench's (bindings/node/bench/synthetic.js).
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const { manifestText, fleetCsv, version } = require('../../node/bench/synthetic.js');
const native = require('../../node');
const { default: wasm } = await import('../pkg/node.mjs');

const { values } = parseArgs({ options: { releases: { type: 'string' }, devices: { type: 'string' }, calls: { type: 'string' } } });
const RELEASES = Number(values.releases || 10_000);
const DEVICES = Number(values.devices || 100_000);
const CALLS = Number(values.calls || 200_000);
const at = '2026-11-23T08:00:00Z';

function best(f, repeat = 5) {
  let min = Infinity;
  let out;
  for (let r = 0; r < repeat; r++) {
    const t0 = process.hrtime.bigint();
    out = f();
    min = Math.min(min, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return [min, out];
}
const fmt = (s) => (s >= 1 ? `${s.toFixed(2)} s` : s >= 1e-3 ? `${(s * 1e3).toFixed(1)} ms` : `${(s * 1e6).toFixed(2)} µs`);

const text = manifestText(RELEASES);
const csv = fleetCsv(DEVICES, RELEASES);
const spellings = Array.from({ length: 1000 }, (_, k) => version((k * 7919) % RELEASES));
const requests = spellings.map((v, k) => ({ device: `d${k}`, model: 'm0', version: v, at }));

/** Each workload on one package: name -> [seconds, answer, per]. */
function run(fp) {
  const out = {};
  const time = (name, f, per = 1, repeat = 5) => {
    const [s, answer] = best(f, repeat);
    out[name] = [s, answer, per];
    return answer;
  };
  const graph = time('load the manifest', () => fp.UpgradeGraph.load(text), 1, 3);
  const fleet = time('load the fleet (CSV)', () => fp.Fleet.load(csv), 1, 3);
  const target = graph.latestFor('m0');
  const table = time('routeTable (model m0)', () => graph.routeTable(target, { model: 'm0' }));
  const decider = time('new Decider (route tables per model)', () => new fp.Decider(graph), 1, 3);
  time('decideFleet (per device)', () => decider.decideFleet(fleet, at), DEVICES);
  time('decideFleetColumns (per device)', () => Array.from(decider.decideFleetColumns(fleet, at).next), DEVICES);
  time('RouteTable.nextHop (per call)', () => {
    const hops = [];
    for (let k = 0; k < CALLS; k++) {
      try {
        hops.push(table.nextHop(spellings[k % 1000])?.to ?? null);
      } catch (err) {
        hops.push(err.code);
      }
    }
    return hops.slice(0, 1000);
  }, CALLS);
  time('Decider.decide (per call)', () => requests.map((r) => decider.decide(r)), requests.length);
  return out;
}

console.log(`graph: ${RELEASES} releases, ${(text.length / 1e6).toFixed(1)} MB manifest; fleet: ${DEVICES} devices; in Node ${process.version}`);
const nat = run(native);
const wa = run(wasm);
const plain = (v) => JSON.stringify(v, (_, x) => (x && typeof x === 'object' && typeof x.toJSON === 'function' ? x.toJSON() : x));
for (const [name, [, answer]] of Object.entries(nat)) {
  if (answer && typeof answer === 'object' && !Array.isArray(answer) && typeof answer.toJSON !== 'function') continue;
  if (plain(answer) !== plain(wa[name][1])) throw new Error(`${name}: the packages answer differently`);
}
console.log('answers equal (decisions, columns, hops, paths)\n');
for (const [name, [s, , per]] of Object.entries(nat)) {
  const w = wa[name][0];
  console.log(`${name.padEnd(40)} native ${fmt(s / per).padStart(10)}   wasm ${fmt(w / per).padStart(10)}   wasm takes ${(w / s).toFixed(2)}x native's time`);
}
