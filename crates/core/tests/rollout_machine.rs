//! The rollout state machine, scenario by scenario.

use fleetpath::{
    Action, Calendar, Document, Event, Fleet, Rollout, RolloutPolicy, UpgradeGraph, Version, plan_rollout,
    rollout::DeviceOutcome, rollout::DeviceStatus, rollout::HaltReason, rollout::RolloutStatus, rollout::StagePhase,
    rollout::Verdict,
};
use std::fmt::Write as _;

use jiff::Timestamp;

fn root(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)).unwrap()
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn v(s: &str) -> Version {
    Version::parse(s).unwrap()
}

/// A small fleet: `n` devices on 2 lines, on 5.6.30 (one hop from 6.15.008).
fn small(n: usize, policy: &RolloutPolicy) -> Rollout {
    let graph = UpgradeGraph::from_json(&root("examples/data/seed-ip-module.json")).unwrap();
    let mut csv = String::from("id,model,line,site,version\n");
    for i in 0..n {
        let _ = writeln!(csv, "d{i:02},IPM-1,line-{},plant-a,5.6.30", i % 2);
    }
    let fleet = Fleet::from_csv(&csv).unwrap();
    let plan = plan_rollout(&graph, &fleet, &v("6.15.008"), policy, "r-1").unwrap();
    Rollout::new(&plan, &fleet, &graph, policy).unwrap()
}

#[allow(clippy::needless_pass_by_value)] // reads better at the call sites
fn apply(state: &Rollout, event: Event) -> (Rollout, Vec<Action>) {
    let (next, actions) = state.apply(&event, None).unwrap_or_else(|e| panic!("{event:?}: {e}"));
    assert_eq!(next.revision, state.revision + 1);
    (next, actions)
}

fn updated(actions: &[Action]) -> Vec<String> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::UpdateDevices { devices, .. } => Some(devices.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn succeed(state: Rollout, devices: &[String], at: Timestamp) -> (Rollout, Vec<Action>) {
    let mut state = state;
    let mut all = Vec::new();
    for d in devices {
        let (next, actions) = apply(
            &state,
            Event::DeviceReported {
                at,
                device: d.clone(),
                outcome: DeviceOutcome::Succeeded { version: v("6.15.008") },
            },
        );
        state = next;
        all.extend(actions);
    }
    (state, all)
}

#[test]
fn a_healthy_rollout_goes_through_every_stage_after_full_monitoring_windows() {
    let policy = RolloutPolicy::default();
    let t0 = t("2026-11-23T08:00:00Z");
    let state = small(20, &policy);
    let (state, actions) = apply(&state, Event::Start { at: t0 });
    let Action::Prefetch { stage, artifacts } = &actions[0] else { panic!("{actions:?}") };
    assert_eq!(stage, "canary");
    let keys: Vec<&str> = artifacts.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["firmware/ip-module/6.15.008.bin"], "devices on 5.6.30 need one artifact");
    let canaries = updated(&actions);
    assert_eq!(canaries.len(), 2, "one canary per line");
    assert!(
        actions.contains(&Action::WaitUntil { at: t("2026-11-23T10:00:00Z"), reason: "canary update deadline".into() })
    );

    let done = t("2026-11-23T08:30:00Z");
    let (state, actions) = succeed(state, &canaries, done);
    assert_eq!(state.stages[0].phase, StagePhase::Monitoring);
    assert_eq!(state.stages[0].monitoring_since, Some(done));
    let end = t("2026-11-24T08:30:00Z");
    assert!(actions.contains(&Action::WaitUntil { at: end, reason: "canary monitoring ends".into() }));

    // A healthy verdict before the window has elapsed does not promote...
    let (state, actions) = apply(
        &state,
        Event::HealthVerdict {
            at: t("2026-11-23T20:00:00Z"),
            stage: "canary".into(),
            verdict: Verdict::Healthy,
            from: done,
            to: end,
        },
    );
    assert!(!actions.iter().any(|a| matches!(a, Action::Promote { .. })));
    assert_eq!(state.stages[0].healthy_through, Some(t("2026-11-23T20:00:00Z")), "no vouching for the future");
    // ...nor does the window elapsing without a verdict that covers all of it.
    let (state, actions) = apply(&state, Event::Tick { at: end });
    assert!(!actions.iter().any(|a| matches!(a, Action::Promote { .. })));
    // A verdict covering the whole window, after it, promotes.
    let (state, actions) = apply(
        &state,
        Event::HealthVerdict {
            at: t("2026-11-24T08:35:00Z"),
            stage: "canary".into(),
            verdict: Verdict::Healthy,
            from: done,
            to: end,
        },
    );
    assert!(actions.contains(&Action::Promote { from: "canary".into(), to: "early".into() }));
    let early = updated(&actions);
    assert_eq!(early.len(), 4, "20% of 20");

    let (state, _) = succeed(state, &early, t("2026-11-24T09:00:00Z"));
    let end = t("2026-11-25T09:00:00Z");
    let (state, actions) = apply(
        &state,
        Event::HealthVerdict {
            at: end,
            stage: "early".into(),
            verdict: Verdict::Healthy,
            from: t("2026-11-24T09:00:00Z"),
            to: end,
        },
    );
    let production = updated(&actions);
    assert_eq!(production.len(), 14);
    let (state, _) = succeed(state, &production, t("2026-11-25T10:00:00Z"));
    let end = t("2026-11-26T10:00:00Z");
    let (state, actions) = apply(
        &state,
        Event::HealthVerdict {
            at: end,
            stage: "production".into(),
            verdict: Verdict::Healthy,
            from: t("2026-11-25T10:00:00Z"),
            to: end,
        },
    );
    assert!(actions.contains(&Action::Complete));
    assert_eq!(state.status, RolloutStatus::Completed);
    let err = state.apply(&Event::Tick { at: end }, None).unwrap_err();
    assert_eq!((err.code(), err.to_string().as_str()), ("rollout_finished", "rollout \"r-1\" is finished (completed)"));
}

