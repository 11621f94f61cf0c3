#!/usr/bin/env node
// Per-call and batch speed of the Node package, each beside a fair plain-JavaScript peer doing
// the same work in the same run (these machines are noisy: read the ratios). A script, not a
// test: nothing here asserts a time. The peer's answers are checked equal to fleetpath's first.
//
//   node bindings/node/bench/bench.js [--releases 10000] [--devices 100000]
//
// The graph and fleet: synthetic.js (10k vendor-style releases, two models, 1% blocked; devices
// of three models, one no release supports, 0.5% on unknown versions). Each device is steered to
// its model's newest release.
//
// The peer (plain JavaScript, as a careful engineer would write it without fleetpath): vendor
// version parsing by hand (npm `semver` refuses `6.15.008`) memoised per spelling (edges' and
// devices' alike), one breadth-first route table per model toward its newest release,
// fleetpath's tie-break between equally short paths (the newest successor), then two Map
// lookups per device.
'use strict';
const fp = require('..');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const RELEASES = arg('releases', 10_000);
const DEVICES = arg('devices', 100_000);
const CALLS = arg('calls', 200_000);

const { manifestText, fleetCsv, version } = require('./synthetic.js');

// ---- the plain-JavaScript peer ----
function parseVersion(text) {
  const core = text.replace(/^[vV]/, '').split(/[-+]/)[0];
  const parts = core.split('.').map(Number);
  while (parts.length > 1 && parts[parts.length - 1] === 0) parts.pop();
  return parts.join('.');
}

class Peer {
  constructor(manifestText) {
    const m = JSON.parse(manifestText);
    this.releases = m.releases;
    this.index = new Map();
    m.releases.forEach((r, i) => this.index.set(parseVersion(r.version), i));
    this.parsed = new Map();
    this.forward = m.releases.map(() => []);
    for (const e of m.edges) this.forward[this.node(e.from)].push(this.node(e.to));
    this.reverse = m.releases.map(() => []);
    this.forward.forEach((out, u) => out.forEach((v) => this.reverse[v].push(u)));
    this.tables = new Map();
  }

  /** The index of the release `spelling` names (-1: none), each spelling parsed once (edges'
   * and devices' alike: most name a release as the release spells itself). */
  node(spelling) {
    let i = this.parsed.get(spelling);
    if (i === undefined) {
      i = this.index.get(parseVersion(spelling));
      if (i === undefined) i = -1;
      this.parsed.set(spelling, i);
    }
    return i;
  }

  supports(i, model) {
    const ms = this.releases[i].models;
    return !ms || ms.includes(model);
  }

  /** The next release index toward the model's newest release, per release (-1: none). */
  table(model) {
    if (this.tables.has(model)) return this.tables.get(model);
    const n = this.releases.length;
    let target = -1;
    for (let i = n - 1; i >= 0; i--) if (this.supports(i, model) && this.releases[i].status !== 'blocked') { target = i; break; }
    const dist = new Int32Array(n).fill(-1);
    const next = new Int32Array(n).fill(-1);
    if (target >= 0) {
      dist[target] = 0;
      const queue = [target];
      for (let q = 0; q < queue.length; q++) {
        const v = queue[q];
        for (const u of this.reverse[v]) {
          if (dist[u] !== -1 || !this.supports(u, model)) continue;
          dist[u] = dist[v] + 1;
          // A blocked release may be left, never passed through.
          if (this.releases[u].status !== 'blocked') queue.push(u);
        }
      }
      for (let u = 0; u < n; u++) {
        if (dist[u] <= 0) continue;
        let best = -1;
        for (const w of this.forward[u]) if (dist[w] === dist[u] - 1 && (w === target || this.releases[w].status !== 'blocked') && w > best) best = w;
        next[u] = best;
      }
    }
    const t = { target, next };
    this.tables.set(model, t);
    return t;
  }

  /** The index of the release a device downloads next, or -1 (up to date, stuck, unknown). */
  nextIndex(model, spelling) {
    const i = this.node(spelling);
    return i < 0 ? -1 : this.table(model).next[i];
  }

  /** The version a device downloads next, or null (up to date, stuck, unknown). */
  nextFor(model, spelling) {
    const next = this.nextIndex(model, spelling);
    return next >= 0 ? this.releases[next].version : null;
  }
}

