//! The update decision: given what a device runs now, what should it do?
//!
//! This is the question the field report's Lambda answers on every device request. A
//! [`Decider`] is built once per batch of requests from the upgrade graph, the target (or
//! the newest release per model), optionally a rollout in progress with its calendar, and
//! optionally what the host observed about each artifact. [`Decider::decide`] then answers
//! one [`DeviceRequest`] with a [`Decision`]; [`Decider::decide_all`] and
//! [`Decider::decide_fleet`] answer many, and give exactly what `decide` gives for each.
//!
//! The answer respects, in this order:
//!
//! 1. **The graph**: an unknown version, a model that no path serves, a release with no way
//!    out: [`Decision::Blocked`]. A device at or ahead of the target: [`Decision::UpToDate`].
//! 2. **The rollout** (when one is given): only devices the rollout has started (status
//!    updating or succeeded) download; others wait, with the reason and, when known, until
//!    when ([`Decision::Wait`]). Devices the rollout rolled back get [`Decision::RollBack`]
//!    along declared downgrades (see [`rollback`](crate::rollback)). Apply
//!    [`Event::Tick`](crate::Event::Tick) at the request's instant before deciding, so devices
//!    whose window just opened have been started.
//! 3. **The artifact** (when observations are given): a device is never told to download an
//!    artifact that is not downloadable at the request's instant. Instead it gets
//!    [`Decision::RetryAfter`] with the instant its `Retry-After` should name, and, for the
//!    host, what to do ([`HostAction`]: request a restore, check the object, report it
//!    missing). Waits on a restore in progress are not failures. Everything else counts as a
//!    failed attempt of the device's [`RetryState`], and past the [`RetryPolicy`]'s limits the
//!    answer is [`Decision::GiveUp`], for operators to see.
//!
//! Every decision has a machine-readable reason ([`Decision::reason`]).
//!
//! ```
//! use fleetpath::decision::{Decider, DecisionPolicy, DeviceRequest, Decision};
//! use fleetpath::{Availability, StorageClass, UpgradeGraph};
//!
//! let graph = UpgradeGraph::from_json(r#"{"format_version": 1, "releases": [
//!   {"version": "5.6.14"},
//!   {"version": "5.6.30", "barrier": true, "artifact": {"key": "fw/5.6.30.bin", "size": 1024,
//!    "sha256": "508c49a1061aed23a975826a6d372074701a3d1ac74678dd700ddf2f369ef651"}},
//!   {"version": "6.15.008", "artifact": {"key": "fw/6.15.008.bin", "size": 2048,
//!    "sha256": "e65336c83b59d8c802b0738f3941b2a72c435c3c32870eb6077f62fabc0af1fd"}}],
//!   "edges": [{"from": "5.6.14", "to": "5.6.30"}, {"from": "5.6.30", "to": "6.15.008"}]}"#)?;
//! let mut seen = std::collections::BTreeMap::new();
//! seen.insert("fw/5.6.30.bin".to_owned(), Availability::Archived { class: StorageClass::GlacierFlexibleRetrieval });
//! seen.insert("fw/6.15.008.bin".to_owned(), Availability::Available { class: StorageClass::Standard });
//! let decider = Decider::new(&graph, DecisionPolicy::default())?.with_availability(seen);
//!
//! let request: DeviceRequest = serde_json::from_str(
//!     r#"{"device": "press-1-01", "model": "IPM-1", "version": "v5.6.14", "at": "2026-11-23T08:00:00Z"}"#)?;
//! let decision = decider.decide(&request);
//! // The next hop is the bridge, whose binary is in Glacier: ask again when it is restored.
//! assert_eq!(decision.reason(), "artifact_archived");
//! let Decision::RetryAfter { at, host_action: Some(action), .. } = &decision else { unreachable!() };
//! assert!(at.to_string() >= "2026-11-23T13:00:00Z".to_string()); // a 5-hour Standard restore
//! assert_eq!(action.code(), "request_restore");
//!
//! let on_bridge = DeviceRequest { version: "5.6.30".parse()?, ..request };
//! let Decision::Download { step, .. } = decider.decide(&on_bridge) else { unreachable!() };
//! assert_eq!(step.to.to_string(), "6.15.008");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::Codes;
use crate::u32_of;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher as _;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use compact_str::CompactString;
use hashbrown::{HashTable, hash_table};
use jiff::{SignedDuration, Timestamp};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

pub use crate::artifact::Observations;
use crate::artifact::{Availability, RestoreTier, RestoreTimes, StorageClass};
use crate::fleet::{Fleet, Kind};
use crate::graph::{
    Artifact, Constraints, DeviceAttributes, NoPathReason, ReleaseStatus, ResolveError, RouteTable, UpgradeGraph,
};
use crate::retry::{GiveUpReason, RetryDecision, RetryPolicy, RetryState};
use crate::rollback::{RollbackOutcome, plan_device_rollback};
use crate::rollout::{DeviceState, DeviceStatus, Rollout, RolloutStatus, StagePhase};
use crate::schedule::Calendar;
use crate::version::Version;

pub use crate::artifact::MAX_URL_LIFETIME_SECONDS;

/// One device's question: "I run this; what now?"
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRequest {
    /// The device id.
    pub device: String,
    /// Its hardware model.
    pub model: String,
    /// The version it runs now, as it reports it.
    pub version: Version,
    /// When it asks.
    pub at: Timestamp,
    /// Its retry history for the artifact it is waiting for (the host keeps it between
    /// requests: store the `retry` of a [`Decision::RetryAfter`], reset it after a download).
    #[serde(default)]
    pub retry: RetryState,
    /// The device's labels from the host's record (never from the device), for the
    /// conditions of edge risks; `None`: unknown, so a risk conditioned on a label applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, String>>,
}

/// A request as a document carries it, its version still text: read through
/// [`Document`](crate::Document), a version that does not parse gives the version's own error
/// (`empty_component`, …), as everywhere else a version is read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestDoc {
    device: String,
    model: String,
    version: String,
    at: Timestamp,
    #[serde(default)]
    retry: RetryState,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

impl RequestDoc {
    fn request(self) -> Result<DeviceRequest, crate::Error> {
        let version = Version::parse(&self.version)?;
        Ok(DeviceRequest {
            device: self.device,
            model: self.model,
            version,
            at: self.at,
            retry: self.retry,
            labels: self.labels,
        })
    }
}

impl crate::Document for DeviceRequest {
    const NAME: &'static str = "device request";
    fn from_json(text: &str) -> Result<Self, crate::Error> {
        crate::document::from_str::<RequestDoc>(Self::NAME, text)?.request()
    }
    fn from_value(value: serde_json::Value) -> Result<Self, crate::Error> {
        crate::document::from_value::<RequestDoc>(Self::NAME, value)?.request()
    }
}

impl crate::Document for Vec<DeviceRequest> {
    const NAME: &'static str = "device requests";
    fn from_json(text: &str) -> Result<Self, crate::Error> {
        let docs: Vec<RequestDoc> = crate::document::from_str(Self::NAME, text)?;
        docs.into_iter().map(RequestDoc::request).collect()
    }
    fn from_value(value: serde_json::Value) -> Result<Self, crate::Error> {
        let docs: Vec<RequestDoc> = crate::document::from_value(Self::NAME, value)?;
        docs.into_iter().map(RequestDoc::request).collect()
    }
}

/// How decisions are made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionPolicy {
    /// How long a download URL lives, in seconds (1 to [`MAX_URL_LIFETIME_SECONDS`]); never
    /// longer than a restored copy stays.
    pub url_lifetime_seconds: u32,
    /// A restored copy that expires sooner than this (seconds) counts as unavailable.
    pub min_url_lifetime_seconds: u32,
    /// The retrieval tier of the restores it asks for.
    pub restore_tier: RestoreTier,
    /// How many days a restored copy stays (at least 1).
    pub restore_days: u32,
    /// Restore durations per storage class and tier.
    pub restore_times: RestoreTimes,
    /// When devices retry, and when they give up.
    pub retry: RetryPolicy,
    /// Edge risks the host accepts for every device, by name: a hop withheld only by
    /// accepted risks is offered (see the manifest's `risks`).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub accepted_risks: BTreeSet<String>,
}

impl DecisionPolicy {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`DecisionError::InvalidPolicy`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), DecisionError> {
        let invalid = |field, problem: &str| Err(DecisionError::InvalidPolicy { field, problem: problem.to_owned() });
        if !(1..=MAX_URL_LIFETIME_SECONDS).contains(&self.url_lifetime_seconds) {
            return invalid("url_lifetime_seconds", "must be 1 to 604800 (7 days, the SigV4 limit)");
        }
        if self.min_url_lifetime_seconds > self.url_lifetime_seconds {
            return invalid("min_url_lifetime_seconds", "must not exceed url_lifetime_seconds");
        }
        if self.restore_days == 0 {
            return invalid("restore_days", "must be at least 1");
        }
        if self.retry.max_attempts == 0 {
            return invalid("retry.max_attempts", "must be at least 1");
        }
        Ok(())
    }
}

impl Default for DecisionPolicy {
    fn default() -> Self {
        Self {
            url_lifetime_seconds: 900,
            min_url_lifetime_seconds: 300,
            restore_tier: RestoreTier::Standard,
            restore_days: 7,
            restore_times: RestoreTimes::default(),
            retry: RetryPolicy::default(),
            accepted_risks: BTreeSet::new(),
        }
    }
}

/// Why a [`Decider`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, Codes)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DecisionError {
    /// A policy field is out of range.
    #[error("decision policy: {field} {problem}")]
    #[code("invalid_decision_policy")]
    InvalidPolicy {
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The target is not a release of the graph.
    #[error("target \"{target}\" is not a release of the graph")]
    #[code("unknown_target")]
    UnknownTarget {
        /// The target.
        target: Version,
    },
}

/// The next hop of an upgrade, with everything a device needs to fetch and check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The version the device runs.
    pub from: Version,
    /// The version to install now.
    pub to: Version,
    /// Its binary (key, SHA-256, size).
    pub artifact: Artifact,
    /// Where the path ends.
    pub target: Version,
    /// Hops left after this one.
    pub hops_left: u32,
}

/// The next downgrade of a rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackStep {
    /// The version the device runs.
    pub from: Version,
    /// The version to install now.
    pub to: Version,
    /// Its binary.
    pub artifact: Artifact,
    /// Where the rollback ends.
    pub target: Version,
    /// Downgrades left after this one.
    pub hops_left: u32,
    /// The migration component this downgrade runs, if it crosses a schema change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<String>,
    /// Set for a partial rollback: why the device's previous version was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_refused: Option<String>,
}

/// Why a device is up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Codes)]
#[codes(serde)]
#[non_exhaustive]
pub enum UpToDateReason {
    /// It runs the target.
    #[code("at_target")]
    AtTarget,
    /// It runs a release newer than the target (it is never downgraded for that).
    #[code("ahead_of_target")]
    AheadOfTarget,
    /// The rollout rolled it back and it has arrived.
    #[code("rolled_back")]
    RolledBack,
}

