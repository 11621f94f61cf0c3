// Types of the npm package `fleetpath`: the native classes and functions (native.d.ts, written
// by napi-rs from the Rust doc comments), the error classes (errors.d.ts, written from the
// core's ERROR_CODES) and the plain objects results are made of (types.d.ts).
export * from './native';
export * from './errors';
export type * from './types';

/** Every error code, by module (the core's `ERROR_CODES`). */
export declare const ERROR_CODES: ReadonlyArray<{ readonly module: string; readonly codes: readonly string[] }>;
/** Every reason a decision can give. */
export declare const DECISION_REASONS: readonly string[];
/** The package's version. */
export declare const version: string;
