// The shared vectors of testdata/, read by the Rust and Python tests too: same answers, codes,
// messages and fields.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertError, fp, graphSource, text, vectors } from './helpers.mjs';

const VERSIONS = vectors('versions');
const RANGES = vectors('ranges');
const RESOLVE = vectors('resolve');
const FLEETS = vectors('fleets');
const DECISIONS = vectors('decisions');
const SCHEDULES = vectors('schedules');
const ROLLOUTS = vectors('rollouts');
const RETRIES = vectors('retries');
const DOCUMENTS = vectors('documents');

const graph = (ref) => fp.UpgradeGraph.load(graphSource(ref, RESOLVE.graphs));
const fleetOf = (c) => (c.fleet ? fp.Fleet.load(text(c.fleet)) : fp.Fleet.fromCsv(c.csv));
const SEED = () => fp.UpgradeGraph.load(text('examples/data/seed-ip-module.json'));

test('valid versions', () => {
  for (const c of VERSIONS.valid) {
    const v = new fp.Version(c.input);
    assert.equal(v.toString(), c.input);
    assert.equal(v.normalized(), c.normalized);
    assert.deepEqual(v.components, c.components);
    assert.equal(v.isPrerelease, c.prerelease);
    if (c.semver) assert.equal(v.toSemver(), c.semver);
  }
});

test('invalid versions', () => {
  for (const c of [...VERSIONS.invalid, ...VERSIONS.not_semver]) {
    assertError(() => new fp.Version(c.input).toSemver(), c, c.input);
  }
});

test('version ordering', () => {
  for (const pair of VERSIONS.ordering) {
    const [a, op, b] = pair.length === 3 ? pair : [pair[0], '<', pair[1]];
    const cmp = new fp.Version(a).compare(new fp.Version(b));
    assert.equal(cmp, { '<': -1, '==': 0, '>': 1 }[op], pair.join(' '));
    assert.equal(new fp.Version(a).equals(b), op === '==');
  }
});

test('ranges', () => {
  for (const c of RANGES.matches) {
    assert.equal(new fp.VersionRange(c.range).matches(c.version), c.matches, `${c.range} ? ${c.version}`);
  }
  for (const c of RANGES.invalid) assertError(() => new fp.VersionRange(c.input), c, c.input);
});

test('manifest errors', () => {
  for (const c of vectors('manifest_errors')) {
    const load = () => fp.UpgradeGraph.load(c.json !== undefined ? c.json : c.manifest);
    assertError(load, c, c.name);
    // Every problem in one pass: each as its own error of its code's class.
    let errors = null;
    try {
      load();
    } catch (err) {
      errors = err.errors;
    }
    const expected = c.errors || [{ code: c.code, message: c.message }];
    assert.deepEqual(errors.map((e) => ({ code: e.code, message: e.message })), expected, c.name);
    for (const e of errors) assert.ok(e instanceof fp.errorClass(e.code), `${c.name}: ${e.code}`);
  }
});

test('resolve', () => {
  for (const c of RESOLVE.cases) {
    const g = graph(c.graph);
    const constraints = c.constraints || {};
    if (c.error || c.code) {
      assertError(() => g.resolve(c.from, c.to, constraints), c.error || c, c.name);
      continue;
    }
    const path = g.resolve(c.from, c.to, constraints);
    assert.deepEqual(path.versions, c.path, c.name);
    if (c.edges) assert.deepEqual(path.hops.map((h) => h.edge), c.edges, c.name);
    const first = g.nextHop(c.from, c.to, constraints);
    assert.equal(first === null, c.path.length === 1, c.name);
  }
});

test('latest release for a model', () => {
  for (const c of RESOLVE.latest) {
    const g = graph(c.graph);
    if (c.error) assertError(() => g.latestFor(c.model), c.error, c.name);
    else assert.equal(g.latestFor(c.model).toString(), c.version, c.name);
  }
});

test('edges', () => {
  for (const c of RESOLVE.edges) assert.deepEqual(graph(c.graph).edges(), c.edges, c.graph);
});

