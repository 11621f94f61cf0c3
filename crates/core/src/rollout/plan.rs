//! Stage selection: which devices go in which stage of a rollout.
//!
//! # What the plan guarantees
//!
//! - **Eligibility first.** Every device of the fleet ends up in exactly one place: a stage,
//!   [`RolloutPlan::up_to_date`] (already on the target), or [`RolloutPlan::excluded`] (with the
//!   error code and message of why it cannot get there: unknown version, no path for its
//!   model, …). Nothing is dropped silently.
//! - **Sizes.** A stage with share `p` takes `round_half_up(p × N)` devices, `N` being the
//!   eligible devices of the fleet, then at least `min_per_line` from every line that still has
//!   devices (so "5% of 11 devices" is never an empty canary when the minimum is 1), then at most
//!   `max_devices`. Its devices are shared among lines by the largest-remainder method on each
//!   line's quota `p × n_line` (ties: line name), so every line gets the floor or the ceiling of
//!   its quota whenever minimums and caps allow. The last stage takes every device left.
//!   Arithmetic is exact (shares are counted in millionths), so every platform and binding
//!   computes the same counts.
//! - **Which devices.** Within a line, devices are ranked by a stable 64-bit hash (XXH3) of the
//!   device id, seeded by the rollout id; stages take consecutive ranges of that ranking. The
//!   choice does not depend on input order, and a different rollout id gives a different,
//!   equally spread choice.
//! - **Stickiness.** Re-planning with devices added or removed keeps every other device's
//!   relative rank. A device that stays changes stage only when a stage boundary of its line
//!   passes over it: in a line where `m` devices joined or left, at most
//!   `Σ_k (m + |ΔB_k|)` staying devices change stage, `ΔB_k` being how far the `k`-th stage
//!   boundary of that line moved (a property test checks this bound).
//!
//! ```
//! use fleetpath::{Fleet, RolloutPolicy, UpgradeGraph, plan_rollout};
//!
//! let graph = UpgradeGraph::from_json(r#"{"format_version": 1, "releases": [
//!   {"version": "5.6.14"}, {"version": "5.6.30"}],
//!   "edges": [{"from": "5.6.14", "to": "5.6.30"}]}"#)?;
//! let mut csv = String::from("id,model,line,version\n");
//! for i in 0..40 {
//!     csv += &format!("d{i},IPM-1,line-{},5.6.14\n", i % 2);
//! }
//! let fleet = Fleet::from_csv(&csv)?;
//! let plan = plan_rollout(&graph, &fleet, &"5.6.30".parse()?, &RolloutPolicy::default(), "r1")?;
//! let sizes: Vec<usize> = plan.stages.iter().map(|s| s.devices.len()).collect();
//! assert_eq!(sizes, [2, 8, 30]); // 5% with one per line, 20%, the rest
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::Codes;
use crate::u32_of;
use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::decision::ByKind;
use crate::fleet::Fleet;
use crate::graph::{Constraints, ResolveError, RouteTable, UpgradeGraph};
use crate::version::Version;

const MILLION: u64 = 1_000_000;

/// One stage of a [`RolloutPolicy`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StagePolicy {
    /// A unique name, such as `canary`.
    pub name: String,
    /// The share of every line's eligible devices, in (0, 1]. `None`: every device left (only
    /// the last stage, which must).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// At least this many devices from every line that still has some.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub min_per_line: u32,
    /// At most this many devices in the stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_devices: Option<u32>,
    /// How long the stage is watched after its last update before it may be promoted.
    #[serde(default = "default_monitoring_hours")]
    pub monitoring_hours: u32,
    /// Whether an operator must approve the stage before it starts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub approval: bool,
}

fn default_monitoring_hours() -> u32 {
    24
}

fn default_timeout_minutes() -> u32 {
    120
}

/// When a stage's failures stop the rollout (like the `abortConfig` of AWS `IoT` Jobs): once at least
/// `min_finished` updates of the stage have finished, more than `max_failure_share` of them
/// failed or timed out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbortRule {
    /// Finished updates (succeeded, failed or timed out) before the rule applies.
    pub min_finished: u32,
    /// The failure share that stops the rollout, in [0, 1).
    pub max_failure_share: f64,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The ordered stages of a rollout, and its safety rules.
///
/// The default is the seed plant's: `canary` (5%, at least one device per line), `early` (20%
/// of each line), `production` (the rest), each watched for 24 hours; an update that has not
/// finished after 2 hours counts as timed out; the rollout stops when more than 20% of at
/// least 5 finished updates of a stage failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutPolicy {
    /// The stages, in rollout order.
    pub stages: Vec<StagePolicy>,
    /// Minutes after which a device update that has not finished counts as timed out.
    #[serde(default = "default_timeout_minutes")]
    pub update_timeout_minutes: u32,
    /// When failures stop the rollout; `None`: never (health verdicts still can).
    #[serde(default)]
    pub abort: Option<AbortRule>,
}

impl Default for RolloutPolicy {
    fn default() -> Self {
        let stage = |name: &str, share, min_per_line| StagePolicy {
            name: name.to_owned(),
            share,
            min_per_line,
            max_devices: None,
            monitoring_hours: default_monitoring_hours(),
            approval: false,
        };
        Self {
            stages: vec![stage("canary", Some(0.05), 1), stage("early", Some(0.20), 0), stage("production", None, 0)],
            update_timeout_minutes: default_timeout_minutes(),
            abort: Some(AbortRule { min_finished: 5, max_failure_share: 0.2 }),
        }
    }
}

