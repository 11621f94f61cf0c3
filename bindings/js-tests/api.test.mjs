// The package's own contract: error classes for every code, nothing but FleetpathError for bad
// input of any JavaScript type, panics as `internal`, conversions, and the README example.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { arrow, assertError, fp, text } from './helpers.mjs';

test('every core error code has its class, named after it', () => {
  const codes = fp.ERROR_CODES.flatMap((m) => m.codes);
  assert.ok(codes.length > 80);
  for (const code of codes) {
    const Class = fp.errorClass(code);
    assert.notEqual(Class, fp.FleetpathError, code);
    assert.equal(Class.prototype.code, code);
    assert.equal(Class.name, code.split('_').map((p) => p[0].toUpperCase() + p.slice(1)).join('') + 'Error');
    assert.equal(fp[Class.name], Class);
    const err = new Class('m', { a: 1 });
    assert.ok(err instanceof fp.FleetpathError && err instanceof Error);
    assert.deepEqual([err.code, err.message, err.fields, err.name], [code, 'm', { a: 1 }, Class.name]);
  }
  assert.equal(fp.errorClass('a_code_from_the_future'), fp.FleetpathError);
  assert.ok(new fp.NoPathError() instanceof fp.InputError === false);
  assert.ok(new fp.EmptyComponentError() instanceof fp.InputError);
});

test('a panic in Rust is an internal error, and the process lives on', () => {
  assertError(() => fp._panicForTests(), { code: 'internal', message: 'internal error in fleetpath: deliberate test panic' });
  assert.equal(new fp.Version('1.0').toString(), '1.0');
});

test('inputs in every form: text, bytes, objects, Dates, Versions', () => {
  const manifest = text('examples/data/seed-ip-module.json');
  // Bytes in every form, a view into a larger buffer included (only the view is read).
  const within = Buffer.from(`xx${manifest}yy`).subarray(2, 2 + Buffer.byteLength(manifest));
  for (const source of [manifest, Buffer.from(manifest), new TextEncoder().encode(manifest), within, JSON.parse(manifest)]) {
    assert.equal(fp.UpgradeGraph.load(source).size, 3);
  }
  const csv = text('examples/data/plant-340.csv');
  const csvWithin = new TextEncoder().encode(`#!${csv}`).subarray(2);
  assert.equal(fp.Fleet.load(csvWithin).toJSONText(), fp.Fleet.load(csv).toJSONText());
  assertError(() => fp.Fleet.load(Buffer.from([0x69, 0x64, 0xff])), { code: 'invalid_input' });
  const graph = fp.UpgradeGraph.load(manifest);
  assert.deepEqual(graph.resolve(new fp.Version('v5.6.14'), '6.15.8').versions, ['5.6.14', '5.6.30', '6.15.008']);
  assert.equal(graph.latestFor('IPM-1').toString(), '6.15.008');
  // The message is the core's, as for every invalid input ("expected …, got …").
  assertError(() => fp.UpgradeGraph.load(Buffer.from([0xff, 0xfe])), {
    code: 'invalid_input',
    message: 'UpgradeGraph.load: expected UTF-8 text, got bytes that are not UTF-8',
    fields: { what: 'UpgradeGraph.load', expected: 'UTF-8 text', found: 'bytes that are not UTF-8' },
  });
  assertError(() => fp.UpgradeGraph.load('{"format_version": 1,\n "releases": [{"version": 5}]}'), {
    code: 'invalid_json',
    fields: { line: 2, path: 'releases[0].version' },
  });
  // A Date inside an event object is its instant.
  const fleet = fp.Fleet.load(text('examples/data/plant-340.csv'));
  const rollout = fp.Rollout.new(fp.planRollout(graph, fleet, '6.15.008', 'r-1'), fleet, graph);
  const { state, actions } = rollout.apply({ type: 'start', at: new Date('2026-11-23T08:00:00Z') });
  assert.ok(state instanceof fp.Rollout && actions.length > 0);
  assert.equal(state.revision, rollout.revision + 1);
  assert.deepEqual(fp.Rollout.load(JSON.stringify(state)).toJSON(), state.toJSON());
  assertError(() => rollout.apply({ type: 'start', at: new Date(NaN) }), { code: 'invalid_json' });
});

