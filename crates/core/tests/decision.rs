//! Every decision outcome, with its reason code; rollbacks; prefetch plans; the memory store.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use fleetpath::decision::{Decider, Decision, DecisionColumns, DecisionPolicy, DeviceRequest, HostAction};
use fleetpath::prefetch::{PrefetchAction, PrefetchPolicy, Purpose, plan_prefetch};
use fleetpath::rollback::{RollbackOutcome, plan_rollback, rollback_route};
use fleetpath::{
    Availability, Calendar, Event, Fleet, Rollout, RolloutPolicy, StorageClass, UpgradeGraph, Version, plan_rollout,
    rollout::DeviceOutcome, rollout::DeviceStatus, rollout::Verdict,
};
use jiff::Timestamp;

const STORY: &str = include_str!("../../../examples/data/seed-story.json");
const CALENDAR: &str = include_str!("../../../examples/data/plant-calendar.json");

fn graph() -> UpgradeGraph {
    UpgradeGraph::from_json(STORY).unwrap()
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn v(s: &str) -> Version {
    s.parse().unwrap()
}

fn request(device: &str, version: &str, at: &str) -> DeviceRequest {
    DeviceRequest {
        device: device.into(),
        model: "IPM-1".into(),
        version: v(version),
        at: t(at),
        retry: fleetpath::RetryState::default(),
        labels: None,
    }
}

const KEY_BRIDGE: &str = "firmware/ip-module/5.6.30.bin";
const KEY_007: &str = "firmware/ip-module/6.15.007.bin";
const KEY_008: &str = "firmware/ip-module/6.15.008.bin";

fn all_available() -> BTreeMap<String, Availability> {
    graph()
        .releases()
        .iter()
        .filter_map(|r| r.artifact())
        .map(|a| (a.key.clone(), Availability::Available { class: StorageClass::Standard }))
        .collect()
}

#[test]
fn free_mode_outcomes() {
    let graph = graph();
    let decider = Decider::new(&graph, DecisionPolicy::default()).unwrap();
    // Newest for the model: 6.15.008, via the bridge.
    let d = decider.decide(&request("d1", "v5.6.14", "2026-11-23T08:00:00Z"));
    let Decision::Download { step, url_lifetime_seconds } = &d else { panic!("{d:?}") };
    assert_eq!((d.kind(), d.reason()), ("download", "next_hop"));
    assert_eq!((step.to.to_string(), step.target.to_string(), step.hops_left), ("5.6.30".into(), "6.15.008".into(), 1));
    assert_eq!((step.artifact.key.as_str(), *url_lifetime_seconds), (KEY_BRIDGE, 900));
    assert_eq!(decider.decide(&request("d1", "6.15.8", "2026-11-23T08:00:00Z")).reason(), "at_target");
    let d = decider.decide(&request("d1", "5.6.99", "2026-11-23T08:00:00Z"));
    assert_eq!((d.kind(), d.reason()), ("blocked", "unknown_version"));
    let Decision::Blocked { detail, .. } = d else { unreachable!() };
    assert!(detail.contains("5.6.99"), "{detail}");
    let other_model = DeviceRequest { model: "IPM-9".into(), ..request("d1", "5.6.14", "2026-11-23T08:00:00Z") };
    assert_eq!(decider.decide(&other_model).reason(), "no_release_for_model");

    // Toward an explicit, older target: a device on 6.15.008 is ahead, never downgraded.
    let decider = Decider::new(&graph, DecisionPolicy::default()).unwrap().with_target(&v("6.15.007")).unwrap();
    assert_eq!(decider.decide(&request("d1", "6.15.008", "2026-11-23T08:00:00Z")).reason(), "ahead_of_target");
    let d = decider.decide(&request("d1", "5.6.30", "2026-11-23T08:00:00Z"));
    assert_eq!(d.reason(), "next_hop");
    let e = Decider::new(&graph, DecisionPolicy::default()).unwrap().with_target(&v("7.0")).unwrap_err();
    assert_eq!(e.code(), "unknown_target");
    let bad = DecisionPolicy { url_lifetime_seconds: 700_000, ..DecisionPolicy::default() };
    assert_eq!(Decider::new(&graph, bad).unwrap_err().code(), "invalid_decision_policy");
}

#[test]
fn blocked_release_and_missing_artifact() {
    let graph = UpgradeGraph::from_json(
        r#"{"format_version": 1, "releases": [
        {"version": "1.0", "status": "blocked", "reason": "recalled"},
        {"version": "1.1", "status": "blocked", "reason": "recalled too"},
        {"version": "2.0"}, {"version": "3.0"}],
        "edges": [{"from": "1.1", "to": "2.0"}, {"from": "2.0", "to": "3.0"}]}"#,
    )
    .unwrap();
    let decider = Decider::new(&graph, DecisionPolicy::default()).unwrap();
    let ask = |version: &str| decider.decide(&request("d", version, "2026-11-23T08:00:00Z"));
    assert_eq!(ask("1.0").reason(), "on_blocked_release");
    let d = ask("1.1");
    assert_eq!(d.reason(), "no_artifact", "a path exists, but 2.0 has no binary");
    let Decision::Blocked { detail, .. } = d else { unreachable!() };
    assert_eq!(&*detail, "release \"2.0\" declares no artifact");
}

