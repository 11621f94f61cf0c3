//! The rollout state machine: a serializable [`Rollout`] and a pure [`Rollout::apply`].
//!
//! The host (a Lambda, a service) keeps the state (as JSON, in `DynamoDB` or a database row),
//! feeds it events and carries out the actions it returns. `apply` never reads a clock: every
//! event says when it happened.
//!
//! # Life of a stage
//!
//! 1. **Waiting**: the previous stage passed (or the rollout started). With `approval`, the
//!    stage asks for it ([`Action::RequestApproval`]) and waits for [`Event::Approve`].
//! 2. **Open**: on each [`Event::Tick`], devices whose line is inside one of the stage's
//!    windows (per the site's [`Calendar`]) start updating ([`Action::UpdateDevices`]); the
//!    others wait for their window ([`Action::WaitUntil`]).
//! 3. **Updating**: devices report success (at the target, or at an intermediate release, in
//!    which case they get the next hop), failure, or time out after `update_timeout_minutes`.
//!    The [`AbortRule`](super::AbortRule) stops the rollout when too many fail.
//! 4. **Monitoring**: from the moment the last update finished, for `monitoring_hours`.
//! 5. **Passed**: promoted only when the monitoring window has **fully elapsed and** a
//!    [`Verdict::Healthy`] covers the whole window (from its start to its end). Then the next
//!    stage waits, or the rollout completes.
//!
//! A [`Verdict::Breach`] for any started stage, or the abort rule, halts the rollout and rolls
//! back **every device the rollout has touched** (every device that started an update, even
//! one that failed or timed out mid-install), each exactly once, to the version it ran at the
//! start. Operators can pause, resume,
//! approve and abort.
//!
//! # Revisions
//!
//! Every successful `apply` returns a state whose `revision` is one more: store it with a
//! conditional write on the previous revision (`DynamoDB`'s `ConditionExpression`, a SQL
//! `WHERE revision = ?`) and a concurrent update is never lost. An event that makes no sense
//! in the current state (a verdict for a stage that has not started, approving while paused, a
//! report from a device that is not updating) is an error, and the state is unchanged.

use crate::Codes;
use crate::u32_of;
use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::plan::{RolloutPlan, RolloutPolicy};
use crate::fleet::{Device, Fleet, FleetError};
use crate::graph::{Artifact, Constraints, UpgradeGraph};
use crate::health::HealthReport;
pub use crate::health::Verdict;
use crate::schedule::{Calendar, ScheduleError};
use crate::version::Version;

/// Where a rollout is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RolloutStatus {
    /// Created, not started.
    NotStarted,
    /// Moving through its stages.
    Running,
    /// Stopped by an operator; no device starts an update until resumed.
    Paused,
    /// Stopped for good.
    Halted {
        /// Why.
        reason: HaltReason,
    },
    /// Every stage passed.
    Completed,
}

/// Why a rollout halted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HaltReason {
    /// A health verdict found a breach.
    Breach {
        /// The stage the verdict was about.
        stage: String,
        /// The verdict's explanation.
        detail: String,
    },
    /// Too many updates of a stage failed.
    AbortRule {
        /// The stage.
        stage: String,
        /// Failed or timed-out updates.
        failed: u32,
        /// Finished updates.
        finished: u32,
    },
    /// An operator aborted it.
    Operator {
        /// Their note.
        note: String,
    },
}

/// Where a stage is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StagePhase {
    /// Not reached yet.
    Waiting,
    /// Waiting for an operator's approval.
    AwaitingApproval,
    /// Devices start as their lines' windows open.
    Open,
    /// Every device started; waiting for them to finish.
    Updating,
    /// Every update finished; watching health.
    Monitoring,
    /// Promoted.
    Passed,
}

/// Where a device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Not started.
    Pending,
    /// Installing (possibly one of several hops).
    Updating,
    /// Runs the target.
    Succeeded,
    /// Reported a failure.
    Failed,
    /// Did not finish in time.
    TimedOut,
    /// Told to go back to the version it ran before the rollout.
    RolledBack,
    /// Left the fleet during the rollout ([`Event::RemoveDevice`]): no longer updated, timed
    /// out, counted by the abort rule or rolled back.
    Removed,
}

/// A device of a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceState {
    /// The device id.
    pub id: String,
    /// Its production line.
    pub line: String,
    /// Its site (calendars are per site).
    pub site: Option<String>,
    /// Its hardware model (rollbacks and decisions check releases against it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The version it ran when the rollout was created.
    pub from: Version,
    /// The version it runs now, as last reported.
    pub version: Version,
    /// Where it is.
    pub status: DeviceStatus,
    /// When its current update started.
    pub started_at: Option<Timestamp>,
}

/// A stage of a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageState {
    /// The stage's name.
    pub name: String,
    /// Where it is.
    pub phase: StagePhase,
    /// Its devices.
    pub devices: Vec<DeviceState>,
    /// The firmware its devices will install (every hop of every path), sorted by key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artifacts: Vec<Artifact>,
    /// When its last update finished (the monitoring window starts).
    pub monitoring_since: Option<Timestamp>,
    /// The end of the latest healthy verdict that covers the monitoring window from its start.
    pub healthy_through: Option<Timestamp>,
}

