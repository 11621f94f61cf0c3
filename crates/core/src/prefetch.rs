//! The prefetch planner: which artifacts the coming stages need, and by when a restore from
//! cold storage must be requested so that each is ready when its stage's window opens.
//!
//! The field report saw devices fail because a firmware binary had moved to Glacier: a
//! restore took 1–2 hours while the devices were already asking. The plan prevents that:
//!
//! 1. **When each stage can start at the earliest.** The current stage now (or when its
//!    monitoring ends, for the next one); each later stage `monitoring_hours` after the one
//!    before it starts (updates are taken as instant: earlier is the safe side). With a
//!    calendar, the first window of the stage that opens after that, over the stage's lines.
//! 2. **What each stage installs**: every hop of every device's path still to install, and,
//!    with `include_rollback`, the binaries a rollback of its devices would install (a
//!    rollback that waits hours for Glacier is the worst case of all).
//! 3. **For each artifact**, by its observed availability: downloadable ones are skipped
//!    (counted in `ready`); archived ones get the cheapest tier (in `tiers` order) whose
//!    restore, requested by `request_by`, is ready `margin_minutes` before the window, and are
//!    `due` when `request_by` is within `lead_minutes`; a restore already running is listed
//!    with whether it will be late; missing and unobserved objects are listed for operators.
//!    When even the fastest tier cannot make it, the item is `late` and due now.
//!
//! Items are sorted by deadline, then key: the same inputs give the same plan.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::artifact::{Availability, RestoreTier, RestoreTimes, StorageClass};
use crate::graph::{Artifact, UpgradeGraph};
use crate::rollback::plan_device_rollback;
use crate::rollout::{DeviceStatus, Rollout, RolloutStatus, StagePhase};
use crate::schedule::Calendar;
use crate::u32_of;
use crate::version::Version;

/// How restores are planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrefetchPolicy {
    /// Retrieval tiers to consider, cheapest first.
    pub tiers: Vec<RestoreTier>,
    /// A restore must be done this many minutes before the window opens.
    pub margin_minutes: u32,
    /// A restore is due when its deadline is at most this many minutes away (run the planner
    /// more often than this).
    pub lead_minutes: u32,
    /// Days a restored copy stays, at least (longer when the window is further away).
    pub restore_days: u32,
    /// Restore durations.
    pub restore_times: RestoreTimes,
    /// Also plan the binaries a rollback would install.
    pub include_rollback: bool,
}

impl Default for PrefetchPolicy {
    fn default() -> Self {
        Self {
            tiers: vec![RestoreTier::Bulk, RestoreTier::Standard, RestoreTier::Expedited],
            margin_minutes: 60,
            lead_minutes: 60,
            restore_days: 7,
            restore_times: RestoreTimes::default(),
            include_rollback: true,
        }
    }
}

/// Why an artifact is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A hop of an upgrade path.
    Upgrade,
    /// A downgrade of a rollback.
    Rollback,
}

/// What to do about one artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum PrefetchAction {
    /// Request a restore by `request_by` (now, when the item is `due`).
    Restore {
        /// The storage class.
        class: StorageClass,
        /// The cheapest tier that makes the deadline.
        tier: RestoreTier,
        /// The latest instant to request it with this tier.
        request_by: Timestamp,
        /// Days the restored copy should stay.
        days: u32,
    },
    /// Even the fastest tier requested now is ready after the deadline: request it now.
    Late {
        /// The storage class.
        class: StorageClass,
        /// The fastest tier the class offers.
        tier: RestoreTier,
        /// When it would be ready.
        ready_by: Timestamp,
        /// Days the restored copy should stay.
        days: u32,
    },
    /// A restore is running.
    Restoring {
        /// When it should be done.
        ready_by: Timestamp,
        /// Whether that is after the deadline.
        late: bool,
    },
    /// The object does not exist: upload it or fix the manifest.
    Missing,
    /// Nobody has observed the object: check it.
    Check,
}

/// One artifact the coming stages need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefetchItem {
    /// The binary.
    pub artifact: Artifact,
    /// The release it installs.
    pub version: Version,
    /// Upgrade, or only for a rollback.
    pub purpose: Purpose,
    /// The first stage that needs it.
    pub stage: String,
    /// When that stage's first window opens at the earliest.
    pub needed_at: Timestamp,
    /// Whether the host must act now: a restore whose deadline is within the lead time, a
    /// late restore, a missing or unobserved object (a running restore is never due).
    pub due: bool,
    /// What to do.
    #[serde(flatten)]
    pub action: PrefetchAction,
}