#[test]
fn artifact_gating_outcomes() {
    let graph = graph();
    let at = "2026-11-23T08:00:00Z";
    let mut seen = all_available();
    let decide = |seen: &BTreeMap<String, Availability>, retry| {
        let decider = Decider::new(&graph, DecisionPolicy::default()).unwrap().with_availability(seen.clone());
        decider.decide(&DeviceRequest { retry, ..request("press-1-01", "5.6.14", at) })
    };
    let fresh = fleetpath::RetryState::default();

    seen.insert(KEY_BRIDGE.into(), Availability::Archived { class: StorageClass::GlacierFlexibleRetrieval });
    let d = decide(&seen, fresh);
    assert_eq!((d.kind(), d.reason()), ("retry_after", "artifact_archived"));
    let (Decision::RetryAfter { at: when, retry, .. }, Some(HostAction::RequestRestore { ready_by, days, .. })) =
        (&d, d.host_action())
    else {
        panic!("{d:?}")
    };
    assert_eq!(*ready_by, t("2026-11-23T13:00:00Z"), "Standard: 5 hours");
    assert!(*when >= *ready_by && *days == 7 && retry.attempts == 1, "{d:?}");

    // In progress: come back when due (spread over one base delay), not a failure.
    let since = t(at);
    seen.insert(
        KEY_BRIDGE.into(),
        Availability::Restoring {
            class: StorageClass::GlacierFlexibleRetrieval,
            since,
            ready_by: t("2026-11-23T09:00:00Z"),
        },
    );
    let d = decide(&seen, fresh);
    let Decision::RetryAfter { at: when, host_action: None, retry, .. } = &d else { panic!("{d:?}") };
    assert_eq!(d.reason(), "artifact_restoring");
    assert!(*when > t("2026-11-23T09:00:00Z") && *when <= t("2026-11-23T09:00:30Z") && retry.attempts == 0);

    seen.insert(
        KEY_BRIDGE.into(),
        Availability::Restoring {
            class: StorageClass::GlacierFlexibleRetrieval,
            since,
            ready_by: t("2026-11-23T07:00:00Z"),
        },
    );
    assert_eq!(decide(&seen, fresh).reason(), "restore_overdue");

    seen.insert(
        KEY_BRIDGE.into(),
        Availability::Restored { class: StorageClass::GlacierFlexibleRetrieval, until: t("2026-11-23T08:04:00Z") },
    );
    let d = decide(&seen, fresh);
    assert_eq!(d.reason(), "restored_copy_expiring");
    assert!(matches!(d.host_action(), Some(HostAction::RequestRestore { .. })), "{d:?}");
    // A restored copy with 10 minutes left: the URL lives 10 minutes, not 15.
    seen.insert(
        KEY_BRIDGE.into(),
        Availability::Restored { class: StorageClass::GlacierFlexibleRetrieval, until: t("2026-11-23T08:10:00Z") },
    );
    assert!(matches!(decide(&seen, fresh), Decision::Download { url_lifetime_seconds: 600, .. }));

    seen.insert(KEY_BRIDGE.into(), Availability::Missing);
    let d = decide(&seen, fresh);
    assert_eq!(d.reason(), "artifact_missing");
    assert_eq!(d.clone(), decide(&seen, fresh), "deterministic");
    let Decision::RetryAfter { host_action: Some(action), retry, .. } = d else { unreachable!() };
    assert_eq!(action.code(), "report_missing");
    // After max_attempts - 1 failures, the next one gives up.
    let worn = fleetpath::RetryState { attempts: 11, first_failure_at: Some(since), last_delay_ms: 0 };
    let d = decide(&seen, worn);
    assert_eq!((d.kind(), d.reason()), ("give_up", "artifact_missing"));
    assert!(matches!(d, Decision::GiveUp { attempts: 12, limit: fleetpath::retry::GiveUpReason::MaxAttempts, .. }));
    assert_eq!(retry.attempts, 1);

    seen.remove(KEY_BRIDGE);
    let d = decide(&seen, fresh);
    assert_eq!(d.reason(), "artifact_unobserved");
    assert!(matches!(d.host_action(), Some(HostAction::CheckAvailability { .. })), "{d:?}");
}

fn small_fleet() -> Fleet {
    let mut csv = String::from("id,model,line,site,version\n");
    for i in 0..40 {
        let version = if i % 4 == 0 { "5.6.30" } else { "5.6.14" };
        let line = i % 2 + 1;
        writeln!(csv, "press-{line}-{i:02},IPM-1,press-{line},plant-a,{version}").unwrap();
    }
    csv.push_str("press-1-99,IPM-1,press-1,plant-a,6.15.007\n");
    Fleet::from_csv(&csv).unwrap()
}

fn rollout(target: &str) -> (Fleet, Rollout) {
    let graph = graph();
    let fleet = small_fleet();
    let policy = RolloutPolicy::default();
    let plan = plan_rollout(&graph, &fleet, &v(target), &policy, "r1").unwrap();
    let rollout = Rollout::new(&plan, &fleet, &graph, &policy).unwrap();
    (fleet, rollout)
}

