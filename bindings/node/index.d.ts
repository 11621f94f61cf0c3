// Types of the npm package `fleetpath`: the native classes and functions (native.d.ts, written
// by napi-rs from the Rust doc comments), the error classes (errors.d.ts, written from the
// core's ERROR_CODES) and the plain objects results are made of (types.d.ts).
export * from './native';
export * from './errors';
export type * from './types';

import type { ArrowModule } from './types';

declare module './native' {
  interface Decider {
    /**
     * `decideFleetColumns` as an Apache Arrow table, built with `arrow` (the host's
     * `apache-arrow` module): columns `device` (utf8), `kind`, `reason`, `next` and `host_action`
     * (dictionary-encoded utf8; `next` null where there is no version to install) and `at`
     * (timestamp[ms, UTC], null where there is no time to ask again), as Python's
     * `decide_fleet_table`.
     */
    decideFleetTable<A extends ArrowModule>(fleet: Fleet, at: Date | string | number, arrow: A): InstanceType<A['Table']>;
  }
}

/** Every error code, by module (the core's `ERROR_CODES`). */
export declare const ERROR_CODES: ReadonlyArray<{ readonly module: string; readonly codes: readonly string[] }>;
/** Every reason a decision can give. */
export declare const DECISION_REASONS: readonly string[];
/** The package's version. */
export declare const version: string;