test('text past ASCII reads as its UTF-8 bytes do, as a string, bytes or a value', () => {
  // Past Latin-1 with ASCII low bytes (Ł is U+0141, ź U+017A, an emoji two code units whose
  // low bytes are = and NUL: a one-byte copy of the first string is all ASCII and wrong), and
  // with a Latin-1 character (ó).
  for (const line of ['Łodź-1 😀', 'Łódź-1']) {
    const csv = `id,model,line,version\nd1,IPM-1,${line},5.6.14\nd2,IPM-1,press-2,5.6.30\n`;
    const fleet = fp.Fleet.load(csv);
    assert.deepEqual(fleet.lines().map((l) => l.line).sort(), [line, 'press-2'].sort());
    assert.equal(fleet.toJSONText(), fp.Fleet.load(Buffer.from(csv)).toJSONText());
    assert.equal(fp.Fleet.load(JSON.parse(fleet.toJSONText())).toJSONText(), fleet.toJSONText());
    // A lone surrogate is refused before the core sees it.
    assertError(() => fp.Fleet.load(csv.replace('Ł', '\ud83d')), { code: 'invalid_input' });
  }
});

const JUNK = [
  undefined, null, 0, -1, 1.5, NaN, Infinity, 2 ** 64, 12n, true, '', '\ud800', 'x'.repeat(100_000), Symbol('s'),
  () => 1, {}, [], [[[]]], { length: 2 ** 40 }, new Proxy({}, { get: () => 1 }), new Date(NaN),
  Buffer.from([0xff]), new Float64Array(3), new Map([[1, 2]]), Object.create(null),
];
function deep(n) {
  let v = {};
  for (let i = 0; i < n; i++) v = { a: v };
  return v;
}
const cyclic = {};
cyclic.self = cyclic;
JUNK.push(deep(10_000), cyclic);