fn apply(rollout: &Rollout, event: &Event) -> Rollout {
    rollout.apply(event, None).unwrap().0
}

#[test]
fn rollout_outcomes() {
    let graph = graph();
    let (_, created) = rollout("6.15.007");
    let canary = created.stages[0].devices[0].clone();
    let early = created.stages[1].devices[0].clone();
    let decide = |rollout: &Rollout, id: &str, version: &str, at: &str| {
        let decider =
            Decider::new(&graph, DecisionPolicy::default()).unwrap().with_rollout(rollout.clone(), None).unwrap();
        decider.decide(&request(id, version, at))
    };
    let at0 = "2026-11-24T14:00:00Z";
    assert_eq!(decide(&created, &canary.id, &canary.from.to_string(), at0).reason(), "rollout_not_started");
    assert_eq!(decide(&created, "press-1-99", "6.15.007", at0).reason(), "at_target", "already there");
    assert_eq!(decide(&created, "stranger", "5.6.14", at0).reason(), "not_in_rollout");

    let started = apply(&created, &Event::Start { at: t(at0) });
    // No calendar: every window is open, so the canary started at once.
    assert_eq!(started.stages[0].devices[0].status, DeviceStatus::Updating);
    let d = decide(&started, &canary.id, &canary.from.to_string(), at0);
    assert_eq!(d.reason(), "next_hop");
    assert_eq!(decide(&started, &early.id, &early.from.to_string(), at0).reason(), "stage_not_started");

    let paused = apply(&started, &Event::Pause { at: t(at0) });
    assert_eq!(decide(&paused, &canary.id, &canary.from.to_string(), at0).reason(), "rollout_paused");

    // A canary device fails, another times out.
    let failed = apply(
        &started,
        &Event::DeviceReported {
            at: t(at0),
            device: canary.id.clone(),
            outcome: DeviceOutcome::Failed { reason: "x".into() },
        },
    );
    assert_eq!(decide(&failed, &canary.id, &canary.from.to_string(), at0).reason(), "update_failed");
    let later = apply(&started, &Event::Tick { at: t("2026-11-24T17:00:00Z") });
    assert_eq!(decide(&later, &canary.id, &canary.from.to_string(), at0).reason(), "update_timed_out");

    // A breach rolls back every touched device.
    let breach = Verdict::Breach { detail: "memory leak".into() };
    let halted = apply(
        &started,
        &Event::HealthVerdict { at: t(at0), stage: "canary".into(), verdict: breach, from: t(at0), to: t(at0) },
    );
    assert_eq!(halted.stages[0].devices[0].status, DeviceStatus::RolledBack);
    // On the target: back to the bridge; from 5.6.14 the declared downgrade crosses shadow-2.0.
    let from_bridge = halted.stages[0].devices.iter().find(|d| d.from == v("5.6.30")).unwrap();
    let d = decide(&halted, &from_bridge.id, "6.15.007", at0);
    assert_eq!((d.kind(), d.reason()), ("roll_back", "previous_version"));
    let from_turn = halted.stages[0].devices.iter().find(|d| d.from == v("5.6.14")).unwrap();
    let d = decide(&halted, &from_turn.id, "6.15.007", at0);
    assert_eq!((d.kind(), d.reason()), ("roll_back", "partial_rollback"));
    let Decision::RollBack { step, .. } = &d else { unreachable!() };
    assert_eq!(step.to, v("5.6.30"));
    assert!(step.previous_refused.as_deref().unwrap().contains("cannot read schema \"shadow-2.0\""), "{step:?}");
    // Still on the bridge (it never got further): it stays there.
    assert_eq!(decide(&halted, &from_turn.id, "5.6.30", at0).reason(), "rolled_back");
    assert_eq!(decide(&halted, &from_bridge.id, "5.6.30", at0).reason(), "rolled_back");
    assert_eq!(decide(&halted, &early.id, &early.from.to_string(), at0).reason(), "rollout_halted");
}