/// Why a rollout could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, Codes)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlanError {
    /// The policy has no stage.
    #[error("the rollout policy has no stages")]
    #[code("no_stages")]
    NoStages,
    /// A required string is empty.
    #[error("{at} is empty")]
    #[code("empty_field")]
    EmptyField {
        /// Such as `stages[1].name` or `rollout id`.
        at: String,
    },
    /// Two stages have the same name.
    #[error("two stages are named {name:?}")]
    #[code("duplicate_stage")]
    DuplicateStage {
        /// The name.
        name: String,
    },
    /// A share that is not a number in (0, 1].
    #[error("stage {stage:?}: share {share} is not in (0, 1]")]
    #[code("invalid_share")]
    InvalidShare {
        /// The stage.
        stage: String,
        /// The share, as given.
        share: String,
    },
    /// A stage other than the last has no share.
    #[error("stage {stage:?} has no share, but only the last stage takes the rest")]
    #[code("rest_not_last")]
    RestNotLast {
        /// The stage.
        stage: String,
    },
    /// The last stage has a share.
    #[error("the last stage {stage:?} must take the rest (omit its share)")]
    #[code("last_stage_not_rest")]
    LastStageNotRest {
        /// The stage.
        stage: String,
    },
    /// An abort rule whose failure share is not in [0, 1).
    #[error("abort rule: max_failure_share {share} is not in [0, 1)")]
    #[code("invalid_abort_share")]
    InvalidAbortShare {
        /// The share, as given.
        share: String,
    },
    /// The shares of the stages add up to more than 1.
    #[error("stage shares add up to {total}, more than 1")]
    #[code("shares_over_one")]
    SharesOverOne {
        /// Their sum.
        total: String,
    },
    /// The target cannot be planned for at all (unknown or blocked). The code is the resolve
    /// error's own code.
    #[error("target: {source}")]
    #[code(source)]
    Target {
        /// What is wrong with the target.
        source: ResolveError,
    },
}

impl RolloutPolicy {
    /// Checks the policy and returns each stage's share in millionths (`None` for the rest).
    ///
    /// # Errors
    /// [`PlanError`]: no stages, an empty or repeated name, a share outside (0, 1], a stage
    /// without a share that is not last, a last stage with a share, shares adding up to more
    /// than 1.
    pub fn validate(&self) -> Result<Vec<Option<u64>>, PlanError> {
        let last = self.stages.len().checked_sub(1).ok_or(PlanError::NoStages)?;
        let mut shares = Vec::with_capacity(self.stages.len());
        let mut seen = std::collections::BTreeSet::new();
        let mut total = 0.0f64;
        for (i, stage) in self.stages.iter().enumerate() {
            if stage.name.trim().is_empty() {
                return Err(PlanError::EmptyField { at: format!("stages[{i}].name") });
            }
            if !seen.insert(stage.name.as_str()) {
                return Err(PlanError::DuplicateStage { name: stage.name.clone() });
            }
            match (stage.share, i == last) {
                (None, true) => shares.push(None),
                (None, false) => return Err(PlanError::RestNotLast { stage: stage.name.clone() }),
                (Some(_), true) => return Err(PlanError::LastStageNotRest { stage: stage.name.clone() }),
                (Some(share), false) => {
                    // f64 multiplication and rounding are exact IEEE operations: the same on
                    // every platform.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let ppm = (share * 1e6).round() as u64;
                    if !share.is_finite() || share <= 0.0 || share > 1.0 || ppm == 0 {
                        return Err(PlanError::InvalidShare { stage: stage.name.clone(), share: share.to_string() });
                    }
                    total += share;
                    shares.push(Some(ppm));
                }
            }
        }
        if let Some(abort) = &self.abort {
            let share = abort.max_failure_share;
            if !share.is_finite() || !(0.0..1.0).contains(&share) {
                return Err(PlanError::InvalidAbortShare { share: share.to_string() });
            }
        }
        // The shares as given, not as rounded to millionths: shares that add up to 1 must
        // not be refused because rounding each one added a millionth. (Rounding cannot make a
        // stage take more devices than are left.)
        if total > 1.0 + 1e-9 {
            return Err(PlanError::SharesOverOne { total: total.to_string() });
        }
        Ok(shares)
    }
}

/// A device placed in a stage, as [`StageDevices`] gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PlannedDevice<'p> {
    /// The device id.
    pub id: &'p str,
    /// Hops to the target: more than one means it takes intermediate releases (such as a
    /// bridge) first, one hop at a time.
    pub hops: u32,
}

