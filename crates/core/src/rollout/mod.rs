//! Staged rollouts: stage selection per production line ([`plan_rollout`]).
//!
//! A rollout moves a fleet to a target release in ordered stages (canary, early, production
//! by default), each taking a share of every production line.

mod plan;

pub use plan::{
    AbortRule, Excluded, PlanError, PlannedDevice, RolloutPlan, RolloutPolicy, StagePlan, StagePolicy, plan_rollout,
    selection_key,
};