#[test]
fn a_breach_rolls_back_every_updated_device_once_and_halts() {
    let policy = RolloutPolicy::default();
    let t0 = t("2026-11-23T08:00:00Z");
    let (state, actions) = apply(&small(20, &policy), Event::Start { at: t0 });
    let canaries = updated(&actions);
    // One canary succeeded, the other is still updating (mid-hop counts as touched too).
    let (state, _) = succeed(state, &canaries[..1], t("2026-11-23T08:20:00Z"));
    let (state, actions) = apply(
        &state,
        Event::HealthVerdict {
            at: t("2026-11-23T09:00:00Z"),
            stage: "canary".into(),
            verdict: Verdict::Breach { detail: "cycle time +12% on line-0".into() },
            from: t0,
            to: t("2026-11-23T09:00:00Z"),
        },
    );
    let rolled: Vec<(String, Version)> = actions
        .iter()
        .filter_map(|a| match a {
            Action::RollBack { devices } => {
                Some(devices.iter().map(|d| (d.device.clone(), d.to.clone())).collect::<Vec<_>>())
            }
            _ => None,
        })
        .flatten()
        .collect();
    let mut expected: Vec<(String, Version)> = canaries.iter().map(|d| (d.clone(), v("5.6.30"))).collect();
    expected.sort();
    let mut rolled_sorted = rolled.clone();
    rolled_sorted.sort();
    assert_eq!(rolled_sorted, expected);
    let reason = HaltReason::Breach { stage: "canary".into(), detail: "cycle time +12% on line-0".into() };
    assert!(actions.contains(&Action::Halt { reason: reason.clone() }));
    assert_eq!(state.status, RolloutStatus::Halted { reason });
    assert!(state.stages[0].devices.iter().all(|d| d.status == DeviceStatus::RolledBack));
    assert!(state.stages[1].devices.iter().all(|d| d.status == DeviceStatus::Pending), "untouched devices stay");
    let err = state.apply(&Event::Tick { at: t0 }, None).unwrap_err();
    assert_eq!(err.to_string(), "rollout \"r-1\" is finished (halted)");
}