/// The prefetch plan at an instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrefetchPlan {
    /// When it was made.
    pub at: Timestamp,
    /// When each stage still to come can start at the earliest.
    pub stages: Vec<(String, Timestamp)>,
    /// Artifacts that need something, by deadline then key.
    pub items: Vec<PrefetchItem>,
    /// Artifacts needed and already downloadable (skipped).
    pub ready: usize,
}

impl PrefetchPlan {
    /// The items to act on now.
    pub fn due(&self) -> impl Iterator<Item = &PrefetchItem> {
        self.items.iter().filter(|i| i.due)
    }
}

fn add_minutes(t: Timestamp, minutes: i64) -> Timestamp {
    t.checked_add(SignedDuration::from_mins(minutes)).unwrap_or(if minutes < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// Plans the restores the rollout's coming stages need (see the [module docs](self)).
/// `observed` maps object keys to what the host saw; an artifact absent from it is listed
/// as [`PrefetchAction::Check`].
pub fn plan_prefetch(
    rollout: &Rollout,
    graph: &UpgradeGraph,
    calendar: Option<&Calendar>,
    observed: &BTreeMap<String, Availability>,
    policy: &PrefetchPolicy,
    at: Timestamp,
) -> PrefetchPlan {
    let starts = stage_starts(rollout, calendar, at);

    // 2. What each stage installs, first need per key.
    let mut needs: BTreeMap<String, (Artifact, Version, Purpose, usize, Timestamp)> = BTreeMap::new();
    let mut need = |artifact: &Artifact, version: &Version, purpose: Purpose, k: usize, when: Timestamp| {
        let entry =
            needs.entry(artifact.key.clone()).or_insert_with(|| (artifact.clone(), version.clone(), purpose, k, when));
        if (when, purpose) < (entry.4, entry.2) {
            *entry = (artifact.clone(), version.clone(), purpose, k, when);
        }
    };
    let mut rollbacks = BTreeMap::new();
    for &(k, when) in &starts {
        let stage = &rollout.stages[k];
        let to_install =
            stage.devices.iter().any(|d| matches!(d.status, DeviceStatus::Pending | DeviceStatus::Updating));
        if to_install {
            for artifact in &stage.artifacts {
                let version = graph
                    .releases()
                    .iter()
                    .find(|r| r.artifact().is_some_and(|a| a.key == artifact.key))
                    .map_or_else(|| rollout.target.clone(), |r| r.version().clone());
                need(artifact, &version, Purpose::Upgrade, k, when);
            }
        }
        if policy.include_rollback {
            for device in &stage.devices {
                let outcome = rollbacks.entry((device.model.clone(), device.from.clone())).or_insert_with(|| {
                    plan_device_rollback(graph, device.model.as_deref(), &device.from, &rollout.target, &rollout.target)
                });
                for hop in outcome.route().into_iter().flat_map(|r| &r.hops) {
                    if let Some(artifact) = &hop.artifact {
                        need(artifact, &hop.to, Purpose::Rollback, k, when);
                    }
                }
            }
        }
    }
    // A halted rollout still rolls back: its rolled-back devices need their binaries now.
    if let RolloutStatus::Halted { .. } = rollout.status {
        for (k, stage) in rollout.stages.iter().enumerate() {
            for device in stage.devices.iter().filter(|d| d.status == DeviceStatus::RolledBack) {
                let outcome = plan_device_rollback(
                    graph,
                    device.model.as_deref(),
                    &device.from,
                    &device.version,
                    &rollout.target,
                );
                for hop in outcome.route().into_iter().flat_map(|r| &r.hops) {
                    if let Some(artifact) = &hop.artifact {
                        need(artifact, &hop.to, Purpose::Rollback, k, at);
                    }
                }
            }
        }
    }

    // 3. What to do about each.
    let mut ready = 0;
    let mut items = Vec::new();
    for (key, (artifact, version, purpose, k, needed_at)) in needs {
        let deadline = add_minutes(needed_at, -i64::from(policy.margin_minutes));
        let days_needed = needed_at.duration_since(at).as_hours().max(0) / 24 + 2;
        let days = policy.restore_days.max(u32_of(days_needed));
        let action = match observed.get(&key) {
            None => Some((PrefetchAction::Check, true)),
            Some(Availability::Available { .. }) => None,
            Some(Availability::Restored { until, .. }) if *until > needed_at => None,
            Some(Availability::Missing) => Some((PrefetchAction::Missing, true)),
            Some(Availability::Restoring { ready_by, .. }) => {
                Some((PrefetchAction::Restoring { ready_by: *ready_by, late: *ready_by > deadline }, false))
            }
            Some(Availability::Archived { class } | Availability::Restored { class, .. }) => {
                Some(restore_action(*class, policy, at, deadline, days))
            }
        };
        match action {
            None => ready += 1,
            Some((action, due)) => items.push(PrefetchItem {
                artifact,
                version,
                purpose,
                stage: rollout.stages[k].name.clone(),
                needed_at,
                due,
                action,
            }),
        }
    }
    let deadline = |i: &PrefetchItem| match &i.action {
        PrefetchAction::Restore { request_by, .. } => *request_by,
        _ => i.needed_at,
    };
    items.sort_by(|a, b| deadline(a).cmp(&deadline(b)).then_with(|| a.artifact.key.cmp(&b.artifact.key)));
    let stages = starts.iter().map(|&(k, t)| (rollout.stages[k].name.clone(), t)).collect();
    PrefetchPlan { at, stages, items, ready }
}

/// When each stage still to come can start at the earliest (see the [module docs](self)).
fn stage_starts(rollout: &Rollout, calendar: Option<&Calendar>, at: Timestamp) -> Vec<(usize, Timestamp)> {
    let mut starts: Vec<(usize, Timestamp)> = Vec::new();
    let live = matches!(rollout.status, RolloutStatus::NotStarted | RolloutStatus::Running | RolloutStatus::Paused);
    if live {
        let mut earliest = at;
        for (k, stage) in rollout.stages.iter().enumerate().skip(rollout.current) {
            let monitoring = rollout.policy.stages.get(k).map_or(24, |s| s.monitoring_hours);
            if k == rollout.current && stage.phase == StagePhase::Monitoring {
                // It installs nothing more (but may roll back now); the next stage waits for
                // its monitoring to end.
                starts.push((k, at));
                let since = stage.monitoring_since.unwrap_or(at);
                earliest = add_minutes(since, i64::from(monitoring) * 60).max(at);
                continue;
            }
            if stage.phase == StagePhase::Passed {
                continue;
            }
            let opens = window_start(calendar, stage, earliest);
            starts.push((k, opens));
            earliest = add_minutes(opens, i64::from(monitoring) * 60);
        }
    }
    starts
}

fn restore_action(
    class: StorageClass,
    policy: &PrefetchPolicy,
    at: Timestamp,
    deadline: Timestamp,
    days: u32,
) -> (PrefetchAction, bool) {
    let times = &policy.restore_times;
    let lead = add_minutes(at, i64::from(policy.lead_minutes));
    for &tier in &policy.tiers {
        if let Some(request_by) = times.request_by(class, tier, deadline).filter(|&by| by >= at) {
            return (PrefetchAction::Restore { class, tier, request_by, days }, request_by <= lead);
        }
    }
    // Nothing makes it: the fastest tier the class has, now.
    let fastest = [RestoreTier::Expedited, RestoreTier::Standard, RestoreTier::Bulk]
        .into_iter()
        .find_map(|tier| times.ready_by(class, tier, at).map(|ready_by| (tier, ready_by)));
    match fastest {
        Some((tier, ready_by)) => (PrefetchAction::Late { class, tier, ready_by, days }, true),
        // A class that needs no restore but was observed archived: check it again.
        None => (PrefetchAction::Check, true),
    }
}

/// When the first window of stage `k` opens at or after `earliest`, over its devices' lines
/// still to update (`earliest` without a calendar, or when no window is known).
fn window_start(calendar: Option<&Calendar>, stage: &crate::rollout::StageState, earliest: Timestamp) -> Timestamp {
    let Some(calendar) = calendar else { return earliest };
    let mut lines: Vec<(&str, &str)> = stage
        .devices
        .iter()
        .filter(|d| matches!(d.status, DeviceStatus::Pending | DeviceStatus::Updating))
        .filter_map(|d| d.site.as_deref().map(|s| (s, d.line.as_str())))
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines
        .into_iter()
        .filter_map(|(site, line)| calendar.next_window(site, line, &stage.name, earliest).ok().flatten())
        .map(|w| w.start)
        .min()
        .unwrap_or(earliest)
}

crate::document::documents! {
    PrefetchPolicy => "prefetch policy";
    PrefetchPlan => "prefetch plan";
}