test('junk of every JavaScript type gives only FleetpathError subclasses', () => {
  const graph = fp.UpgradeGraph.load(text('examples/data/seed-ip-module.json'));
  const fleet = fp.Fleet.load(text('examples/data/plant-340.csv'));
  const rollout = fp.Rollout.new(fp.planRollout(graph, fleet, '6.15.008', 'r'), fleet, graph);
  const table = graph.routeTable('6.15.008');
  const calendar = fp.Calendar.load(text('examples/data/plant-calendar.json'));
  const calls = {
    Version: (a, b) => new fp.Version(a).compare(b),
    VersionRange: (a, b) => new fp.VersionRange(a).matches(b),
    load: (a) => fp.UpgradeGraph.load(a),
    resolve: (a, b) => graph.resolve(a, b),
    nextHop: (a, b) => graph.nextHop('5.6.14', a, b),
    routeTable: (a, b) => graph.routeTable(a, b),
    tableHop: (a) => table.nextHop(a),
    rollbackRoute: (a, b) => graph.rollbackRoute('6.15.008', a, b),
    toDot: (a) => graph.toDot(a),
    fleet: (a) => fp.Fleet.load(a),
    fleetCsv: (a) => fp.Fleet.fromCsv(a),
    checkAgainst: (a) => fleet.checkAgainst(a),
    plan: (a, b) => fp.planRollout(graph, fleet, a, b),
    planWith: (a) => fp.planRollout(graph, a, '6.15.008', 'r'),
    rollout: (a) => fp.Rollout.new(a, fleet, graph),
    rolloutLoad: (a) => fp.Rollout.load(a),
    apply: (a, b) => rollout.apply(a, b),
    calendar: (a) => fp.Calendar.load(a),
    isOpen: (a, b) => calendar.isOpen(a, 'press-1', 'canary', b),
    decider: (a) => new fp.Decider(graph, a),
    deciderGraph: (a) => new fp.Decider(a),
    decide: (a, b) => new fp.Decider(graph).decide(a, b),
    decideAll: (a) => new fp.Decider(graph).decideAll(a),
    decideFleet: (a, b) => new fp.Decider(graph).decideFleet(a, b),
    checkReport: (a, b) => fp.checkReport(a, b),
    retry: (a) => new fp.RetryPolicy(a),
    delay: (a, b) => new fp.RetryPolicy().delayMs('d', a, b),
    afterFailure: (a, b) => new fp.RetryPolicy().afterFailure('d', a, b),
    healthPolicy: (a) => new fp.HealthPolicy(a),
    healthState: (a) => new fp.HealthState(a),
    ingest: (a) => new fp.HealthState().ingest(a),
    ingestColumns: (a, b) => new fp.HealthState().ingest({ devices: ['d'], device: a, time: b }),
    addDevice: (a, b) => new fp.HealthState().addDevice('d', a, b),
    evaluate: (a, b) => new fp.HealthState().evaluate(a, b),
    healthEvent: (a, b) => fp.healthEvent(a, b),
    sign: (a, b) => fp.sign('manifest', a, b, '{}', []),
    verify: (a, b) => fp.verify(a, 'manifest', b, '2026-01-01T00:00:00Z'),
    seal: (a, b) => fp.sealRetry(a, 'd', b),
    observeHead: (a, b) => fp.observeHead(a, b),
    restoreRequest: (a, b) => fp.restoreRequest(a, b),
  };
  let refused = 0;
  for (const [name, call] of Object.entries(calls)) {
    for (const a of JUNK) {
      for (const b of [undefined, a]) {
        try {
          call(a, b);
        } catch (err) {
          assert.ok(err instanceof fp.FleetpathError, `${name}(${String(typeof a)}): ${err && err.stack}`);
          assert.equal(typeof err.code, 'string');
          refused += 1;
        }
      }
    }
  }
  assert.ok(refused > 1000, `${refused}`);
});

test('a value nested past the JSON reader\'s depth: invalid_json naming the argument', () => {
  let deep = [];
  for (let i = 0; i < 200; i += 1) deep = [deep];
  const want = (document) => ({
    code: 'invalid_json',
    message: `invalid ${document} JSON: recursion limit exceeded`,
    fields: { document, line: 0, column: 0 },
  });
  assertError(() => fp.headFields({ StorageClass: 'STANDARD', deep }), want('head'), 'headFields');
  const key = fp.keyFromSeed(new Uint8Array(32).fill(7));
  assertError(() => fp.sign('manifest', 1, '2027-01-01T00:00:00Z', { deep }, [key]), want('document'), 'sign');
});

