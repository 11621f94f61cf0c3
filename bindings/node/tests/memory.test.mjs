// The Node addon's memory and V8's collector (Node only: the WASM package's memory is its own).
// A graph or fleet holds memory V8 cannot see; the addon tells V8 of it, so that V8 collects the
// objects a service drops as they pile up. Without it, a loop that loads graphs makes little
// JavaScript garbage and no graph was ever collected (200 loads of a 10k-release graph grew a
// process to 2.4 GB).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const fp = require('..');
const { manifestText, fleetCsv } = require('../bench/synthetic.js');

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** How many of `loads` objects `load` made were collected while the loop ran (yielding each turn, as a service does). */
async function collected(loads, load) {
  let count = 0;
  const registry = new FinalizationRegistry(() => { count += 1; });
  for (let i = 0; i < loads; i++) {
    registry.register(load(), i);
    await tick();
  }
  for (let i = 0; i < 20 && count === 0; i++) await tick();
  return count;
}

test('graphs a loop drops are collected as their memory grows', async () => {
  const text = manifestText(3000); // about 3 MB held a graph
  const count = await collected(80, () => fp.UpgradeGraph.load(text));
  assert.ok(count >= 20, `only ${count} of 80 dropped graphs were collected`);
});

test('fleets a loop drops are collected as their memory grows', async () => {
  const csv = fleetCsv(50000, 3000); // about 3 MB held a fleet
  const count = await collected(80, () => fp.Fleet.load(csv));
  assert.ok(count >= 20, `only ${count} of 80 dropped fleets were collected`);
});

test('graphs read off the event loop are counted too', async () => {
  const text = manifestText(3000);
  let count = 0;
  const registry = new FinalizationRegistry(() => { count += 1; });
  for (let i = 0; i < 60; i++) registry.register(await fp.UpgradeGraph.loadAsync(text), i);
  for (let i = 0; i < 20 && count === 0; i++) await tick();
  assert.ok(count >= 10, `only ${count} of 60 dropped graphs were collected`);
});

test('deciders a loop drops are collected as their memory grows', async () => {
  const graph = fp.UpgradeGraph.load(manifestText(3000));
  // About 0.75 MB told a decider: V8 acts past 64 MB.
  const count = await collected(200, () => new fp.Decider(graph));
  assert.ok(count >= 50, `only ${count} of 200 dropped deciders were collected`);
});