/// The devices of a stage, in order: each one's id and hops.
///
/// The stages of a plan share one copy of the fleet's ids (every id of the fleet, so a stage
/// kept alone keeps them all), and a stage keeps where each of its devices' ids lies in it:
/// planning a million devices copies the ids' text once instead of making a string a device.
/// It reads and writes (serde) as a list of `{"id": …, "hops": …}`; a stage read back holds
/// its own ids only.
///
/// ```
/// use fleetpath::rollout::{PlannedDevice, StageDevices};
///
/// let devices: StageDevices =
///     [PlannedDevice { id: "d1", hops: 2 }, PlannedDevice { id: "d2", hops: 1 }].into_iter().collect();
/// assert_eq!(devices.len(), 2);
/// assert_eq!(devices.get(1), Some(PlannedDevice { id: "d2", hops: 1 }));
/// assert_eq!(devices.iter().map(|d| d.id).collect::<Vec<_>>(), ["d1", "d2"]);
/// assert_eq!(serde_json::to_string(&devices)?, r#"[{"id":"d1","hops":2},{"id":"d2","hops":1}]"#);
/// assert_eq!(serde_json::from_str::<StageDevices>(r#"[{"id":"d1","hops":2},{"id":"d2","hops":1}]"#)?, devices);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct StageDevices {
    /// The ids (for a plan, every id of its fleet, shared by its stages).
    text: Arc<str>,
    /// Each device: where its id lies in `text`, and its hops.
    placed: Vec<Placed>,
}

/// Where a device's id lies in its stage's text, and its hops.
#[derive(Clone, Copy)]
struct Placed {
    id: (usize, usize),
    hops: u32,
}

impl StageDevices {
    /// How many devices the stage has.
    pub fn len(&self) -> usize {
        self.placed.len()
    }

    /// Whether the stage has no device.
    pub fn is_empty(&self) -> bool {
        self.placed.is_empty()
    }

    /// Device `i` of the stage, if it has that many.
    pub fn get(&self, i: usize) -> Option<PlannedDevice<'_>> {
        self.placed.get(i).map(|p| p.device(&self.text))
    }

    /// The devices, in order.
    pub fn iter(&self) -> StageDevicesIter<'_> {
        StageDevicesIter { text: &self.text, placed: self.placed.iter() }
    }
}

impl Placed {
    fn device(self, text: &str) -> PlannedDevice<'_> {
        PlannedDevice { id: &text[self.id.0..self.id.1], hops: self.hops }
    }
}

/// The devices of a stage, in order ([`StageDevices::iter`]).
#[derive(Clone)]
pub struct StageDevicesIter<'s> {
    text: &'s str,
    placed: std::slice::Iter<'s, Placed>,
}

impl<'s> Iterator for StageDevicesIter<'s> {
    type Item = PlannedDevice<'s>;

    fn next(&mut self) -> Option<PlannedDevice<'s>> {
        self.placed.next().map(|p| p.device(self.text))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.placed.size_hint()
    }
}

impl DoubleEndedIterator for StageDevicesIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.placed.next_back().map(|p| p.device(self.text))
    }
}

impl ExactSizeIterator for StageDevicesIter<'_> {}

// The devices left, not the text they lie in (for a plan, every id of its fleet).
impl std::fmt::Debug for StageDevicesIter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl std::iter::FusedIterator for StageDevicesIter<'_> {}

impl<'s> IntoIterator for &'s StageDevices {
    type Item = PlannedDevice<'s>;
    type IntoIter = StageDevicesIter<'s>;

    fn into_iter(self) -> StageDevicesIter<'s> {
        self.iter()
    }
}

impl<'p> FromIterator<PlannedDevice<'p>> for StageDevices {
    fn from_iter<I: IntoIterator<Item = PlannedDevice<'p>>>(devices: I) -> Self {
        let mut text = String::new();
        let placed = devices
            .into_iter()
            .map(|d| {
                text.push_str(d.id);
                Placed { id: (text.len() - d.id.len(), text.len()), hops: d.hops }
            })
            .collect();
        Self { text: text.into(), placed }
    }
}

impl PartialEq for StageDevices {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for StageDevices {}

impl std::fmt::Debug for StageDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for StageDevices {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for StageDevices {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// A planned device as read (its id borrowed from the input when it can be), named
        /// as errors have always named it.
        #[derive(Deserialize)]
        #[serde(rename = "PlannedDevice", expecting = "struct PlannedDevice")]
        struct Read<'a> {
            #[serde(borrow)]
            id: std::borrow::Cow<'a, str>,
            hops: u32,
        }
        let read = Vec::<Read<'de>>::deserialize(deserializer)?;
        Ok(read.iter().map(|d| PlannedDevice { id: &d.id, hops: d.hops }).collect())
    }
}

/// One stage of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagePlan {
    /// The stage's name.
    pub name: String,
    /// Its devices, by line name, then by rank within the line.
    pub devices: StageDevices,
    /// How many of them each line has (every line of the fleet with eligible devices, zero
    /// included).
    pub lines: BTreeMap<String, u32>,
}

/// A device that cannot take part, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excluded {
    /// The device id.
    pub id: String,
    /// The error code (see [`ResolveError::code`]).
    pub code: String,
    /// The error message.
    pub message: String,
}

/// Where every device of a fleet goes in a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutPlan {
    /// The rollout id the selection was seeded with.
    pub rollout_id: String,
    /// The target release, spelled as the manifest does.
    pub target: Version,
    /// The stages, in order.
    pub stages: Vec<StagePlan>,
    /// Devices already on the target, in fleet order.
    pub up_to_date: Vec<String>,
    /// Devices that cannot reach the target, in fleet order.
    pub excluded: Vec<Excluded>,
}