/// Why a device must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Codes)]
#[codes(serde)]
#[non_exhaustive]
pub enum WaitReason {
    /// The rollout has not started.
    #[code("rollout_not_started")]
    RolloutNotStarted,
    /// An operator paused the rollout.
    #[code("rollout_paused")]
    RolloutPaused,
    /// The rollout stopped for good; this device has nothing to do.
    #[code("rollout_halted")]
    RolloutHalted,
    /// The device's stage has not started (earlier stages are updating or monitoring).
    #[code("stage_not_started")]
    StageNotStarted,
    /// The device's stage waits for an operator's approval.
    #[code("awaiting_approval")]
    AwaitingApproval,
    /// The device's line is outside the stage's windows; `until` is when the next opens.
    #[code("outside_window")]
    OutsideWindow,
    /// The window is open but the rollout has not started this device yet: tick the
    /// rollout, then ask again.
    #[code("awaiting_start")]
    AwaitingStart,
    /// The rollout does not include this device (or it was removed from it).
    #[code("not_in_rollout")]
    NotInRollout,
    /// The device's update failed; an operator must look.
    #[code("update_failed")]
    UpdateFailed,
    /// The device's update timed out; an operator must look.
    #[code("update_timed_out")]
    UpdateTimedOut,
}

/// Why a download cannot happen now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Codes)]
#[codes(serde)]
#[non_exhaustive]
pub enum RetryReason {
    /// The artifact is in cold storage; a restore must be requested.
    #[code("artifact_archived")]
    ArtifactArchived,
    /// A restore is in progress.
    #[code("artifact_restoring")]
    ArtifactRestoring,
    /// A restore should be done by now but the artifact is not downloadable yet.
    #[code("restore_overdue")]
    RestoreOverdue,
    /// The restored copy expires too soon for a download.
    #[code("restored_copy_expiring")]
    RestoredCopyExpiring,
    /// The object does not exist.
    #[code("artifact_missing")]
    ArtifactMissing,
    /// Nobody has observed the object yet.
    #[code("artifact_unobserved")]
    ArtifactUnobserved,
}

/// Why a device cannot be updated at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Codes)]
#[codes(serde)]
#[non_exhaustive]
pub enum BlockReason {
    /// The device's version is not a release of the graph.
    #[code("unknown_version")]
    UnknownVersion,
    /// The device's release, or the target, does not install on its model.
    #[code("model_incompatible")]
    ModelIncompatible,
    /// No release installs on the device's model (when deciding for the newest release).
    #[code("no_release_for_model")]
    NoReleaseForModel,
    /// No upgrade path leads to the target.
    #[code("no_path")]
    NoPath,
    /// The device runs a blocked release and no path leads away from it.
    #[code("on_blocked_release")]
    OnBlockedRelease,
    /// The device runs a dead-end release: no update may leave it.
    #[code("on_dead_end")]
    OnDeadEnd,
    /// The path is longer than allowed.
    #[code("too_many_hops")]
    TooManyHops,
    /// Every route takes a hop withheld from the device by a risk its host has not accepted
    /// (the detail names the risk).
    #[code("withheld_by_risk")]
    WithheldByRisk,
    /// The next release has no artifact in the manifest.
    #[code("no_artifact")]
    NoArtifact,
    /// The rollout rolled the device back, but no safe downgrade exists.
    #[code("rollback_refused")]
    RollbackRefused,
}

/// What the host must do for a device to be served later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum HostAction {
    /// Request a restore of the artifact from cold storage.
    RequestRestore {
        /// The object key.
        key: String,
        /// Its storage class.
        class: StorageClass,
        /// The retrieval tier.
        tier: RestoreTier,
        /// How many days the restored copy stays.
        days: u32,
        /// When the restore should be done.
        ready_by: Timestamp,
    },
    /// Observe the object (an S3 `HEAD`) and decide again.
    CheckAvailability {
        /// The object key.
        key: String,
    },
    /// The object does not exist: an operator must upload it or fix the manifest.
    ReportMissing {
        /// The object key.
        key: String,
    },
}

impl HostAction {
    /// The object key the action is about.
    pub fn key(&self) -> &str {
        match self {
            Self::RequestRestore { key, .. } | Self::CheckAvailability { key } | Self::ReportMissing { key } => key,
        }
    }

    /// `request_restore`, `check_availability` or `report_missing`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::RequestRestore { .. } => "request_restore",
            Self::CheckAvailability { .. } => "check_availability",
            Self::ReportMissing { .. } => "report_missing",
        }
    }
}

/// What a device should do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Decision {
    /// Nothing to install.
    UpToDate {
        /// Why.
        reason: UpToDateReason,
    },
    /// Ask again later.
    Wait {
        /// Why.
        reason: WaitReason,
        /// When to ask again, when known.
        until: Option<Timestamp>,
    },
    /// Download and install the next hop.
    Download {
        /// The hop.
        step: Arc<Step>,
        /// The download URL's lifetime, in seconds.
        url_lifetime_seconds: u32,
    },
    /// The artifact of the next hop is not downloadable now: ask again at `at`.
    RetryAfter {
        /// Why.
        reason: RetryReason,
        /// When to ask again (what a `Retry-After` header names).
        at: Timestamp,
        /// The artifact waited for.
        key: String,
        /// What the host must do meanwhile (boxed, as `retry`: a fleet's decisions stay small).
        host_action: Option<Box<HostAction>>,
        /// The device's retry state to keep for its next request.
        retry: Box<RetryState>,
    },
    /// Stop asking about this artifact; an operator must look.
    GiveUp {
        /// Why the artifact was not downloadable.
        reason: RetryReason,
        /// The artifact.
        key: String,
        /// Failed attempts.
        attempts: u32,
        /// Since when.
        since: Timestamp,
        /// Which limit was reached.
        limit: GiveUpReason,
    },
    /// Go back: install the next downgrade of a rollback.
    RollBack {
        /// The downgrade.
        step: Arc<RollbackStep>,
        /// The download URL's lifetime, in seconds.
        url_lifetime_seconds: u32,
    },
    /// The device cannot be updated.
    Blocked {
        /// Why.
        reason: BlockReason,
        /// The explanation (shared by the devices a batch blocks for the same reason).
        detail: Arc<str>,
    },
    /// What the device says about itself disagrees with the host's record: nothing is issued.
    Refused {
        /// Why.
        reason: RefuseReason,
        /// The explanation.
        detail: String,
    },
}

/// Why a device's claim or report was refused ([`DeviceRecord`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Codes)]
#[codes(serde)]
#[non_exhaustive]
pub enum RefuseReason {
    /// The claimed version is neither the one on record nor the target of the hop the host
    /// issued.
    #[code("claim_mismatch")]
    ClaimMismatch,
    /// The claimed hardware model is not the one on record.
    #[code("model_mismatch")]
    ModelMismatch,
    /// A report of a finished update names another version than the hop the host issued (or
    /// none was issued).
    #[code("report_mismatch")]
    ReportMismatch,
}

/// A hop the host told a device to take (the last [`Decision::Download`] or
/// [`Decision::RollBack`] it answered with).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuedHop {
    /// The version the device ran.
    pub from: Version,
    /// The version it was told to install.
    pub to: Version,
}

/// What the host's fleet registry knows about a device (from its own records, never from the
/// device): what a device claims is checked against it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRecord {
    /// The hardware model on record.
    pub model: String,
    /// The version on record.
    pub version: Version,
    /// The last hop issued to the device, if one is outstanding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<IssuedHop>,
}

impl DeviceRecord {
    /// Checks what a device claims: its model must be the one on record, and its version the
    /// one on record or the target of the hop issued to it (it installed it).
    ///
    /// ```
    /// use fleetpath::decision::{DeviceRecord, IssuedHop};
    /// let record = DeviceRecord { model: "IPM-1".into(), version: "5.6.14".parse()?,
    ///     issued: Some(IssuedHop { from: "5.6.14".parse()?, to: "5.6.30".parse()? }) };
    /// assert!(record.check_claim("IPM-1", &"5.6.30".parse()?).is_ok());
    /// let refused = record.check_claim("IPM-1", &"6.15.008".parse()?).unwrap_err();
    /// assert_eq!(refused.reason(), "claim_mismatch");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The [`Decision::Refused`] to answer with.
    pub fn check_claim(&self, model: &str, version: &Version) -> Result<(), Decision> {
        if model != self.model {
            let detail = format!("claims model {model:?}, the record says {:?}", self.model);
            return Err(Decision::Refused { reason: RefuseReason::ModelMismatch, detail });
        }
        let issued_to = self.issued.as_ref().map(|h| &h.to);
        if *version == self.version || issued_to == Some(version) {
            return Ok(());
        }
        let told = issued_to.map(|to| format!(" (it was told to install \"{to}\")")).unwrap_or_default();
        let detail = format!("claims version \"{version}\", the record says \"{}\"{told}", self.version);
        Err(Decision::Refused { reason: RefuseReason::ClaimMismatch, detail })
    }

    /// Checks a report that the device finished an update: the version it reports must be the
    /// target of the hop issued to it.
    ///
    /// # Errors
    /// The [`Decision::Refused`] (`report_mismatch`) to answer with.
    pub fn check_report(&self, version: &Version) -> Result<(), Decision> {
        match &self.issued {
            Some(hop) if hop.to == *version => Ok(()),
            Some(hop) => Err(Decision::Refused {
                reason: RefuseReason::ReportMismatch,
                detail: format!("reports \"{version}\", but was told to install \"{}\"", hop.to),
            }),
            None => Err(Decision::Refused {
                reason: RefuseReason::ReportMismatch,
                detail: format!("reports \"{version}\", but no update was issued to it"),
            }),
        }
    }
}

/// Why a device is told to install something: the next hop of its upgrade, or a downgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Codes)]
#[codes(serde)]
#[non_exhaustive]
pub enum StepReason {
    /// The next hop of the upgrade path.
    #[code("next_hop")]
    NextHop,
    /// A downgrade toward the device's previous version.
    #[code("previous_version")]
    PreviousVersion,
    /// A downgrade toward the closest safe release, the previous version being refused.
    #[code("partial_rollback")]
    PartialRollback,
}

/// Every reason [`Decision::reason`] can return, by decision kind (what bindings list).
pub const REASONS_BY_KIND: &[(&str, &[&str])] = &[
    ("up_to_date", UpToDateReason::CODES),
    ("wait", WaitReason::CODES),
    ("download_or_roll_back", StepReason::CODES),
    ("retry_after_or_give_up", RetryReason::CODES),
    ("blocked", BlockReason::CODES),
    ("refused", RefuseReason::CODES),
];

