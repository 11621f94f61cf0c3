// Type-checked by `npm run typecheck` (tsc --strict, tsconfig.json): the package's declarations
// as a TypeScript dashboard or edge function would use them, imported by the package's own name
// (its `exports` give pkg/index.d.ts). Each `@ts-expect-error` must fire: a declaration that
// regresses to `any` (or loses a type) fails the check.
import * as arrow from 'apache-arrow';
import fp, {
  Calendar,
  Decider,
  FleetpathError,
  Fleet,
  InputError,
  HealthPolicy,
  HealthState,
  NoPathError,
  RetryPolicy,
  Rollout,
  UpgradeGraph,
  Version,
  VersionRange,
  checkReport,
  executePrefetch,
  executeTasks,
  healthEvent,
  healthReportText,
  keyFromSeed,
  missing,
  observeHead,
  planPrefetch,
  planRollout,
  publicKey,
  restoreRequest,
  sealRetry,
  openRetry,
  sign,
  trustedKeys,
  verify,
  type Action,
  type ArtifactStore,
  type Availability,
  type Decision,
  type DecisionColumns,
  type Device,
  type Envelope,
  type HealthReport,
  type Hop,
  type IngestReport,
  type LineCount,
  type LintFinding,
  type Path,
  type PrefetchPlan,
  type PrefetchReport,
  type Release,
  type RetryState,
  type RolloutPlan,
  type RolloutState,
  type RouteEntry,
  type Verified,
  type Window,
} from 'fleetpath-wasm';

// No export takes or returns `any`: every argument and result of every function, constructor,
// static and instance method, and every property, has a type (a plain function's `prototype`,
// `any` in TypeScript's own lib, aside). The error lists the leaking exports.
type IsAny<T> = 0 extends 1 & T ? true : false;
type AnyArg<A extends readonly unknown[]> = true extends { [I in keyof A]: IsAny<A[I]> }[number] ? true : false;
type AnyFn<F> = F extends (...args: infer A) => infer R ? (IsAny<R> extends true ? true : AnyArg<A>) : false;
type AnyNew<C> = C extends abstract new (...args: infer A) => unknown ? AnyArg<A> : false;
// `prepareStackTrace`: Node's `Error` static (`any` in @types/node, which apache-arrow's types load).
type AnyMember<T> = { [K in keyof T]: K extends 'prepareStackTrace' ? never : IsAny<T[K]> extends true ? K : AnyFn<T[K]> extends true ? K : never }[keyof T];
type Leaks<X> = IsAny<X> extends true ? 'itself' : X extends Function
  ? AnyFn<X> extends true ? 'call' : AnyNew<X> extends true ? 'constructor'
    : AnyMember<X> | (X extends { prototype: infer P } ? (IsAny<P> extends true ? never : AnyMember<P>) : never)
  : never;
type Api = typeof fp;
type Leaking = { [K in keyof Api]: [Leaks<Api[K]>] extends [never] ? never : `${K & string}: ${Leaks<Api[K]> & string}` }[keyof Api];
export const noAny = <Names extends never>(): Names[] => [];
noAny<Leaking>();