#[test]
fn windows_approval_and_start() {
    let graph = graph();
    let calendar = Calendar::from_json(CALENDAR).unwrap();
    let (_, created) = rollout("6.15.008");
    let decide = |rollout: &Rollout, id: &str, version: &str, at: &str| {
        let decider = Decider::new(&graph, DecisionPolicy::default())
            .unwrap()
            .with_rollout(rollout.clone(), Some(&calendar))
            .unwrap();
        decider.decide(&request(id, version, at))
    };
    let canary = created.stages[0].devices[0].clone();
    // Tuesday 24 Nov, 09:00 Berlin (1st shift): the canary's 2nd shift opens at 14:00 local.
    let at = "2026-11-24T08:00:00Z";
    let started = created.apply(&Event::Start { at: t(at) }, Some(&calendar)).unwrap().0;
    let d = decide(&started, &canary.id, &canary.from.to_string(), at);
    assert_eq!(
        d,
        Decision::Wait {
            reason: fleetpath::decision::WaitReason::OutsideWindow,
            until: Some(t("2026-11-24T13:00:00Z"))
        }
    );
    // At 14:05 local the window is open, but the rollout has not been ticked.
    let d = decide(&started, &canary.id, &canary.from.to_string(), "2026-11-24T13:05:00Z");
    assert_eq!(d.reason(), "awaiting_start");
    let ticked = started.apply(&Event::Tick { at: t("2026-11-24T13:05:00Z") }, Some(&calendar)).unwrap().0;
    assert_eq!(decide(&ticked, &canary.id, &canary.from.to_string(), "2026-11-24T13:05:00Z").reason(), "next_hop");

    let mut policy = RolloutPolicy::default();
    policy.stages[0].approval = true;
    let fleet = small_fleet();
    let plan = plan_rollout(&graph, &fleet, &v("6.15.008"), &policy, "r2").unwrap();
    let gated = Rollout::new(&plan, &fleet, &graph, &policy).unwrap();
    let gated = gated.apply(&Event::Start { at: t(at) }, Some(&calendar)).unwrap().0;
    let first = &gated.stages[0].devices[0];
    assert_eq!(decide(&gated, &first.id, &first.from.to_string(), at).reason(), "awaiting_approval");
}

#[test]
fn batch_equals_single() {
    let graph = graph();
    let calendar = Calendar::from_json(CALENDAR).unwrap();
    let (fleet, created) = rollout("6.15.008");
    let started = created.apply(&Event::Start { at: t("2026-11-24T13:05:00Z") }, Some(&calendar)).unwrap().0;
    let mut seen = all_available();
    seen.insert(KEY_BRIDGE.into(), Availability::Archived { class: StorageClass::DeepArchive });
    for rollout in [None, Some(&started)] {
        let mut decider = Decider::new(&graph, DecisionPolicy::default()).unwrap().with_availability(seen.clone());
        if let Some(r) = rollout {
            decider = decider.with_rollout(r.clone(), Some(&calendar)).unwrap();
        }
        let at = t("2026-11-24T13:06:00Z");
        let requests_of = |fleet: &Fleet| -> Vec<DeviceRequest> {
            fleet
                .devices()
                .map(|d| DeviceRequest {
                    device: d.id.to_owned(),
                    model: d.model.to_string(),
                    version: d.version.clone(),
                    at,
                    retry: fleetpath::RetryState::default(),
                    labels: None,
                })
                .collect()
        };
        // The batch finds devices through the fleet, single requests through the rollout's
        // index: the same answers, also for a fleet that is not the rollout's (other order, a
        // device gone, one the rollout never had).
        let mut others: Vec<fleetpath::Device> = fleet.to_devices().into_iter().skip(1).rev().collect();
        others.push(fleetpath::Device { id: "press-9-01".into(), ..fleet.device(1).unwrap().to_device() });
        let other = Fleet::new(others).unwrap();
        let answers = decider.decide_fleet(&other, at);
        let single: Vec<Decision> = requests_of(&other).iter().map(|r| decider.decide(r)).collect();
        assert_eq!(answers, single);
        assert_eq!(
            answers.last().map(Decision::reason),
            Some(if rollout.is_some() { "not_in_rollout" } else { "artifact_archived" })
        );
        let batch = decider.decide_fleet(&fleet, at);
        let requests = requests_of(&fleet);
        let single: Vec<Decision> = requests.iter().map(|r| decider.decide(r)).collect();
        assert_eq!(batch, single);
        assert_eq!(decider.decide_all(&requests), single);
        // Deep Archive has no Expedited tier, and Standard takes 12 hours.
        if rollout.is_some() {
            let restore = batch.iter().find(|d| d.reason() == "artifact_archived").unwrap();
            let Some(HostAction::RequestRestore { ready_by, .. }) = restore.host_action() else { unreachable!() };
            assert_eq!(*ready_by, t("2026-11-25T01:06:00Z"));
        }
        // JSON round trip of every decision.
        let json = serde_json::to_string(&batch).unwrap();
        assert_eq!(serde_json::from_str::<Vec<Decision>>(&json).unwrap(), batch);
    }
}