// ---- timing ----
// The fastest of `repeat` runs of each side (batches best of 21, setup and end to end best of 9,
// as peer.py: with fewer, one run's slow spell on this shared machine still moved a ratio by a
// fifth from one run of the script to the next),
// the two sides taking turns, so that a slow spell of this shared machine falls on both rather
// than on one side's block of runs; the last run's result is let go before the next run starts.
// Taking turns, each side also starts with caches the other side filled, as a batch in a
// service does between other work; `{ turns: false }` runs one side's block, then the other's
// (each run finding its own data in the caches, as a loop of batches does).
// Before each run the event loop turns once (`setImmediate`), as between a service's requests:
// Node frees a collected native object (a graph, a fleet, a batch's columns) only between
// tasks, so in one synchronous loop every run's result stays in memory and the next run of
// fleetpath's side writes fresh pages while the peer's V8 heap reuses its own (the setup row
// `in one synchronous loop` shows what that costs).
function time(f) {
  const t0 = process.hrtime.bigint();
  const out = f();
  return [Number(process.hrtime.bigint() - t0) / 1e9, out];
}
const tick = () => new Promise(setImmediate);
async function versus(ours, peer, repeat = 21, { turns = true, yields = true } = {}) {
  const best = { ours: [Infinity, undefined], peer: [Infinity, undefined] };
  const run = async (side, f) => {
    best[side][1] = undefined;
    if (yields) await tick();
    const [t, out] = time(f);
    best[side] = [Math.min(best[side][0], t), out];
  };
  for (let r = 0; r < repeat; r++) {
    await run('ours', ours);
    if (turns) await run('peer', peer);
  }
  for (let r = 0; !turns && r < repeat; r++) await run('peer', peer);
  return [best.ours, best.peer];
}
const fmt = (s) => (s >= 1 ? `${s.toFixed(2)} s` : s >= 1e-3 ? `${(s * 1e3).toFixed(1)} ms` : `${(s * 1e6).toFixed(2)} µs`);
// Rows are printed at the end, once the peer's best time for setup and end to end is known
// from both sections (with and without loadAsync).
const rows = [];
function row(what, ours, peer, per = 1) {
  rows.push({ what, ours, peer, per });
}
function printRows() {
  for (const { what, ours, peer, per } of rows) {
    console.log(`${what.padEnd(44)} fleetpath ${fmt(ours / per).padStart(10)}   peer ${fmt(peer / per).padStart(10)}   fleetpath is ${(peer / ours).toFixed(2)}x the peer's speed`);
  }
}
/** The peer does the same work in rows `a` and `b`: its best time of the two counts in both,
 * so a slow spell of the peer in one section flatters neither of ours. */
function peerBest(a, b) {
  const [x, y] = [a, b].map((what) => rows.find((r) => r.what === what));
  x.peer = y.peer = Math.min(x.peer, y.peer);
}

