// The plain objects fleetpath returns and accepts: the core's serde JSON forms. Fields a kind
// of object may or may not carry are optional; variants (decisions, actions, events) carry
// `kind` / `type` and that variant's fields.

/** A firmware image: S3 key (or a digest reference), SHA-256 and, where stated, size. */
export interface Artifact { key: string; sha256: string; size?: number; [field: string]: unknown }

/** A release of the manifest. */
export interface Release {
  version: string;
  artifact?: Artifact | null;
  models?: string[] | null;
  labels?: Record<string, string> | null;
  status?: 'active' | 'archived' | 'blocked' | 'retired' | 'deadend';
  barrier?: boolean;
  [field: string]: unknown;
}

/**
 * Path constraints: a hardware model, whether blocked releases may be passed, a hop limit, and
 * for edges with risks the device's labels (from the host's record; absent: unknown) and the
 * risks the host accepts.
 */
export interface Constraints {
  model?: string | null;
  allow_blocked?: boolean;
  max_hops?: number | null;
  labels?: Record<string, string> | null;
  accepted_risks?: string[];
}

/** One hop of a path. */
export interface Hop { from: string; to: string; artifact?: Artifact | null; edge: number; generated: boolean; [field: string]: unknown }

/** An upgrade path; `versions` lists every version on it, the start included. */
export interface Path { from: string; to: string; hops: Hop[]; versions: string[] }

/** An upgrade edge: a hop paths may take; `edge` is the declaring entry's index in `edges`. */
export interface Edge { from: string; to: string; edge: number; generated: boolean }

/** A Cincinnati graph: releases (`nodes`), hops as node-index pairs, conditional hops. */
export interface CincinnatiGraph {
  nodes: { version: string; payload: string; metadata: Record<string, string> }[];
  edges: [number, number][];
  conditionalEdges?: { edges: { from: string; to: string }[]; risks: { url: string; name: string; message: string; matchingRules?: unknown[] }[] }[];
}

/** A row of a route table. */
export interface RouteEntry { from: string; next?: string | null; hops: number }

/** A lint finding. */
export interface LintFinding { code: string; severity: 'error' | 'warning' | 'info'; subject: Record<string, unknown>; message: string }

/** A device of a fleet. */
export interface Device { id: string; model: string; line: string; site?: string | null; version: string; labels?: Record<string, string> | null }

/** A planned stage: its devices (by line, then rank) with the hops each takes to the target. */
export interface PlannedStage { name: string; devices: Array<{ id: string; hops: number }>; lines: Record<string, number>; [field: string]: unknown }

/** A rollout policy document: `defaultRolloutPolicy()`, or the `policy` of `planRollout`. */
export interface RolloutPolicy {
  stages: Array<{ name: string; share?: number | null; min_per_line?: number; max_devices?: number | null; monitoring_hours?: number; approval?: boolean }>;
  update_timeout_minutes?: number;
  abort?: { min_finished: number; max_failure_share: number } | null;
}

/** A rollout plan. */
export interface RolloutPlan {
  rollout_id: string;
  target: string;
  stages: PlannedStage[];
  up_to_date: string[];
  excluded: Array<{ id: string; code: string; [field: string]: unknown }>;
  [field: string]: unknown;
}

/** An event for `Rollout.apply`: `{type: 'start' | 'tick' | 'device_reported' | …, at, …}`. */
export interface RolloutEvent { type: string; at: string | number | Date; [field: string]: unknown }

/** An action the host carries out after an event (`start_stage`, `roll_back`, …). */
export interface Action { type: string; [field: string]: unknown }

/** A rollout's stored state (its JSON form). */
export interface RolloutState { id: string; revision: number; status: { state: string; [field: string]: unknown }; stages: Array<Record<string, unknown>>; [field: string]: unknown }

/** A prefetch plan. */
export interface PrefetchPlan { at: string; stages: Array<Record<string, unknown>>; items: Array<Record<string, unknown>>; [field: string]: unknown }

/** An artifact's availability, as observed (`{state: 'ready' | 'archived' | 'restoring' | 'missing' | …}`). */
export interface Availability { state: string; [field: string]: unknown }