test('loadAsync: what load gives, as a promise; what load throws, as the same rejection', async () => {
  const manifest = text('examples/data/seed-ip-module.json');
  const csv = text('examples/data/plant-340.csv');
  const fleetJson = fp.Fleet.load(csv).toJSONText();
  const graphs = [manifest, Buffer.from(manifest), JSON.parse(manifest)];
  const fleets = [csv, fleetJson, JSON.parse(fleetJson), JSON.parse(fleetJson).devices, new TextEncoder().encode(csv)];
  // Many at once: on Node they run on libuv's thread pool, and finish in any order.
  const [loadedGraphs, loadedFleets] = await Promise.all([
    Promise.all(graphs.map((g) => fp.UpgradeGraph.loadAsync(g))),
    Promise.all(fleets.map((f) => fp.Fleet.loadAsync(f))),
  ]);
  for (const [i, graph] of loadedGraphs.entries()) {
    assert.ok(graph instanceof fp.UpgradeGraph);
    assert.equal(graph.toJSONText(), fp.UpgradeGraph.load(graphs[i]).toJSONText(), `graph ${i}`);
  }
  for (const [i, fleet] of loadedFleets.entries()) {
    assert.ok(fleet instanceof fp.Fleet);
    assert.equal(fleet.toJSONText(), fleetJson, `fleet ${i}`);
    assert.equal(fleet.origin('press-1-01'), fp.Fleet.load(fleets[i]).origin('press-1-01'), `fleet ${i}`);
  }
  // Bad documents and junk of every type: never a synchronous throw, and the rejection is the
  // error load throws (class, code, message, fields).
  const bad = [
    ...JUNK,
    '{"format_version": 1,\n "releases": [{"version": 5}]}',
    'id,model\nd1,m\n',
    'id,model,line,version\na,m,l,1.0\na,m,l,1.0\n',
    Buffer.from([0xff]),
    { devices: [{ id: 'a' }] },
  ];
  for (const [name, load] of [['UpgradeGraph', 'load'], ['Fleet', 'load']]) {
    for (const input of bad) {
      let thrown;
      try {
        fp[name][load](input);
      } catch (err) {
        thrown = err;
      }
      let promise;
      assert.doesNotThrow(() => {
        promise = fp[name].loadAsync(input);
      }, `${name}.loadAsync(${typeof input})`);
      assert.ok(promise instanceof Promise);
      const rejected = await promise.then(
        () => null,
        (err) => err,
      );
      if (!thrown) {
        assert.equal(rejected, null, `${name}.loadAsync(${typeof input}) rejected what load accepts`);
        continue;
      }
      assert.ok(rejected instanceof fp.FleetpathError, `${name}.loadAsync(${typeof input}): ${rejected}`);
      // A refused argument type names the call (`Fleet.load` against `Fleet.loadAsync`).
      const named = (err) => JSON.parse(JSON.stringify([err.message, err.fields]).replaceAll(`${name}.loadAsync`, `${name}.load`));
      assert.deepEqual(
        [rejected.constructor, rejected.code, ...named(rejected)],
        [thrown.constructor, thrown.code, ...named(thrown)],
        `${name}.loadAsync(${typeof input})`,
      );
    }
  }
});

test('defaultRolloutPolicy: the policy planRollout uses when given none, as a document', () => {
  const graph = fp.UpgradeGraph.load(text('examples/data/seed-ip-module.json'));
  const fleet = fp.Fleet.load(text('examples/data/plant-340.csv'));
  const policy = fp.defaultRolloutPolicy();
  assert.deepEqual(policy.stages.map((s) => [s.name, s.share ?? null, s.min_per_line ?? 0]), [['canary', 0.05, 1], ['early', 0.2, 0], ['production', null, 0]]);
  assert.deepEqual(fp.planRollout(graph, fleet, '6.15.008', 'r', policy), fp.planRollout(graph, fleet, '6.15.008', 'r'));
  // A start for one's own: a changed share changes the plan.
  const wider = { ...policy, stages: policy.stages.map((s) => (s.name === 'canary' ? { ...s, share: 0.5 } : s)) };
  const canary = (p) => p.stages[0].devices.length;
  assert.ok(canary(fp.planRollout(graph, fleet, '6.15.008', 'r', wider)) > canary(fp.planRollout(graph, fleet, '6.15.008', 'r')));
});