/// Every reason [`Decision::reason`] can return, grouped by decision kind.
///
/// ```
/// let reasons = fleetpath::decision::reasons();
/// assert!(reasons.contains(&"artifact_archived") && reasons.contains(&"next_hop"));
/// ```
pub fn reasons() -> Vec<&'static str> {
    REASONS_BY_KIND.iter().flat_map(|(_, codes)| codes.iter().copied()).collect()
}

impl Decision {
    /// `up_to_date`, `wait`, `download`, `retry_after`, `give_up`, `roll_back`, `blocked` or
    /// `refused`.
    pub fn kind(&self) -> &'static str {
        DecisionColumns::KINDS[usize::from(self.kind_index())]
    }

    /// The kind's index in [`DecisionColumns::KINDS`].
    fn kind_index(&self) -> u8 {
        match self {
            Self::UpToDate { .. } => 0,
            Self::Wait { .. } => 1,
            Self::Download { .. } => 2,
            Self::RetryAfter { .. } => 3,
            Self::GiveUp { .. } => 4,
            Self::RollBack { .. } => 5,
            Self::Blocked { .. } => 6,
            Self::Refused { .. } => 7,
        }
    }

    /// The machine-readable reason, one of [`reasons`]: `next_hop` for a download,
    /// `previous_version` or `partial_rollback` for a rollback, the reason enum's name
    /// otherwise.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UpToDate { reason } => reason.code(),
            Self::Wait { reason, .. } => reason.code(),
            Self::Download { .. } => StepReason::NextHop.code(),
            Self::RetryAfter { reason, .. } | Self::GiveUp { reason, .. } => reason.code(),
            Self::RollBack { step, .. } => {
                if step.previous_refused.is_some() {
                    StepReason::PartialRollback.code()
                } else {
                    StepReason::PreviousVersion.code()
                }
            }
            Self::Blocked { reason, .. } => reason.code(),
            Self::Refused { reason, .. } => reason.code(),
        }
    }

    /// What the host must do for a [`Decision::RetryAfter`], if anything.
    ///
    /// ```
    /// use fleetpath::decision::{Decision, UpToDateReason};
    /// assert!(Decision::UpToDate { reason: UpToDateReason::AtTarget }.host_action().is_none());
    /// ```
    pub fn host_action(&self) -> Option<&HostAction> {
        match self {
            Self::RetryAfter { host_action, .. } => host_action.as_deref(),
            _ => None,
        }
    }
}

/// A decision as bindings hand it to hosts: its JSON (`decision` and that kind's fields) plus
/// the facts derived from it, `kind` and `reason`, so that a host reads them without a match.
///
/// ```
/// use fleetpath::decision::{Decision, Tagged, UpToDateReason};
/// let decision = Decision::UpToDate { reason: UpToDateReason::AtTarget };
/// let json = serde_json::to_value(Tagged::of(&decision))?;
/// assert_eq!(json, serde_json::json!({"decision": "up_to_date", "reason": "at_target", "kind": "up_to_date"}));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Tagged<'a> {
    /// The decision.
    #[serde(flatten)]
    pub decision: &'a Decision,
    /// [`Decision::kind`].
    pub kind: &'static str,
    /// [`Decision::reason`] (a decision's own `reason` field, when it has one, says the same).
    pub reason: &'static str,
}

impl<'a> Tagged<'a> {
    /// `decision` with its kind and reason.
    pub fn of(decision: &'a Decision) -> Self {
        Self { decision, kind: decision.kind(), reason: decision.reason() }
    }
}

/// A fleet's decisions as columns, one array a field: what a host stores, sends or hands to a
/// columnar format (Arrow, typed arrays) without one object per device. Each row can still be
/// read as its [`Decision`]. Built by [`Decider::decide_columns`].
///
/// ```
/// use fleetpath::decision::{Decider, DecisionColumns, DecisionPolicy};
/// let graph = fleetpath::UpgradeGraph::from_json(include_str!("../../../examples/data/seed-ip-module.json"))?;
/// let fleet = fleetpath::Fleet::from_csv("id,model,line,version\nd1,IPM-1,l1,5.6.14\nd2,IPM-1,l1,6.15.008\n")?;
/// let columns = Decider::new(&graph, DecisionPolicy::default())?.decide_columns(&fleet, "2026-11-23T08:00:00Z".parse()?);
/// assert_eq!(DecisionColumns::KINDS[columns.kind[0] as usize], "download");
/// assert_eq!(columns.versions[columns.next[0] as usize].as_str(), "5.6.30");
/// assert_eq!((columns.reason(1), columns.next[1]), ("at_target", DecisionColumns::NONE));
/// assert_eq!(columns.get(0).map(|d| d.kind()), Some("download"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct DecisionColumns {
    /// Per device: its kind, an index into [`DecisionColumns::KINDS`].
    pub kind: Vec<u8>,
    /// Per device: its reason, an index into [`reasons`].
    pub reason: Vec<u16>,
    /// Per device: the version to install next (a download's or a rollback's), an index into
    /// `versions`, or [`DecisionColumns::NONE`].
    pub next: Vec<u32>,
    /// Per device: when to ask again (a wait's `until`, a retry's `at`) in Unix milliseconds, or
    /// [`DecisionColumns::NO_TIME`].
    pub at_ms: Vec<i64>,
    /// Per device: what the host must do, an index into [`DecisionColumns::HOST_ACTIONS`].
    pub host_action: Vec<u8>,
    /// The versions `next` indexes: the decider's releases, then any other version a decision
    /// names (see [`Versions`]).
    pub versions: Versions,
    /// Per device: its decision, an index into `distinct` (devices with the same decision
    /// share one).
    row: Vec<u32>,
    distinct: Distinct,
}

impl DecisionColumns {
    /// The kinds, as [`Decision::kind`] names them.
    pub const KINDS: &'static [&'static str] =
        &["up_to_date", "wait", "download", "retry_after", "give_up", "roll_back", "blocked", "refused"];
    /// The host actions (`none` when there is none), as their JSON `type` names them.
    pub const HOST_ACTIONS: &'static [&'static str] =
        &["none", "request_restore", "check_availability", "report_missing"];
    /// No version in `next`.
    pub const NONE: u32 = u32::MAX;
    /// No time in `at_ms`.
    pub const NO_TIME: i64 = i64::MIN;

    /// The columns of `rows`, in order.
    pub fn from_rows(rows: Vec<Decision>) -> Self {
        let mut out = ColumnsBuilder::new(rows.len(), None);
        for decision in rows {
            out.push(decision);
        }
        out.columns
    }

    /// How many devices.
    pub fn len(&self) -> usize {
        self.row.len()
    }

    /// Whether there is no device.
    pub fn is_empty(&self) -> bool {
        self.row.is_empty()
    }

    /// Device `i`'s reason code.
    pub fn reason(&self, i: usize) -> &'static str {
        self.reason
            .get(i)
            .and_then(|&r| REASONS_BY_KIND.iter().flat_map(|(_, c)| c.iter()).nth(r.into()))
            .copied()
            .unwrap_or("")
    }

    /// Device `i`'s decision, borrowed from the batch where it keeps one. A download the batch
    /// read from a route table is made for this call alone (its step's shared count) until
    /// [`DecisionColumns::distinct`] makes them all: reading a few rows of a big batch does not
    /// make every decision.
    pub fn get(&self, i: usize) -> Option<Cow<'_, Decision>> {
        self.distinct.get(*self.row.get(i)? as usize)
    }

    /// The decisions the devices' rows point to (see [`DecisionColumns::indices`]): devices of
    /// one model and version spelling share one when nothing else decides for them (no
    /// rollout, no risks, no retry of their own), so a host builds one object per entry, not
    /// per device. Equal decisions may still appear more than once.
    ///
    /// ```
    /// use fleetpath::decision::{Decider, DecisionPolicy};
    /// let graph = fleetpath::UpgradeGraph::from_json(include_str!("../../../examples/data/seed-ip-module.json"))?;
    /// let fleet = fleetpath::Fleet::from_csv("id,model,line,version\nd1,IPM-1,l1,5.6.14\nd2,IPM-1,l2,5.6.14\n")?;
    /// let columns = Decider::new(&graph, DecisionPolicy::default())?.decide_columns(&fleet, "2026-11-23T08:00:00Z".parse()?);
    /// assert_eq!((columns.distinct().len(), columns.indices()), (1, &[0, 0][..]));
    /// assert_eq!(columns.get(1).as_deref(), Some(&columns.distinct()[0]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn distinct(&self) -> &[Decision] {
        self.distinct.decisions()
    }

    /// Per device: the index of its decision in [`DecisionColumns::distinct`].
    pub fn indices(&self) -> &[u32] {
        &self.row
    }

    /// The decisions, one a device.
    pub fn into_rows(self) -> Vec<Decision> {
        let distinct = self.distinct.into_decisions();
        if distinct.len() == self.row.len() {
            // Each device has its own (the builder numbers them in order).
            return distinct;
        }
        self.row.iter().filter_map(|&k| distinct.get(k as usize).cloned()).collect()
    }
}

/// [`DecisionColumns`]' distinct decisions. A batch's downloads are read from the decider's
/// route tables (which the columns share) and made when asked: one at a time for
/// [`DecisionColumns::get`], all at once (and kept) for the slice [`DecisionColumns::distinct`]
/// returns. A host reading only the columns never builds them: a step's shared count and text
/// are a cache miss or two a kind, and dropping the decisions as many again.
#[derive(Clone, Default)]
struct Distinct {
    /// Decisions made as they were found.
    made: Vec<Decision>,
    /// Each distinct decision in order, once some are downloads read from route tables
    /// (empty: each is `made`'s, in order).
    order: Vec<Entry>,
    /// The route tables of `Entry::Download`s.
    tables: Vec<Arc<ModelRoutes>>,
    /// The downloads' `url_lifetime_seconds`.
    url_lifetime_seconds: u32,
    /// `order`'s decisions, made at the first ask for all of them.
    all: OnceLock<Vec<Decision>>,
}

#[derive(Clone, Copy)]
enum Entry {
    /// `made[i]`.
    Made(u32),
    /// The download of release `node` of `tables[table]`, whose route there is a step.
    Download { table: u32, node: u32 },
}

impl Distinct {
    fn len(&self) -> usize {
        if self.order.is_empty() { self.made.len() } else { self.order.len() }
    }

    fn push(&mut self, decision: Decision) {
        if !self.order.is_empty() {
            self.order.push(Entry::Made(u32_of(self.made.len())));
        }
        self.made.push(decision);
    }

    fn push_download(&mut self, table: u32, node: u32) {
        if self.order.is_empty() {
            self.order.extend((0..self.made.len()).map(|i| Entry::Made(u32_of(i))));
        }
        self.order.push(Entry::Download { table, node });
    }