test('route tables', () => {
  for (const c of vectors('route_tables')) {
    const table = graph(c.graph).routeTable(c.to, c.constraints || {});
    assert.deepEqual(table.entries(), c.entries, `${c.graph} -> ${c.to}`);
    for (const e of c.entries) {
      assert.equal(table.hops(e.from), e.hops);
      const hop = table.nextHop(e.from);
      assert.ok((hop === null && e.hops === 0) || hop.to === e.next, e.from);
    }
  }
});

test('lint', () => {
  for (const c of vectors('lint')) {
    const g = graph(c.graph);
    const findings = c.fleet_devices ? g.lintFleet(fp.Fleet.load(JSON.stringify({ devices: c.fleet_devices }))) : g.lint();
    assert.deepEqual(findings, c.findings, c.name);
  }
});

test('fleets', () => {
  for (const c of FLEETS.valid) {
    const fleet = c.csv !== undefined ? fp.Fleet.fromCsv(c.csv) : fp.Fleet.load(JSON.stringify(c.json));
    assert.deepEqual(fleet.devices(), c.devices, c.name);
    assert.deepEqual(c.devices.map((d) => fleet.origin(d.id)), c.origins, c.name);
  }
  for (const c of FLEETS.invalid) {
    const load = () =>
      c.csv !== undefined ? fp.Fleet.fromCsv(c.csv) : fp.Fleet.load(c.json_text !== undefined ? c.json_text : JSON.stringify(c.json));
    assertError(load, c, c.name);
  }
  for (const c of FLEETS.check_against) {
    const fleet = fleetOf(c);
    if (c.error) assertError(() => fleet.checkAgainst(graph(c.graph)), c.error, c.name);
    else fleet.checkAgainst(graph(c.graph));
  }
});

test('decisions', () => {
  for (const c of DECISIONS.decisions) {
    const decider = new fp.Decider(fp.UpgradeGraph.load(graphSource(c.graph)), {
      availability: c.availability,
      target: c.target,
      policy: c.policy,
    });
    const singles = c.requests.map((r) => decider.decide(r.request));
    assert.deepEqual(decider.decideAll(c.requests.map((r) => r.request)), singles, c.name);
    c.requests.forEach((want, i) => {
      const got = singles[i];
      assert.deepEqual([got.kind, got.reason], [want.kind, want.reason], `${c.name}: ${JSON.stringify(want.request)}`);
      if (want.to !== undefined) assert.deepEqual([got.step.to, got.step.hops_left], [want.to, want.hops_left]);
      if (want.host_action !== undefined) assert.equal(got.host_action.type, want.host_action);
      if (want.not_before !== undefined) assert.ok(got.at >= want.not_before);
    });
  }
  for (const c of DECISIONS.decider_errors) {
    const g = fp.UpgradeGraph.load(graphSource(c.graph));
    assertError(() => new fp.Decider(g, { target: c.target, policy: c.policy }), c, c.name);
  }
});

test('rollback routes', () => {
  for (const c of DECISIONS.rollbacks) {
    const g = fp.UpgradeGraph.load(graphSource(c.graph));
    if (c.hops === null || c.hops === undefined) {
      assertError(() => g.rollbackRoute(c.from, c.to, c.model), c, c.name);
      continue;
    }
    const route = g.rollbackRoute(c.from, c.to, c.model);
    assert.deepEqual(route.hops.map((h) => [h.from, h.to]), c.hops, c.name);
  }
});

test('calendars', () => {
  const calendar = fp.Calendar.load(SCHEDULES.calendar);
  for (const c of SCHEDULES.queries) {
    assert.equal(calendar.isOpen(c.site, c.line, c.stage, c.at), c.open, c.name);
    const window = calendar.nextWindow(c.site, c.line, c.stage, c.at);
    assert.deepEqual(window, c.next === undefined ? null : c.next, c.name);
  }
  for (const c of SCHEDULES.errors) {
    assertError(() => fp.Calendar.load(c.calendar !== undefined ? c.calendar : c.json), c, c.name);
  }
  for (const c of SCHEDULES.query_errors) {
    assertError(() => calendar.isOpen(c.site, c.line || 'press-1', c.stage, '2026-11-23T11:00:00Z'), c, c.code);
  }
});