/// A rollout's whole state. Serialize it to keep it between events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    /// The rollout id.
    pub id: String,
    /// Incremented by every successful [`Rollout::apply`].
    pub revision: u64,
    /// The target release.
    pub target: Version,
    /// The policy (stages, timeouts, abort rule). Always stored in full, so a stored rollout
    /// never changes behaviour when a later version of this library changes the defaults.
    pub policy: RolloutPolicy,
    /// Where the rollout is.
    pub status: RolloutStatus,
    /// The index of the current stage.
    pub current: usize,
    /// The stages.
    pub stages: Vec<StageState>,
    /// The latest event time seen.
    pub now: Option<Timestamp>,
}

/// What happens to a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// Start the rollout.
    Start {
        /// When.
        at: Timestamp,
    },
    /// Time passed (the host ticks regularly, and at every [`Action::WaitUntil`]).
    Tick {
        /// Now.
        at: Timestamp,
    },
    /// A device reported on its update.
    DeviceReported {
        /// When.
        at: Timestamp,
        /// The device.
        device: String,
        /// What it said.
        outcome: DeviceOutcome,
    },
    /// A health verdict about a stage's devices over a period.
    HealthVerdict {
        /// When.
        at: Timestamp,
        /// The stage.
        stage: String,
        /// The verdict.
        verdict: Verdict,
        /// The period the verdict covers: from …
        from: Timestamp,
        /// … to.
        to: Timestamp,
    },
    /// An operator pauses the rollout.
    Pause {
        /// When.
        at: Timestamp,
    },
    /// An operator resumes it.
    Resume {
        /// When.
        at: Timestamp,
    },
    /// An operator approves a stage waiting for approval.
    Approve {
        /// When.
        at: Timestamp,
        /// The stage.
        stage: String,
    },
    /// A device joined the fleet while the rollout runs. It takes part in `stage` (by
    /// default the last one) as a pending device, unless that stage is already being monitored
    /// or has passed. A device that was removed may come back (the same id on new hardware).
    AddDevice {
        /// When.
        at: Timestamp,
        /// The device, as the fleet record has it (checked as a fleet checks its devices).
        device: Device,
        /// The stage it joins; the last stage when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<String>,
        /// The firmware its path installs (each hop's artifact, from
        /// [`UpgradeGraph::resolve`]), so the stage prefetches it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        artifacts: Vec<Artifact>,
    },
    /// A device left the fleet (decommissioned, replaced): it is marked
    /// [`DeviceStatus::Removed`] and no longer updated, timed out, counted by the abort rule or
    /// rolled back. A stage waiting only for removed devices moves on.
    RemoveDevice {
        /// When.
        at: Timestamp,
        /// The device.
        device: String,
    },
    /// An operator stops the rollout for good.
    Abort {
        /// When.
        at: Timestamp,
        /// Why.
        note: String,
        /// Whether to roll back the devices updated so far.
        roll_back: bool,
    },
}

impl Event {
    fn at(&self) -> Timestamp {
        match self {
            Self::Start { at }
            | Self::Tick { at }
            | Self::DeviceReported { at, .. }
            | Self::HealthVerdict { at, .. }
            | Self::Pause { at }
            | Self::Resume { at }
            | Self::Approve { at, .. }
            | Self::AddDevice { at, .. }
            | Self::RemoveDevice { at, .. }
            | Self::Abort { at, .. } => *at,
        }
    }
}

/// What a device reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum DeviceOutcome {
    /// It now runs `version` (the target, or an intermediate hop).
    Succeeded {
        /// The version it runs now.
        version: Version,
    },
    /// The update failed.
    Failed {
        /// Why, as the device said.
        reason: String,
    },
    /// The host gave up waiting.
    TimedOut,
}

impl HealthReport {
    /// The [`Event::HealthVerdict`] for a stage, covering the observation so far (the health
    /// gate's conclusion, as the rollout takes it).
    pub fn event(&self, stage: &str) -> Event {
        Event::HealthVerdict {
            at: self.evaluated_at,
            stage: stage.to_owned(),
            verdict: self.verdict(),
            from: self.observed_from.unwrap_or(self.evaluated_at),
            to: self.evaluated_at,
        }
    }
}

/// A device to roll back, and where to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackTarget {
    /// The device.
    pub device: String,
    /// The version it ran before the rollout.
    pub to: Version,
}