impl RolloutPlan {
    /// The index of the stage a device is in, if any.
    pub fn stage_of(&self, id: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.devices.iter().any(|d| d.id == id))
    }
}

/// The stable selection key of a device in a rollout.
pub fn selection_key(rollout_id: &str, device_id: &str) -> u64 {
    key_with_seed(rollout_seed(rollout_id), device_id)
}

/// The seed of a rollout's selection keys (computed once per plan).
fn rollout_seed(rollout_id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(rollout_id.as_bytes())
}

fn key_with_seed(seed: u64, device_id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(device_id.as_bytes(), seed)
}

/// Plans a rollout of `target` over `fleet`: see the [module docs](self) for the rules.
///
/// # Errors
/// [`PlanError`] for an invalid policy, an empty rollout id, or a target that is unknown or
/// blocked. Devices that cannot reach the target are not errors: they are listed in
/// [`RolloutPlan::excluded`].
///
/// # Complexity
/// O(D log D) for D devices, plus one route table per hardware model.
pub fn plan_rollout(
    graph: &UpgradeGraph,
    fleet: &Fleet,
    target: &Version,
    policy: &RolloutPolicy,
    rollout_id: &str,
) -> Result<RolloutPlan, PlanError> {
    let shares = policy.validate()?;
    if rollout_id.trim().is_empty() {
        return Err(PlanError::EmptyField { at: "rollout id".to_owned() });
    }
    let target_release = graph.release(target).ok_or_else(|| PlanError::Target {
        source: ResolveError::UnknownVersion { version: target.clone(), role: crate::graph::Role::Target },
    })?;
    let target = target_release.version().clone();

    let ids = Ids::of(fleet);
    let Eligibility { up_to_date, excluded, mut lines } = eligibility(graph, fleet, ids, &target, rollout_id)?;
    rank_within_lines(ids, &mut lines);
    let sizes: Vec<u32> = lines.iter().map(|(_, run)| u32_of(run.len())).collect();

    // The stages' ids: the fleet's, copied once.
    let text: Arc<str> = Arc::from(ids.text);
    let mut free = sizes.clone();
    let mut stages = Vec::with_capacity(policy.stages.len());
    for (stage, share) in policy.stages.iter().zip(&shares) {
        let seats = match share {
            Some(ppm) => apportion(*ppm, stage.min_per_line, stage.max_devices, &sizes, &free),
            None => free.clone(),
        };
        let mut planned = Vec::with_capacity(seats.iter().map(|&s| s as usize).sum());
        let mut per_line = BTreeMap::new();
        for (l, &n) in seats.iter().enumerate() {
            let taken = (sizes[l] - free[l]) as usize;
            let (name, run) = &lines[l];
            let seated = &run[taken..taken + n as usize];
            planned.extend(seated.iter().map(|e| Placed { id: ids.range(e), hops: e.hops }));
            free[l] -= n;
            per_line.insert((*name).to_owned(), n);
        }
        let devices = StageDevices { text: Arc::clone(&text), placed: planned };
        stages.push(StagePlan { name: stage.name.clone(), devices, lines: per_line });
    }
    Ok(RolloutPlan { rollout_id: rollout_id.to_owned(), target, stages, up_to_date, excluded })
}

/// An eligible device of a line. Each device is appended to its line's run as the fleet is
/// read, so the fewer bytes the quicker: 24 (its id's place in the fleet's text, not the id).
/// Stages then read the ranked runs in order and keep each id's place in the plan's one copy
/// of the fleet's text ([`StageDevices`]). At a million devices on 200 lines, against runs of
/// (key, place in the run, hops) with the ids beside them, put in selection order after the
/// sort (a gather that cost as much as the sort): 54–61 ms a plan against 62–78 (best of 20,
/// two binaries taking turns). Runs of 32 bytes (the id's end kept whole) cost 10 ms more a
/// plan; the id's place found again from the device's number, 10–20 ms more. Stages that
/// copied each id (a string a device, or one text a stage) instead of keeping its place:
/// 54 and 44 ms a plan against 34.
#[derive(Clone, Copy, Default)]
struct Ranked {
    /// Its selection key.
    key: u64,
    /// Where its id starts in the fleet's text.
    start: usize,
    /// Its id's length in bytes; `u32::MAX` for an id that long or longer (see [`Ids::range`]).
    len: u32,
    /// Hops to the target.
    hops: u32,
}

/// The fleet's ids as it keeps them: one text, and where each id ends (see [`Fleet::id_text`]).
#[derive(Clone, Copy)]
struct Ids<'f> {
    text: &'f str,
    ends: &'f [usize],
}

impl<'f> Ids<'f> {
    fn of(fleet: &'f Fleet) -> Self {
        let (text, ends) = fleet.id_text();
        Self { text, ends }
    }

    /// Device `i`'s id and where it starts.
    fn at(self, i: usize) -> (&'f str, usize) {
        let range = crate::fleet::id_range(self.ends, i);
        (&self.text[range.clone()], range.start)
    }