    /// Decision `k`: borrowed where it is kept (made as found, or all made), else made now.
    fn get(&self, k: usize) -> Option<Cow<'_, Decision>> {
        if let Some(all) = self.all.get() {
            return all.get(k).map(Cow::Borrowed);
        }
        match self.order.get(k) {
            None if self.order.is_empty() => self.made.get(k).map(Cow::Borrowed),
            None => None,
            Some(&Entry::Made(i)) => self.made.get(i as usize).map(Cow::Borrowed),
            Some(&entry) => Some(Cow::Owned(self.decision(entry))),
        }
    }

    fn decisions(&self) -> &[Decision] {
        if self.order.is_empty() {
            return &self.made;
        }
        self.all.get_or_init(|| self.order.iter().map(|&entry| self.decision(entry)).collect())
    }

    fn into_decisions(self) -> Vec<Decision> {
        if self.order.is_empty() {
            return self.made;
        }
        let _ = self.decisions();
        self.all.into_inner().unwrap_or_default()
    }

    fn decision(&self, entry: Entry) -> Decision {
        match entry {
            Entry::Made(i) => self.made.get(i as usize).cloned(),
            Entry::Download { table, node } => {
                match self.tables.get(table as usize).and_then(|routes| routes.slot_at(node)) {
                    Some(Route::Step(step)) => Some(Decision::Download {
                        step: Arc::clone(step),
                        url_lifetime_seconds: self.url_lifetime_seconds,
                    }),
                    _ => None,
                }
            }
        }
        // Each entry was pushed for a decision or step it names, which stays where it is.
        .unwrap_or_else(|| Decision::Blocked {
            reason: BlockReason::NoPath,
            detail: "internal error: a batch's decision was lost".into(),
        })
    }
}

impl std::fmt::Debug for Distinct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.decisions()).finish()
    }
}

/// The versions a batch's `next` column indexes: first the releases of the decider's graph, in
/// the graph's order (one list every batch of a decider shares, so a batch lists no version
/// of its own for a release: a host can keep what it made of them, such as one string
/// each), then any other version a decision names, each once, in order of first use. A
/// version equal to a release is listed as that release.
///
/// ```
/// use fleetpath::decision::{Decider, DecisionPolicy};
/// let graph = fleetpath::UpgradeGraph::from_json(include_str!("../../../examples/data/seed-ip-module.json"))?;
/// let fleet = fleetpath::Fleet::from_csv("id,model,line,version\nd1,IPM-1,l1,5.6.14\n")?;
/// let decider = Decider::new(&graph, DecisionPolicy::default())?;
/// let columns = decider.decide_columns(&fleet, "2026-11-23T08:00:00Z".parse()?);
/// let versions = &columns.versions;
/// assert_eq!((versions.len(), versions.releases().len(), versions.others().len()), (3, 3, 0));
/// assert_eq!(versions[columns.next[0] as usize].as_str(), "5.6.30");
/// assert_eq!(versions.iter().map(|v| v.as_str()).collect::<Vec<_>>(), ["5.6.14", "5.6.30", "6.15.008"]);
/// // The next batch of the same decider shares the releases' list.
/// let again = decider.decide_columns(&fleet, "2026-11-24T08:00:00Z".parse()?);
/// assert!(std::sync::Arc::ptr_eq(versions.releases(), again.versions.releases()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Versions {
    releases: Arc<[Version]>,
    others: Vec<Version>,
}

impl Versions {
    /// How many versions.
    pub fn len(&self) -> usize {
        self.releases.len() + self.others.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Version `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<&Version> {
        match i.checked_sub(self.releases.len()) {
            None => self.releases.get(i),
            Some(k) => self.others.get(k),
        }
    }

    /// Every version, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Version> + Clone {
        self.releases.iter().chain(&self.others)
    }

    /// The first ones: the decider's releases, in the graph's order (none for columns made
    /// from rows), shared by its batches.
    pub fn releases(&self) -> &Arc<[Version]> {
        &self.releases
    }

    /// The rest: versions a decision names that no release is, each once, in order of first use.
    pub fn others(&self) -> &[Version] {
        &self.others
    }
}

impl std::ops::Index<usize> for Versions {
    type Output = Version;

    /// Version `i`.
    ///
    /// # Panics
    /// When `i` is not below [`Versions::len`], as a slice does.
    fn index(&self, i: usize) -> &Version {
        match i.checked_sub(self.releases.len()) {
            None => &self.releases[i],
            Some(k) => &self.others[k],
        }
    }
}

/// Builds [`DecisionColumns`] a device at a time.
struct ColumnsBuilder<'g> {
    columns: DecisionColumns,
    reasons: FxHashMap<&'static str, u16>,
    /// The graph whose releases `columns.versions` lists first (none for rows).
    graph: Option<&'g UpgradeGraph>,
    /// Indices into `columns.versions.others`, by version (spelling aside).
    others: HashTable<u32>,
    /// Indices into `columns.versions` by the address of a spelling's text (kept alive by the
    /// decisions): steps to one release share its text, found without hashing the version.
    by_text: FxHashMap<usize, u32>,
}

impl<'g> ColumnsBuilder<'g> {
    /// For `n` devices; `releases`: the graph whose releases are listed first, and their list.
    fn new(n: usize, releases: Option<(&'g UpgradeGraph, Arc<[Version]>)>) -> Self {
        let reasons =
            reasons().into_iter().enumerate().map(|(i, r)| (r, u16::try_from(i).unwrap_or(u16::MAX))).collect();
        let mut columns = DecisionColumns::default();
        columns.kind.reserve(n);
        columns.reason.reserve(n);
        columns.next.reserve(n);
        columns.at_ms.reserve(n);
        columns.host_action.reserve(n);
        columns.row.reserve(n);
        let graph = releases.map(|(graph, list)| {
            columns.versions.releases = list;
            graph
        });
        Self { columns, reasons, graph, others: HashTable::new(), by_text: FxHashMap::default() }
    }

    /// Appends a device's decision; returns its row's values.
    fn push(&mut self, decision: Decision) -> RowValues {
        let kind = decision.kind_index();
        let reason = self.reasons.get(decision.reason()).copied().unwrap_or(u16::MAX);
        let next = match &decision {
            Decision::Download { step, .. } => Some(&step.to),
            Decision::RollBack { step, .. } => Some(&step.to),
            _ => None,
        };
        let next = next.map_or(DecisionColumns::NONE, |v| self.version_id(v));
        let out = &mut self.columns;
        let at = match &decision {
            Decision::Wait { until, .. } => *until,
            Decision::RetryAfter { at, .. } => Some(*at),
            _ => None,
        };
        let host_action = match decision.host_action() {
            Some(HostAction::RequestRestore { .. }) => 1,
            Some(HostAction::CheckAvailability { .. }) => 2,
            Some(HostAction::ReportMissing { .. }) => 3,
            None => 0,
        };
        let values = RowValues::new(
            (kind, reason, next, host_action),
            at.map_or(DecisionColumns::NO_TIME, Timestamp::as_millisecond),
            out.distinct.len(),
        );
        out.distinct.push(decision);
        self.repeat(values);
        values
    }

    /// Appends a device that downloads release `next` of the decider's graph from release
    /// `node` of `tables[table]` (see [`Distinct`]), with the values of an earlier download
    /// (`download`) but its own version and decision; returns its row's values.
    fn push_download(&mut self, (table, node, next): (u32, u32, u32), download: RowValues) -> RowValues {
        // The release's place in the graph is its place in `versions`.
        let values = RowValues { next, ..download }.of(self.columns.distinct.len());
        self.columns.distinct.push_download(table, node);
        self.repeat(values);
        values
    }

    /// `v`'s index in the columns' versions: its release's, or among the others, listed there
    /// at its first use.
    fn version_id(&mut self, v: &Version) -> u32 {
        let text = v.as_str().as_ptr() as usize;
        if let Some(&id) = self.by_text.get(&text) {
            return id;
        }
        let id = match self.graph.and_then(|graph| graph.node(v)) {
            Some(node) => node,
            None => self.other_id(v),
        };
        self.by_text.insert(text, id);
        id
    }

    /// `v`'s index among the versions no release is.
    fn other_id(&mut self, v: &Version) -> u32 {
        let versions = &mut self.columns.versions;
        let first = versions.releases.len();
        let hash = |v: &Version| rustc_hash::FxBuildHasher.hash_one(v);
        let listed = &versions.others;
        let entry = self.others.entry(hash(v), |&i| listed[i as usize] == *v, |&i| hash(&listed[i as usize]));
        let k = match entry {
            hash_table::Entry::Occupied(seen) => *seen.get(),
            hash_table::Entry::Vacant(slot) => {
                let k = u32_of(listed.len());
                slot.insert(k);
                versions.others.push(v.clone());
                k
            }
        };
        u32_of(first + k as usize)
    }

    /// Appends a device with these values (an earlier device's, for a repeated decision).
    // Once a device in a batch: inlined, a batch of 100k devices on the Node bench's graph took
    // 1.35–1.40 ms instead of 1.50–1.54 (`#[inline]` alone left the call).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    fn repeat(&mut self, values: RowValues) {
        let out = &mut self.columns;
        out.kind.push(values.kind);
        out.reason.push(values.reason);
        out.next.push(values.next);
        out.at_ms.push(values.at_ms());
        out.host_action.push(values.host_action);
        out.row.push(values.distinct.get() - 1);
    }
}

/// One device's values in [`DecisionColumns`]: 20 bytes, as a batch keeps one per kind it met
/// (`Option` of it too, through `distinct`), read at random once a device.
#[derive(Clone, Copy)]
struct RowValues {
    kind: u8,
    host_action: u8,
    reason: u16,
    next: u32,
    /// `at_ms`, in two halves: 4-byte alignment.
    at: [u32; 2],
    /// The decision's index in the batch's distinct ones, plus one.
    distinct: NonZeroU32,
}

const _: () = assert!(std::mem::size_of::<Option<RowValues>>() == 20);

impl RowValues {
    fn new((kind, reason, next, host_action): (u8, u16, u32, u8), at_ms: i64, distinct: usize) -> Self {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let at = [at_ms as u32, (at_ms >> 32) as u32];
        Self { kind, host_action, reason, next, at, distinct: NonZeroU32::MIN }.of(distinct)
    }

    /// The same values for distinct decision `distinct`.
    fn of(self, distinct: usize) -> Self {
        let distinct = NonZeroU32::new(u32_of(distinct).saturating_add(1)).unwrap_or(NonZeroU32::MAX);
        Self { distinct, ..self }
    }

    fn at_ms(self) -> i64 {
        (i64::from(self.at[1]) << 32) | i64::from(self.at[0])
    }
}

/// Values remembered by [`Kind`] for one batch over a fleet: a table with a slot per model
/// and spelling when there are no more slots than devices (plus a few thousand), else a map.
pub(crate) enum ByKind<T> {
    Table { slots: Vec<Option<T>>, spellings: usize },
    Map(FxHashMap<Kind, T>),
}

