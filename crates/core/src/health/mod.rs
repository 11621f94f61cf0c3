//! Device health after an update, compared with the baseline before it.
//!
//! The seed's plant samples every device every 60 s (MQTT connection, component crashes,
//! cycle time, errors, CPU, memory, units produced, quality checks) and, every 5 minutes,
//! compares the devices of the current stage with their own 7 days before the update. This
//! module does that comparison, in four steps:
//!
//! 1. [`SampleBatch`]: samples, column by column (devices, unix seconds, one column per
//!    metric, `null`/NaN where missing).
//! 2. [`HealthState`]: per device and metric, mergeable summaries of the **baseline** (the
//!    `baseline_hours` before the device's update) and the **observation** (since the
//!    update): `Moments` (count, sum, min, max, mean, variance), a `QuantileSketch`
//!    (medians and percentiles within 0.39 %), counter tracking with resets and wraps
//!    (`CounterTrack`), and a least-squares `Trend` after a warm-up. Serialize it between
//!    runs; two shards that summarise different devices (or consecutive time ranges) merge
//!    into the state one run would have built.
//! 3. [`HealthPolicy`]: the rules ([`Rule::seed_defaults`]: connection failures, cycle
//!    time, error rate, crashes, memory leaks), scopes (stage, line, device), minimum samples
//!    and devices, and the noise and trend tests.
//! 4. [`HealthState::evaluate`]: a [`HealthReport`] with a status that never says healthy for
//!    lack of data, a finding per rule and scope (baseline, observed, change, threshold,
//!    samples, z score, the devices that contribute most), and the
//!    [`Verdict`] / [`Event`](crate::Event) for the rollout state machine.
//!
//! ```
//! use fleetpath::health::{CohortDevice, HealthPolicy, HealthState, HealthStatus, SampleBatch};
//!
//! let policy = HealthPolicy::default();
//! let mut state = HealthState::new(&policy)?;
//! let updated_at: jiff::Timestamp = "2026-11-23T14:00:00Z".parse()?;
//! state.add_device(CohortDevice { id: "press-1-01".into(), line: "L1".into(), updated_at })?;
//!
//! // 7 days before and 25 hours after, one sample a minute; cycle time 12.5 % slower after.
//! let mut batch = SampleBatch::new(&["component_crashes", "cycle_time_ms", "error_count",
//!                                    "memory_mb", "mqtt_connected"]);
//! let t0 = updated_at.as_second();
//! for minute in -7 * 24 * 60..25 * 60i32 {
//!     let after = minute >= 0;
//!     let wobble = f64::from(minute.rem_euclid(7)); // a little spread
//!     let cycle = if after { 900.0 } else { 800.0 } + wobble;
//!     batch.push("press-1-01", t0 + 60 * i64::from(minute), &[0.0, cycle, 0.0, 300.0 + wobble, 1.0]);
//! }
//! state.ingest(&batch)?;
//!
//! let report = state.evaluate(&policy, "2026-11-24T15:00:00Z".parse()?)?;
//! assert_eq!(report.status, HealthStatus::Breach);
//! assert!(report.summary.starts_with("breach: cycle_time on stage: mean cycle_time_ms 803 -> 903 (12.45% worse"),
//!         "{}", report.summary);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod batch;
mod error;
mod evaluate;
mod policy;
mod sketch;
mod state;
mod summary;

pub use batch::{Column, SampleBatch, SampleView};
pub use error::HealthError;
pub use evaluate::{
    Contribution, Finding, HealthReport, HealthStatus, InconclusiveReason, Outcome, Projection, Scope, Verdict,
};
pub use policy::{
    Change, Direction, HealthPolicy, Limit, MetricKind, MetricSpec, RECENT_BUCKET_MINUTES, Rule, ScopeKind, Statistic,
};
pub use state::{CohortDevice, DeviceHealth, HealthState, IngestReport, MetricSummary, RecentBucket};

/// The statistics inside a [`MetricSummary`] (moments, the quantile sketch, counter tracks,
/// trends). Not part of the API: they may change in any release; hosts read summaries
/// through [`HealthState`] and its JSON. Public only for the crate's own tests and benches.
#[doc(hidden)]
pub mod stats {
    pub use super::sketch::{PRECISION_BITS, QuantileSketch, RELATIVE_ERROR};
    pub use super::summary::{CounterTrack, Fit, Moments, Reading, Trend};
}

crate::document::checked_documents! {
    HealthPolicy => "health policy";
    HealthState => "health state";
    SampleBatch => "sample batch";
}

crate::document::documents! {
    HealthReport => "health report";
    Vec<CohortDevice> => "health devices";
}