/// What the host must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Ask an operator to approve a stage.
    RequestApproval {
        /// The stage.
        stage: String,
    },
    /// Make these artifacts ready (restored from cold storage, cached) before the stage's
    /// windows open: every hop of every device's path, once each, sorted by key.
    Prefetch {
        /// The stage.
        stage: String,
        /// The artifacts.
        artifacts: Vec<Artifact>,
    },
    /// Start (the next hop of) the update on these devices.
    UpdateDevices {
        /// The stage.
        stage: String,
        /// The devices.
        devices: Vec<String>,
    },
    /// Send a tick at this time (a window opens, a timeout or a monitoring window ends).
    WaitUntil {
        /// When.
        at: Timestamp,
        /// What for.
        reason: String,
    },
    /// The stage passed; the next one begins.
    Promote {
        /// The stage that passed.
        from: String,
        /// The next stage.
        to: String,
    },
    /// Roll these devices back.
    RollBack {
        /// The devices and their versions before the rollout.
        devices: Vec<RollbackTarget>,
    },
    /// The rollout stopped for good.
    Halt {
        /// Why.
        reason: HaltReason,
    },
    /// Every stage passed.
    Complete,
    /// Something people should know.
    Notify {
        /// The message.
        message: String,
    },
}

/// Why an event could not be applied. The state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, Codes)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RolloutError {
    /// The event needs a started rollout.
    #[error("rollout {id:?} has not started")]
    #[code("not_started")]
    NotStarted {
        /// The rollout.
        id: String,
    },
    /// `Start` on a rollout that already started.
    #[error("rollout {id:?} has already started")]
    #[code("already_started")]
    AlreadyStarted {
        /// The rollout.
        id: String,
    },
    /// The rollout halted or completed; it takes no more events.
    #[error("rollout {id:?} is finished ({state})")]
    #[code("rollout_finished")]
    Finished {
        /// The rollout.
        id: String,
        /// `halted` or `completed`.
        state: &'static str,
    },
    /// The event is not allowed while paused.
    #[error("rollout {id:?} is paused")]
    #[code("rollout_paused")]
    Paused {
        /// The rollout.
        id: String,
    },
    /// `Resume` on a rollout that is not paused.
    #[error("rollout {id:?} is not paused")]
    #[code("not_paused")]
    NotPaused {
        /// The rollout.
        id: String,
    },
    /// A device that is not part of the rollout.
    #[error("device {device:?} is not part of rollout {id:?}")]
    #[code("unknown_device")]
    UnknownDevice {
        /// The rollout.
        id: String,
        /// The device.
        device: String,
    },
    /// `AddDevice` for a device the rollout already has.
    #[error("device {device:?} is already part of rollout {id:?}")]
    #[code("duplicate_device")]
    DuplicateDevice {
        /// The rollout.
        id: String,
        /// The device.
        device: String,
    },
    /// `AddDevice` with a device record a fleet would refuse (an empty or padded field).
    #[error("{source}")]
    #[code(source)]
    InvalidDevice {
        /// The device.
        device: String,
        /// What the fleet's checks said.
        source: FleetError,
    },
    /// `AddDevice` to a stage that is being monitored or has passed.
    #[error("stage {stage:?} takes no more devices (it is {phase})")]
    #[code("stage_closed")]
    StageClosed {
        /// The stage.
        stage: String,
        /// `monitoring` or `passed`.
        phase: &'static str,
    },
    /// A report about, or a second removal of, a device that left the fleet.
    #[error("device {device:?} was removed from rollout {id:?}")]
    #[code("device_removed")]
    DeviceRemoved {
        /// The rollout.
        id: String,
        /// The device.
        device: String,
    },
    /// A report from a device that is not updating.
    #[error("device {device:?} is not updating (it is {status})")]
    #[code("device_not_updating")]
    DeviceNotUpdating {
        /// The device.
        device: String,
        /// Its status.
        status: &'static str,
    },
    /// The state's revision is the largest a `u64` holds: no event can follow it (a revision
    /// never wraps to 0, where a conditional write could overwrite an old state).
    #[error("rollout {id:?} is at revision {max}, the last one; start a new rollout", max = u64::MAX)]
    #[code("revision_exhausted")]
    RevisionExhausted {
        /// The rollout.
        id: String,
    },
    /// A stage the rollout does not have.
    #[error("rollout {id:?} has no stage {stage:?}")]
    #[code("unknown_stage")]
    UnknownStage {
        /// The rollout.
        id: String,
        /// The stage.
        stage: String,
    },
    /// A verdict for a stage that has not started updating.
    #[error("stage {stage:?} has not started")]
    #[code("stage_not_started")]
    StageNotStarted {
        /// The stage.
        stage: String,
    },
    /// `Approve` for a stage that is not waiting for approval.
    #[error("stage {stage:?} is not waiting for approval")]
    #[code("not_awaiting_approval")]
    NotAwaitingApproval {
        /// The stage.
        stage: String,
    },
    /// A verdict whose period ends before it starts.
    #[error("the verdict's period ends ({to}) before it starts ({from})")]
    #[code("invalid_period")]
    InvalidPeriod {
        /// Start.
        from: Timestamp,
        /// End.
        to: Timestamp,
    },
    /// A device of a stage cannot be scheduled: no site, or the calendar does not know it.
    #[error("device {device:?}: {source}")]
    #[code(source)]
    Schedule {
        /// The device.
        device: String,
        /// What the calendar said.
        source: ScheduleError,
    },
    /// A stored state that cannot be right (edited by hand, or corrupted): the rollout refuses
    /// to act on it.
    #[error("rollout {id:?} has an invalid state: {reason}")]
    #[code("invalid_state")]
    InvalidState {
        /// The rollout.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// A planned device that the fleet does not have.
    #[error("the plan names device {device:?}, which the fleet does not have")]
    #[code("plan_mismatch")]
    PlanMismatch {
        /// The device.
        device: String,
    },
}