impl<T: Copy> ByKind<T> {
    pub(crate) fn new(fleet: &Fleet) -> Self {
        let (_, models, spellings) = fleet.kinds();
        match models.checked_mul(spellings) {
            // At most 32 bytes a device (and a few thousand slots for small fleets).
            Some(n) if n <= fleet.len() + 4096 => Self::Table { slots: vec![None; n], spellings },
            _ => Self::Map(FxHashMap::default()),
        }
    }

    fn slot(spellings: usize, kind: Kind) -> usize {
        kind.model as usize * spellings + kind.version as usize
    }

    pub(crate) fn get(&self, kind: Kind) -> Option<T> {
        match self {
            Self::Table { slots, spellings } => slots.get(Self::slot(*spellings, kind)).copied().flatten(),
            Self::Map(map) => map.get(&kind).copied(),
        }
    }

    pub(crate) fn insert(&mut self, kind: Kind, value: T) {
        match self {
            Self::Table { slots, spellings } => {
                if let Some(slot) = slots.get_mut(Self::slot(*spellings, kind)) {
                    *slot = Some(value);
                }
            }
            Self::Map(map) => {
                map.insert(kind, value);
            }
        }
    }
}

/// The routes a batch over a fleet keeps per kind (model and version spelling), each found when
/// a device of the kind first needs it; the kinds of a model whose every version has the same
/// route share one. A kind's route is read from its model's table through the release its
/// spelling names, each looked up once a batch (per fleet model and per spelling, not per kind).
struct KindRoutes<'d> {
    known: ByKind<u32>,
    routes: Vec<OnceCell<Route>>,
    /// Per fleet model: where its routes come from, once asked.
    models: Vec<ModelSource<'d>>,
    /// Per fleet version spelling: its release in the graph (`None`: not a release), numbered
    /// as in the decider's graph, which each of its route tables is built on (the fleet keeps
    /// them for the next batch over the same graph).
    nodes: crate::fleet::Nodes,
}

/// [`KindRoutes::found`]: the number of a route a model's kinds share, or a kind's own route
/// (`None`: explained by `Decider::route`).
enum Found {
    Shared(u32),
    Route(Option<Route>),
}

#[derive(Clone, Copy)]
enum ModelSource<'d> {
    Unasked,
    /// The decider's table for the model.
    Table(&'d Arc<ModelRoutes>),
    /// Every version has the same route, kept at this number.
    Shared(u32),
    /// Neither: each kind's route is found by `Decider::route`.
    Other,
}

impl<'d> KindRoutes<'d> {
    /// Routes for `fleet`'s kinds; `remember`: each kind's route is kept for the next device
    /// of the kind ([`KindRoutes::slot`]), else the caller remembers what it needs
    /// ([`KindRoutes::fresh`], [`KindRoutes::download`]).
    fn new(fleet: &Fleet, decider: &Decider, remember: bool) -> Self {
        let (_, models, _) = fleet.kinds();
        Self {
            known: if remember { ByKind::new(fleet) } else { ByKind::Map(FxHashMap::default()) },
            routes: Vec::new(),
            models: vec![ModelSource::Unasked; models],
            nodes: fleet.spelling_nodes(&decider.graph),
        }
    }

    /// Where the route of `kind` (of `model`) is kept.
    fn slot(&mut self, decider: &'d Decider, kind: Kind, model: &str) -> Option<&OnceCell<Route>> {
        let k = if let Some(k) = self.known.get(kind) {
            k
        } else {
            let k = self.new_slot(decider, kind, model);
            self.known.insert(kind, k);
            k
        };
        self.routes.get(k as usize)
    }

    fn new_slot(&mut self, decider: &'d Decider, kind: Kind, model: &str) -> u32 {
        match self.found(decider, kind, model) {
            Found::Shared(k) => k,
            Found::Route(route) => self.push(route),
        }
    }

    /// The route of `kind` (of `model`) without remembering it for the kind: for a batch that
    /// remembers each kind's decision itself. `None`: `Decider::route` explains it.
    fn fresh(&mut self, decider: &'d Decider, kind: Kind, model: &str) -> Option<Route> {
        match self.found(decider, kind, model) {
            Found::Shared(k) => self.routes.get(k as usize).and_then(|route| route.get().cloned()),
            Found::Route(route) => route,
        }
    }

    /// Where the route of `kind` comes from: a route its model's kinds share, or its own.
    fn found(&mut self, decider: &'d Decider, kind: Kind, model: &str) -> Found {
        // A model whose table could not be built explains each kind (`Decider::route`), and so
        // does a kind its table gives no step, when first asked.
        Found::Route(match self.source(decider, kind, model) {
            ModelSource::Shared(k) => return Found::Shared(k),
            ModelSource::Table(routes) if routes.table.is_ok() => self.node(kind).and_then(|node| routes.step_at(node)),
            _ => None,
        })
    }

    /// Where the routes of `kind`'s model (`model`) come from, asked once a batch.
    fn source(&mut self, decider: &'d Decider, kind: Kind, model: &str) -> ModelSource<'d> {
        let source = self.models.get(kind.model as usize).copied().unwrap_or(ModelSource::Other);
        if !matches!(source, ModelSource::Unasked) {
            return source;
        }
        let asked = if let Some(routes) = decider.routes.get(model) {
            ModelSource::Table(routes)
        } else if let Some(route) = decider.model_wide_route(model) {
            ModelSource::Shared(self.push(Some(route)))
        } else {
            ModelSource::Other
        };
        if let Some(slot) = self.models.get_mut(kind.model as usize) {
            *slot = asked;
        }
        asked
    }

    /// For a kind whose model's table gives it a step: the table, the kind's release and the
    /// release the step installs (all nodes of the decider's graph), without touching the step.
    fn download(&mut self, decider: &'d Decider, kind: Kind, model: &str) -> Option<(&'d Arc<ModelRoutes>, u32, u32)> {
        let ModelSource::Table(routes) = self.source(decider, kind, model) else { return None };
        let node = self.node(kind)?;
        Some((routes, node, routes.download_to(node)?))
    }

    fn push(&mut self, route: Option<Route>) -> u32 {
        self.routes.push(route.map_or_else(OnceCell::new, OnceCell::from));
        u32_of(self.routes.len() - 1)
    }

    /// The release a kind's version spelling names.
    fn node(&self, kind: Kind) -> Option<u32> {
        self.nodes.get(kind.version as usize).copied().flatten()
    }
}

/// Where a device's upgrade stands, per model table (computed once per release).
#[derive(Debug, Clone)]
enum Route {
    Step(Arc<Step>),
    AtTarget,
    /// Newer than the target: never downgraded for that.
    Ahead,
    Blocked(BlockReason, Arc<str>),
}

/// The route table of one model, with each release's route remembered once asked.
#[derive(Debug)]
struct ModelRoutes {
    table: Result<RouteTable, (BlockReason, Arc<str>)>,
    /// Per release of the graph (by node), its route once a device asked: the table's step,
    /// or why it gives none (explained once a release, whatever the device's spelling). Built
    /// on demand: a decider costs its route tables alone, and a fleet pays for the releases it
    /// runs. Empty when the table could not be built.
    routes: Box<[OnceLock<Route>]>,
    /// The risks that withhold edges from the devices these routes serve (see
    /// `UpgradeGraph::risk_signature`).
    signature: RiskSignature,
    /// For the routes of a risk signature: routes with no step, once explained (at most
    /// `MAX_MISSES / MAX_RISKY_TABLES`). The model's own routes use `Decider::misses`.
    misses: Mutex<FxHashMap<Version, Route>>,
}

type RiskSignature = Box<[(u32, u32)]>;

/// Answers device requests. Build one per batch of requests, or keep it as long as its
/// inputs hold: it owns them (shared, `Arc`), so a binding or a server can store it.
#[derive(Debug)]
pub struct Decider {
    graph: UpgradeGraph,
    policy: DecisionPolicy,
    target: Option<Version>,
    routes: FxHashMap<String, Arc<ModelRoutes>>,
    rollout: Option<(Arc<Rollout>, Option<Calendar>)>,
    /// Device id to where it is in the rollout: built at the first single request (a fleet's
    /// batch finds its devices through the fleet's own index instead).
    index: OnceLock<DeviceIndex>,
    availability: Option<Arc<Observations>>,
    /// Routes of (model, version) pairs the route tables give no step for (no path, unknown
    /// version or model, blocked release): explained once, then answered like any other.
    misses: Mutex<Misses>,
    /// Routes for devices from which risks withhold other edges than from the model's
    /// table, by model and risk signature (a graph with risks only).
    risky: Mutex<RiskyRoutes>,
    /// The graph's release versions, in its order: the first of every batch's
    /// [`DecisionColumns::versions`] (listed at the first batch).
    versions: OnceLock<Arc<[Version]>>,
}

/// At most this many remembered risk-specific route tables; beyond, they are built per request.
const MAX_RISKY_TABLES: usize = 256;

/// Route tables by risk signature, then model (looked up without allocating a key).
#[derive(Debug, Default)]
struct RiskyRoutes {
    by_signature: FxHashMap<RiskSignature, FxHashMap<String, Arc<ModelRoutes>>>,
    len: usize,
}

/// At most this many remembered misses: requests choose models and versions, so the memory
/// they can make the decider keep is bounded.
const MAX_MISSES: usize = 1 << 16;

#[derive(Debug, Default)]
struct Misses {
    by_model: FxHashMap<String, FxHashMap<Version, Route>>,
    len: usize,
    /// The routes of models without a table (at most `MAX_OTHER_MODELS`).
    models: FxHashMap<String, Arc<ModelRoutes>>,
}

/// At most this many remembered route sets of models the graph has no table for.
const MAX_OTHER_MODELS: usize = 256;

/// Device id to where it is in a rollout: (stage, position) and its status. Ids of up to 24
/// bytes sit in the key itself, and the status beside it, so a lookup reads one bucket and
/// follows no pointer: the index is probed once per device of a fleet, in fleet order, which
/// is not the rollout's, and each pointer followed would be a cache miss.
#[derive(Debug, Default)]
struct DeviceIndex {
    by_id: FxHashMap<CompactString, Placed>,
}

/// A rollout's device, as the index places it.
#[derive(Debug, Clone, Copy)]
struct Placed {
    stage: u32,
    at: u32,
    status: DeviceStatus,
}

impl DeviceIndex {
    fn build(rollout: &Rollout) -> Self {
        let mut by_id = FxHashMap::default();
        by_id.reserve(rollout.stages.iter().map(|s| s.devices.len()).sum());
        for (id, placed) in Self::placements(rollout) {
            // The first entry of a repeated id wins.
            by_id.entry(CompactString::from(id)).or_insert(placed);
        }
        Self { by_id }
    }

    /// Each device of `rollout` with where it is, in the rollout's order.
    fn placements(rollout: &Rollout) -> impl Iterator<Item = (&str, Placed)> {
        rollout.stages.iter().enumerate().flat_map(|(k, stage)| {
            let stage_at = u32_of(k);
            stage.devices.iter().enumerate().map(move |(i, device)| {
                let at = u32_of(i);
                (device.id.as_str(), Placed { stage: stage_at, at, status: device.status })
            })
        })
    }