test('rollout plans', () => {
  for (const c of ROLLOUTS.plans) {
    const g = graph(c.graph);
    const plan = () => fp.planRollout(g, fleetOf(c), c.target, c.rollout_id, c.policy);
    if (c.error) {
      assertError(plan, c.error, c.name);
      continue;
    }
    const got = plan();
    assert.deepEqual(
      got.stages.map((s) => ({ name: s.name, size: s.devices.length, lines: s.lines })),
      c.stages.map((s) => ({ name: s.name, size: s.size, lines: s.lines })),
      c.name,
    );
    if (c.up_to_date) assert.deepEqual(got.up_to_date, c.up_to_date);
    if (c.excluded) assert.deepEqual(got.excluded.map((e) => ({ id: e.id, code: e.code })), c.excluded);
  }
  const g = SEED();
  const fleet = fp.Fleet.load(text('examples/data/plant-340.csv'));
  for (const c of ROLLOUTS.policy_errors) {
    assertError(() => fp.planRollout(g, fleet, '6.15.008', 'r', c.policy), c, c.name);
  }
});

test('retries', () => {
  for (const c of RETRIES.delays) {
    const policy = new fp.RetryPolicy(c.policy);
    let previous = 0;
    const delays = [];
    for (let attempt = 1; attempt <= 8; attempt++) {
      previous = policy.delayMs(c.device, attempt, previous);
      delays.push(previous);
    }
    assert.deepEqual(delays, c.delays_ms, JSON.stringify(c.policy));
  }
  for (const c of RETRIES.sequences) {
    const policy = new fp.RetryPolicy(c.policy);
    let state = null;
    const decisions = [];
    for (const failure of c.failures) {
      const next = policy.afterFailure(c.device, failure, state);
      state = next.state;
      decisions.push(next.decision);
    }
    assert.deepEqual(decisions, c.decisions, c.name);
  }
});

test('rollout event scenarios', () => {
  for (const s of vectors('rollout_events').scenarios) {
    const g = fp.UpgradeGraph.load(graphSource(s.graph));
    const fleet = fp.Fleet.fromCsv(s.csv);
    const plan = fp.planRollout(g, s.plan_csv ? fp.Fleet.fromCsv(s.plan_csv) : fleet, s.target, s.rollout_id);
    if (s.new_error) {
      assertError(() => fp.Rollout.new(plan, fleet, g), s.new_error, s.name);
      continue;
    }
    let state = fp.Rollout.new(plan, fleet, g);
    if (s.tamper) {
      const stored = { ...state.toJSON(), ...s.tamper };
      if (s.load_error) {
        assertError(() => fp.Rollout.load(JSON.stringify(stored)), s.load_error, s.name);
        continue;
      }
      state = fp.Rollout.load(JSON.stringify(stored));
    }
    // Placeholders for planned devices: {canary.0}, {early.0}…
    const fill = (t) =>
      plan.stages.reduce((text, st) => st.devices.reduce((x, d, i) => x.replaceAll(`{${st.name}.${i}}`, d.id), text), t);
    s.steps.forEach((step, k) => {
      const event = JSON.parse(fill(JSON.stringify(step.event)));
      if (step.error) {
        assertError(() => state.apply(event), { ...step.error, message: fill(step.error.message) }, `${s.name} ${k}`);
        return;
      }
      const applied = state.apply(event);
      state = applied.state;
      assert.deepEqual(applied.actions.map((a) => a.type), step.actions, `${s.name} ${k}`);
      const data = state.toJSON();
      assert.equal(data.status.state, step.status, `${s.name} ${k}`);
      if (step.phases) assert.deepEqual(data.stages.map((st) => st.phase), step.phases, `${s.name} ${k}`);
    });
  }
});