test('decideFleet: what decide says for each device, frozen, one object per distinct decision', () => {
  const graph = fp.UpgradeGraph.load(text('examples/data/seed-ip-module.json'));
  const fleet = fp.Fleet.load(text('examples/data/plant-340.csv'));
  const at = '2026-11-23T08:00:00Z';
  const devices = fleet.devices();
  assert.deepEqual(fleet.ids(), devices.map((d) => d.id));
  const ask = (d) => ({ device: d.id, model: d.model, version: d.version, labels: d.labels, at });
  // Without retries: devices of one model and version spelling share one frozen object.
  const plain = new fp.Decider(graph);
  const rows = plain.decideFleet(fleet, at);
  assert.equal(rows.length, devices.length);
  const byKind = new Map();
  rows.forEach((d, i) => {
    assert.deepEqual(d, plain.decide(ask(devices[i])), `device ${i}`);
    assert.ok(Object.isFrozen(d) && (d.step === undefined || Object.isFrozen(d.step.artifact)), `device ${i}`);
    const kind = `${devices[i].model} ${devices[i].version}`;
    if (!byKind.has(kind)) byKind.set(kind, d);
    assert.equal(d, byKind.get(kind), `device ${i} shares its kind's object`);
  });
  assert.equal(new Set(rows).size, byKind.size);
  assert.throws(() => {
    rows[0].kind = 'changed';
  }, TypeError);
  assert.equal(plain.decideFleet(fleet, at)[0].kind, rows[0].kind);
  // A retry is the device's own (its time is its own): never shared.
  const archived = { state: 'archived', class: 'glacier_flexible_retrieval' };
  const retrying = new fp.Decider(graph, { availability: { 'firmware/ip-module/5.6.30.bin': archived } });
  const retryingRows = retrying.decideFleet(fleet, at);
  retryingRows.forEach((d, i) => assert.deepEqual(d, retrying.decide(ask(devices[i])), `device ${i} with retries`));
  const retries = retryingRows.filter((d) => d.kind === 'retry_after');
  assert.ok(retries.length > 100);
  assert.equal(new Set(retries).size, retries.length);
  // Within a started rollout: each device's own stage decides (canary downloads, others wait).
  const started = fp.Rollout.new(fp.planRollout(graph, fleet, '6.15.008', 'r-1'), fleet, graph).apply({ type: 'start', at }).state;
  const staged = new fp.Decider(graph, { rollout: started });
  const stagedRows = staged.decideFleet(fleet, at);
  stagedRows.forEach((d, i) => assert.deepEqual(d, staged.decide(ask(devices[i])), `device ${i} in the rollout`));
  const kinds = new Set(stagedRows.map((d) => d.kind));
  assert.ok(kinds.has('download') && kinds.has('wait'), [...kinds].join());
});

test('decideFleetColumns: the answers of decideFleet, as typed arrays', () => {
  const graph = fp.UpgradeGraph.load(text('examples/data/seed-ip-module.json'));
  const fleet = fp.Fleet.load(text('examples/data/plant-340.csv'));
  const decider = new fp.Decider(graph, {
    availability: {
      'firmware/ip-module/5.6.30.bin': { state: 'archived', class: 'glacier_flexible_retrieval' },
      'firmware/ip-module/6.15.008.bin': { state: 'available', class: 'standard' },
    },
  });
  const at = new Date('2026-11-23T08:00:00Z');
  const rows = decider.decideFleet(fleet, at);
  const c = decider.decideFleetColumns(fleet, at);
  assert.ok(c.kind instanceof Uint8Array && c.reason instanceof Uint16Array && c.next instanceof Uint32Array);
  assert.ok(c.at instanceof Float64Array && c.hostAction instanceof Uint8Array);
  assert.equal(c.kind.length, rows.length);
  const kinds = new Set();
  rows.forEach((d, i) => {
    kinds.add(d.kind);
    assert.equal(c.kinds[c.kind[i]], d.kind, `${i}`);
    assert.equal(c.reasons[c.reason[i]], d.reason, `${i}`);
    const next = d.step ? d.step.to : null;
    assert.equal(c.next[i] === 0xffffffff ? null : c.versions[c.next[i]], next, `${i}`);
    const when = d.until || d.at || null;
    assert.equal(Number.isNaN(c.at[i]) ? null : c.at[i], when === null ? null : Date.parse(when), `${i}`);
    assert.equal(c.hostActions[c.hostAction[i]], d.host_action ? d.host_action.type : 'none', `${i}`);
  });
  assert.deepEqual([...kinds].sort(), ['download', 'retry_after']);
  // `next` indexes the graph's releases: one frozen list every batch of the decider shares,
  // also when no device has a version to install.
  assert.deepEqual(c.versions, graph.releases().map((r) => r.version));
  assert.ok(Object.isFrozen(c.versions));
  const latest = fp.Fleet.load('id,model,line,version\nd1,IPM-1,l1,6.15.008\n');
  const none = decider.decideFleetColumns(latest, at);
  assert.equal(none.next[0], 0xffffffff);
  assert.equal(none.versions, c.versions);
  assert.deepEqual(new fp.Decider(graph).decideFleetColumns(latest, at).versions, c.versions);
});