(async () => {
  const text = manifestText(RELEASES);
  const csv = fleetCsv(DEVICES, RELEASES);
  const at = '2026-11-23T08:00:00Z';
  console.log(`graph: ${RELEASES} releases, ${(text.length / 1e6).toFixed(1)} MB manifest; fleet: ${DEVICES} devices`);

  function oursSetup() {
    const graph = fp.UpgradeGraph.load(text);
    const fleet = fp.Fleet.load(csv);
    return { graph, fleet, decider: new fp.Decider(graph) };
  }
  function peerSetup() {
    // The peer reads its fleet too (a bare split: no quoting, trimming or checks).
    const devices = csv.split('\n').slice(1).map((l) => l.split(','));
    const p = new Peer(text);
    for (const m of ['m0', 'm1', 'm2']) p.table(m);
    return { peer: p, devices };
  }
  // In one synchronous loop first, while the process's memory is still fresh (as it was for the
  // first run of this script): each of fleetpath's loads then writes new pages (see above).
  const [[setupSyncOurs], [setupSyncPeer]] = await versus(oursSetup, peerSetup, 9, { yields: false });
  const [[setupOurs, ours], [setupPeer, { peer, devices }]] = await versus(oursSetup, peerSetup, 9);

  // Answers first: the peer must say what fleetpath says for every device.
  const decisions = ours.decider.decideFleet(ours.fleet, at);
  let stuck = 0;
  decisions.forEach((d, i) => {
    const [, model, , v] = devices[i];
    const mine = d.decision === 'download' ? d.step.to : null;
    const theirs = peer.nextFor(model, v);
    if (mine !== theirs) throw new Error(`device ${i} (${model} on ${v}): fleetpath ${JSON.stringify(d)}, peer ${theirs}`);
    if (mine === null && d.decision !== 'up_to_date') stuck += 1;
  });
  console.log(`answers equal on all ${DEVICES} devices (${stuck} without a download: stuck, unknown version or model)\n`);

  row('setup (load manifest + fleet, route tables)', setupOurs, setupPeer);
  row('  the same, in one synchronous loop', setupSyncOurs, setupSyncPeer);
  const [[batchOurs], [batchPeer]] = await versus(
    () => ours.decider.decideFleet(ours.fleet, at),
    () => devices.map(([id, model, , v]) => {
      const to = peer.nextFor(model, v);
      return to === null ? { device: id, decision: 'none' } : { device: id, decision: 'download', to };
    }),
  );
  row(`decideFleet, ${DEVICES} devices (per device)`, batchOurs, batchPeer, DEVICES);
  // Columns: fleetpath's typed arrays beside the peer filling the same kind of arrays.
  const columns = ours.decider.decideFleetColumns(ours.fleet, at);
  columns.next.forEach((k, i) => {
    const theirs = peer.nextFor(devices[i][1], devices[i][3]);
    if ((k === 0xffffffff ? null : columns.versions[k]) !== theirs) throw new Error(`columns differ at device ${i}`);
  });
  // Each device's next release as an index into the releases (as fleetpath's `next` indexes the
  // decider's releases), 0xffffffff for none.
  function peerColumns(peer, devices) {
    const next = new Uint32Array(devices.length);
    devices.forEach(([, model, , v], i) => {
      const to = peer.nextIndex(model, v);
      next[i] = to < 0 ? 0xffffffff : to;
    });
    return next;
  }
  const peerNext = peerColumns(peer, devices);
  peerNext.forEach((k, i) => {
    if (k !== columns.next[i]) throw new Error(`next release index differs at device ${i}`);
  });
  const columnsOurs = () => ours.decider.decideFleetColumns(ours.fleet, at);
  const columnsPeer = () => peerColumns(peer, devices);
  const [[colOurs], [colPeer]] = await versus(columnsOurs, columnsPeer);
  row(`decideFleetColumns, ${DEVICES} devices (per device)`, colOurs, colPeer, DEVICES);
  const [[colWarmOurs], [colWarmPeer]] = await versus(columnsOurs, columnsPeer, 21, { turns: false });
  row('  the same, each side back to back', colWarmOurs, colWarmPeer, DEVICES);
  // Cold, as a Lambda runs it: nothing built before (the decider explains each release without a
  // path when a device first runs it, so the first batch pays for those).
  function peerCold() {
    const { peer: p, devices: d } = peerSetup();
    return peerColumns(p, d);
  }
  const [[coldOurs], [coldPeer]] = await versus(() => {
    const fleet = fp.Fleet.load(csv);
    return new fp.Decider(fp.UpgradeGraph.load(text)).decideFleetColumns(fleet, at);
  }, peerCold, 9);
  row('end to end, cold: setup + decideFleetColumns', coldOurs, coldPeer);

  const table = ours.graph.routeTable(ours.graph.latestFor('m0'), { model: 'm0' });
  const spellings = Array.from({ length: 1000 }, (_, k) => version((k * 7919) % RELEASES));
  const [[hopOurs], [hopPeer]] = await versus(() => {
    let found = 0;
    for (let k = 0; k < CALLS; k++) {
      try {
        if (table.nextHop(spellings[k % 1000])) found++;
      } catch {
        // no path from a release m0 cannot leave
      }
    }
    return found;
  }, () => {
    let found = 0;
    for (let k = 0; k < CALLS; k++) if (peer.nextFor('m0', spellings[k % 1000])) found++;
    return found;
  });
  row('RouteTable.nextHop (per call)', hopOurs, hopPeer, CALLS);

  const requests = spellings.map((v, k) => ({ device: `d${k}`, model: 'm0', version: v, at }));
  const [[decideOurs], [decidePeer]] = await versus(() => {
    for (let k = 0; k < CALLS / 4; k++) ours.decider.decide(requests[k % 1000]);
  }, () => {
    for (let k = 0; k < CALLS / 4; k++) {
      const r = requests[k % 1000];
      const to = peer.nextFor(r.model, r.version);
      const artifact = to === null ? null : peer.releases[peer.node(to)].artifact;
      if (to === null) ({ decision: 'none', device: r.device });
      else ({ decision: 'download', device: r.device, step: { from: r.version, to, artifact } });
    }
  });
  row('Decider.decide (per call)', decideOurs, decidePeer, CALLS / 4);

  // Setup as a Node service would run it without blocking its event loop: both documents read
  // on libuv's thread pool at once (loadAsync), then the decider; and end to end the same way.
  // Wall time, best of 9, taking turns with the peer as above (its JSON.parse and split run on
  // the event loop).
  async function versusAsync(f, peerF, repeat = 9) {
    let [ours, theirs] = [Infinity, Infinity];
    for (let r = 0; r < repeat; r++) {
      await tick();
      const t0 = process.hrtime.bigint();
      await f();
      ours = Math.min(ours, Number(process.hrtime.bigint() - t0) / 1e9);
      await tick();
      theirs = Math.min(theirs, time(peerF)[0]);
    }
    return [ours, theirs];
  }
  const load = async () => {
    const [graph, fleet] = await Promise.all([fp.UpgradeGraph.loadAsync(text), fp.Fleet.loadAsync(csv)]);
    return { decider: new fp.Decider(graph), fleet };
  };
  row('setup, loadAsync of both at once', ...(await versusAsync(load, peerSetup)));
  const cold = async () => {
    const { decider, fleet } = await load();
    return decider.decideFleetColumns(fleet, at);
  };
  row('end to end, cold, loadAsync of both at once', ...(await versusAsync(cold, peerCold)));
  peerBest('setup (load manifest + fleet, route tables)', 'setup, loadAsync of both at once');
  peerBest('end to end, cold: setup + decideFleetColumns', 'end to end, cold, loadAsync of both at once');
  printRows();
})();