    fn get(&self, id: &str) -> Option<Placed> {
        self.by_id.get(id).copied()
    }

    /// Where each device of `fleet` is in `rollout`, in fleet order, found through the fleet's
    /// own index (no index of the rollout is built): the rollout's devices are read in order
    /// and looked up in groups ([`Fleet::positions`]), whose cache misses the processor
    /// overlaps.
    fn place_fleet(rollout: &Rollout, fleet: &Fleet) -> Vec<Option<Placed>> {
        let mut placed = vec![None; fleet.len()];
        fleet.positions(Self::placements(rollout), |here, j| {
            if let Some(slot) = j.and_then(|j| placed.get_mut(j)) {
                // The first entry of a repeated id wins, as in `build`.
                slot.get_or_insert(here);
            }
        });
        placed
    }
}

impl ModelRoutes {
    /// The route of a device on `version`, built at the first ask; `None` for a version that
    /// names no release, or when the table could not be built (explained by the caller).
    fn step(&self, version: &Version) -> Option<Route> {
        self.step_at(self.table.as_ref().ok()?.node(version)?)
    }

    /// [`ModelRoutes::step`] of the release at `node`.
    fn step_at(&self, node: u32) -> Option<Route> {
        self.slot_at(node).cloned()
    }

    /// The release the step from `node` installs; `None` when the route from `node` is not
    /// a step. Read from the table as [`ModelRoutes::slot_at`] builds the route, without
    /// building the step (made when a decision needs it) or reading the route's slot (a
    /// cache miss a kind in a big graph, where the table's arrays are a few bytes a release).
    fn download_to(&self, node: u32) -> Option<u32> {
        let table = self.table.as_ref().ok()?;
        let (_, next) = Self::hop_at(table, node)?;
        next.filter(|&next| table.graph().has_artifact(next))
    }

    /// The one rule [`ModelRoutes::slot_at`] and [`ModelRoutes::download_to`] both read: for
    /// the release at `node`, the hops it has left and the node of the release it installs
    /// (`None` at the target); `None` when the table keeps no route from it (not reached,
    /// or the source checks refuse it), which the decider explains.
    fn hop_at(table: &RouteTable, node: u32) -> Option<(u32, Option<u32>)> {
        let hops = table.reaching(node)?;
        Some((hops, table.next_node_at(node).ok()?))
    }

    /// Where [`ModelRoutes::step_at`] keeps the route of the release at `node`.
    fn slot_at(&self, node: u32) -> Option<&Route> {
        let table = self.table.as_ref().ok()?;
        let release = |node: u32| &table.graph().releases()[node as usize];
        let route = || match Self::hop_at(table, node) {
            None => Decider::explain(table, release(node).version()),
            Some((_, None)) => Route::AtTarget,
            Some((hops, Some(next))) => match release(next).artifact() {
                Some(artifact) => Route::Step(Arc::new(Step {
                    from: release(node).version().clone(),
                    to: release(next).version().clone(),
                    artifact: artifact.clone(),
                    target: table.target().clone(),
                    hops_left: hops.saturating_sub(1),
                })),
                None => Route::Blocked(
                    BlockReason::NoArtifact,
                    format!("release \"{}\" declares no artifact", release(next).version()).into(),
                ),
            },
        };
        Some(self.routes.get(node as usize)?.get_or_init(route))
    }
}

fn block_of(error: &ResolveError, graph: &UpgradeGraph) -> (BlockReason, String) {
    let reason = match error {
        ResolveError::UnknownVersion { .. } => BlockReason::UnknownVersion,
        ResolveError::ModelIncompatible { .. } => BlockReason::ModelIncompatible,
        ResolveError::TooManyHops { .. } => BlockReason::TooManyHops,
        ResolveError::NoReleaseForModel { .. } | ResolveError::EmptyModel => BlockReason::NoReleaseForModel,
        ResolveError::NoPath { from, .. }
            if graph.release(from).is_some_and(|r| r.status() == ReleaseStatus::Blocked) =>
        {
            BlockReason::OnBlockedRelease
        }
        ResolveError::NoPath { reason: NoPathReason::DeadEnd { .. }, .. } => BlockReason::OnDeadEnd,
        ResolveError::NoPath { reason: NoPathReason::WithheldByRisk { .. }, .. } => BlockReason::WithheldByRisk,
        // No path, or a blocked or older target (the table could not be built for the model).
        _ => BlockReason::NoPath,
    };
    (reason, error.to_string())
}

impl Decider {
    /// A decider toward the newest release of each device's model
    /// ([`UpgradeGraph::latest_for`]); see [`Decider::with_target`] and
    /// [`Decider::with_rollout`].
    ///
    /// # Errors
    /// [`DecisionError::InvalidPolicy`] for a field out of range.
    pub fn new(graph: &UpgradeGraph, policy: DecisionPolicy) -> Result<Self, DecisionError> {
        policy.validate()?;
        let mut decider = Self {
            graph: graph.clone(),
            policy,
            target: None,
            routes: FxHashMap::default(),
            rollout: None,
            index: OnceLock::new(),
            availability: None,
            misses: Mutex::default(),
            risky: Mutex::default(),
            versions: OnceLock::new(),
        };
        decider.build_routes();
        Ok(decider)
    }

    /// About how many bytes the decider holds, from its counts: 128 a release and model (the
    /// model's route table, a few bytes a release, and the step built for each release a
    /// decision downloads from, when the decision is made or read), and its list of the
    /// releases' versions once a batch made it. A host whose collector cannot see this memory
    /// (V8 for the Node package) paces its collections with it.
    ///
    /// ```
    /// use fleetpath::decision::{Decider, DecisionPolicy};
    /// let graph = fleetpath::UpgradeGraph::from_json(r#"{"format_version": 1, "releases": [
    ///   {"version": "1.0", "models": ["a", "b"]}, {"version": "2.0", "models": ["a", "b"]}],
    ///   "edges": [{"from": "1.0", "to": "2.0"}]}"#)?;
    /// let decider = Decider::new(&graph, DecisionPolicy::default())?;
    /// assert_eq!(decider.memory_estimate(), 128 * 2 * 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn memory_estimate(&self) -> usize {
        let versions = self.versions.get().map_or(0, |v| v.len() * std::mem::size_of::<Version>());
        128 * self.graph.releases().len() * self.routes.len() + versions
    }

