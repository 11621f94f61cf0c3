// What only the WASM package has: an artifact store backed by JavaScript promises driving the
// prefetch executor, panics that leave the instance usable, objects found from options by
// handle. Runs in Node (on pkg/node.mjs) and in Chromium (browser/run.mjs), like the shared suite.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertError, fp, text } from '../../js-tests/helpers.mjs';

const T0 = '2026-11-30T07:00:00Z';

/** A store over a map of key -> availability, answering asynchronously as a fetch would. */
function memoryStore(objects) {
  const calls = [];
  const later = (value) => new Promise((resolve) => setTimeout(() => resolve(value), 0));
  return {
    calls,
    async availability(key) {
      calls.push(['availability', key]);
      return later(objects[key] || { state: 'missing' });
    },
    async requestRestore(key, tier, days) {
      calls.push(['requestRestore', key, tier, days]);
      objects[key] = { state: 'restoring', class: objects[key].class, since: T0, ready_by: '2026-11-30T12:00:00Z' };
      return later(objects[key]);
    },
    async presign(key, lifetime) {
      calls.push(['presign', key, lifetime]);
      return later({ url: `https://example.test/${key}`, expires_at: T0 });
    },
  };
}

const restore = (key) => ({ key, kind: { type: 'restore', tier: 'standard', days: 7 } });

test('a promise-backed store: archived objects are restored once, others observed', async () => {
  const store = memoryStore({
    'fw/5.6.30.bin': { state: 'archived', class: 'glacier_flexible_retrieval' },
    'fw/6.15.008.bin': { state: 'available', class: 'standard' },
  });
  const tasks = [restore('fw/5.6.30.bin'), restore('fw/6.15.008.bin'), restore('fw/gone.bin'), restore('fw/5.6.30.bin')];
  const first = await fp.executeTasks(store, tasks);
  assert.deepEqual(first.map((r) => [r.key, r.outcome]), [
    ['fw/5.6.30.bin', 'restore_requested'],
    ['fw/6.15.008.bin', 'already_downloadable'],
    ['fw/gone.bin', 'missing'],
  ]);
  assert.deepEqual(store.calls.filter((c) => c[0] === 'requestRestore'), [['requestRestore', 'fw/5.6.30.bin', 'standard', 7]]);
  const again = await fp.executeTasks(store, tasks.slice(0, 1));
  assert.equal(again[0].outcome, 'already_restoring');
  assert.equal(again[0].availability.state, 'restoring');
});

test('a prefetch plan runs through the store', async () => {
  const graph = fp.UpgradeGraph.load(text('examples/data/seed-ip-module.json'));
  const fleet = fp.Fleet.load(text('examples/data/plant-340.csv'));
  const calendar = fp.Calendar.load(text('examples/data/plant-calendar.json'));
  const rollout = fp.Rollout.new(fp.planRollout(graph, fleet, '6.15.008', 'r-1'), fleet, graph);
  const observed = {
    'firmware/ip-module/5.6.30.bin': { state: 'archived', class: 'glacier_flexible_retrieval' },
    'firmware/ip-module/6.15.008.bin': { state: 'available', class: 'standard' },
  };
  const plan = fp.planPrefetch(rollout, graph, observed, T0, calendar);
  const store = memoryStore({ ...observed });
  const reports = await fp.executePrefetch(store, plan);
  assert.deepEqual(reports.map((r) => [r.key, r.outcome]), [['firmware/ip-module/5.6.30.bin', 'restore_requested']]);
});

test('a store that fails, answers junk or lacks a method: the task fails, typed; the others run', async () => {
  const offline = {
    availability: async () => {
      throw new TypeError('Failed to fetch');
    },
  };
  const [failed] = await fp.executeTasks(offline, [restore('a')]);
  assert.deepEqual([failed.outcome, failed.code, failed.retryable], ['failed', 'store_error', true]);
  assert.match(failed.message, /store\.availability: Failed to fetch/);
  const throttled = { availability: () => Promise.reject(Object.assign(new Error('slow down'), { code: 'throttled', retryable: true })) };
  const [slow] = await fp.executeTasks(throttled, [restore('a')]);
  assert.deepEqual([slow.code, slow.retryable], ['throttled', true]);
  const junk = { availability: async () => ({ state: 'teleported' }) };
  const [bad] = await fp.executeTasks(junk, [restore('a'), restore('b')]);
  assert.deepEqual([bad.outcome, bad.code, bad.retryable], ['failed', 'bad_response', false]);
  assert.match(bad.message, /^store\.availability answered .*teleported/);
  const partial = { availability: async () => ({ state: 'archived', class: 'deep_archive' }) };
  const [none] = await fp.executeTasks(partial, [restore('a')]);
  assert.deepEqual([none.code, none.retryable], ['store_error', false]);
  assert.match(none.message, /no method requestRestore/);
});

test('bad arguments reject with FleetpathError subclasses', async () => {
  await assert.rejects(fp.executeTasks(42, []), fp.InvalidInputError);
  await assert.rejects(fp.executeTasks({}, [{ key: 'a', kind: { type: 'teleport' } }]), fp.InvalidJsonError);
  await assert.rejects(fp.executePrefetch({}, 'not json'), fp.InvalidJsonError);
});

test('thousands of panics in a row leave the instance usable', () => {
  const graph = fp.UpgradeGraph.load(text('examples/data/seed-ip-module.json'));
  for (let i = 0; i < 20_000; i++) {
    assertError(() => fp._panicForTests(), { code: 'internal', message: 'internal error in fleetpath: deliberate test panic' });
  }
  // Deep work after the panics: the shadow stack is whole again.
  assert.deepEqual(graph.resolve('5.6.14', '6.15.008').versions, ['5.6.14', '5.6.30', '6.15.008']);
  const fleet = fp.Fleet.load(text('examples/data/plant-340.csv'));
  assert.equal(new fp.Decider(graph).decideFleet(fleet, T0).length, 340);
});

test('a Decider finds its rollout and calendar by handle; a freed or fake one is refused', () => {
  const graph = fp.UpgradeGraph.load(text('examples/data/seed-ip-module.json'));
  const fleet = fp.Fleet.load(text('examples/data/plant-340.csv'));
  const rollout = fp.Rollout.new(fp.planRollout(graph, fleet, '6.15.008', 'r-1'), fleet, graph);
  const calendar = fp.Calendar.load(text('examples/data/plant-calendar.json'));
  const decider = new fp.Decider(graph, { rollout, calendar });
  assert.equal(decider.decideFleet(fleet, T0)[0].kind, 'wait');
  assertError(() => new fp.Decider(graph, { rollout: { _handle: rollout._handle + 1000 } }), {
    code: 'invalid_input',
    fields: { what: 'rollout', expected: 'a Rollout' },
  });
  assertError(() => new fp.Decider(graph, { rollout: calendar }), { code: 'invalid_input', fields: { what: 'rollout' } });
  rollout.free();
  assertError(() => new fp.Decider(graph, { rollout }), { code: 'invalid_input', fields: { what: 'rollout' } });
});