fn status_name(status: DeviceStatus) -> &'static str {
    match status {
        DeviceStatus::Pending => "pending",
        DeviceStatus::Updating => "updating",
        DeviceStatus::Succeeded => "succeeded",
        DeviceStatus::Failed => "failed",
        DeviceStatus::TimedOut => "timed out",
        DeviceStatus::RolledBack => "rolled back",
        DeviceStatus::Removed => "removed",
    }
}

fn hours(h: u32) -> SignedDuration {
    SignedDuration::from_hours(i64::from(h))
}

impl Rollout {
    /// A new rollout from a plan (the devices of each stage; devices up to date or excluded
    /// take no part). The graph gives each stage the artifacts its devices will install.
    ///
    /// # Errors
    /// [`RolloutError::PlanMismatch`] when the plan names a device the fleet does not have.
    pub fn new(
        plan: &RolloutPlan,
        fleet: &Fleet,
        graph: &UpgradeGraph,
        policy: &RolloutPolicy,
    ) -> Result<Self, RolloutError> {
        let mut stages = Vec::with_capacity(plan.stages.len());
        let mut tables = std::collections::HashMap::new();
        for stage in &plan.stages {
            let mut devices = Vec::with_capacity(stage.devices.len());
            let mut artifacts: BTreeMap<String, Artifact> = BTreeMap::new();
            for planned in &stage.devices {
                let device = fleet
                    .get(planned.id)
                    .ok_or_else(|| RolloutError::PlanMismatch { device: planned.id.to_string() })?;
                // The plan found a path for this device's model; the same route table gives it.
                let table = tables
                    .entry(device.model.to_owned())
                    .or_insert_with(|| graph.route_table(&plan.target, &Constraints::for_model(device.model)));
                if let Ok(path) = table.as_ref().map(|t| t.resolve(device.version)) {
                    for hop in path.iter().flat_map(|p| &p.hops) {
                        if let Some(artifact) = &hop.artifact {
                            artifacts.entry(artifact.key.clone()).or_insert_with(|| artifact.clone());
                        }
                    }
                }
                devices.push(DeviceState {
                    id: device.id.to_owned(),
                    line: device.line.to_owned(),
                    site: device.site.map(str::to_owned),
                    model: Some(device.model.to_owned()),
                    from: device.version.clone(),
                    version: device.version.clone(),
                    status: DeviceStatus::Pending,
                    started_at: None,
                });
            }
            stages.push(StageState {
                name: stage.name.clone(),
                phase: StagePhase::Waiting,
                devices,
                artifacts: artifacts.into_values().collect(),
                monitoring_since: None,
                healthy_through: None,
            });
        }
        Ok(Self {
            id: plan.rollout_id.clone(),
            revision: 0,
            target: plan.target.clone(),
            policy: policy.clone(),
            status: RolloutStatus::NotStarted,
            current: 0,
            stages,
            now: None,
        })
    }

    /// Applies an event: the new state (revision + 1) and what the host must do. Pure: the
    /// same state, event and calendar give the same answer. Without a calendar, every window
    /// is always open.
    ///
    /// # Errors
    /// [`RolloutError`] when the event makes no sense in this state; nothing changes then.
    pub fn apply(&self, event: &Event, calendar: Option<&Calendar>) -> Result<(Rollout, Vec<Action>), RolloutError> {
        let mut next = self.clone();
        let mut actions = Vec::new();
        next.step(event, calendar, &mut actions)?;
        next.revision =
            next.revision.checked_add(1).ok_or_else(|| self.id_error(|id| RolloutError::RevisionExhausted { id }))?;
        Ok((next, actions))
    }

    fn id_error<F: FnOnce(String) -> RolloutError>(&self, make: F) -> RolloutError {
        make(self.id.clone())
    }

    /// Checks a state read back from storage (its current stage and each stage's phase agree
    /// with its status); every event does this before anything indexes into the state.
    ///
    /// # Errors
    /// [`RolloutError::InvalidState`] naming what disagrees.
    pub fn check_state(&self) -> Result<(), RolloutError> {
        let invalid = |reason: String| Err(RolloutError::InvalidState { id: self.id.clone(), reason });
        if !self.stages.is_empty() && self.current >= self.stages.len() {
            return invalid(format!("current stage {} of {}", self.current, self.stages.len()));
        }
        let active = matches!(self.status, RolloutStatus::Running | RolloutStatus::Paused);
        for (k, stage) in self.stages.iter().enumerate() {
            let expected = match self.status {
                RolloutStatus::NotStarted => Some(StagePhase::Waiting),
                _ if active && k < self.current => Some(StagePhase::Passed),
                _ if active && k > self.current => Some(StagePhase::Waiting),
                _ => None,
            };
            if let Some(expected) = expected.filter(|&e| e != stage.phase) {
                return invalid(format!(
                    "stage {:?} is {:?} but should be {expected:?} (current stage {})",
                    stage.name, stage.phase, self.current
                ));
            }
        }
        if self.status == RolloutStatus::NotStarted && self.current != 0 {
            return invalid(format!("not started, yet the current stage is {}", self.current));
        }
        Ok(())
    }