    /// A ranked device's id.
    fn id(self, device: &Ranked) -> &'f str {
        let (start, end) = self.range(device);
        &self.text[start..end]
    }

    /// Where a ranked device's id starts and ends. One of 4 GiB or more (its length not kept)
    /// ends where the first id to end after its start does.
    fn range(self, device: &Ranked) -> (usize, usize) {
        let end = if device.len == u32::MAX {
            self.ends[self.ends.partition_point(|&end| end <= device.start)]
        } else {
            device.start + device.len as usize
        };
        (device.start, end)
    }
}

struct Eligibility<'f> {
    up_to_date: Vec<String>,
    excluded: Vec<Excluded>,
    /// The lines with eligible devices, named, in order of their first eligible device, each
    /// with its devices in fleet order.
    lines: Vec<(&'f str, Vec<Ranked>)>,
}

/// Where each device stands with respect to the target, in fleet order.
fn eligibility<'f>(
    graph: &UpgradeGraph,
    fleet: &'f Fleet,
    ids: Ids<'_>,
    target: &Version,
    rollout_id: &str,
) -> Result<Eligibility<'f>, PlanError> {
    /// A small outcome, so the loop over devices moves no large values.
    #[derive(Clone, Copy)]
    enum Outcome {
        Hops(u32),
        Error(usize),
    }
    let mut errors: Vec<ResolveError> = Vec::new();
    // One route table per model; a model the target does not install on excludes its devices.
    let mut tables: FxHashMap<&str, Result<RouteTable, usize>> = FxHashMap::default();
    // Fleets run few distinct (model, version spelling) pairs, which the fleet numbers (its
    // kinds): the answer is worked out once per pair.
    let mut memo: ByKind<Outcome> = ByKind::new(fleet);
    let mut up_to_date = Vec::new();
    let mut excluded = Vec::new();
    // Lines numbered in order of first eligible device, found by the fleet's number for them;
    // each line's run sized for all the line's devices (one pass over the fleet's numbers).
    let (places, names) = fleet.places();
    let mut line_of = vec![u32::MAX; names.len()];
    let mut devices_of = vec![0usize; names.len()];
    for &[line, _] in places {
        devices_of[line as usize] += 1;
    }
    let mut lines: Vec<(&'f str, Vec<Ranked>)> = Vec::new();
    let seed = rollout_seed(rollout_id);
    let (kinds, _, _) = fleet.kinds();
    for (index, (kind, &[line, _])) in kinds.iter().zip(places).enumerate() {
        let outcome = if let Some(outcome) = memo.get(*kind) {
            outcome
        } else {
            let device = fleet.at(index);
            if !tables.contains_key(device.model) {
                let table = match graph.route_table(target, &Constraints::for_model(device.model)) {
                    Ok(table) => Ok(table),
                    Err(e @ ResolveError::ModelIncompatible { .. }) => {
                        errors.push(e);
                        Err(errors.len() - 1)
                    }
                    Err(source) => return Err(PlanError::Target { source }),
                };
                tables.insert(device.model, table);
            }
            let outcome = match &tables[device.model] {
                Err(e) => Outcome::Error(*e),
                Ok(table) => match table.hops(device.version) {
                    Some(hops) => Outcome::Hops(hops),
                    // Ask for the exact error.
                    None => match table.next_hop(device.version) {
                        Ok(_) => Outcome::Hops(0),
                        Err(e) => {
                            errors.push(e);
                            Outcome::Error(errors.len() - 1)
                        }
                    },
                },
            };
            memo.insert(*kind, outcome);
            outcome
        };
        let (id, start) = ids.at(index);
        match outcome {
            Outcome::Hops(0) => up_to_date.push(id.to_owned()),
            Outcome::Hops(hops) => {
                let slot = &mut line_of[line as usize];
                if *slot == u32::MAX {
                    *slot = u32_of(lines.len());
                    let size = devices_of[line as usize];
                    lines.push((&names[line as usize], Vec::with_capacity(size)));
                }
                let key = key_with_seed(seed, id);
                lines[*slot as usize].1.push(Ranked { key, start, len: u32_of(id.len()), hops });
            }
            Outcome::Error(e) => {
                let e = &errors[e];
                excluded.push(Excluded { id: id.to_owned(), code: e.code().to_owned(), message: e.to_string() });
            }
        }
    }
    Ok(Eligibility { up_to_date, excluded, lines })
}

/// Sorts lines by name and, within each line, devices by (key, id).
fn rank_within_lines(ids: Ids<'_>, lines: &mut [(&str, Vec<Ranked>)]) {
    lines.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (_, ranked) in lines {
        sort_by_key(ranked);
        // Equal keys (a 64-bit collision) are ordered by id, so the order never depends on input.
        let mut i = 0;
        while i + 1 < ranked.len() {
            let mut j = i + 1;
            while j < ranked.len() && ranked[j].key == ranked[i].key {
                j += 1;
            }
            if j - i > 1 {
                ranked[i..j].sort_by(|a, b| ids.id(a).cmp(ids.id(b)));
            }
            i = j;
        }
    }
}