// Each interchange document through its public entry point, as text and as a value.
function readDocument(name, source) {
  const g = SEED();
  switch (name) {
    case 'decision policy':
      return new fp.Decider(g, { policy: source });
    case 'device request':
      return new fp.Decider(g).decide(source);
    case 'device requests':
      return new fp.Decider(g).decideAll(source);
    case 'rollout event': {
      const fleet = fp.Fleet.load(text('examples/data/plant-340.csv'));
      return fp.Rollout.new(fp.planRollout(g, fleet, '6.15.008', 'r'), fleet, g).apply(source);
    }
    case 'rollout state':
      return fp.Rollout.load(source);
    case 'rollout policy':
      return fp.planRollout(g, fp.Fleet.load(text('examples/data/plant-340.csv')), '6.15.008', 'r', source);
    case 'availability':
      return new fp.Decider(g, { availability: source });
    case 'retry policy':
      return new fp.RetryPolicy(source);
    case 'manifest':
      return fp.UpgradeGraph.load(source);
    case 'fleet':
      return fp.Fleet.load(source);
    case 'calendar':
      return fp.Calendar.load(source);
    case 'health policy':
      return new fp.HealthPolicy(source);
    default:
      throw new Error(`no document named ${name}`);
  }
}

test('documents: every entry point gives the core error with line, column and path', () => {
  for (const c of DOCUMENTS.documents) {
    assertError(() => readDocument(c.document, c.json !== undefined ? c.json : c.value), c, c.name);
  }
});

test('times in every accepted form', () => {
  const policy = new fp.RetryPolicy({ jitter: 'none' });
  for (const c of DOCUMENTS.times) {
    const at = c.text !== undefined ? c.text : c.unix;
    if (c.utc !== undefined) {
      assert.equal(policy.afterFailure('d', at).state.first_failure_at, c.utc, c.name);
    } else {
      assertError(() => policy.afterFailure('d', at), c, c.name);
    }
  }
  // A Date is the same instant.
  const at = new Date('2026-11-23T08:00:00.250Z');
  assert.equal(policy.afterFailure('d', at).state.first_failure_at, '2026-11-23T08:00:00.25Z');
});

test('binding inputs: a value of the wrong type is a typed error', () => {
  const calls = {
    version: (arg) => new fp.Version(arg),
    graph: (arg) => fp.UpgradeGraph.load(arg),
    fleet: (arg) => fp.Fleet.load(arg),
  };
  for (const c of DOCUMENTS.binding_inputs) assertError(() => calls[c.call](c.arg), c, c.name);
});

test('cincinnati: import, export, refusals', () => {
  const CIN = vectors('cincinnati');
  const load = (ref) =>
    Object.prototype.hasOwnProperty.call(CIN.graphs, ref) ? fp.UpgradeGraph.fromCincinnati(CIN.graphs[ref]) : graph(ref);
  for (const c of CIN.imports) {
    const g = load(c.graph);
    assert.deepEqual(g.edges().map((e) => [e.from, e.to]), c.edges, c.name);
    for (const [model, want] of Object.entries(c.latest)) assert.equal(g.latestFor(model).toString(), want, c.name);
    const conditional = JSON.parse(g.toJSONText())
      .edges.filter((e) => e.risks)
      .map((e) => [e.from, e.to, e.risks.map((r) => r.name)]);
    assert.deepEqual(conditional, c.conditional, c.name);
    for (const p of c.paths) {
      const constraints = { ...(p.model ? { model: p.model } : {}), accepted_risks: p.accepted_risks ?? [] };
      if (p.error) assertError(() => g.resolve(p.from, p.to, constraints), { code: p.error }, c.name);
      else assert.deepEqual(g.resolve(p.from, p.to, constraints).versions, p.path, c.name);
    }
  }
  for (const c of CIN.exports) {
    const served = load(c.graph).toCincinnati(c.model);
    assert.deepEqual(served.nodes.map((n) => n.version), c.nodes, c.graph);
    assert.deepEqual(served.edges, c.edges, c.graph);
    assert.deepEqual(served.conditionalEdges ?? [], c.conditional_edges, c.graph);
    assert.deepEqual(fp.UpgradeGraph.fromCincinnati(JSON.stringify(served)).toCincinnati(), served, c.graph);
  }
  for (const c of CIN.errors) assertError(() => fp.UpgradeGraph.fromCincinnati(c.json), c, c.name);
});