    fn step(
        &mut self,
        event: &Event,
        calendar: Option<&Calendar>,
        actions: &mut Vec<Action>,
    ) -> Result<(), RolloutError> {
        self.check_state()?;
        match &self.status {
            RolloutStatus::Halted { .. } => {
                return Err(RolloutError::Finished { id: self.id.clone(), state: "halted" });
            }
            RolloutStatus::Completed => return Err(RolloutError::Finished { id: self.id.clone(), state: "completed" }),
            RolloutStatus::NotStarted
                if !matches!(event, Event::Start { .. } | Event::AddDevice { .. } | Event::RemoveDevice { .. }) =>
            {
                return Err(self.id_error(|id| RolloutError::NotStarted { id }));
            }
            _ => {}
        }
        let at = event.at();
        let now = self.now.map_or(at, |n| n.max(at));
        self.now = Some(now);
        match event {
            Event::Start { .. } => {
                if self.status != RolloutStatus::NotStarted {
                    return Err(self.id_error(|id| RolloutError::AlreadyStarted { id }));
                }
                self.status = RolloutStatus::Running;
                if self.stages.is_empty() {
                    self.status = RolloutStatus::Completed;
                    actions.push(Action::Complete);
                    return Ok(());
                }
                self.advance(now, calendar, actions)
            }
            Event::Tick { .. } => {
                if self.status == RolloutStatus::Paused {
                    return Ok(());
                }
                self.advance(now, calendar, actions)
            }
            Event::DeviceReported { device, outcome, .. } => self.report(device, outcome, now, actions),
            Event::HealthVerdict { stage, verdict, from, to, .. } => {
                self.verdict(stage, verdict, *from, *to, now, calendar, actions)
            }
            Event::Pause { .. } => {
                if self.status == RolloutStatus::Paused {
                    return Err(self.id_error(|id| RolloutError::Paused { id }));
                }
                self.status = RolloutStatus::Paused;
                actions.push(Action::Notify { message: format!("rollout {} paused", self.id) });
                Ok(())
            }
            Event::Resume { .. } => {
                if self.status != RolloutStatus::Paused {
                    return Err(self.id_error(|id| RolloutError::NotPaused { id }));
                }
                self.status = RolloutStatus::Running;
                self.advance(now, calendar, actions)
            }
            Event::Approve { stage, .. } => {
                if self.status == RolloutStatus::Paused {
                    return Err(self.id_error(|id| RolloutError::Paused { id }));
                }
                let k = self.stage_index(stage)?;
                if k != self.current || self.stages[k].phase != StagePhase::AwaitingApproval {
                    return Err(RolloutError::NotAwaitingApproval { stage: stage.clone() });
                }
                self.stages[k].phase = StagePhase::Open;
                self.advance(now, calendar, actions)
            }
            Event::Abort { note, roll_back, .. } => {
                self.halt(HaltReason::Operator { note: note.clone() }, *roll_back, actions);
                Ok(())
            }
            Event::AddDevice { device, stage, artifacts, .. } => {
                let k = self.add_device(device, stage.as_deref(), artifacts, actions)?;
                self.advance_if_current(k, now, calendar, actions)
            }
            Event::RemoveDevice { device, .. } => {
                let (k, i) = self.find_device(device)?;
                let state = &mut self.stages[k].devices[i];
                state.status = DeviceStatus::Removed;
                let message = format!("device {device} removed from stage {}", self.stages[k].name);
                actions.push(Action::Notify { message });
                self.advance_if_current(k, now, calendar, actions)
            }
        }
    }

    /// The stage and index of a device still in the fleet.
    fn find_device(&self, device: &str) -> Result<(usize, usize), RolloutError> {
        let (k, i) = self
            .stages
            .iter()
            .enumerate()
            .find_map(|(k, s)| s.devices.iter().position(|d| d.id == device).map(|i| (k, i)))
            .ok_or_else(|| RolloutError::UnknownDevice { id: self.id.clone(), device: device.to_owned() })?;
        if self.stages[k].devices[i].status == DeviceStatus::Removed {
            return Err(RolloutError::DeviceRemoved { id: self.id.clone(), device: device.to_owned() });
        }
        Ok((k, i))
    }