/// Sorts a line's devices by selection key. The keys are hashes, spread evenly over 64 bits:
/// one counting pass on their top bits puts each device in a bucket of about two, and each
/// bucket is then sorted on its own (all within the line's run, which stays in the cache).
/// A set of keys bunched by chance (or by crafted ids) only makes some buckets bigger, each
/// still sorted in O(n log n).
fn sort_by_key(ranked: &mut Vec<Ranked>) {
    // A small line is sorted as it is, in the cache already.
    if ranked.len() < 1024 {
        ranked.sort_unstable_by_key(|e| e.key);
        return;
    }
    let bits = usize::BITS - (ranked.len() / 2).leading_zeros();
    // The key's top `bits` bits: fewer than a `usize` holds (`bits` counts a length's).
    #[allow(clippy::cast_possible_truncation)]
    let bucket = |e: &Ranked| (e.key >> (64 - bits)) as usize;
    let mut starts = vec![0usize; (1 << bits) + 1];
    for e in ranked.iter() {
        starts[bucket(e) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut sorted = vec![Ranked::default(); ranked.len()];
    let mut next = starts.clone();
    for &e in ranked.iter() {
        let at = &mut next[bucket(&e)];
        sorted[*at] = e;
        *at += 1;
    }
    for run in starts.windows(2) {
        sorted[run[0]..run[1]].sort_unstable_by_key(|e| e.key);
    }
    *ranked = sorted;
}

/// Seats per line for one stage (see the module docs). `sizes[l]`: the line's eligible
/// devices; `free[l]`: those not yet in an earlier stage.
fn apportion(share_ppm: u64, min_per_line: u32, cap: Option<u32>, sizes: &[u32], free: &[u32]) -> Vec<u32> {
    let n: u64 = sizes.iter().map(|&s| u64::from(s)).sum();
    let minimum: Vec<u32> = free.iter().map(|&f| f.min(min_per_line)).collect();
    let min_total: u64 = minimum.iter().map(|&m| u64::from(m)).sum();
    // share ≤ 1, so the rounded product is at most n: it fits.
    let rounded = (u128::from(share_ppm) * u128::from(n) + u128::from(MILLION / 2)) / u128::from(MILLION);
    let mut total = u64::try_from(rounded).unwrap_or(n);
    total = total.max(min_total);
    if let Some(cap) = cap {
        total = total.min(u64::from(cap));
    }
    let quota = |l: usize| u128::from(share_ppm) * u128::from(sizes[l]);
    if total <= min_total {
        // A cap below the minimums: the lines with the largest quotas get theirs first.
        let mut order: Vec<usize> = (0..sizes.len()).collect();
        order.sort_by(|&a, &b| quota(b).cmp(&quota(a)).then(a.cmp(&b)));
        let mut seats = vec![0u32; sizes.len()];
        let mut left = total;
        for l in order {
            let give = u64::from(minimum[l]).min(left);
            seats[l] = u32_of(give);
            left -= give;
        }
        return seats;
    }
    let extra = total - min_total;
    // Largest remainders on what the minimums did not cover, within each line's capacity.
    let capacity: Vec<u64> = free.iter().zip(&minimum).map(|(&f, &m)| u64::from(f - m)).collect();
    let mut weight: Vec<u128> =
        (0..sizes.len()).map(|l| quota(l).saturating_sub(u128::from(minimum[l]) * u128::from(MILLION))).collect();
    if weight.iter().all(|&w| w == 0) {
        weight = capacity.iter().map(|&c| u128::from(c)).collect();
    }
    let sum: u128 = weight.iter().sum();
    let mut seats: Vec<u64> = vec![0; sizes.len()];
    let mut remainders: Vec<(u128, usize)> = Vec::with_capacity(sizes.len());
    for l in 0..sizes.len() {
        let exact = u128::from(extra) * weight[l];
        // `sum` is zero only when every line is full: no seats, no remainders.
        if let (Some(floor), Some(rem)) = (exact.checked_div(sum), exact.checked_rem(sum)) {
            seats[l] = u64::try_from(floor).unwrap_or(extra).min(capacity[l]);
            remainders.push((rem, l));
        }
    }
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut left = extra - seats.iter().sum::<u64>();
    while left > 0 {
        let mut gave = false;
        for &(_, l) in &remainders {
            if left > 0 && seats[l] < capacity[l] {
                seats[l] += 1;
                left -= 1;
                gave = true;
            }
        }
        if !gave {
            break; // every line is full: the stage is smaller than asked
        }
    }
    seats.iter().zip(&minimum).map(|(&s, &m)| m + u32_of(s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_plant_shape() {
        // 17 lines of 12..28 devices, 340 in all.
        let sizes = [24, 22, 18, 26, 20, 28, 16, 14, 19, 21, 27, 25, 17, 23, 12, 13, 15];
        let canary = apportion(50_000, 1, None, &sizes, &sizes);
        assert_eq!(canary, vec![1; 17]);
        let free: Vec<u32> = sizes.iter().map(|s| s - 1).collect();
        let early = apportion(200_000, 0, None, &sizes, &free);
        assert_eq!(early.iter().sum::<u32>(), 68);
        for (l, &seats) in early.iter().enumerate() {
            let quota = f64::from(sizes[l]) * 0.2;
            assert!(
                f64::from(seats) >= quota.floor() && f64::from(seats) <= quota.ceil(),
                "line {l}: {seats} vs {quota}"
            );
        }
    }

    #[test]
    fn small_lines() {
        // Lines of 1, 2 and 3 devices: every line gets a canary; early goes to the largest quota.
        let sizes = [1, 2, 3];
        assert_eq!(apportion(50_000, 1, None, &sizes, &sizes), vec![1, 1, 1]);
        assert_eq!(apportion(200_000, 0, None, &sizes, &[0, 1, 2]), vec![0, 0, 1]);
        // "5% of 11 devices is 0" does not happen with a minimum of one.
        assert_eq!(apportion(50_000, 1, None, &[11], &[11]), vec![1]);
        assert_eq!(apportion(50_000, 0, None, &[11], &[11]), vec![1], "0.55 rounds half up to 1");
        assert_eq!(apportion(50_000, 0, None, &[9], &[9]), vec![0], "0.45 rounds to 0 without a minimum");
    }

    #[test]
    fn equal_keys_are_ordered_by_id_whatever_the_order_read() {
        // A 64-bit collision cannot be found by hand: the keys are given. Small lines are sorted
        // as they are, lines of 1024 or more by buckets first; both give the same order.
        for size in [4usize, 2000] {
            let names: Vec<String> = (0..size).map(|i| format!("d-{:04}", (i * 7) % size)).collect();
            // Every third device shares one key; the rest are spread.
            let key =
                |i: usize| if i.is_multiple_of(3) { 1 << 63 } else { (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) };
            let mut expected: Vec<(u64, &str)> = (0..size).map(|i| (key(i), names[i].as_str())).collect();
            expected.sort_unstable();
            for reversed in [false, true] {
                let mut order: Vec<usize> = (0..size).collect();
                if reversed {
                    order.reverse();
                }
                let text: String = order.iter().map(|&i| names[i].as_str()).collect();
                let ends: Vec<usize> = order
                    .iter()
                    .scan(0, |end, &i| {
                        *end += names[i].len();
                        Some(*end)
                    })
                    .collect();
                let ids = Ids { text: &text, ends: &ends };
                let ranked = (0..size)
                    .map(|at| {
                        let (id, start) = ids.at(at);
                        Ranked { key: key(order[at]), start, len: u32_of(id.len()), hops: 1 }
                    })
                    .collect();
                let mut lines = [("line", ranked)];
                rank_within_lines(ids, &mut lines);
                let got: Vec<(u64, &str)> = lines[0].1.iter().map(|e| (e.key, ids.id(e))).collect();
                assert_eq!(got, expected, "{size} devices, read in reverse: {reversed}");
            }
        }
    }

    #[test]
    fn an_id_whose_length_is_not_kept_is_found_by_its_start() {
        // Ids of 4 GiB or more keep `u32::MAX` as their length: found by where they start.
        let ids = Ids { text: "ab-cdef-g", ends: &[2, 7, 9] };
        for (i, id) in ["ab", "-cdef", "-g"].into_iter().enumerate() {
            let (got, start) = ids.at(i);
            let kept = Ranked { key: 0, start, len: u32_of(id.len()), hops: 1 };
            let long = Ranked { len: u32::MAX, ..kept };
            assert_eq!((got, ids.id(&kept), ids.id(&long)), (id, id, id));
        }
    }

    #[test]
    fn caps_and_capacity() {
        // A cap below the per-line minimums: the largest lines first.
        assert_eq!(apportion(50_000, 1, Some(2), &[5, 30, 10], &[5, 30, 10]), vec![0, 1, 1]);
        // A cap above: the share wins.
        assert_eq!(apportion(500_000, 0, Some(100), &[10, 10], &[10, 10]), vec![5, 5]);
        // Not enough free devices: the stage is smaller, never larger than a line's free count.
        assert_eq!(apportion(1_000_000, 0, None, &[10, 10], &[2, 3]), vec![2, 3]);
    }

    #[test]
    fn policy_errors() {
        let mut policy = RolloutPolicy::default();
        assert_eq!(policy.validate(), Ok(vec![Some(50_000), Some(200_000), None]));
        policy.stages[1].share = Some(1.5);
        let err = policy.validate().unwrap_err();
        assert_eq!(
            (err.code(), err.to_string().as_str()),
            ("invalid_share", "stage \"early\": share 1.5 is not in (0, 1]")
        );
        policy.stages[1].share = Some(0.97);
        let err = policy.validate().unwrap_err();
        assert_eq!(
            (err.code(), err.to_string().as_str()),
            ("shares_over_one", "stage shares add up to 1.02, more than 1")
        );
        policy.stages[1].share = None;
        let err = policy.validate().unwrap_err();
        assert_eq!(err.to_string(), "stage \"early\" has no share, but only the last stage takes the rest");
        policy.stages[1].share = Some(0.2);
        policy.stages[2].share = Some(0.75);
        let err = policy.validate().unwrap_err();
        assert_eq!(
            (err.code(), err.to_string().as_str()),
            ("last_stage_not_rest", "the last stage \"production\" must take the rest (omit its share)")
        );
        policy.stages[2].share = None;
        policy.stages[2].name = "canary".into();
        assert_eq!(policy.validate().unwrap_err().to_string(), "two stages are named \"canary\"");
        policy.stages[2].name = " ".into();
        assert_eq!(policy.validate().unwrap_err().to_string(), "stages[2].name is empty");
        assert_eq!(
            RolloutPolicy { stages: vec![], ..RolloutPolicy::default() }.validate().unwrap_err().code(),
            "no_stages"
        );
        policy.stages[0].share = Some(f64::NAN);
        assert_eq!(policy.validate().unwrap_err().code(), "invalid_share");
    }

    /// A plan's stages give each device's id whole (multi-byte and quoted ids too), share
    /// one copy of the fleet's ids, and read back from JSON (ids with escapes, which cannot be
    /// borrowed from the text, included) as the same plan.
    #[test]
    fn stages_share_the_fleets_ids_and_read_back_as_written() {
        use crate::Document;
        use std::fmt::Write;
        let graph = UpgradeGraph::from_json(
            r#"{"format_version": 1, "releases": [{"version": "1.0"}, {"version": "1.1"}, {"version": "2.0"}],
                "edges": [{"from": "1.0", "to": "1.1"}, {"from": "1.1", "to": "2.0"}]}"#,
        )
        .unwrap();
        let mut csv = String::from("id,model,line,version\n\"q\"\"uote\",M,l1,1.0\n");
        for i in 0..30 {
            writeln!(csv, "dév-{i},M,l{},1.{}", i % 3, i % 2).unwrap();
        }
        let fleet = Fleet::from_csv(&csv).unwrap();
        let plan = plan_rollout(&graph, &fleet, &"2.0".parse().unwrap(), &RolloutPolicy::default(), "r").unwrap();
        let mut placed: Vec<(&str, u32)> =
            plan.stages.iter().flat_map(|s| s.devices.iter().map(|d| (d.id, d.hops))).collect();
        placed.sort_unstable();
        let mut expected: Vec<(&str, u32)> =
            fleet.devices().map(|d| (d.id, if d.version.to_string() == "1.0" { 2 } else { 1 })).collect();
        expected.sort_unstable();
        assert_eq!(placed, expected);
        assert!(plan.stages.windows(2).all(|w| Arc::ptr_eq(&w[0].devices.text, &w[1].devices.text)));
        let last = &plan.stages[2].devices;
        assert_eq!((last.get(last.len()), last.iter().len()), (None, last.len()));
        let backwards: Vec<PlannedDevice<'_>> = last.into_iter().rev().collect();
        assert_eq!(backwards.first().copied(), last.get(last.len() - 1));
        assert!(backwards.iter().rev().eq(last.iter().collect::<Vec<_>>().iter()));
        let mut iter = last.iter();
        iter.nth(last.len() - 2);
        assert_eq!(format!("{iter:?}"), format!("[{:?}]", backwards[0]), "the devices left, not the fleet's ids");

        let json = serde_json::to_string(&plan).unwrap();
        assert!(json.contains(r#"{"id":"q\"uote","hops":2}"#), "{json}");
        assert_eq!(RolloutPlan::from_json(&json).unwrap(), plan);
        assert_eq!(RolloutPlan::from_value(serde_json::to_value(&plan).unwrap()).unwrap(), plan);
        let bad = json.replacen(r#""hops":2"#, r#""hops":-2"#, 1);
        let err = RolloutPlan::from_json(&bad).unwrap_err();
        assert_eq!(err.code(), "invalid_json");
        assert!(err.to_string().contains("(stages[0].devices[0].hops): invalid value: integer `-2`"), "{err}");
        // Errors name the device and where it is, read from text or from a value (which
        // keeps one of two equal keys); a device's fields other than `id` and `hops` are
        // ignored, as they always were.
        for (from, to, says, in_value) in [
            (
                r#"{"id":"dév-24","hops":2}"#,
                "1",
                "(stages[0].devices[0]): invalid type: integer `1`, expected struct PlannedDevice",
                true,
            ),
            (r#""id":"dév-24","#, "", "(stages[0].devices[0]): missing field `id`", true),
            (r#""hops":2"#, r#""hops":2,"hops":2"#, "(stages[0].devices[0]): duplicate field `hops`", false),
        ] {
            let bad = json.replacen(from, to, 1);
            let err = RolloutPlan::from_json(&bad).unwrap_err();
            assert!(err.to_string().contains(says), "{err}");
            if in_value {
                let err = RolloutPlan::from_value(serde_json::from_str(&bad).unwrap()).unwrap_err();
                assert!(err.to_string().contains(says), "{err}");
            }
        }
        let extra = json.replacen(r#""hops":2}"#, r#""hops":2,"line":"l1"}"#, 1);
        assert_eq!(RolloutPlan::from_json(&extra).unwrap(), plan);
    }
}

#[cfg(test)]
mod rounding {
    use super::*;

    #[test]
    fn shares_adding_up_to_one_are_accepted_whatever_their_rounding() {
        // Each rounds up to the next millionth; their sum is 1 (to the last bit of an f64).
        let shares = [0.258_928_571_428_571_45, 0.388_888_888_888_888_9, 0.352_182_539_682_539_7];
        let stage = |k: usize, share| StagePolicy {
            name: format!("s{k}"),
            share,
            min_per_line: 0,
            max_devices: None,
            monitoring_hours: 24,
            approval: false,
        };
        let mut stages: Vec<StagePolicy> = shares.iter().enumerate().map(|(k, &s)| stage(k, Some(s))).collect();
        stages.push(stage(3, None));
        let policy = RolloutPolicy { stages, ..RolloutPolicy::default() };
        assert_eq!(policy.validate().unwrap(), [Some(258_929), Some(388_889), Some(352_183), None]);
    }
}