#[test]
fn multi_hop_devices_get_their_next_hop() {
    let graph = UpgradeGraph::from_json(&root("examples/data/seed-ip-module.json")).unwrap();
    let fleet = Fleet::from_csv("id,model,line,version\nold,IPM-1,l1,5.6.14\n").unwrap();
    let policy = RolloutPolicy::default();
    let plan = plan_rollout(&graph, &fleet, &v("6.15.008"), &policy, "r").unwrap();
    let state = Rollout::new(&plan, &fleet, &graph, &policy).unwrap();
    let (state, actions) = apply(&state, Event::Start { at: t("2026-11-23T08:00:00Z") });
    assert_eq!(updated(&actions), ["old"]);
    let Action::Prefetch { artifacts, .. } = &actions[0] else { panic!("{actions:?}") };
    let keys: Vec<&str> = artifacts.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["firmware/ip-module/5.6.30.bin", "firmware/ip-module/6.15.008.bin"], "both hops");
    let bridge = Event::DeviceReported {
        at: t("2026-11-23T08:30:00Z"),
        device: "old".into(),
        outcome: DeviceOutcome::Succeeded { version: v("5.6.30") },
    };
    let (state, actions) = apply(&state, bridge);
    assert_eq!(updated(&actions), ["old"], "the next hop starts");
    assert_eq!(state.stages[0].devices[0].status, DeviceStatus::Updating);
    assert_eq!(state.stages[0].devices[0].version, v("5.6.30"));
    let (state, _) = succeed(state, &["old".to_owned()], t("2026-11-23T09:00:00Z"));
    assert_eq!(state.stages[0].devices[0].status, DeviceStatus::Succeeded);
    assert_eq!(state.stages[0].phase, StagePhase::Monitoring);
}