    /// Adds a pending device to a stage (see [`Event::AddDevice`]); returns the stage.
    fn add_device(
        &mut self,
        device: &Device,
        stage: Option<&str>,
        artifacts: &[Artifact],
        actions: &mut Vec<Action>,
    ) -> Result<usize, RolloutError> {
        device
            .check("add_device.device")
            .map_err(|source| RolloutError::InvalidDevice { device: device.id.clone(), source })?;
        let k = match stage {
            Some(name) => self.stage_index(name)?,
            None => self.stages.len().checked_sub(1).ok_or_else(|| RolloutError::UnknownStage {
                id: self.id.clone(),
                stage: "(the last stage)".to_owned(),
            })?,
        };
        let phase = match self.stages[k].phase {
            StagePhase::Monitoring => Some("monitoring"),
            StagePhase::Passed => Some("passed"),
            _ => None,
        };
        if let Some(phase) = phase {
            return Err(RolloutError::StageClosed { stage: self.stages[k].name.clone(), phase });
        }
        match self.find_device(&device.id) {
            Err(RolloutError::UnknownDevice { .. }) => {}
            // The same id back on new hardware: its old record goes.
            Err(RolloutError::DeviceRemoved { .. }) => {
                for s in &mut self.stages {
                    s.devices.retain(|d| d.id != device.id);
                }
            }
            _ => return Err(RolloutError::DuplicateDevice { id: self.id.clone(), device: device.id.clone() }),
        }
        let stage = &mut self.stages[k];
        stage.devices.push(DeviceState {
            id: device.id.clone(),
            line: device.line.to_string(),
            site: device.site.as_deref().map(str::to_owned),
            model: Some(device.model.to_string()),
            from: device.version.clone(),
            version: device.version.clone(),
            status: DeviceStatus::Pending,
            started_at: None,
        });
        let mut known: BTreeMap<String, Artifact> = stage.artifacts.drain(..).map(|a| (a.key.clone(), a)).collect();
        let new: Vec<Artifact> = artifacts.iter().filter(|a| !known.contains_key(&a.key)).cloned().collect();
        known.extend(new.iter().map(|a| (a.key.clone(), a.clone())));
        stage.artifacts = known.into_values().collect();
        // A stage that asked for its prefetch already is asked again for what is new.
        let prefetched = matches!(stage.phase, StagePhase::AwaitingApproval | StagePhase::Open | StagePhase::Updating);
        if prefetched && !new.is_empty() {
            actions.push(Action::Prefetch { stage: stage.name.clone(), artifacts: new });
        }
        if stage.phase == StagePhase::Updating {
            stage.phase = StagePhase::Open;
        }
        Ok(k)
    }

    /// After the devices of stage `k` changed: the current stage of a running rollout moves on
    /// as far as it can (a new device may start, a removed one may finish the stage).
    fn advance_if_current(
        &mut self,
        k: usize,
        now: Timestamp,
        calendar: Option<&Calendar>,
        actions: &mut Vec<Action>,
    ) -> Result<(), RolloutError> {
        if k == self.current && self.status == RolloutStatus::Running {
            self.advance(now, calendar, actions)
        } else {
            Ok(())
        }
    }

    fn stage_index(&self, stage: &str) -> Result<usize, RolloutError> {
        self.stages
            .iter()
            .position(|s| s.name == stage)
            .ok_or_else(|| RolloutError::UnknownStage { id: self.id.clone(), stage: stage.to_owned() })
    }

    /// Moves the current stage forward as far as `now` allows.
    fn advance(
        &mut self,
        now: Timestamp,
        calendar: Option<&Calendar>,
        actions: &mut Vec<Action>,
    ) -> Result<(), RolloutError> {
        loop {
            let k = self.current;
            let policy = self.policy.stages.get(k).cloned();
            let (approval, monitoring) = policy.as_ref().map_or((false, 24), |p| (p.approval, p.monitoring_hours));
            let stage = &mut self.stages[k];
            match stage.phase {
                StagePhase::Waiting if stage.devices.is_empty() => {
                    // Nothing to update or to watch: the stage passes at once.
                    actions.push(Action::Notify { message: format!("stage {} has no devices", stage.name) });
                    stage.phase = StagePhase::Monitoring;
                    stage.monitoring_since = Some(now);
                    stage.healthy_through = Some(Timestamp::MAX);
                    if self.pass_current(actions) {
                        return Ok(());
                    }
                }
                StagePhase::Waiting => {
                    actions.push(Action::Prefetch { stage: stage.name.clone(), artifacts: stage.artifacts.clone() });
                    if approval {
                        stage.phase = StagePhase::AwaitingApproval;
                        actions.push(Action::RequestApproval { stage: stage.name.clone() });
                        return Ok(());
                    }
                    stage.phase = StagePhase::Open;
                }
                StagePhase::Open => {
                    self.start_devices(now, calendar, actions)?;
                    if self.stages[k].phase == StagePhase::Open {
                        return Ok(());
                    }
                }
                StagePhase::Updating => {
                    self.expire(now, actions);
                    if self.status != RolloutStatus::Running || self.stages[k].phase == StagePhase::Updating {
                        return Ok(());
                    }
                }
                StagePhase::Monitoring => {
                    // The tick for the window's end was asked for when monitoring started.
                    let since = stage.monitoring_since.unwrap_or(now);
                    let end = since.checked_add(hours(monitoring)).unwrap_or(Timestamp::MAX);
                    let covered = stage.healthy_through.is_some_and(|t| t >= end);
                    // Not elapsed, or no healthy verdict covers the whole window yet: wait.
                    if now < end || !covered || self.pass_current(actions) {
                        return Ok(());
                    }
                }
                StagePhase::AwaitingApproval | StagePhase::Passed => return Ok(()),
            }
        }
    }

