// The synthetic graph and fleet of the Node and WASM benches (bench.js, bindings/wasm/bench/bench.mjs):
// `releases` vendor-style versions (`4.2.017`), about ten explicit upgrade edges out of each (one
// to the next release, the rest up to 50 releases newer), two hardware models (every third
// release supports only m0), 1% of releases blocked; devices of m0, m1 and m2 (a model no release
// supports) on random releases, 0.5% on a version the manifest does not know. Seeded: the same
// inputs on every run.
'use strict';

function lcg(seed) {
  let s = BigInt(seed);
  return (below) => {
    s = (s * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number(s >> 33n) % below;
  };
}
const version = (i) => `${Math.floor(i / 1000)}.${Math.floor(i / 100) % 10}.${String(i % 100).padStart(3, '0')}`;
const models = (i) => (i % 3 === 0 ? ['m0'] : ['m0', 'm1']);
const blocked = (i) => i % 100 === 50;

function manifestText(n) {
  const rng = lcg(42);
  const releases = [];
  for (let i = 0; i < n; i++) {
    const r = { version: version(i), models: models(i), artifact: { key: `fw/${i}.bin`, sha256: 'ab'.repeat(32), size: 1_000_000 + i } };
    if (blocked(i)) Object.assign(r, { status: 'blocked', reason: 'recalled' });
    releases.push(r);
  }
  const edges = [];
  for (let i = 0; i + 1 < n; i++) {
    const targets = new Set([i + 1]);
    for (let k = 1; k < 10; k++) targets.add(Math.min(i + 1 + rng(50), n - 1));
    for (const t of targets) edges.push({ from: version(i), to: version(t) });
  }
  return JSON.stringify({ format_version: 1, name: 'synthetic', releases, edges });
}

function fleetCsv(n, releases) {
  const rng = lcg(7);
  const rows = ['id,model,line,version'];
  for (let i = 0; i < n; i++) {
    const r = rng(1000);
    const model = r < 5 ? 'm2' : r % 2 ? 'm1' : 'm0';
    const v = r >= 5 && r < 10 ? '99.9.999' : version(rng(releases));
    rows.push(`d${i},${model},line-${i % 17},${v}`);
  }
  return rows.join('\n');
}

module.exports = { lcg, version, manifestText, fleetCsv };