#[test]
fn rollback_routes_and_plans() {
    let graph = graph();
    let route = rollback_route(&graph, &v("6.15.008"), &v("5.6.30"), Some("IPM-1")).unwrap();
    assert_eq!(route.hops.len(), 1, "the direct declared downgrade, not via 6.15.007");
    let e = rollback_route(&graph, &v("6.15.007"), &v("5.6.14"), None).unwrap_err();
    assert_eq!(e.code(), "breaking_change");
    assert_eq!(
        e.to_string(),
        "downgrade \"6.15.007\" -> \"5.6.14\" crosses a breaking change: \"5.6.14\" cannot read schema \"shadow-2.0\" (it writes \"shadow-1.0\") and the downgrade declares no migration"
    );
    let e = rollback_route(&graph, &v("5.6.30"), &v("5.6.14"), None).unwrap_err();
    assert_eq!(e.code(), "no_downgrade_path");
    assert_eq!(rollback_route(&graph, &v("5.6.14"), &v("5.6.30"), None).unwrap_err().code(), "not_older");
    assert_eq!(rollback_route(&graph, &v("6.0"), &v("5.6.30"), None).unwrap_err().code(), "unknown_version");

    // A migration makes the breaking downgrade acceptable.
    let mut manifest = graph.to_manifest();
    let d = manifest.downgrades.iter_mut().find(|d| d.to == "5.6.14").unwrap();
    d.migration = Some(fleetpath::graph::Migration { component: "shadow-2-to-1".into(), artifact: None, notes: None });
    let migrated = UpgradeGraph::new(manifest).unwrap();
    let route = rollback_route(&migrated, &v("6.15.007"), &v("5.6.14"), None).unwrap();
    assert_eq!(route.hops[0].migration.as_ref().unwrap().component, "shadow-2-to-1");

    // The plan of a halted rollout.
    let (_, created) = rollout("6.15.007");
    let at = t("2026-11-24T14:00:00Z");
    let started = apply(&created, &Event::Start { at });
    let breach = Verdict::Breach { detail: "leak".into() };
    let halted =
        apply(&started, &Event::HealthVerdict { at, stage: "canary".into(), verdict: breach, from: at, to: at });
    let plan = plan_rollback(&graph, &halted);
    assert_eq!(plan.devices.len(), halted.stages[0].devices.len());
    assert_eq!(plan.refused().count(), 0);
    for d in &plan.devices {
        // They never reported: they still run their previous version.
        assert_eq!(d.outcome, RollbackOutcome::Nothing);
    }
}

#[test]
fn prefetch_plans_restores_ahead_of_windows() {
    let graph = graph();
    let calendar = Calendar::from_json(CALENDAR).unwrap();
    let (_, created) = rollout("6.15.008");
    let mut seen = all_available();
    seen.insert(KEY_BRIDGE.into(), Availability::Archived { class: StorageClass::GlacierFlexibleRetrieval });
    seen.insert(KEY_007.into(), Availability::Missing);
    // Monday 23 Nov, 08:00 UTC; the canary's 2nd shift opens Tuesday? No: Monday 14:00 Berlin.
    let at = t("2026-11-23T08:00:00Z");
    let plan = plan_prefetch(&created, &graph, Some(&calendar), &seen, &PrefetchPolicy::default(), at);
    assert_eq!(plan.stages[0], ("canary".to_owned(), t("2026-11-23T13:00:00Z")));
    let bridge = plan.items.iter().find(|i| i.artifact.key == KEY_BRIDGE).unwrap();
    assert_eq!(
        (bridge.purpose, bridge.stage.as_str(), bridge.needed_at),
        (Purpose::Upgrade, "canary", t("2026-11-23T13:00:00Z"))
    );
    // Bulk (12 h) is too slow, Standard (5 h) must be requested by 07:00 to be ready an hour
    // early: too late too. Expedited (5 min) makes it, requested by 11:55.
    let PrefetchAction::Restore { tier, request_by, .. } = &bridge.action else { panic!("{bridge:?}") };
    assert_eq!((*tier, *request_by, bridge.due), (fleetpath::RestoreTier::Expedited, t("2026-11-23T11:55:00Z"), false));
    // The early stage's device on 6.15.007 would roll back to it: its missing binary is
    // reported now, for a rollback that could come on Tuesday night.
    let rollback = plan.items.iter().find(|i| i.artifact.key == KEY_007).unwrap();
    assert_eq!((rollback.purpose, rollback.stage.as_str()), (Purpose::Rollback, "early"));
    assert_eq!((&rollback.action, rollback.needed_at), (&PrefetchAction::Missing, t("2026-11-24T21:00:00Z")));
    assert!(rollback.due, "a missing binary is reported now");
    assert_eq!(plan.due().count(), 1);
    assert_eq!(plan.ready, 1, "6.15.008 is available");

    // A day earlier, Bulk makes it.
    let plan =
        plan_prefetch(&created, &graph, Some(&calendar), &seen, &PrefetchPolicy::default(), t("2026-11-22T08:00:00Z"));
    let bridge = plan.items.iter().find(|i| i.artifact.key == KEY_BRIDGE).unwrap();
    assert!(matches!(bridge.action, PrefetchAction::Restore { tier: fleetpath::RestoreTier::Bulk, .. }), "{bridge:?}");
    let json = serde_json::to_string(&plan).unwrap();
    assert_eq!(serde_json::from_str::<fleetpath::prefetch::PrefetchPlan>(&json).unwrap(), plan);
    let _ = KEY_008;
}