/** What a device asks: who, what it runs, when. */
export interface DeviceRequest { device: string; model: string; version: string; at: string | number; labels?: Record<string, string> | null; [field: string]: unknown }

/** What the host's registry holds for a device (checked against the request's claims): its model, its version, and the hop last issued to it if one is outstanding. */
export interface DeviceRecord { model: string; version: string; issued?: { from: string; to: string } | null }

/** What a device should do: the core's JSON (`decision` and that kind's fields), with `kind` (the same as `decision`) and the stable `reason`. */
export interface Decision { decision: string; kind: 'up_to_date' | 'wait' | 'download' | 'retry_after' | 'give_up' | 'roll_back' | 'blocked' | 'refused' | string; reason: string; [field: string]: unknown }

/** A retry state (attempts so far, first failure). */
export interface RetryState { attempts?: number; first_failure_at?: string | null; [field: string]: unknown }

/** Retry at a time, or give up. */
export interface RetryDecision { [field: string]: unknown }

/** What a batch of samples added. */
export interface IngestReport { rows: number; baseline: number; observation: number; before_baseline: number; unknown_device: number; duplicates: number; unknown_devices: string[] }

/** A health finding of one rule. */
export interface Finding {
  rule: string; metric: string; scope: unknown; outcome: string; reason?: string; statistic?: string; change_kind?: string;
  baseline?: number | null; observed?: number | null; change?: number | null; threshold?: number | null; zero_baseline?: boolean;
  z?: number | null; z_needed?: number | null; within_noise?: boolean;
  baseline_samples: number; observed_samples: number; devices_reporting: number; devices_expected: number;
  top_devices?: { device: string; line: string; baseline: number; observed: number; change: number | null }[];
  projection?: Record<string, number | null>;
  /** Recent-window rules: the window, in minutes, ending at the evaluation. */
  window_minutes?: number;
  /** Exceedance rules: the baseline's tail edges (low, then high). */
  tail_edges?: number[];
  /** Exceedance rules: observed samples past the edges. */
  exceedances?: number;
  /** Exceedance rules: the baselines' lag-1 autocorrelation. */
  autocorrelation?: number;
  message: string;
}

/** A health verdict and its findings; `problems` indexes the findings that are problems. */
export interface HealthReport { status: string; summary: string; evaluated_at: string; observed_hours: number; devices: number; findings: Finding[]; problems: number[]; [field: string]: unknown }

/** A private key file (TUF form). */
export interface KeyFile { keytype: string; scheme: string; keyval: { public: string; private: string } }

/** A trusted key set: public keys by key id, and how many must sign. */
export interface TrustedKeys { keys: Record<string, unknown>; threshold: number }

/** A signed envelope: the signed part (TUF form), its signatures, the document's exact text. */
export interface Envelope { signed: Record<string, unknown>; signatures: Array<{ keyid: string; sig: string }>; document: string }

/** What `verify` checked: the document's kind, version, expiry, text and signers. */
export interface Verified { kind: string; version: number; expires: string; document: string; signed_by: string[] }

/** A retry state sealed with an HMAC, to travel through a device. */
export interface SealedRetry { [field: string]: unknown }

/**
 * The parts of the `apache-arrow` module that `Decider.decideFleetTable` builds its table with:
 * pass the module itself (`import * as arrow from 'apache-arrow'`), an optional dependency the
 * package never imports. The table is an instance of the module's own `Table`.
 */
export interface ArrowModule {
  Table: new (...args: never[]) => unknown;
  Dictionary: new (...args: never[]) => unknown;
  Utf8: new (...args: never[]) => unknown;
  Uint8: new (...args: never[]) => unknown;
  Uint16: new (...args: never[]) => unknown;
  Uint32: new (...args: never[]) => unknown;
  TimestampMillisecond: new (...args: never[]) => unknown;
  makeData: (...args: never[]) => unknown;
  makeVector: (...args: never[]) => unknown;
  vectorFromArray: (...args: never[]) => unknown;
}
