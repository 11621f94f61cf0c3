//! Staged rollouts: stage selection per production line ([`plan_rollout`]) and the rollout
//! state machine ([`Rollout::apply`]).
//!
//! A rollout moves a fleet to a target release in ordered stages (canary, early, production
//! by default), each taking a share of every production line.

pub mod machine;
pub mod plan;

pub use machine::{
    Action, DeviceOutcome, DeviceState, DeviceStatus, Event, HaltReason, RollbackTarget, Rollout, RolloutError,
    RolloutStatus, StagePhase, StageState, Verdict,
};
pub use plan::{
    AbortRule, Excluded, PlanError, PlannedDevice, RolloutPlan, RolloutPolicy, StageDevices, StageDevicesIter,
    StagePlan, StagePolicy, plan_rollout, selection_key,
};

crate::document::documents! {
    RolloutPolicy => "rollout policy", RolloutPolicy::validate;
    Rollout => "rollout state", Rollout::check_state;
    RolloutPlan => "rollout plan";
    Event => "rollout event";
}