#[test]
fn memory_store_restores_on_its_clock() {
    use fleetpath::{ArtifactStore, MemoryStore, RestoreTier};
    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
    let store = MemoryStore::new(t("2026-11-23T08:00:00Z"), fleetpath::RestoreTimes::default());
    store.insert(KEY_BRIDGE, Availability::Archived { class: StorageClass::DeepArchive });
    store.insert(KEY_008, Availability::Available { class: StorageClass::Standard });
    let e = block_on(store.request_restore(KEY_BRIDGE, RestoreTier::Expedited, 1)).unwrap_err();
    assert_eq!(e.to_string(), format!("object {KEY_BRIDGE:?}: its storage class has no Expedited restore"));
    assert!(block_on(store.presign(KEY_BRIDGE, 900)).is_err(), "archived objects are not presigned");
    block_on(store.request_restore(KEY_BRIDGE, RestoreTier::Standard, 1)).unwrap();
    block_on(store.request_restore(KEY_BRIDGE, RestoreTier::Standard, 1)).unwrap();
    assert_eq!(store.restores_requested(), 1, "a repeated request starts nothing new");
    store.set_now(t("2026-11-23T19:59:00Z"));
    assert!(matches!(block_on(store.availability(KEY_BRIDGE)).unwrap(), Availability::Restoring { .. }));
    store.set_now(t("2026-11-23T20:00:00Z"));
    let url = block_on(store.presign(KEY_BRIDGE, 900)).unwrap();
    assert_eq!(url.expires_at, t("2026-11-23T20:15:00Z"));
    store.set_now(t("2026-11-24T20:00:00Z"));
    assert!(matches!(block_on(store.availability(KEY_BRIDGE)).unwrap(), Availability::Archived { .. }), "1 day later");
    assert_eq!(block_on(store.availability("nope")).unwrap(), Availability::Missing);
    assert!(block_on(store.presign(KEY_008, 0)).is_err());
}

#[test]
fn models_without_releases_answer_alike_beyond_those_remembered() {
    // More models than the decider remembers route sets for: each device still gets its
    // model's own answer, the same from a fresh decider, whatever its version.
    let graph = graph();
    let decider = Decider::new(&graph, DecisionPolicy::default()).unwrap();
    let at = t("2026-11-24T13:06:00Z");
    let request = |model: String, version: &str| DeviceRequest {
        device: format!("d-{model}"),
        model,
        version: v(version),
        at,
        retry: fleetpath::RetryState::default(),
        labels: None,
    };
    for round in 0..2 {
        for i in 0..300 {
            for version in ["5.6.14", "6.15.008", "1.0"] {
                let r = request(format!("XM-{i}"), version);
                let d = decider.decide(&r);
                assert_eq!((d.kind(), d.reason()), ("blocked", "no_release_for_model"), "{round} {i} {version}");
                let fresh = Decider::new(&graph, DecisionPolicy::default()).unwrap().decide(&r);
                assert_eq!(d, fresh, "{round} {i} {version}");
                let Decision::Blocked { detail, .. } = &d else { unreachable!() };
                assert!(detail.contains(&format!("XM-{i}")), "{detail}");
            }
        }
    }
    // A batch over such a fleet (a fresh decider: the models past those it remembers are
    // explained per kind) says what each device is told alone, in rows and in columns.
    let devices: Vec<fleetpath::Device> = (0..300)
        .flat_map(|i| {
            ["5.6.14", "v5.6.14", "1.0"].map(|version| fleetpath::Device {
                id: format!("d{i}-{version}"),
                model: format!("XM-{i}").into(),
                line: "l1".into(),
                site: None,
                version: v(version),
                labels: BTreeMap::new(),
            })
        })
        .collect();
    let fleet = Fleet::new(devices).unwrap();
    let fresh = Decider::new(&graph, DecisionPolicy::default()).unwrap();
    let rows = fresh.decide_fleet(&fleet, at);
    assert_eq!(fresh.decide_columns(&fleet, at).into_rows(), rows);
    for (d, row) in fleet.devices().zip(&rows) {
        assert_eq!(&decider.decide(&request(d.model.to_owned(), &d.version.to_string())), row, "{}", d.id);
    }
}

/// Without observed availability the columns record a download's release and make its
/// decision when first read: the columns alone name each device's next version, and the
/// decisions read after the decider is gone are those of a decider that made them as rows.
#[test]
fn columns_make_their_downloads_when_read_even_after_the_decider() {
    let csv = "id,model,line,version\nd1,IPM-1,l1,5.6.14\nd2,IPM-1,l1,v5.6.14\nd3,IPM-1,l2,5.6.30\n\
               d4,IPM-1,l2,6.15.008\nd5,IPM-1,l2,9.9.9\nd6,XM-1,l2,5.6.14\n";
    let fleet = Fleet::from_csv(csv).unwrap();
    let at = t("2026-11-23T08:00:00Z");
    let columns = Decider::new(&graph(), DecisionPolicy::default()).unwrap().decide_columns(&fleet, at);
    let next: Vec<Option<&str>> = (0..fleet.len())
        .map(|i| {
            (columns.next[i] != DecisionColumns::NONE).then(|| columns.versions[columns.next[i] as usize].as_str())
        })
        .collect();
    assert_eq!(next, [Some("5.6.30"), Some("5.6.30"), Some("6.15.008"), None, None, None]);
    let rows = Decider::new(&graph(), DecisionPolicy::default()).unwrap().decide_fleet(&fleet, at);
    assert_eq!(columns.get(2).as_deref(), Some(&rows[2]));
    // One per model and spelling (`5.6.14` and `v5.6.14` are two, with equal decisions).
    assert_eq!(columns.distinct().len(), 6, "{:?}", columns.distinct());
    assert_eq!(columns.distinct()[0], columns.distinct()[1]);
    assert_eq!(columns.into_rows(), rows);
}

