// Type-checked by `npm run typecheck` (tsc --strict): the package's declarations as a
// TypeScript service would use them.
import { readFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import { Decider, Fleet, FleetpathError, NoPathError, UpgradeGraph, Version, type Decision, type Path } from 'fleetpath';

const graph: UpgradeGraph = UpgradeGraph.load(readFileSync('examples/data/seed-ip-module.json'));
const path: Path = graph.resolve(new Version('v5.6.14'), '6.15.8', { model: 'IPM-1' });
const versions: string[] = path.versions;
const decision: Decision = new Decider(graph).decide({
  device: 'press-1-01', model: 'IPM-1', version: '5.6.14', at: '2026-11-23T08:00:00Z',
});
const reason: string = decision.reason;
const fleet = Fleet.fromCsv(readFileSync('examples/data/plant-340.csv', 'utf8'));
const table: arrow.Table = new Decider(graph).decideFleetTable(fleet, new Date(), arrow);
const rows: number = table.numRows;
// @ts-expect-error: decideFleetTable builds with the apache-arrow module, not any object
new Decider(graph).decideFleetTable(fleet, new Date(), {});
try {
  graph.resolve('6.15.008', '5.6.14');
} catch (err) {
  if (err instanceof NoPathError) console.log(err.code, err.fields);
  else if (err instanceof FleetpathError) console.log(err.code);
}
// @ts-expect-error: a manifest is text, bytes or an object, not a number
UpgradeGraph.load(12);
// Loading off the event loop: the same classes, as promises.
async function load(): Promise<number> {
  const [loaded, devices]: [UpgradeGraph, Fleet] = await Promise.all([
    UpgradeGraph.loadAsync(readFileSync('examples/data/seed-ip-module.json', 'utf8')),
    Fleet.loadAsync(readFileSync('examples/data/plant-340.csv')),
  ]);
  return loaded.size + devices.size;
}
console.log(versions, reason, rows);
load().then((sizes) => console.log(sizes));