    /// Marks the current stage passed and promotes (or completes); returns whether the rollout
    /// completed.
    fn pass_current(&mut self, actions: &mut Vec<Action>) -> bool {
        let k = self.current;
        self.stages[k].phase = StagePhase::Passed;
        let from = self.stages[k].name.clone();
        if k + 1 == self.stages.len() {
            self.status = RolloutStatus::Completed;
            actions.push(Action::Complete);
            return true;
        }
        self.current += 1;
        actions.push(Action::Promote { from, to: self.stages[k + 1].name.clone() });
        false
    }

    /// Starts the pending devices of the current stage whose line is in a window now.
    fn start_devices(
        &mut self,
        now: Timestamp,
        calendar: Option<&Calendar>,
        actions: &mut Vec<Action>,
    ) -> Result<(), RolloutError> {
        let k = self.current;
        let stage_name = self.stages[k].name.clone();
        let mut started = Vec::new();
        let mut next_open: Option<Timestamp> = None;
        // One calendar query per (site, line).
        let mut windows: BTreeMap<(Option<String>, String), Option<Timestamp>> = BTreeMap::new();
        for device in &mut self.stages[k].devices {
            if device.status != DeviceStatus::Pending {
                continue;
            }
            let key = (device.site.clone(), device.line.clone());
            let opens = if let Some(opens) = windows.get(&key) {
                *opens
            } else {
                let opens = match calendar {
                    None => Some(now),
                    Some(calendar) => {
                        let site = device.site.as_deref().ok_or_else(|| RolloutError::Schedule {
                            device: device.id.clone(),
                            source: ScheduleError::UnknownSite { site: String::new() },
                        })?;
                        calendar
                            .next_window(site, &device.line, &stage_name, now)
                            .map_err(|source| RolloutError::Schedule { device: device.id.clone(), source })?
                            .map(|w| w.start)
                    }
                };
                windows.insert(key, opens);
                opens
            };
            match opens {
                Some(t) if t <= now => {
                    device.status = DeviceStatus::Updating;
                    device.started_at = Some(now);
                    started.push(device.id.clone());
                }
                Some(t) => next_open = Some(next_open.map_or(t, |n| n.min(t))),
                None => {}
            }
        }
        if !started.is_empty() {
            actions.push(Action::UpdateDevices { stage: stage_name.clone(), devices: started });
        }
        let pending = self.stages[k].devices.iter().any(|d| d.status == DeviceStatus::Pending);
        if !pending {
            self.stages[k].phase = StagePhase::Updating;
            self.check_finished(now, actions);
        } else if let Some(t) = next_open {
            actions.push(Action::WaitUntil { at: t, reason: format!("{stage_name} window opens") });
        } else {
            actions.push(Action::Notify {
                message: format!("stage {stage_name}: some devices have no window within the calendar's horizon"),
            });
        }
        // Once every device started, `advance` goes on to the updating phase, which asks for a
        // tick at the first update deadline.
        Ok(())
    }