/// A fleet with more models and spellings than a table of answers per (model, spelling) is
/// worth: the batch remembers repeated decisions in a map instead, and still says what the
/// rows say. Spellings of 5.6.14 and 6.15.007 repeat on many devices, a third of the models
/// are unknown, and one artifact is missing (those devices retry at times of their own).
#[test]
fn columns_equal_rows_with_many_models_and_spellings() {
    let spellings = ["5.6.14", "v5.6.14", "5.6.014", "6.15.008", "6.15.007", "v6.15.7", "6.15.07", "5.6.30"];
    let mut devices = Vec::new();
    for i in 0..400 {
        let spelling = if i % 5 == 0 { format!("5.6.{}", 100 + i) } else { spellings[i % spellings.len()].to_owned() };
        devices.push(fleetpath::Device {
            id: format!("d{i}"),
            model: if i % 3 == 1 { format!("other-{}", i / 4).into() } else { "IPM-1".into() },
            line: "l1".into(),
            site: None,
            version: v(&spelling),
            labels: BTreeMap::new(),
        });
    }
    let fleet = Fleet::new(devices).unwrap();
    let mut observed = all_available();
    observed.insert(KEY_BRIDGE.to_owned(), Availability::Missing);
    let decider = Decider::new(&graph(), DecisionPolicy::default()).unwrap().with_availability(observed);
    let at = t("2026-11-23T08:00:00Z");
    let rows = decider.decide_fleet(&fleet, at);
    let columns = decider.decide_columns(&fleet, at);
    assert_eq!(columns.clone().into_rows(), rows);
    // The batch finds a route once per model and spelling (once per model for a model nothing
    // installs on): each device's row is what it is told when it asks alone.
    for (d, row) in fleet.devices().zip(&rows) {
        let alone = DeviceRequest {
            device: d.id.to_owned(),
            model: d.model.to_owned(),
            version: d.version.clone(),
            at,
            retry: fleetpath::RetryState::default(),
            labels: None,
        };
        assert_eq!(&decider.decide(&alone), row, "{}", d.id);
    }
    let kinds: std::collections::BTreeSet<&str> = rows.iter().map(Decision::kind).collect();
    assert_eq!(kinds, ["blocked", "download", "retry_after", "up_to_date"].into());
    // Missing: each device retries at its own time (spread by its id), not its first twin's.
    let waits: std::collections::BTreeSet<i64> =
        (0..rows.len()).filter(|&i| rows[i].kind() == "retry_after").map(|i| columns.at_ms[i]).collect();
    assert!(waits.len() > 1, "{waits:?}");
}

/// A batch holds one decision a device: the rare, large parts of a retry (its host action
/// and retry state) are boxed so that a million decisions take 64 MB, not 136 MB.
#[test]
fn a_decision_stays_small() {
    assert!(std::mem::size_of::<Decision>() <= 64, "{} bytes", std::mem::size_of::<Decision>());
}

/// A release a model's table gives no step for is explained once per release, whatever the
/// spelling a device uses: every spelling gets the answer a fresh decider gives it, naming the
/// release as the manifest spells it, in a batch and asked alone.
#[test]
fn stuck_releases_are_explained_alike_for_every_spelling() {
    let graph = UpgradeGraph::from_json(
        r#"{"format_version": 1, "releases": [
          {"version": "1.0", "models": ["m0", "m1"], "artifact": {"key": "a", "sha256": "00000000000000000000000000000000000000000000000000000000000000aa"}},
          {"version": "1.1", "models": ["m0"], "artifact": {"key": "b", "sha256": "00000000000000000000000000000000000000000000000000000000000000bb"}},
          {"version": "1.2", "models": ["m0", "m1"], "status": "blocked", "reason": "recalled"},
          {"version": "2.0", "models": ["m0", "m1"], "artifact": {"key": "c", "sha256": "00000000000000000000000000000000000000000000000000000000000000cc"}}],
          "edges": [{"from": "1.0", "to": "1.1"}, {"from": "1.1", "to": "2.0"},
                    {"from": "1.0", "to": "1.2"}, {"from": "1.2", "to": "2.0"}]}"#,
    )
    .unwrap();
    let at = t("2026-11-23T08:00:00Z");
    let ask = |decider: &Decider, model: &str, version: &str| {
        decider.decide(&DeviceRequest {
            device: "d".into(),
            model: model.into(),
            version: v(version),
            at,
            retry: fleetpath::RetryState::default(),
            labels: None,
        })
    };
    let cases = [("m1", ["1.1", "v1.1.0", "1.01"], "model_incompatible"), ("m1", ["1.0", "v1.0.0", "1.00"], "no_path")];
    let decider = Decider::new(&graph, DecisionPolicy::default()).unwrap();
    for (model, spellings, code) in cases {
        let devices = spellings.iter().enumerate().map(|(i, s)| fleetpath::Device {
            id: format!("d{i}"),
            model: model.into(),
            line: "l".into(),
            site: None,
            version: v(s),
            labels: BTreeMap::new(),
        });
        let fleet = Fleet::new(devices.collect()).unwrap();
        let rows = decider.decide_fleet(&fleet, at);
        let columns = decider.decide_columns(&fleet, at);
        assert_eq!(columns.into_rows(), rows);
        for (spelling, row) in spellings.iter().zip(&rows) {
            let fresh = Decider::new(&graph, DecisionPolicy::default()).unwrap();
            assert_eq!(&ask(&fresh, model, spelling), row, "{spelling}");
            assert_eq!(&ask(&decider, model, spelling), row, "{spelling}");
            let Decision::Blocked { detail, .. } = row else { panic!("{spelling}: {row:?}") };
            assert!(detail.contains(&format!("\"{}\"", spellings[0])), "{spelling}: {detail}");
        }
        assert!(rows.iter().all(|r| r == &rows[0]), "{rows:?}");
        assert_eq!(rows[0].reason(), code, "{:?}", rows[0]);
    }
}