/** Answers a dashboard needs, from a manifest, a fleet's CSV, a calendar and the host's store. */
export async function overview(manifest: string, csv: string, calendarJson: string, store: ArtifactStore) {
  const graph: UpgradeGraph = UpgradeGraph.load(manifest);
  const path: Path = graph.resolve(new Version('v5.6.14'), '6.15.8', { model: 'IPM-1' });
  const versions: string[] = path.versions;
  const first: Hop | null = graph.nextHop('5.6.14', '6.15.008');
  const releases: Release[] = graph.releases();
  const latest: Version = graph.latestFor('IPM-1');
  const components: number[] = latest.components;
  const findings: LintFinding[] = graph.lint();
  const table = graph.routeTable(latest);
  const rows: RouteEntry[] = table.entries();
  const hops: number | null = table.hops('5.6.14');
  const dot: string = graph.toDot(path);
  const inRange: boolean = new VersionRange('>=5.6.0, <5.6.30').matches(new Version('5.6.14'));
  // @ts-expect-error: a path's versions are text
  const wrong: number[] = path.versions;
  // @ts-expect-error: the first hop is null when the device is already there
  const hop: Hop = graph.nextHop('5.6.14', '6.15.008');
  try {
    graph.resolve('6.15.008', '5.6.14');
  } catch (err) {
    if (err instanceof NoPathError) console.log(err.code, err.fields);
    else if (err instanceof fp.FleetpathError) console.log(err.code);
  }

  const fleet = Fleet.load(csv);
  fleet.checkAgainst(graph);
  // The Node package's promise forms, with the same types.
  const [sameGraph, sameFleet]: [UpgradeGraph, Fleet] = await Promise.all([UpgradeGraph.loadAsync(manifest), Fleet.loadAsync(csv)]);
  console.log(sameGraph.size, sameFleet.size);
  const device: Device | null = fleet.get('press-1-01');
  const lines: LineCount[] = fleet.lines();
  // @ts-expect-error: a device the fleet lacks is null
  const model: string = fleet.get('press-1-01').model;

  const decider = new Decider(graph, { target: '6.15.008' });
  const decision = decider.decide({
    device: 'press-1-01', model: 'IPM-1', version: '5.6.14', at: '2026-11-23T08:00:00Z',
  });
  const reason: string = decision.reason;
  const same: Decision = decision;
  // @ts-expect-error: a reason is text
  const fixed = () => decision.reason.toFixed();
  const all: Decision[] = decider.decideFleet(fleet, new Date('2026-11-23T08:00:00Z'));
  const columns: DecisionColumns = decider.decideFleetColumns(fleet, 1795420800);
  const kinds: Uint8Array = columns.kind;
  const arrowTable: arrow.Table = decider.decideFleetTable(fleet, '2026-11-23T08:00:00Z', arrow);
  const tableRows: number = arrowTable.numRows;
  // @ts-expect-error: the Arrow module, not an object without its builders
  decider.decideFleetTable(fleet, '2026-11-23T08:00:00Z', {});
  const claimRefused: Decision | null = checkReport({ model: 'IPM-1', version: '5.6.14', issued: { from: '5.6.14', to: '5.6.30' } }, '5.6.30');

  const plan: RolloutPlan = planRollout(graph, fleet, '6.15.008', 'ipm-6.15');
  const rollout = Rollout.new(plan, fleet, graph);
  const calendar = Calendar.load(calendarJson);
  const window: Window | null = calendar.nextWindow('plant-a', 'press-1', 'canary', new Date());
  const { state, actions }: { state: Rollout; actions: Action[] } = rollout.apply({ type: 'start', at: new Date() }, calendar);
  const stored: RolloutState = state.toJSON();
  const revision: number = Rollout.load(state.toJSONText()).revision;
  const prefetch: PrefetchPlan = planPrefetch(state, graph, {}, new Date(), calendar);

  // The store answers with promises; the executor's reports say what happened to each object.
  const reports: PrefetchReport[] = await executePrefetch(store, prefetch);
  const again: PrefetchReport[] = await executeTasks(store, [
    { key: 'firmware/ip-module/5.6.30.bin', kind: { type: 'restore', tier: 'standard', days: 7 } },
  ]);
  const failed = again.filter((r) => r.outcome === 'failed').map((r) => `${r.key}: ${r.code} (${r.message})`);
  // @ts-expect-error: a store must say where an object is
  await executeTasks({}, []);
  // @ts-expect-error: the reports come as a promise
  const notAwaited: PrefetchReport[] = executeTasks(store, []);

  const observed = observeHead({ StorageClass: 'GLACIER' }, new Date(), { tier: 'bulk' });
  const availability: Availability = observed.availability;
  const gone: string = missing().state;
  const restore: number | undefined = restoreRequest('glacier_flexible_retrieval', 'bulk', 3).Days;

  const health = new HealthState(new HealthPolicy());
  health.addDevice('press-1-01', 'press-1', new Date('2026-11-23T08:00:00Z'));
  const ingested: IngestReport = health.ingest({
    devices: ['press-1-01'],
    device: new Uint32Array([0]),
    time: [1795420800],
    metrics: { memory_mb: new Float64Array([512]) },
  });
  const report: HealthReport = health.evaluate(undefined, '2026-11-24T08:00:00Z');
  const verdict = healthEvent(report, 'canary');
  const text: string = healthReportText(report);

  const retry = new RetryPolicy();
  const next: RetryState = retry.afterFailure('press-1-01', new Date()).state;
  const delay: number = retry.delayMs('press-1-01', 1, 0);
  const key = keyFromSeed(new Uint8Array(32));
  const keyid: string = publicKey(key).keyid;
  const trusted = trustedKeys([publicKey(key).key], 1);
  const envelope: Envelope = sign('manifest', 1, '2027-01-01T00:00:00Z', manifest, [key]);
  const verified: Verified = verify(envelope, 'manifest', trusted, new Date(), null);
  const sealed = sealRetry(next, 'press-1-01', new Uint8Array(32));
  const opened: RetryState = openRetry(sealed, 'press-1-01', new Uint8Array(32));

  // What the types refuse, the package refuses too: each call throws (or rejects with) an
  // InputError.
  const refusals: Array<() => unknown> = [
    // @ts-expect-error: a manifest is text, bytes or an object, not a number
    () => UpgradeGraph.load(12),
    // @ts-expect-error: a device request says who asks, not a number
    () => decider.decide(42),
    // @ts-expect-error: S3 has no such restore tier
    () => executeTasks(store, [{ key: 'a', kind: { type: 'restore', tier: 'instant', days: 1 } }]),
    // @ts-expect-error: a seed is bytes
    () => keyFromSeed('seed'),
  ];
  for (const call of refusals) {
    const outcome: unknown = await Promise.resolve().then(call).then(() => 'accepted', (err: unknown) => err);
    if (!(outcome instanceof InputError)) throw new Error(`refused by the types, but: ${String(outcome)}`);
  }

  return {
    versions, first, releases, components, findings, rows, hops, dot, inRange, wrong, hop, device, lines, model,
    reason, same, fixed, all, kinds, tableRows, claimRefused, window, actions, stored, revision, reports, failed, notAwaited, availability, gone,
    restore, ingested, verdict, text, delay, keyid, verified, opened, reasons: fp.DECISION_REASONS,
    codes: fp.ERROR_CODES.map((m) => m.module), version: fp.version, isError: FleetpathError.name,
  };
}
