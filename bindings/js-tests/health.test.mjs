// Health summaries and verdicts: the shared vectors (testdata/health.json) in every input form
// (plain arrays, typed arrays, JSON text, bytes) giving identical summaries, and the errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertError, fp, vectors } from './helpers.mjs';

const HEALTH = vectors('health');

// Policies go in as JSON text, as the Python and Rust tests give them (errors carry line and column).
const textOf = (v) => (typeof v === 'string' ? v : JSON.stringify(v));

function stateFor(c, policy) {
  const state = new fp.HealthState(policy);
  state.addDevices(c.devices || []);
  return state;
}

function* batchForms(batch) {
  yield ['object of arrays', batch];
  yield ['JSON text', JSON.stringify(batch)];
  yield ['JSON bytes', Buffer.from(JSON.stringify(batch))];
  const metrics = Object.fromEntries(
    Object.entries(batch.metrics).map(([k, col]) => [k, Float64Array.from(col, (v) => (v === null ? NaN : v))]),
  );
  yield ['typed arrays', {
    devices: batch.devices,
    device: Uint32Array.from(batch.device),
    time: BigInt64Array.from(batch.time, BigInt),
    metrics,
  }];
}

function checkReport(name, report, ingest, expect) {
  assert.equal(report.status, expect.status, `${name}: ${fp.healthReportText(report)}`);
  if (expect.summary !== undefined) assert.equal(report.summary, expect.summary, name);
  if (expect.ingest !== undefined) assert.deepEqual(ingest, expect.ingest, name);
  for (const want of expect.findings || []) {
    const found = report.findings.filter((f) => f.rule === want.rule && JSON.stringify(f.scope) === JSON.stringify(want.scope));
    assert.ok(found.length, `${name}: ${JSON.stringify(want)}`);
    for (const [key, value] of Object.entries(want)) {
      if (typeof value === 'number' && !Number.isInteger(value)) assert.ok(Math.abs(found[0][key] - value) <= 1e-9, `${name} ${key}`);
      else assert.deepEqual(found[0][key], value, `${name} ${key}`);
    }
  }
}

test('health vectors in every input form', () => {
  for (const c of HEALTH.cases) {
    const policy = new fp.HealthPolicy(textOf(c.policy));
    const states = new Map();
    let report;
    for (const [form, batch] of batchForms(c.batch)) {
      const state = stateFor(c, policy);
      const ingest = state.ingest(batch);
      report = state.evaluate(policy, c.now);
      checkReport(`${c.name} (${form})`, report, ingest, c.expect);
      states.set(form, JSON.stringify(state));
      const event = fp.healthEvent(report, 'canary');
      assert.deepEqual([event.type, event.stage], ['health_verdict', 'canary']);
      assert.equal(fp.healthReportText(report).split('\n')[0], report.summary);
    }
    const [first, ...rest] = states.values();
    for (const [form, s] of states) assert.equal(s, first, `${c.name}: ${form} differs`);
    assert.equal(rest.length, 3);
    const back = fp.HealthState.load(first);
    assert.equal(JSON.stringify(back), first);
    assert.deepEqual(back.evaluate(policy, c.now), report);
  }
});

function runError(c) {
  const policy = () => new fp.HealthPolicy(textOf(c.policy));
  switch (c.op) {
    case 'policy':
      return policy();
    case 'batch':
      return new fp.HealthState().ingest(c.batch);
    case 'add_devices':
      return stateFor(c, policy());
    case 'ingest': {
      const state = stateFor(c, policy());
      const before = JSON.stringify(state);
      try {
        return state.ingest(c.batch);
      } finally {
        assert.equal(JSON.stringify(state), before, 'a refused batch leaves the state unchanged');
      }
    }
    case 'merge': {
      const [a, b] = [stateFor(c, policy()), stateFor(c, policy())];
      a.ingest(c.batches[0]);
      b.ingest(c.batches[1]);
      const before = JSON.stringify(a);
      try {
        return a.merge(b);
      } finally {
        assert.equal(JSON.stringify(a), before);
      }
    }
    case 'evaluate':
      return stateFor(c, policy()).evaluate(new fp.HealthPolicy(textOf(c.evaluate_policy)), '1970-01-01T00:00:00Z');
    default:
      throw new Error(c.op);
  }
}

test('health errors', () => {
  for (const c of HEALTH.errors) {
    const err = assertError(() => runError(c), c, `${c.op}-${c.code}`);
    assert.ok(err instanceof fp.InputError);
  }
});

test('batch errors are the same from columns and from JSON', () => {
  for (const c of HEALTH.errors.filter((e) => e.op === 'batch')) {
    for (const batch of [c.batch, JSON.stringify(c.batch)]) {
      assertError(() => new fp.HealthState().ingest(batch), c, c.message);
    }
  }
});

test('bad columns are typed errors naming the column and row', () => {
  const state = new fp.HealthState();
  state.addDevice('d1', 'L1', new Date('2026-11-18T11:06:40Z'));
  const batch = (over) => ({ devices: ['d1'], device: [0], time: [1795000000], metrics: {}, ...over });
  assertError(() => state.ingest(batch({ device: [-1] })), { code: 'invalid_input', fields: { what: 'device[0]' } });
  assertError(() => state.ingest(batch({ device: [0.5] })), { code: 'invalid_input', fields: { what: 'device[0]' } });
  assertError(() => state.ingest(batch({ time: [1.5] })), { code: 'invalid_input', fields: { what: 'time[0]' } });
  assertError(() => state.ingest(batch({ metrics: { cycle_time_ms: ['fast'] } })), { code: 'invalid_input' });
  assertError(() => state.ingest(batch({ metric: {} })), { code: 'invalid_json', fields: { path: 'metric' } });
  assertError(() => state.ingest(batch({ device: 'abc' })), { code: 'invalid_input' });
});

test('times are ISO text, Date or unix seconds alike: updatedAt, addDevices and evaluate(now)', () => {
  const c = HEALTH.cases[0];
  const policy = new fp.HealthPolicy(textOf(c.policy));
  const forms = (iso) => [iso, new Date(iso), Date.parse(iso) / 1000];
  const reports = [];
  for (const [i, updatedAt] of forms(c.devices[0].updated_at).entries()) {
    const now = forms(c.now)[i];
    const one = new fp.HealthState(policy);
    one.addDevice(c.devices[0].id, c.devices[0].line, updatedAt);
    one.ingest(c.batch);
    const many = new fp.HealthState(policy);
    many.addDevices([{ ...c.devices[0], updated_at: updatedAt }]);
    many.ingest(c.batch);
    assert.deepEqual(many.evaluate(policy, now), one.evaluate(policy, now));
    reports.push(one.evaluate(policy, now));
  }
  assert.equal(reports[0].status, c.expect.status);
  assert.deepEqual(reports[1], reports[0]);
  assert.deepEqual(reports[2], reports[0]);
  // Fractional seconds are instants too; what is no instant is a typed error naming the argument.
  assert.doesNotThrow(() => new fp.HealthState(policy).addDevice('d1', 'L1', 1795000000.5));
  const state = new fp.HealthState(policy);
  assertError(() => state.addDevice('d1', 'L1', NaN), { code: 'invalid_time', fields: { what: 'updated_at' } });
  assertError(() => state.evaluate(policy, 'yesterday'), { code: 'invalid_time', fields: { what: 'now' } });
  assertError(() => state.addDevice('d1', 'L1', {}), { code: 'invalid_input' });
});