#[test]
fn the_abort_rule_and_timeouts() {
    let policy = RolloutPolicy {
        abort: Some(fleetpath::rollout::AbortRule { min_finished: 2, max_failure_share: 0.3 }),
        ..RolloutPolicy::default()
    };
    let t0 = t("2026-11-23T08:00:00Z");
    let (state, actions) = apply(&small(20, &policy), Event::Start { at: t0 });
    let canaries = updated(&actions);
    let (state, _) = succeed(state, &canaries[..1], t("2026-11-23T08:10:00Z"));
    assert_eq!(state.status, RolloutStatus::Running, "one finished update is below the minimum");
    // The other canary never reports: at the deadline it times out, 1 of 2 failed > 30%.
    let (state, actions) = apply(&state, Event::Tick { at: t("2026-11-23T10:00:00Z") });
    let reason = HaltReason::AbortRule { stage: "canary".into(), failed: 1, finished: 2 };
    assert_eq!(state.status, RolloutStatus::Halted { reason: reason.clone() });
    assert!(actions.contains(&Action::Halt { reason }));
    let mut rolled: Vec<&str> = actions
        .iter()
        .filter_map(|a| match a {
            Action::RollBack { devices } => Some(devices.iter().map(|d| d.device.as_str()).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect();
    rolled.sort_unstable();
    let mut expected: Vec<&str> = canaries.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(rolled, expected, "the updated device and the one that timed out mid-install go back");
}

#[test]
fn approval_gates_pause_and_illegal_events() {
    let mut policy = RolloutPolicy::default();
    policy.stages[1].approval = true;
    policy.stages[0].monitoring_hours = 1;
    let t0 = t("2026-11-23T08:00:00Z");
    let fresh = small(20, &policy);
    let err = fresh.apply(&Event::Tick { at: t0 }, None).unwrap_err();
    assert_eq!((err.code(), err.to_string().as_str()), ("not_started", "rollout \"r-1\" has not started"));
    let (state, actions) = apply(&fresh, Event::Start { at: t0 });
    assert_eq!(state.apply(&Event::Start { at: t0 }, None).unwrap_err().code(), "already_started");
    let canaries = updated(&actions);
    // Errors leave the state as it was.
    let err = state
        .apply(&Event::DeviceReported { at: t0, device: "nope".into(), outcome: DeviceOutcome::TimedOut }, None)
        .unwrap_err();
    assert_eq!(err.to_string(), "device \"nope\" is not part of rollout \"r-1\"");
    let pending = state.stages[1].devices[0].id.clone();
    let err = state
        .apply(&Event::DeviceReported { at: t0, device: pending.clone(), outcome: DeviceOutcome::TimedOut }, None)
        .unwrap_err();
    assert_eq!(err.to_string(), format!("device \"{pending}\" is not updating (it is pending)"));
    let verdict = |stage: &str, from, to| Event::HealthVerdict {
        at: to,
        stage: stage.into(),
        verdict: Verdict::Healthy,
        from,
        to,
    };
    let err = state.apply(&verdict("early", t0, t0), None).unwrap_err();
    assert_eq!((err.code(), err.to_string().as_str()), ("stage_not_started", "stage \"early\" has not started"));
    assert_eq!(state.apply(&verdict("beta", t0, t0), None).unwrap_err().code(), "unknown_stage");
    let err = state.apply(&verdict("canary", t("2026-11-23T09:00:00Z"), t0), None).unwrap_err();
    assert_eq!(err.code(), "invalid_period");
    assert_eq!(state.apply(&Event::Resume { at: t0 }, None).unwrap_err().code(), "not_paused");
    let err = state.apply(&Event::Approve { at: t0, stage: "canary".into() }, None).unwrap_err();
    assert_eq!(err.to_string(), "stage \"canary\" is not waiting for approval");

    let (state, _) = succeed(state, &canaries, t("2026-11-23T08:30:00Z"));
    let (state, actions) = apply(&state, verdict("canary", t("2026-11-23T08:30:00Z"), t("2026-11-23T09:30:00Z")));
    assert!(actions.contains(&Action::RequestApproval { stage: "early".into() }));
    assert!(updated(&actions).is_empty(), "early waits for its approval");
    let (state, actions) = apply(&state, Event::Tick { at: t("2026-11-23T12:00:00Z") });
    assert!(updated(&actions).is_empty());
    let (paused, _) = apply(&state, Event::Pause { at: t("2026-11-23T12:00:00Z") });
    assert_eq!(paused.apply(&Event::Pause { at: t0 }, None).unwrap_err().code(), "rollout_paused");
    let err = paused.apply(&Event::Approve { at: t0, stage: "early".into() }, None).unwrap_err();
    assert_eq!((err.code(), err.to_string().as_str()), ("rollout_paused", "rollout \"r-1\" is paused"));
    let (resumed, _) = apply(&paused, Event::Resume { at: t("2026-11-23T12:05:00Z") });
    let (_, actions) = apply(&resumed, Event::Approve { at: t("2026-11-23T12:10:00Z"), stage: "early".into() });
    assert_eq!(updated(&actions).len(), 4);
}

#[test]
fn the_seed_plant_with_its_calendar() {
    let graph = UpgradeGraph::from_json(&root("examples/data/seed-ip-module.json")).unwrap();
    let fleet = Fleet::from_csv(&root("examples/data/plant-340.csv")).unwrap();
    let calendar = Calendar::from_json(&root("examples/data/plant-calendar.json")).unwrap();
    let policy = RolloutPolicy::default();
    let plan = plan_rollout(&graph, &fleet, &v("6.15.008"), &policy, "seed-2026-11").unwrap();
    let state = Rollout::new(&plan, &fleet, &graph, &policy).unwrap();
    // Monday 09:00 in Berlin: the canary waits for the 2nd shift (14:00 local, 13:00 UTC).
    let (state, actions) = state.apply(&Event::Start { at: t("2026-11-23T08:00:00Z") }, Some(&calendar)).unwrap();
    assert!(updated(&actions).is_empty());
    assert!(
        actions.contains(&Action::WaitUntil { at: t("2026-11-23T13:00:00Z"), reason: "canary window opens".into() })
    );
    let (state, actions) = state.apply(&Event::Tick { at: t("2026-11-23T13:00:00Z") }, Some(&calendar)).unwrap();
    assert_eq!(updated(&actions).len(), 17, "every line's canary starts in the 2nd shift");
    // The JSON form round-trips (hosts store it between events).
    let json = serde_json::to_string(&state).unwrap();
    assert_eq!(serde_json::from_str::<Rollout>(&json).unwrap(), state);
    // Without a site, a calendar cannot place a device.
    let bare = Fleet::from_csv("id,model,line,version\nx,IPM-1,l1,5.6.30\n").unwrap();
    let plan = plan_rollout(&graph, &bare, &v("6.15.008"), &policy, "r").unwrap();
    let err = Rollout::new(&plan, &bare, &graph, &policy)
        .unwrap()
        .apply(&Event::Start { at: t("2026-11-23T08:00:00Z") }, Some(&calendar))
        .unwrap_err();
    assert_eq!(err.code(), "unknown_site");
}

#[test]
fn empty_stages_pass_at_once() {
    // One device: it is the canary; early and production are empty.
    let policy = RolloutPolicy::default();
    let state = small(1, &policy);
    assert_eq!(state.stages.iter().map(|s| s.devices.len()).collect::<Vec<_>>(), [1, 0, 0]);
    let (state, actions) = apply(&state, Event::Start { at: t("2026-11-23T08:00:00Z") });
    let (state, _) = succeed(state, &updated(&actions), t("2026-11-23T08:20:00Z"));
    let (state, actions) = apply(
        &state,
        Event::HealthVerdict {
            at: t("2026-11-24T08:20:00Z"),
            stage: "canary".into(),
            verdict: Verdict::Healthy,
            from: t("2026-11-23T08:20:00Z"),
            to: t("2026-11-24T08:20:00Z"),
        },
    );
    assert!(actions.contains(&Action::Notify { message: "stage early has no devices".into() }));
    assert!(actions.contains(&Action::Notify { message: "stage production has no devices".into() }));
    assert_eq!(actions.last(), Some(&Action::Complete));
    assert_eq!(state.status, RolloutStatus::Completed);
}

#[test]
fn a_corrupted_stored_state_is_refused_not_a_panic() {
    let policy = RolloutPolicy::default();
    let (state, _) = apply(&small(20, &policy), Event::Start { at: t("2026-11-23T08:00:00Z") });
    let mut json: serde_json::Value = serde_json::to_value(&state).unwrap();
    json["current"] = serde_json::json!(7);
    let broken: Rollout = serde_json::from_value(json).unwrap();
    let err = broken.apply(&Event::Tick { at: t("2026-11-23T09:00:00Z") }, None).unwrap_err();
    assert_eq!(err.code(), "invalid_state");
    assert_eq!(err.to_string(), "rollout \"r-1\" has an invalid state: current stage 7 of 3");
    let mut json: serde_json::Value = serde_json::to_value(&state).unwrap();
    json["current"] = serde_json::json!(2);
    let broken: Rollout = serde_json::from_value(json).unwrap();
    let err = broken.apply(&Event::Tick { at: t("2026-11-23T09:00:00Z") }, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "rollout \"r-1\" has an invalid state: stage \"canary\" is Updating but should be Passed (current stage 2)"
    );
}

#[test]
fn a_state_at_the_last_revision_refuses_events_instead_of_wrapping_to_zero() {
    let state = small(20, &RolloutPolicy::default());
    let mut stored = serde_json::to_value(&state).unwrap();
    stored["revision"] = serde_json::json!(u64::MAX);
    let last = Rollout::from_json(&stored.to_string()).unwrap();
    let err = last.apply(&Event::Start { at: t("2026-11-23T08:00:00Z") }, None).unwrap_err();
    assert_eq!(err.code(), "revision_exhausted");
    assert_eq!(
        err.to_string(),
        format!("rollout {:?} is at revision 18446744073709551615, the last one; start a new rollout", last.id)
    );
    // One below still works, and gives the last revision.
    stored["revision"] = serde_json::json!(u64::MAX - 1);
    let before = Rollout::from_json(&stored.to_string()).unwrap();
    assert_eq!(apply(&before, Event::Start { at: t("2026-11-23T08:00:00Z") }).0.revision, u64::MAX);
}

// ---------- a fleet that changes under a running rollout ----------

fn device(id: &str, line: &str) -> fleetpath::Device {
    fleetpath::Device {
        id: id.into(),
        model: "IPM-1".into(),
        line: line.into(),
        site: Some("plant-a".into()),
        version: v("5.6.30"),
        labels: std::collections::BTreeMap::new(),
    }
}

fn code(state: &Rollout, event: &Event) -> &'static str {
    state.apply(event, None).map(|_| ()).unwrap_err().code()
}

#[test]
fn removed_devices_neither_time_out_nor_trip_the_abort_rule_nor_roll_back() {
    // A canary of 10 among 40 devices; the abort rule fires above 20% failed of 5 finished.
    let mut policy = RolloutPolicy::default();
    policy.stages[0].share = Some(0.25);
    let t0 = t("2026-11-23T08:00:00Z");
    let (state, actions) = apply(&small(40, &policy), Event::Start { at: t0 });
    let canaries = updated(&actions);
    assert_eq!(canaries.len(), 10);
    // Three canary devices are decommissioned mid-update: before, they would time out and
    // 3 of 10 failed would halt the rollout and roll everything back.
    let mut state = state;
    for gone in &canaries[..3] {
        let (next, actions) = apply(&state, Event::RemoveDevice { at: t0, device: gone.clone() });
        assert!(matches!(&actions[..], [Action::Notify { .. }, ..]), "{actions:?}");
        state = next;
    }
    let (state, _) = succeed(state, &canaries[3..], t("2026-11-23T08:30:00Z"));
    assert_eq!(state.stages[0].phase, StagePhase::Monitoring, "the removed devices are not waited for");
    let (state, actions) = apply(&state, Event::Tick { at: t("2026-11-23T12:00:00Z") });
    assert_eq!(state.status, RolloutStatus::Running, "{actions:?}");
    let removed = |s: &Rollout| s.stages[0].devices.iter().filter(|d| d.status == DeviceStatus::Removed).count();
    assert_eq!(removed(&state), 3, "no removed device timed out");

    // A removed device's report, or a second removal, is refused.
    let report = Event::DeviceReported { at: t0, device: canaries[0].clone(), outcome: DeviceOutcome::TimedOut };
    assert_eq!(code(&state, &report), "device_removed");
    assert_eq!(code(&state, &Event::RemoveDevice { at: t0, device: canaries[0].clone() }), "device_removed");
    assert_eq!(code(&state, &Event::RemoveDevice { at: t0, device: "nope".into() }), "unknown_device");

    // Rolled back: the seven that updated, not the three that left.
    let abort = Event::Abort { at: t0, note: "test".into(), roll_back: true };
    let (_, actions) = apply(&state, abort);
    let Some(Action::RollBack { devices }) = actions.first() else { panic!("{actions:?}") };
    let mut back: Vec<&str> = devices.iter().map(|d| d.device.as_str()).collect();
    back.sort_unstable();
    let mut expected: Vec<&str> = canaries[3..].iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(back, expected);
}

#[test]
fn the_abort_rule_counts_only_devices_still_in_the_fleet() {
    let mut policy = RolloutPolicy::default();
    policy.stages[0].share = Some(0.25);
    let t0 = t("2026-11-23T08:00:00Z");
    let (state, actions) = apply(&small(40, &policy), Event::Start { at: t0 });
    let canaries = updated(&actions);
    // 1 failed, 4 succeeded: 20%, at the limit (the rule fires above it).
    let failed = Event::DeviceReported {
        at: t0,
        device: canaries[0].clone(),
        outcome: DeviceOutcome::Failed { reason: "flash".into() },
    };
    let (state, _) = apply(&state, failed);
    let (state, _) = succeed(state, &canaries[1..5], t0);
    assert_eq!(state.status, RolloutStatus::Running);
    // One succeeded device leaves: 1 of 4 finished devices still in the fleet failed (25%), but
    // 4 is below the rule's 5 finished: no halt yet.
    let (state, _) = apply(&state, Event::RemoveDevice { at: t0, device: canaries[1].clone() });
    assert_eq!(state.status, RolloutStatus::Running);
    // The next success makes 5 finished, 1 failed: 20%, still running; a second failure halts
    // with counts that leave the removed device out.
    let (state, _) = succeed(state, &canaries[5..6], t0);
    let failed = Event::DeviceReported { at: t0, device: canaries[6].clone(), outcome: DeviceOutcome::TimedOut };
    let (state, _) = apply(&state, failed);
    let RolloutStatus::Halted { reason: HaltReason::AbortRule { failed, finished, .. } } = &state.status else {
        panic!("{:?}", state.status)
    };
    assert_eq!((*failed, *finished), (2, 6));
}

#[test]
fn a_device_that_joins_takes_the_last_stage_or_the_one_named() {
    let policy = RolloutPolicy::default();
    let t0 = t("2026-11-23T08:00:00Z");
    let state = small(20, &policy);
    // Before the start too.
    let add = |id: &str, stage: Option<&str>| Event::AddDevice {
        at: t0,
        device: device(id, "line-0"),
        stage: stage.map(str::to_owned),
        artifacts: Vec::new(),
    };
    let (state, actions) = apply(&state, add("new-1", None));
    assert!(actions.is_empty(), "{actions:?}");
    let last = state.stages.last().unwrap();
    assert_eq!(last.devices.last().map(|d| (d.id.as_str(), d.status)), Some(("new-1", DeviceStatus::Pending)));

    let (state, actions) = apply(&state, Event::Start { at: t0 });
    let canaries = updated(&actions);
    assert_eq!(state.stages[0].phase, StagePhase::Updating);
    // Joining the updating canary with a new artifact: prefetched, then started at once
    // (no calendar: every window is open).
    let artifact = state.stages[0].artifacts[0].clone();
    let mut other = artifact.clone();
    other.key = "firmware/ip-module/extra.bin".into();
    let join = Event::AddDevice {
        at: t0,
        device: device("new-2", "line-1"),
        stage: Some("canary".into()),
        artifacts: vec![artifact.clone(), other.clone()],
    };
    let (state, actions) = apply(&state, join);
    assert_eq!(actions[0], Action::Prefetch { stage: "canary".into(), artifacts: vec![other.clone()] });
    assert_eq!(updated(&actions), ["new-2"]);
    assert_eq!(state.stages[0].phase, StagePhase::Updating);
    let keys: Vec<&str> = state.stages[0].artifacts.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["firmware/ip-module/6.15.008.bin", "firmware/ip-module/extra.bin"], "sorted by key, once each");

    // Refusals: an id the rollout has, an unknown stage, a stage being monitored, a bad record.
    assert_eq!(code(&state, &add("new-2", None)), "duplicate_device");
    assert_eq!(code(&state, &add(&canaries[0], Some("early"))), "duplicate_device");
    assert_eq!(code(&state, &add("new-3", Some("nope"))), "unknown_stage");
    let mut all = canaries.clone();
    all.push("new-2".into());
    let (state, _) = succeed(state, &all, t("2026-11-23T08:30:00Z"));
    assert_eq!(state.stages[0].phase, StagePhase::Monitoring);
    let err = state.apply(&add("new-3", Some("canary")), None).unwrap_err();
    assert_eq!(err.to_string(), "stage \"canary\" takes no more devices (it is monitoring)");
    let bad = Event::AddDevice { at: t0, device: device(" x", "line-0"), stage: None, artifacts: Vec::new() };
    let err = state.apply(&bad, None).unwrap_err();
    assert_eq!(
        (err.code(), err.to_string().as_str()),
        ("padded_field", "add_device.device: id \" x\" has leading or trailing whitespace")
    );

    // A removed device may come back under the same id (new hardware), in another stage.
    let (state, _) = apply(&state, Event::RemoveDevice { at: t0, device: "new-1".into() });
    let (state, _) = apply(&state, add("new-1", Some("early")));
    let ids = |k: usize| state.stages[k].devices.iter().filter(|d| d.id == "new-1").count();
    assert_eq!((ids(1), ids(2)), (1, 0));
}

#[test]
fn removing_the_last_pending_devices_lets_the_stage_move_on() {
    let policy = RolloutPolicy::default();
    let t0 = t("2026-11-23T08:00:00Z");
    let (state, actions) = apply(&small(20, &policy), Event::Start { at: t0 });
    let canaries = updated(&actions);
    let (state, _) = succeed(state, &canaries[..1], t0);
    assert_eq!(state.stages[0].phase, StagePhase::Updating);
    let (state, actions) = apply(&state, Event::RemoveDevice { at: t0, device: canaries[1].clone() });
    assert_eq!(state.stages[0].phase, StagePhase::Monitoring, "{actions:?}");
    assert!(
        actions.iter().any(|a| matches!(a, Action::WaitUntil { reason, .. } if reason == "canary monitoring ends"))
    );
}