/// A fleet keeps the releases its spellings name for the graph last asked about: deciding it
/// against one graph, another, the first again, and a graph loaded after the others were
/// dropped gives each time what a copy of the fleet that never met another graph gives.
#[test]
fn a_fleet_decided_against_several_graphs_answers_for_each() {
    let manifest = |older: bool| {
        let first = if older {
            r#"{"version": "0.9", "models": ["m"], "artifact": {"key": "z", "sha256": "00000000000000000000000000000000000000000000000000000000000000ff"}}, "#
        } else {
            ""
        };
        let edge = if older { r#"{"from": "0.9", "to": "1.0"}, "# } else { "" };
        UpgradeGraph::from_json(&format!(
            r#"{{"format_version": 1, "releases": [{first}
              {{"version": "1.0", "models": ["m"], "artifact": {{"key": "a", "sha256": "00000000000000000000000000000000000000000000000000000000000000aa"}}}},
              {{"version": "2.0", "models": ["m"], "artifact": {{"key": "b", "sha256": "00000000000000000000000000000000000000000000000000000000000000bb"}}}}],
              "edges": [{edge}{{"from": "1.0", "to": "2.0"}}]}}"#
        ))
        .unwrap()
    };
    let fleet = Fleet::from_csv("id,model,line,version\nd1,m,l,0.9\nd2,m,l,1.0\nd3,m,l,2.0\n").unwrap();
    let at = t("2026-11-23T08:00:00Z");
    let decide = |graph: &UpgradeGraph, fleet: &Fleet| {
        Decider::new(graph, DecisionPolicy::default()).unwrap().decide_columns(fleet, at).into_rows()
    };
    let (a, b) = (manifest(false), manifest(true));
    let kinds = |rows: &[Decision]| rows.iter().map(Decision::reason).collect::<Vec<_>>();
    for graph in [&a, &b, &a, &b] {
        assert_eq!(decide(graph, &fleet), decide(graph, &fleet.clone()));
    }
    assert_eq!(kinds(&decide(&a, &fleet)), ["unknown_version", "next_hop", "at_target"]);
    assert_eq!(kinds(&decide(&b, &fleet)), ["next_hop", "next_hop", "at_target"]);
    drop((a, b));
    let c = manifest(true);
    assert_eq!(kinds(&decide(&c, &fleet)), ["next_hop", "next_hop", "at_target"]);
}

/// A batch's versions are its decider's releases, one list every batch of the decider shares,
/// then versions no release is; columns made from rows (no graph) list only those, each once,
/// in order of first use.
#[test]
fn columns_index_the_releases_then_the_others() {
    let csv = "id,model,line,version\nd1,IPM-1,l1,5.6.30\nd2,IPM-1,l1,5.6.14\nd3,IPM-1,l2,v5.6.14\n";
    let fleet = Fleet::from_csv(csv).unwrap();
    let at = t("2026-11-23T08:00:00Z");
    let graph = graph();
    let decider = Decider::new(&graph, DecisionPolicy::default()).unwrap();
    let columns = decider.decide_columns(&fleet, at);
    let releases: Vec<&str> = graph.releases().iter().map(|r| r.version().as_str()).collect();
    let listed: Vec<&str> = columns.versions.iter().map(fleetpath::Version::as_str).collect();
    assert_eq!(listed, releases);
    assert!(columns.versions.others().is_empty());
    let node = |v: &str| u32::try_from(releases.iter().position(|r| *r == v).unwrap()).unwrap();
    assert_eq!(columns.next, [node("6.15.008"), node("5.6.30"), node("5.6.30")]);
    assert!(Arc::ptr_eq(columns.versions.releases(), decider.decide_columns(&fleet, at).versions.releases()));

    let rows = DecisionColumns::from_rows(decider.decide_fleet(&fleet, at));
    assert!(rows.versions.releases().is_empty());
    let others: Vec<&str> = rows.versions.others().iter().map(fleetpath::Version::as_str).collect();
    assert_eq!(others, ["6.15.008", "5.6.30"]);
    assert_eq!(rows.next, [0, 1, 1]);
    assert_eq!(rows.versions[1].as_str(), "5.6.30");
    assert_eq!((rows.versions.get(2), rows.versions.len()), (None, 2));
    assert_eq!(fleetpath::Version::lines(rows.versions.iter()), "6.15.008\n5.6.30");
}