    /// The versions of the graph's releases, in its order: the first of every batch's
    /// [`DecisionColumns::versions`], one list the batches share (listed at the first call).
    ///
    /// ```
    /// use fleetpath::decision::{Decider, DecisionPolicy};
    /// let graph = fleetpath::UpgradeGraph::from_json(include_str!("../../../examples/data/seed-ip-module.json"))?;
    /// let decider = Decider::new(&graph, DecisionPolicy::default())?;
    /// assert_eq!(decider.release_versions().len(), graph.releases().len());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn release_versions(&self) -> &Arc<[Version]> {
        self.versions.get_or_init(|| self.graph.releases().iter().map(|r| r.version().clone()).collect())
    }

    /// Decides toward `target` for every model.
    ///
    /// # Errors
    /// [`DecisionError::UnknownTarget`] when the graph has no such release.
    pub fn with_target(mut self, target: &Version) -> Result<Self, DecisionError> {
        let release =
            self.graph.release(target).ok_or_else(|| DecisionError::UnknownTarget { target: target.clone() })?;
        self.target = Some(release.version().clone());
        self.build_routes();
        Ok(self)
    }

    /// Decides within `rollout` (toward its target): only the devices it has started
    /// download, the others wait; `calendar` tells pending devices when their window opens.
    ///
    /// # Errors
    /// [`DecisionError::UnknownTarget`] when the rollout's target is not in the graph.
    pub fn with_rollout(
        mut self,
        rollout: impl Into<Arc<Rollout>>,
        calendar: Option<&Calendar>,
    ) -> Result<Self, DecisionError> {
        let rollout = rollout.into();
        let release = self
            .graph
            .release(&rollout.target)
            .ok_or_else(|| DecisionError::UnknownTarget { target: rollout.target.clone() })?;
        self.target = Some(release.version().clone());
        self.index = OnceLock::new();
        self.rollout = Some((rollout, calendar.cloned()));
        self.build_routes();
        Ok(self)
    }

    /// Checks artifacts against these observations (object key to availability). An
    /// artifact with no observation is not served: the host is asked to check it. Without
    /// observations, every artifact the manifest declares is taken as downloadable.
    #[must_use]
    pub fn with_availability(mut self, observed: impl Into<Arc<Observations>>) -> Self {
        self.availability = Some(observed.into());
        self
    }

    /// The policy.
    pub fn policy(&self) -> &DecisionPolicy {
        &self.policy
    }

    /// One route table per model the graph names (each release's step is built when asked).
    fn build_routes(&mut self) {
        self.misses = Mutex::default();
        self.risky = Mutex::default();
        let models: Vec<String> = self.graph.models().into_iter().map(str::to_owned).collect();
        self.routes = models.into_iter().map(|m| (m.clone(), Arc::new(self.model_routes(&m)))).collect();
    }

    fn model_routes(&self, model: &str) -> ModelRoutes {
        self.model_routes_with(&Constraints {
            accepted_risks: self.policy.accepted_risks.clone(),
            ..Constraints::for_model(model)
        })
    }

    /// The routes of devices under `constraints` (a model, and for a graph with risks, labels
    /// and accepted risks).
    fn model_routes_with(&self, constraints: &Constraints) -> ModelRoutes {
        let model = constraints.model.as_deref().unwrap_or_default();
        let device = DeviceAttributes { model: Some(model), labels: constraints.labels.as_ref() };
        let signature = self.graph.risk_signature(&device, &constraints.accepted_risks);
        let blocked = |e: ResolveError| {
            let (reason, detail) = block_of(&e, &self.graph);
            ModelRoutes {
                table: Err((reason, detail.into())),
                routes: Box::default(),
                signature: signature.clone(),
                misses: Mutex::default(),
            }
        };
        let target = match self.target_for(model) {
            Ok(target) => target,
            Err(e) => return blocked(e),
        };
        let table = match self.graph.route_table(&target, constraints) {
            Ok(table) => table,
            Err(e) => return blocked(e),
        };
        let routes = (0..self.graph.releases().len()).map(|_| OnceLock::new()).collect();
        ModelRoutes { table: Ok(table), routes, signature, misses: Mutex::default() }
    }

    /// Where the device's upgrade stands: the step of a release its model's table reaches
    /// (built once), or for the rest an explanation, remembered.
    fn route(&self, r: DeviceRequestRef<'_>) -> Route {
        if let Some(kept) = r.route {
            return kept.get_or_init(|| self.route(DeviceRequestRef { route: None, ..r })).clone();
        }
        let (model, version) = (r.model, r.version);
        if self.graph.has_risks() {
            let device = DeviceAttributes { model: Some(model), labels: r.labels };
            let signature = self.graph.risk_signature(&device, &self.policy.accepted_risks);
            if self.routes.get(model).is_none_or(|routes| routes.signature != signature) {
                return self.risky_route(r, signature);
            }
        }
        if let Some(routes) = self.routes.get(model) {
            if let Some(route) = routes.step(version) {
                return route;
            }
        } else if let Some(route) = self.model_wide_route(model) {
            return route;
        }
        let lock = || self.misses.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(route) = lock().by_model.get(model).and_then(|m| m.get(version)) {
            return route.clone();
        }
        let route = self.explained_route(model, version);
        let mut misses = lock();
        if misses.len < MAX_MISSES {
            misses.len += 1;
            // The model's name is copied once, not at every miss.
            if let Some(by_version) = misses.by_model.get_mut(model) {
                by_version.insert(version.clone(), route.clone());
            } else {
                misses.by_model.entry(model.to_owned()).or_default().insert(version.clone(), route.clone());
            }
        }
        route
    }

    /// The route of every version of `model` when it does not depend on the version: the
    /// decider has no table for the model and nothing installs on it (no per-version
    /// explanation to remember). `None` for any other model.
    fn model_wide_route(&self, model: &str) -> Option<Route> {
        if self.routes.contains_key(model) {
            return None;
        }
        match &self.other_model_routes(model)?.table {
            Err((reason, detail)) => Some(Route::Blocked(*reason, Arc::clone(detail))),
            Ok(_) => None,
        }
    }

    /// The route of a device from which risks withhold other edges than the model's table
    /// assumes: from a table for its risk signature.
    fn risky_route(&self, r: DeviceRequestRef<'_>, signature: RiskSignature) -> Route {
        let lock = || self.risky.lock().unwrap_or_else(PoisonError::into_inner);
        let cached = lock().by_signature.get(&signature).and_then(|m| m.get(r.model)).cloned();
        let routes = cached.unwrap_or_else(|| {
            let constraints = Constraints {
                labels: r.labels.cloned(),
                accepted_risks: self.policy.accepted_risks.clone(),
                ..Constraints::for_model(r.model)
            };
            let routes = Arc::new(self.model_routes_with(&constraints));
            let mut risky = lock();
            if risky.len < MAX_RISKY_TABLES {
                risky.len += 1;
                risky.by_signature.entry(signature).or_default().insert(r.model.to_owned(), Arc::clone(&routes));
            }
            routes
        });
        if let Some(route) = routes.step(r.version) {
            return route;
        }
        let mut misses = routes.misses.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(route) = misses.get(r.version) {
            return route.clone();
        }
        let route = Self::route_in(&routes, r.version);
        if misses.len() < MAX_MISSES / MAX_RISKY_TABLES {
            misses.insert(r.version.clone(), route.clone());
        }
        route
    }

    /// The route of a version the tables give no step for, explained (the costly path).
    fn explained_route(&self, model: &str, version: &Version) -> Route {
        if let Some(routes) = self.routes.get(model) {
            return Self::route_in(routes, version);
        }
        match self.other_model_routes(model) {
            Some(routes) => Self::route_in(&routes, version),
            None => Self::route_in(&self.model_routes(model), version),
        }
    }

    /// The routes of a model the graph has no table for (no release installs on it), built
    /// once: the explanation looks for the model's newest release among all of them. `None`
    /// once `MAX_OTHER_MODELS` are remembered (their answers are then remembered per version).
    fn other_model_routes(&self, model: &str) -> Option<Arc<ModelRoutes>> {
        let lock = || self.misses.lock().unwrap_or_else(PoisonError::into_inner);
        {
            let misses = lock();
            if let Some(routes) = misses.models.get(model) {
                return Some(Arc::clone(routes));
            }
            if misses.models.len() >= MAX_OTHER_MODELS {
                return None;
            }
        }
        let routes = Arc::new(self.model_routes(model));
        let mut misses = lock();
        if misses.models.len() < MAX_OTHER_MODELS {
            misses.models.insert(model.to_owned(), Arc::clone(&routes));
        }
        Some(routes)
    }

    fn route_in(routes: &ModelRoutes, version: &Version) -> Route {
        if let Some(route) = routes.step(version) {
            return route;
        }
        match &routes.table {
            Err((reason, detail)) => Route::Blocked(*reason, detail.clone()),
            Ok(table) => Self::explain(table, version),
        }
    }

    /// Why `table` gives no step from `version`.
    fn explain(table: &RouteTable, version: &Version) -> Route {
        match table.next_hop(version) {
            Err(ResolveError::TargetOlder { .. }) => Route::Ahead,
            Err(e) => {
                let (reason, detail) = block_of(&e, table.graph());
                Route::Blocked(reason, detail.into())
            }
            // A release the table reaches whose step could not be built.
            Ok(_) => Route::Blocked(BlockReason::NoPath, format!("no route from \"{version}\"").into()),
        }
    }

    fn target_for(&self, model: &str) -> Result<Version, ResolveError> {
        match &self.target {
            Some(t) => Ok(t.clone()),
            None => self.graph.latest_for(model).map(|r| r.version().clone()),
        }
    }

    /// What `request`'s device should do.
    pub fn decide(&self, request: &DeviceRequest) -> Decision {
        self.decide_with(request, &mut Memo::default())
    }

    /// [`Decider::decide`] for a request whose claims are first checked against the host's
    /// record of the device ([`DeviceRecord::check_claim`]): a device that lies about its
    /// model or version gets [`Decision::Refused`], never a download.
    pub fn decide_checked(&self, request: &DeviceRequest, record: &DeviceRecord) -> Decision {
        match record.check_claim(&request.model, &request.version) {
            Ok(()) => self.decide(request),
            Err(refused) => refused,
        }
    }

    /// [`Decider::decide`] for each request, in order (one calendar query per site, line,
    /// stage and instant).
    pub fn decide_all(&self, requests: &[DeviceRequest]) -> Vec<Decision> {
        let mut memo = Memo::default();
        requests.iter().map(|r| self.decide_with(r, &mut memo)).collect()
    }

    /// Decides for every device of `fleet` as if each asked at `at` with no retry history,
    /// in fleet order.
    pub fn decide_fleet(&self, fleet: &Fleet, at: Timestamp) -> Vec<Decision> {
        let mut decisions = Vec::with_capacity(fleet.len());
        self.each_in_fleet(fleet, at, |decision| decisions.push(decision));
        decisions
    }

    /// Decides for each device of `fleet`, in fleet order.
    fn each_in_fleet(&self, fleet: &Fleet, at: Timestamp, mut each: impl FnMut(Decision)) {
        let mut memo = Memo::default();
        let placed = match &self.rollout {
            Some((rollout, _)) => DeviceIndex::place_fleet(rollout, fleet),
            None => Vec::new(),
        };
        // Without risks a route depends on the model and version alone.
        let mut kept = (!self.graph.has_risks()).then(|| KindRoutes::new(fleet, self, true));
        let (kinds, _, _) = fleet.kinds();
        for (j, d) in fleet.devices().enumerate() {
            let mut request = DeviceRequestRef {
                device: d.id,
                model: d.model,
                version: d.version,
                at,
                labels: Some(d.labels),
                route: None,
            };
            if let (Some(kept), Some(&kind)) = (&mut kept, kinds.get(j)) {
                request.route = kept.slot(self, kind, d.model);
            }
            each(self.decide_placed(request, placed.get(j).copied().flatten(), RetryState::default(), &mut memo));
        }
    }

    /// [`Decider::decide_fleet`] as columns.
    ///
    /// Without a rollout (and when routes do not depend on labels), a device's decision is
    /// its route's, the same for every device of its model and version spelling, unless it
    /// waits for its artifact (its retry time is its own): such a decision is made once a
    /// batch, and the devices that repeat it share its row. Where no availability is observed,
    /// a download's [`Decision`] is made when first read ([`DecisionColumns::get`],
    /// [`DecisionColumns::distinct`]): its columns need only the release it installs.
    pub fn decide_columns(&self, fleet: &Fleet, at: Timestamp) -> DecisionColumns {
        let releases = Arc::clone(self.release_versions());
        let mut out = ColumnsBuilder::new(fleet.len(), Some((&self.graph, releases)));
        if self.rollout.is_some() || self.graph.has_risks() {
            self.each_in_fleet(fleet, at, |decision| {
                out.push(decision);
            });
            return out.columns;
        }
        let (kinds, models, _) = fleet.kinds();
        let mut known = ByKind::new(fleet);
        let mut routes = KindRoutes::new(fleet, self, false);
        // With no availability to gate them, downloads differ by their step alone: after the
        // first, each is read from its model's route table when asked for (see `Distinct`),
        // with the first one's values but its own version.
        let mut download = None;
        let mut tables: Vec<Option<u32>> = vec![None; models];
        out.columns.distinct.url_lifetime_seconds = self.policy.url_lifetime_seconds;
        for (i, &kind) in kinds.iter().enumerate() {
            if let Some(kept) = known.get(kind) {
                out.repeat(kept);
                continue;
            }
            if let (Some(first), None) = (download, &self.availability)
                && let Some((table, node, next)) = routes.download(self, kind, fleet.kind_of(kind).0)
                && let Some(slot) = tables.get_mut(kind.model as usize)
            {
                let distinct = &mut out.columns.distinct;
                let table = *slot.get_or_insert_with(|| {
                    distinct.tables.push(Arc::clone(table));
                    u32_of(distinct.tables.len() - 1)
                });
                known.insert(kind, out.push_download((table, node, next), first));
                continue;
            }
            // A decision not yet made. Its model and version come with its kind; on this path
            // (no risks) the route ignores labels, and only a retry, which needs observed
            // availability, reads the id: the device's own columns are read only then (each a
            // cache miss at a random place in a big fleet).
            let (model, version) = fleet.kind_of(kind);
            let device = if self.availability.is_some() { fleet.id(i) } else { "" };
            // Each kind's decision is remembered below: its route need not be.
            let route = routes.fresh(self, kind, model).map(OnceCell::from);
            let request = DeviceRequestRef { device, model, version, at, labels: None, route: route.as_ref() };
            let decision = self.upgrade(request, RetryState::default());
            // A retry's time and count are each device's own.
            let own = matches!(decision, Decision::RetryAfter { .. } | Decision::GiveUp { .. });
            let downloads = matches!(decision, Decision::Download { .. });
            let values = out.push(decision);
            if !own {
                known.insert(kind, values);
            }
            if downloads && download.is_none() {
                download = Some(values);
            }
        }
        out.columns
    }

    fn decide_with<'s>(&'s self, r: &DeviceRequest, memo: &mut Memo<'s>) -> Decision {
        let request = DeviceRequestRef {
            device: &r.device,
            model: &r.model,
            version: &r.version,
            at: r.at,
            labels: r.labels.as_ref(),
            route: None,
        };
        self.decide_ref(request, r.retry, memo)
    }

    fn decide_ref<'s>(&'s self, r: DeviceRequestRef<'_>, retry: RetryState, memo: &mut Memo<'s>) -> Decision {
        let placed = self
            .rollout
            .as_ref()
            .and_then(|(rollout, _)| self.index.get_or_init(|| DeviceIndex::build(rollout)).get(r.device));
        self.decide_placed(r, placed, retry, memo)
    }

    /// [`Decider::decide_ref`] for a device the rollout's index placed (`None`: not in it).
    fn decide_placed<'s>(
        &'s self,
        r: DeviceRequestRef<'_>,
        placed: Option<Placed>,
        retry: RetryState,
        memo: &mut Memo<'s>,
    ) -> Decision {
        let Some((rollout, calendar)) = &self.rollout else {
            return self.upgrade(r, retry);
        };
        let Some(placed) = placed else {
            return match self.upgrade_route(r) {
                Ok(_) => Decision::Wait { reason: WaitReason::NotInRollout, until: None },
                Err(decision) => decision,
            };
        };
        let k = placed.stage as usize;
        let stage = &rollout.stages[k];
        // Read only where needed: the index has the status.
        let device = || &stage.devices[placed.at as usize];
        let wait = |reason| Decision::Wait { reason, until: None };
        let stopped = match &rollout.status {
            RolloutStatus::NotStarted => Some(WaitReason::RolloutNotStarted),
            RolloutStatus::Paused => Some(WaitReason::RolloutPaused),
            RolloutStatus::Halted { .. } => Some(WaitReason::RolloutHalted),
            RolloutStatus::Running | RolloutStatus::Completed => None,
        };
        match placed.status {
            // Rollbacks go on whatever the rollout's status.
            DeviceStatus::RolledBack => self.roll_back(r, device(), retry, &rollout.target, memo),
            _ if stopped.is_some() => wait(stopped.unwrap_or(WaitReason::RolloutHalted)),
            DeviceStatus::Updating | DeviceStatus::Succeeded => self.upgrade(r, retry),
            // Removed from the rollout: like a device it never included.
            DeviceStatus::Removed => wait(WaitReason::NotInRollout),
            DeviceStatus::Failed => wait(WaitReason::UpdateFailed),
            DeviceStatus::TimedOut => wait(WaitReason::UpdateTimedOut),
            DeviceStatus::Pending => {
                // Devices at or ahead of the target, or blocked, are told so even before
                // their stage starts.
                if let Err(decision) = self.upgrade_route(r) {
                    return decision;
                }
                if k > rollout.current {
                    return wait(WaitReason::StageNotStarted);
                }
                match stage.phase {
                    StagePhase::Waiting => wait(WaitReason::StageNotStarted),
                    StagePhase::AwaitingApproval => wait(WaitReason::AwaitingApproval),
                    _ => match memo.next_open(calendar.as_ref(), device(), &stage.name, k, r.at) {
                        Some(t) if t <= r.at => Decision::Wait { reason: WaitReason::AwaitingStart, until: Some(r.at) },
                        until => Decision::Wait { reason: WaitReason::OutsideWindow, until },
                    },
                }
            }
        }
    }

    /// The upgrade step for the device, or the decision that ends the question (up to date,
    /// blocked).
    fn upgrade_route(&self, r: DeviceRequestRef<'_>) -> Result<Arc<Step>, Decision> {
        match self.route(r) {
            Route::Step(step) => Ok(step),
            Route::AtTarget => Err(Decision::UpToDate { reason: UpToDateReason::AtTarget }),
            Route::Ahead => Err(Decision::UpToDate { reason: UpToDateReason::AheadOfTarget }),
            Route::Blocked(reason, detail) => Err(Decision::Blocked { reason, detail }),
        }
    }

    fn upgrade(&self, r: DeviceRequestRef<'_>, retry: RetryState) -> Decision {
        match self.upgrade_route(r) {
            Err(decision) => decision,
            Ok(step) => match self.gate(&step.artifact, r, retry) {
                Ok(url_lifetime_seconds) => Decision::Download { step, url_lifetime_seconds },
                Err(decision) => decision,
            },
        }
    }

    fn roll_back<'s>(
        &'s self,
        r: DeviceRequestRef<'_>,
        device: &'s DeviceState,
        retry: RetryState,
        target: &Version,
        memo: &mut Memo<'s>,
    ) -> Decision {
        let key = (r.model.to_owned(), &device.from, r.version.clone());
        let outcome = memo
            .rollbacks
            .entry(key)
            .or_insert_with(|| plan_device_rollback(&self.graph, Some(r.model), &device.from, r.version, target))
            .clone();
        let (route, refused) = match outcome {
            RollbackOutcome::Nothing => return Decision::UpToDate { reason: UpToDateReason::RolledBack },
            RollbackOutcome::Full { route } => (route, None),
            RollbackOutcome::Partial { route, refused } => (route, Some(refused.message)),
            RollbackOutcome::Refused { refused } => {
                return Decision::Blocked { reason: BlockReason::RollbackRefused, detail: refused.message.into() };
            }
        };
        let Some(hop) = route.hops.first() else {
            return Decision::UpToDate { reason: UpToDateReason::RolledBack };
        };
        let Some(artifact) = hop.artifact.clone() else {
            return Decision::Blocked {
                reason: BlockReason::NoArtifact,
                detail: format!("release \"{}\" declares no artifact", hop.to).into(),
            };
        };
        let step = RollbackStep {
            from: hop.from.clone(),
            to: hop.to.clone(),
            artifact,
            target: route.to.clone(),
            hops_left: u32_of(route.hops.len() - 1),
            migration: hop.migration.as_ref().map(|m| m.component.clone()),
            previous_refused: refused,
        };
        match self.gate(&step.artifact, r, retry) {
            Ok(url_lifetime_seconds) => Decision::RollBack { step: Arc::new(step), url_lifetime_seconds },
            Err(decision) => decision,
        }
    }

    /// Whether `artifact` can be downloaded at the request's instant: the URL lifetime, or
    /// the retry decision.
    fn gate(&self, artifact: &Artifact, r: DeviceRequestRef<'_>, retry: RetryState) -> Result<u32, Decision> {
        let lifetime = self.policy.url_lifetime_seconds;
        let Some(observed) = self.availability.as_deref() else { return Ok(lifetime) };
        let at = r.at;
        let key = &artifact.key;
        let restore = |class: StorageClass| {
            let tier = match (class, self.policy.restore_tier) {
                (StorageClass::DeepArchive | StorageClass::IntelligentTieringDeepArchive, RestoreTier::Expedited) => {
                    RestoreTier::Standard
                }
                (_, tier) => tier,
            };
            let ready_by = self.policy.restore_times.ready_by(class, tier, at).unwrap_or(at);
            (
                HostAction::RequestRestore { key: key.clone(), class, tier, days: self.policy.restore_days, ready_by },
                ready_by,
            )
        };
        let (reason, not_before, action, counts) = match observed.get(key) {
            None => {
                (RetryReason::ArtifactUnobserved, at, Some(HostAction::CheckAvailability { key: key.clone() }), true)
            }
            Some(Availability::Available { .. }) => return Ok(lifetime),
            Some(Availability::Restored { class, until }) => {
                let left = until.duration_since(at).as_secs();
                if left >= i64::from(self.policy.min_url_lifetime_seconds) {
                    let left = u32_of(left);
                    return Ok(lifetime.min(left));
                }
                let (action, ready_by) = restore(*class);
                (RetryReason::RestoredCopyExpiring, ready_by, Some(action), false)
            }
            Some(Availability::Archived { class }) => {
                let (action, ready_by) = restore(*class);
                (RetryReason::ArtifactArchived, ready_by, Some(action), true)
            }
            Some(Availability::Restoring { ready_by, .. }) if *ready_by > at => {
                (RetryReason::ArtifactRestoring, *ready_by, None, false)
            }
            Some(Availability::Restoring { .. }) => {
                (RetryReason::RestoreOverdue, at, Some(HostAction::CheckAvailability { key: key.clone() }), true)
            }
            Some(Availability::Missing) => {
                (RetryReason::ArtifactMissing, at, Some(HostAction::ReportMissing { key: key.clone() }), true)
            }
        };
        if counts {
            let (next, decision) = self.policy.retry.after_failure(retry, r.device, at);
            return Err(match decision {
                RetryDecision::RetryAt { at: retry_at, .. } => Decision::RetryAfter {
                    reason,
                    at: retry_at.max(not_before),
                    key: key.clone(),
                    host_action: action.map(Box::new),
                    retry: Box::new(next),
                },
                RetryDecision::GiveUp { attempts, since, reason: limit } => {
                    Decision::GiveUp { reason, key: key.clone(), attempts, since, limit }
                }
            });
        }
        // A scheduled wait (a restore in progress): not a failure. Devices come back spread
        // over one base delay after the restore is due, not all at once.
        let spread = self.policy.retry.delay_ms(r.device, 1, 0);
        let spread = SignedDuration::from_millis(i64::try_from(spread).unwrap_or(i64::MAX));
        let retry_at = not_before.checked_add(spread).unwrap_or(Timestamp::MAX);
        Err(Decision::RetryAfter {
            reason,
            at: retry_at,
            key: key.clone(),
            host_action: action.map(Box::new),
            retry: Box::new(retry),
        })
    }
}

