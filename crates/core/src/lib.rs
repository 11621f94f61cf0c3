//! # fleetpath
//!
//! The decision engine for firmware over-the-air (OTA) updates of `IoT` and industrial device
//! fleets: which firmware a device may install next, by which path, and why not.
//!
//! This crate is pure: no I/O, no clock, no global state, no async. The same inputs give the
//! same outputs on every platform, including `wasm32-unknown-unknown`, and in every binding.
//!
//! - [`version`]: vendor version strings (`6.15.008`, `V1.04`, `0.48.0.34`) and ranges.
//! - [`graph`]: the upgrade graph manifest, validation, lint, path resolution, route tables,
//!   DOT and Mermaid export.
//! - [`fleet`]: devices, production lines and the firmware they run, from CSV or JSON.
//! - [`rollout`]: staged rollouts; stage selection per production line.
//! - [`health`]: device health after an update against its own baseline: mergeable
//!   summaries, breach rules, noise and leak tests, verdicts that explain themselves.
//! - [`schedule`]: shift and maintenance calendars per site, in local time, answered in UTC.
//! - [`retry`]: retries with exponential backoff and seeded jitter, and when to give up.
//! - [`artifact`]: whether a firmware binary is downloadable, and how long a cold-storage
//!   restore takes.
//! - [`decision`]: the per-device update decision (download the next hop, wait, retry
//!   after a restore, roll back, blocked), one request or a whole fleet.
//! - [`prefetch`]: which archived artifacts to restore, with which tier and by when, so
//!   each is ready when its stage's window opens.
//! - [`rollback`]: rollback plans over declared downgrades, refused across data schema
//!   changes without a migration.
//!
//! ```
//! use fleetpath::{Constraints, UpgradeGraph, Version};
//!
//! // The field report: legacy modules on 5.6.14 (TURN) must take the bridge 5.6.30
//! // before 6.15.008 (MQTT); the direct jump bricks them.
//! let graph = UpgradeGraph::from_json(r#"{
//!   "format_version": 1,
//!   "releases": [
//!     {"version": "5.6.14", "labels": {"protocol": "turn"}},
//!     {"version": "5.6.30", "barrier": true},
//!     {"version": "6.15.008", "labels": {"protocol": "mqtt"}}
//!   ],
//!   "edges": [
//!     {"from": "5.6.14", "to": "5.6.30"},
//!     {"from": "5.6.30", "to": "6.15.008"},
//!     {"from": "5.6.14", "to": "6.15.008", "blocked": "TURN modules lose their broker"}
//!   ]
//! }"#)?;
//!
//! let from: Version = "v5.6.14".parse()?;
//! let to = graph.latest_for("any-model")?.version().clone();
//! let path = graph.resolve(&from, &to, &Constraints::default())?;
//! assert_eq!(path.versions().iter().map(|v| v.to_string()).collect::<Vec<_>>(),
//!            ["5.6.14", "5.6.30", "6.15.008"]); // spelled as in the manifest
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Errors
//!
//! Every error is a typed enum whose `code()` is a stable `snake_case` string. [`Error`]
//! gathers them, and [`ERROR_CODES`] lists every code: bindings derive their exception
//! classes (Python) and `err.code` values (JS) from it.

// Errors carry structured fields (versions, reasons) by design; they are returned on cold
// paths, so their size does not matter.
#![forbid(unsafe_code)]
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

pub mod artifact;
pub mod decision;
pub mod document;
pub mod fleet;
pub mod graph;
pub mod health;
pub mod prefetch;
pub mod retry;
pub mod rollback;
pub mod rollout;
pub mod schedule;
pub mod trust;
pub mod version;

/// The string type of [`ReleaseSpec::version`](graph::ReleaseSpec::version) and of models in a
/// manifest (re-exported: it is part of this API).
pub use compact_str::CompactString;
/// Derives an enum's stable codes (`CODES`, `code()`) from one `#[code("…")]` per variant.
#[doc(hidden)]
pub use fleetpath_macros::Codes;

pub use artifact::{
    ArtifactStore, Availability, LocalArtifactStore, MemoryStore, RestoreTier, RestoreTimes, StorageClass,
};
pub use document::{Document, InputError, JsonError};
pub use fleet::{Device, DeviceRef, Devices, Fleet, FleetError};
pub use graph::{Artifact, Constraints, GraphError, Hop, Manifest, Path, ResolveError, RouteTable, UpgradeGraph};
pub use retry::{RetryPolicy, RetryState};
pub use rollout::{Action, Event, PlanError, Rollout, RolloutError, RolloutPlan, RolloutPolicy, plan_rollout};
pub use schedule::{Calendar, CalendarGap, ScheduleError};
pub use version::{Version, VersionError, VersionRange};

/// `n` as a `u32`, saturating: `u32::MAX` past it (or below zero). The core counts releases,
/// devices, rows and seats in `u32`s, and its inputs keep those counts far below the limit
/// (graphs by their size checks, fleets by [`Fleet::MAX_DEVICES`], batches by their fleet);
/// a duration in days or seconds is clamped to it.
pub(crate) fn u32_of(n: impl TryInto<u32>) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
}