test('decideFleetTable: the columns as an Apache Arrow table (apache-arrow given by the host)', () => {
  const graph = fp.UpgradeGraph.load(text('examples/data/seed-ip-module.json'));
  const fleet = fp.Fleet.load(text('examples/data/plant-340.csv'));
  const archived = { state: 'archived', class: 'glacier_flexible_retrieval' };
  const availability = { 'firmware/ip-module/5.6.30.bin': archived, 'firmware/ip-module/6.15.008.bin': { state: 'available', class: 'standard' } };
  const decider = new fp.Decider(graph, { availability });
  const at = new Date('2026-11-23T08:00:00Z');
  const rows = decider.decideFleet(fleet, at);
  const table = decider.decideFleetTable(fleet, at, arrow);
  assert.ok(table instanceof arrow.Table);
  assert.equal(table.numRows, rows.length);
  const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
  assert.deepEqual(types, {
    device: 'Utf8',
    kind: 'Dictionary<Uint8, Utf8>',
    reason: 'Dictionary<Uint16, Utf8>',
    next: 'Dictionary<Uint32, Utf8>',
    at: 'Timestamp<MILLISECOND, UTC>',
    host_action: 'Dictionary<Uint8, Utf8>',
  });
  // Through Arrow's IPC format and back: what another Arrow reader sees.
  const read = arrow.tableFromIPC(arrow.tableToIPC(table));
  const devices = fleet.devices();
  const nulls = { next: 0, at: 0 };
  rows.forEach((d, i) => {
    const row = read.get(i).toJSON();
    const when = d.until || d.at || null;
    const next = d.step ? d.step.to : null;
    nulls.next += next === null;
    nulls.at += when === null;
    assert.deepEqual(
      { ...row, at: row.at === null ? null : Number(row.at) },
      { device: devices[i].id, kind: d.kind, reason: d.reason, next, at: when === null ? null : Date.parse(when), host_action: d.host_action ? d.host_action.type : 'none' },
      `row ${i}`,
    );
  });
  assert.ok(nulls.next > 0 && nulls.at > 0 && nulls.next < rows.length && nulls.at < rows.length, JSON.stringify(nulls));
  assertError(() => decider.decideFleetTable(fleet, at, {}), { code: 'invalid_input' }, 'no arrow module');
  // A module lacking the index types is named as such, not a TypeError from deep inside.
  const { Uint16: _dropped, ...partial } = arrow;
  assertError(() => decider.decideFleetTable(fleet, at, partial), { code: 'invalid_input' }, 'arrow without Uint16');
  // Ids beyond ASCII take Arrow's own string builder.
  const wide = fp.Fleet.fromCsv('id,model,line,version\npresse-ü1,IPM-1,l1,5.6.30\nzelle-7,IPM-1,l1,5.6.30\n');
  assert.deepEqual([...decider.decideFleetTable(wide, at, arrow).getChild('device')], ['presse-ü1', 'zelle-7']);
});