    fn timeout(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::from(self.policy.update_timeout_minutes))
    }

    /// Asks for a tick at the earliest update deadline of the current stage.
    fn wait_for_timeouts(&self, actions: &mut Vec<Action>) {
        let stage = &self.stages[self.current];
        let deadline = stage
            .devices
            .iter()
            .filter(|d| d.status == DeviceStatus::Updating)
            .filter_map(|d| d.started_at)
            .min()
            .and_then(|t| t.checked_add(self.timeout()).ok());
        if let Some(at) = deadline {
            actions.push(Action::WaitUntil { at, reason: format!("{} update deadline", stage.name) });
        }
    }

    /// Times out the updates of the current stage that ran too long.
    fn expire(&mut self, now: Timestamp, actions: &mut Vec<Action>) {
        let timeout = self.timeout();
        let k = self.current;
        for device in &mut self.stages[k].devices {
            if device.status == DeviceStatus::Updating
                && device.started_at.and_then(|t| t.checked_add(timeout).ok()).is_some_and(|deadline| now >= deadline)
            {
                device.status = DeviceStatus::TimedOut;
            }
        }
        if !self.check_abort(actions) {
            self.check_finished(now, actions);
            if self.stages[k].phase == StagePhase::Updating {
                self.wait_for_timeouts(actions);
            }
        }
    }

    /// Monitoring starts when every device of the updating stage has finished; the host is
    /// asked for a tick when the window ends.
    fn check_finished(&mut self, now: Timestamp, actions: &mut Vec<Action>) {
        let monitoring = self.policy.stages.get(self.current).map_or(24, |p| p.monitoring_hours);
        let stage = &mut self.stages[self.current];
        if stage.phase == StagePhase::Updating
            && stage.devices.iter().all(|d| !matches!(d.status, DeviceStatus::Pending | DeviceStatus::Updating))
        {
            stage.phase = StagePhase::Monitoring;
            stage.monitoring_since = Some(now);
            let end = now.checked_add(hours(monitoring)).unwrap_or(Timestamp::MAX);
            actions.push(Action::WaitUntil { at: end, reason: format!("{} monitoring ends", stage.name) });
        }
    }

    /// Halts when the abort rule fires; returns whether it did.
    fn check_abort(&mut self, actions: &mut Vec<Action>) -> bool {
        let Some(rule) = self.policy.abort.clone() else { return false };
        let stage = &self.stages[self.current];
        let failed =
            stage.devices.iter().filter(|d| matches!(d.status, DeviceStatus::Failed | DeviceStatus::TimedOut)).count();
        let finished = failed + stage.devices.iter().filter(|d| d.status == DeviceStatus::Succeeded).count();
        #[allow(clippy::cast_precision_loss)] // device counts are far below 2^52
        let share = failed as f64 / finished.max(1) as f64;
        if finished >= rule.min_finished as usize && share > rule.max_failure_share {
            let reason =
                HaltReason::AbortRule { stage: stage.name.clone(), failed: u32_of(failed), finished: u32_of(finished) };
            self.halt(reason, true, actions);
            return true;
        }
        false
    }

    fn report(
        &mut self,
        device_id: &str,
        outcome: &DeviceOutcome,
        now: Timestamp,
        actions: &mut Vec<Action>,
    ) -> Result<(), RolloutError> {
        let (k, i) = self.find_device(device_id)?;
        let target = self.target.clone();
        let stage_name = self.stages[k].name.clone();
        let device = &mut self.stages[k].devices[i];
        if device.status != DeviceStatus::Updating {
            return Err(RolloutError::DeviceNotUpdating {
                device: device_id.to_owned(),
                status: status_name(device.status),
            });
        }
        match outcome {
            DeviceOutcome::Succeeded { version } => {
                device.version = version.clone();
                if *version == target {
                    device.status = DeviceStatus::Succeeded;
                } else {
                    // An intermediate hop: go on with the next one (the clock restarts).
                    device.started_at = Some(now);
                    actions.push(Action::UpdateDevices { stage: stage_name, devices: vec![device_id.to_owned()] });
                }
            }
            DeviceOutcome::Failed { .. } => device.status = DeviceStatus::Failed,
            DeviceOutcome::TimedOut => device.status = DeviceStatus::TimedOut,
        }
        if k == self.current && self.check_abort(actions) {
            return Ok(());
        }
        // The stage may now be finished (which asks for the monitoring tick); deadlines were
        // asked for already.
        if k == self.current && self.status == RolloutStatus::Running {
            self.check_finished(now, actions);
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn verdict(
        &mut self,
        stage: &str,
        verdict: &Verdict,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        calendar: Option<&Calendar>,
        actions: &mut Vec<Action>,
    ) -> Result<(), RolloutError> {
        if to < from {
            return Err(RolloutError::InvalidPeriod { from, to });
        }
        let k = self.stage_index(stage)?;
        if matches!(self.stages[k].phase, StagePhase::Waiting | StagePhase::AwaitingApproval | StagePhase::Open)
            && !self.stages[k].devices.iter().any(|d| d.status != DeviceStatus::Pending)
        {
            return Err(RolloutError::StageNotStarted { stage: stage.to_owned() });
        }
        match verdict {
            Verdict::Breach { detail } => {
                self.halt(HaltReason::Breach { stage: stage.to_owned(), detail: detail.clone() }, true, actions);
                Ok(())
            }
            Verdict::Inconclusive { detail } => {
                actions
                    .push(Action::Notify { message: format!("stage {stage}: inconclusive health verdict: {detail}") });
                Ok(())
            }
            Verdict::Healthy => {
                let s = &mut self.stages[k];
                // Only a verdict that starts at or before the monitoring window's start covers it,
                // and no verdict vouches for time that has not passed yet.
                let to = to.min(now);
                if let Some(since) = s.monitoring_since
                    && from <= since
                {
                    s.healthy_through = Some(s.healthy_through.map_or(to, |t| t.max(to)));
                }
                if k == self.current && self.status == RolloutStatus::Running {
                    return self.advance(now, calendar, actions);
                }
                Ok(())
            }
        }
    }

    /// Stops for good; with `roll_back`, every device that started an update is told once to
    /// go back to its starting version.
    fn halt(&mut self, reason: HaltReason, roll_back: bool, actions: &mut Vec<Action>) {
        let mut targets = Vec::new();
        if roll_back {
            for stage in &mut self.stages {
                for device in &mut stage.devices {
                    // Any device that started an update may have changed, even one that failed or
                    // timed out mid-install: send it back.
                    // A device that left the fleet is not there to roll back.
                    let touched = device.version != device.from || device.status != DeviceStatus::Pending;
                    if touched && !matches!(device.status, DeviceStatus::RolledBack | DeviceStatus::Removed) {
                        device.status = DeviceStatus::RolledBack;
                        targets.push(RollbackTarget { device: device.id.clone(), to: device.from.clone() });
                    }
                }
            }
        }
        if !targets.is_empty() {
            actions.push(Action::RollBack { devices: targets });
        }
        actions.push(Action::Halt { reason: reason.clone() });
        self.status = RolloutStatus::Halted { reason };
    }
}