/// Any fleetpath error. Bindings convert this one type: [`Error::code`] is the stable code,
/// [`Error::fields`] what was wrong and where, the `Display` text the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, Codes)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Error {
    /// A document could not be read as JSON of its form.
    #[error(transparent)]
    #[code(source)]
    Json(#[from] JsonError),
    /// An argument of the wrong type or shape, or a time that cannot be read.
    #[error(transparent)]
    #[code(source)]
    Input(#[from] InputError),
    /// A bug in fleetpath (a panic caught at a binding's boundary), never the caller's fault.
    #[error("internal error in fleetpath: {message}")]
    #[code("internal")]
    Internal {
        /// What went wrong.
        message: String,
    },
    /// A version or range string is invalid.
    #[error(transparent)]
    #[code(source)]
    Version(#[from] VersionError),
    /// A manifest could not be loaded.
    #[error(transparent)]
    #[code(source)]
    Graph(#[from] GraphError),
    /// No path could be resolved.
    #[error(transparent)]
    #[code(source)]
    Resolve(#[from] ResolveError),
    /// A fleet could not be loaded or checked.
    #[error(transparent)]
    #[code(source)]
    Fleet(#[from] FleetError),
    /// A rollout could not be planned.
    #[error(transparent)]
    #[code(source)]
    Plan(#[from] PlanError),
    /// A calendar could not be loaded or queried.
    #[error(transparent)]
    #[code(source)]
    Schedule(#[from] ScheduleError),
    /// A rollout event could not be applied.
    #[error(transparent)]
    #[code(source)]
    Rollout(#[from] RolloutError),
    /// A health policy, sample batch or health state was refused.
    #[error(transparent)]
    #[code(source)]
    Health(#[from] health::HealthError),
    /// A rollback was refused.
    #[error(transparent)]
    #[code(source)]
    Rollback(#[from] rollback::RollbackError),
    /// A signed document or a sealed retry state was refused.
    #[error(transparent)]
    #[code(source)]
    Trust(#[from] trust::TrustError),
    /// A decider could not be built.
    #[error(transparent)]
    #[code(source)]
    Decision(#[from] decision::DecisionError),
}

impl Error {
    /// The error's fields as a JSON object, named as in the error's variant: versions as the
    /// manifest spells them, rows, columns, names, nested reasons. An error without fields
    /// gives an empty object. Bindings attach it to their exceptions (`err.fields` in
    /// Python), so a program can react to *which* release or row was wrong without parsing
    /// the message.
    ///
    /// ```
    /// use fleetpath::{Error, graph::UpgradeGraph};
    ///
    /// let graph = UpgradeGraph::from_json(r#"{"format_version": 1,
    ///   "releases": [{"version": "5.6.14"}, {"version": "6.15.008"}], "edges": []}"#)?;
    /// let err = Error::from(graph.resolve(&"5.6.14".parse()?, &"6.15.008".parse()?, &Default::default()).unwrap_err());
    /// assert_eq!(err.code(), "no_path");
    /// let fields = err.fields();
    /// assert_eq!(fields["from"], "5.6.14");
    /// assert_eq!(fields["reason"]["kind"], "unreachable");
    /// assert_eq!(fields["reason"]["furthest"], "5.6.14");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        error_fields(self)
    }
}

/// The fields of an error whose serde form is externally tagged (`{"variant": {fields}}`, or
/// `"variant"` for a variant without fields; wrappers serialize untagged) or a plain struct:
/// the innermost object of fields. Shared with `fleetpath-aws`'s errors.
#[doc(hidden)]
pub fn error_fields<T: serde::Serialize + ?Sized>(error: &T) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(error) {
        Ok(serde_json::Value::Object(mut tagged)) if tagged.len() == 1 => {
            match tagged.values_mut().next().map(serde_json::Value::take) {
                Some(serde_json::Value::Object(fields)) => fields,
                _ => tagged,
            }
        }
        Ok(serde_json::Value::Object(fields)) => fields,
        _ => serde_json::Map::new(),
    }
}

/// Every error code any fleetpath function can return, grouped by module. Bindings generate
/// their error classes from this list; a parity test in each binding checks it is complete.
pub const ERROR_CODES: &[(&str, &[&str])] = &[
    ("json", JsonError::CODES),
    ("input", InputError::CODES),
    ("internal", Error::CODES),
    ("version", VersionError::CODES),
    ("graph", GraphError::CODES),
    ("resolve", ResolveError::CODES),
    ("fleet", FleetError::CODES),
    ("rollout", PlanError::CODES),
    ("schedule", ScheduleError::CODES),
    ("rollout_state", RolloutError::CODES),
    ("health", health::HealthError::CODES),
    ("rollback", rollback::RollbackError::CODES),
    ("decision", decision::DecisionError::CODES),
    ("trust", trust::TrustError::CODES),
];