test("observeHead: restores dated from the host's record and its tier (options named as in every JS package)", () => {
  const NOW = '2026-11-23T08:00:00Z';
  const head = { StorageClass: 'DEEP_ARCHIVE', Restore: 'ongoing-request="true"' };
  const { availability } = fp.observeHead(head, NOW, { restoreSince: new Date('2026-11-23T02:00:00Z'), tier: 'bulk' });
  assert.deepEqual([availability.since, availability.ready_by], ['2026-11-23T02:00:00Z', '2026-11-25T02:00:00Z']);
  // Deep Archive has no Expedited tier: Standard's bound (12 h) applies.
  assert.equal(fp.observeHead(head, NOW, { tier: 'expedited' }).availability.ready_by, '2026-11-23T20:00:00Z');
  const restoreTimes = {
    deep_standard_minutes: 60,
    flexible_expedited_minutes: 5,
    flexible_standard_minutes: 300,
    flexible_bulk_minutes: 720,
    deep_bulk_minutes: 2880,
  };
  assert.equal(fp.observeHead(head, NOW, { restoreTimes }).availability.ready_by, '2026-11-23T09:00:00Z');
  assert.throws(
    () => fp.observeHead(head, NOW, { restoreSince: 'Tuesday' }),
    (err) => err instanceof fp.InvalidTimeError && err.code === 'invalid_time' && err.message.includes('restoreSince'),
  );
});

test('absent answers are null in every JS package (graph name, route hops, fleet origin)', () => {
  const graph = fp.UpgradeGraph.load({ format_version: 1, releases: [{ version: '1.0' }, { version: '2.0' }, { version: '3.0' }], edges: [{ from: '1.0', to: '2.0' }] });
  assert.equal(graph.name, null);
  const table = graph.routeTable('2.0');
  assert.equal(table.hops('1.0'), 1);
  assert.equal(table.hops('3.0'), null);
  const fleet = fp.Fleet.fromCsv('id,model,line,version\na,M,l1,1.0\n');
  assert.equal(fleet.origin('a'), 'row 2');
  assert.equal(fleet.origin('b'), null);
});

test('RouteTable.nextHop: each answer computed once, frozen, equal to a fresh table; errors never remembered', () => {
  const graph = fp.UpgradeGraph.load(text('examples/data/seed-ip-module.json'));
  const table = graph.routeTable('6.15.008', { model: 'IPM-1' });
  const hop = table.nextHop('5.6.14');
  assert.equal(hop.to, '5.6.30');
  assert.deepEqual(hop, graph.routeTable('6.15.008', { model: 'IPM-1' }).nextHop('5.6.14'));
  assert.equal(table.nextHop('5.6.14'), hop, 'the same answer again');
  assert.equal(table.nextHop(new fp.Version('5.6.14')), hop, 'a Version is its spelling');
  assert.ok(Object.isFrozen(hop) && Object.isFrozen(hop.artifact));
  // Nobody can change what the next caller gets (modules are strict: a write throws).
  assert.throws(() => {
    hop.to = '9.9.9';
  }, TypeError);
  assert.equal(table.nextHop('5.6.14').to, '5.6.30');
  assert.equal(table.nextHop('6.15.008'), null, 'at the target');
  assert.equal(table.nextHop('6.15.008'), null);
  for (let i = 0; i < 2; i++) assertError(() => table.nextHop('9.9.9'), { code: 'unknown_version' }, 'unknown, every time');
  assertError(() => table.nextHop(42), { code: 'invalid_input' }, 'not a version');
  const { nextHop } = table;
  assertError(() => nextHop('5.6.14'), { code: 'invalid_input' }, 'detached from its table');
  if (typeof table.free === 'function') {
    table.free();
    assert.throws(() => table.nextHop('5.6.14'), 'a freed table answers nothing, remembered or not');
    if (typeof Symbol.dispose === 'symbol') {
      const disposed = graph.routeTable('6.15.008', { model: 'IPM-1' });
      assert.equal(disposed.nextHop('5.6.14').to, '5.6.30');
      disposed[Symbol.dispose]();
      assert.throws(() => disposed.nextHop('5.6.14'), 'a disposed table answers nothing either');
    }
  }
});