/// A request's fields, borrowed (so fleets are decided without copying).
#[derive(Clone, Copy)]
struct DeviceRequestRef<'r> {
    device: &'r str,
    model: &'r str,
    version: &'r Version,
    labels: Option<&'r BTreeMap<String, String>>,
    at: Timestamp,
    /// Where a batch keeps the route of the device's kind, found at the first ask.
    route: Option<&'r OnceCell<Route>>,
}

/// What one batch computes once: when a stage's next window opens, per (site, line, stage,
/// instant), and rollbacks per (model, previous version, current version).
#[derive(Default)]
struct Memo<'a> {
    opens: FxHashMap<(&'a str, &'a str, usize, Timestamp), Option<Timestamp>>,
    rollbacks: BTreeMap<(String, &'a Version, Version), RollbackOutcome>,
}

impl<'a> Memo<'a> {
    fn next_open(
        &mut self,
        calendar: Option<&Calendar>,
        device: &'a DeviceState,
        stage: &str,
        k: usize,
        at: Timestamp,
    ) -> Option<Timestamp> {
        let Some(calendar) = calendar else { return Some(at) };
        // A device without a site has no window (the rollout never starts it either).
        let site = device.site.as_deref()?;
        *self
            .opens
            .entry((site, device.line.as_str(), k, at))
            .or_insert_with(|| calendar.next_window(site, &device.line, stage, at).ok().flatten().map(|w| w.start))
    }
}

crate::document::documents! {
    DecisionPolicy => "decision policy", DecisionPolicy::validate;
    DeviceRecord => "device record";
}
