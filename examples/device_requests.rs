//! A day of device requests against a rollout in progress, with the bridge's binary in
//! Glacier at the start.
//!
//! ```text
//! cargo run --release --example device_requests
//! ```
//!
//! The seed plant (`examples/data/plant-340.csv`) rolls out 6.15.008 from Monday 30 Nov 2026,
//! 07:00 local. Every device asks once an hour (at its own minute), plays the host's Lambda:
//! one [`Decider`] per request batch, over the rollout state, the calendar and what the store
//! says about each artifact. Prints the prefetch plan at the start, then per hour what the
//! devices were told.
//!
//! The host here does **not** carry out the prefetch plan, to show what happens without it
//! (the field report's failure): the canary devices that need the bridge are told to retry
//! after the restore the decision asks for (5 hours for a Standard restore), their updates
//! time out after the policy's 2 hours, the abort rule halts the rollout and the devices
//! touched are rolled back. `seed_story` shows the prefetched run, which goes through.

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::process::ExitCode;

use fleetpath::decision::{Decider, Decision, DecisionPolicy, DeviceRequest, HostAction};
use fleetpath::prefetch::{PrefetchPolicy, plan_prefetch};
use fleetpath::{
    ArtifactStore, Availability, Calendar, Event, Fleet, MemoryStore, RestoreTimes, RetryState, Rollout, RolloutPolicy,
    StorageClass, UpgradeGraph, Version, plan_rollout, rollout::DeviceOutcome, rollout::DeviceStatus,
    rollout::RolloutStatus,
};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Prints what the rollout did that operators should see.
fn announce(actions: &[fleetpath::Action], when: &str) {
    for action in actions {
        match action {
            fleetpath::Action::UpdateDevices { stage, devices } => {
                println!("   {when}  rollout: {} devices of {stage} may update now", devices.len());
            }
            fleetpath::Action::Halt { reason } => {
                println!("   {when}  rollout HALTED: {}", serde_json::to_string(reason).unwrap_or_default());
            }
            fleetpath::Action::RollBack { devices } => {
                println!("   {when}  rollout: roll back {} devices", devices.len());
            }
            _ => {}
        }
    }
}

fn main() -> ExitCode {
    common::exit(run())
}

#[allow(clippy::too_many_lines)] // one replay loop, read top to bottom
fn run() -> Result<(), String> {
    let graph = UpgradeGraph::from_json(&common::read("seed-story.json")?).map_err(|e| e.to_string())?;
    let calendar = Calendar::from_json(&common::read("plant-calendar.json")?).map_err(|e| e.to_string())?;
    let mut fleet_devices = Fleet::from_csv(&common::read("plant-340.csv")?).map_err(|e| e.to_string())?.to_devices();
    let zone = TimeZone::get("Europe/Berlin").map_err(|e| e.to_string())?;
    let local = |t: Timestamp| t.to_zoned_datetime(zone.clone()).strftime("%a %H:%M").to_string();
    let start: Timestamp = "2026-11-30T06:00:00Z".parse().map_err(|e: jiff::Error| e.to_string())?;
    let store = MemoryStore::new(start, RestoreTimes::default());
    for release in graph.releases() {
        if let Some(a) = release.artifact() {
            store.insert(&a.key, Availability::Available { class: StorageClass::Standard });
        }
    }
    store.insert(
        "firmware/ip-module/5.6.30.bin",
        Availability::Archived { class: StorageClass::GlacierFlexibleRetrieval },
    );

    let target = Version::parse("6.15.008").map_err(|e| e.to_string())?;
    let policy = RolloutPolicy::default();
    let fleet = Fleet::new(fleet_devices.clone()).map_err(|e| e.to_string())?;
    let plan = plan_rollout(&graph, &fleet, &target, &policy, "rollout-6.15.008").map_err(|e| e.to_string())?;
    let mut rollout = Rollout::new(&plan, &fleet, &graph, &policy).map_err(|e| e.to_string())?;
    rollout = rollout.apply(&Event::Start { at: start }, Some(&calendar)).map_err(|e| e.to_string())?.0;

    println!("== prefetch plan at {} (not carried out in this replay)", local(start));
    let prefetch =
        plan_prefetch(&rollout, &graph, Some(&calendar), &store.snapshot(), &PrefetchPolicy::default(), start);
    for (stage, t) in &prefetch.stages {
        println!("   {stage} can start at {}", local(*t));
    }
    for item in &prefetch.items {
        println!(
            "   {} ({:?} for {}): {}",
            item.artifact.key,
            item.purpose,
            item.stage,
            serde_json::to_string(&item.action).map_err(|e| e.to_string())?
        );
    }
    println!("   {} needed artifacts already downloadable", prefetch.ready);

    println!("\n== a day of requests: each of the 340 devices asks once an hour");
    let minute_of = |id: &str| i64::try_from(xxhash_rust::xxh3::xxh3_64(id.as_bytes()) % 60).unwrap_or(0);
    let mut installing: BTreeMap<String, (Timestamp, Version)> = BTreeMap::new();
    let mut retry: BTreeMap<String, (Timestamp, RetryState)> = BTreeMap::new();
    let mut hour: BTreeMap<String, usize> = BTreeMap::new();
    let step = SignedDuration::from_mins(5);
    let mut t = start;
    for _ in 0..24 * 12 {
        t = t.checked_add(step).map_err(|e| e.to_string())?;
        store.set_now(t);
        let live = matches!(rollout.status, RolloutStatus::Running);
        if live {
            let (next, actions) = rollout.apply(&Event::Tick { at: t }, Some(&calendar)).map_err(|e| e.to_string())?;
            rollout = next;
            announce(&actions, &local(t));
        }
        let observed = store.snapshot();
        let decider = Decider::new(&graph, DecisionPolicy::default())
            .and_then(|d| d.with_rollout(rollout.clone(), Some(&calendar)))
            .map_err(|e| e.to_string())?
            .with_availability(observed.clone());
        let slot = t.as_second() / 60 % 60;
        let mut reports = Vec::new();
        for device in &mut fleet_devices {
            if let Some((done, version)) = installing.get(&device.id).cloned() {
                if done > t {
                    continue;
                }
                installing.remove(&device.id);
                device.version = version.clone();
                reports.push(Event::DeviceReported {
                    at: t,
                    device: device.id.clone(),
                    outcome: DeviceOutcome::Succeeded { version },
                });
                continue;
            }
            let due_retry = retry.get(&device.id).is_some_and(|(at, _)| *at <= t);
            let my_slot =
                (slot - 5..slot).contains(&minute_of(&device.id)) || (slot == 0 && minute_of(&device.id) >= 55);
            if !due_retry && !my_slot {
                continue;
            }
            let state = retry.get(&device.id).map(|(_, s)| *s).unwrap_or_default();
            let request = DeviceRequest {
                device: device.id.clone(),
                model: device.model.to_string(),
                version: device.version.clone(),
                at: t,
                retry: state,
                labels: Some(device.labels.clone()),
            };
            let decision = decider.decide(&request);
            *hour.entry(format!("{}:{}", decision.kind(), decision.reason())).or_default() += 1;
            match decision {
                Decision::Download { step, .. } => {
                    retry.remove(&device.id);
                    installing.insert(
                        device.id.clone(),
                        (t.checked_add(SignedDuration::from_mins(10)).map_err(|e| e.to_string())?, step.to.clone()),
                    );
                }
                Decision::RollBack { step, .. } => {
                    retry.remove(&device.id);
                    installing.insert(
                        device.id.clone(),
                        (t.checked_add(SignedDuration::from_mins(10)).map_err(|e| e.to_string())?, step.to.clone()),
                    );
                }
                Decision::RetryAfter { at, retry: state, host_action, .. } => {
                    if let Some(HostAction::RequestRestore { key, tier, days, .. }) = host_action.map(|action| *action)
                        && !matches!(observed.get(&key), Some(Availability::Restoring { .. }))
                        && store.restores_requested() == 0
                    {
                        common::block_on(store.request_restore(&key, tier, days)).map_err(|e| e.to_string())?;
                        println!(
                            "   {}  {} asked for {key}: archived -> the host requests a {tier:?} restore",
                            local(t),
                            device.id
                        );
                    }
                    retry.insert(device.id.clone(), (at, *state));
                }
                _ => {
                    retry.remove(&device.id);
                }
            }
        }
        for report in reports {
            let updating = rollout.stages.iter().flat_map(|s| &s.devices).any(|d| {
                matches!(&report, Event::DeviceReported { device, .. } if *device == d.id)
                    && d.status == DeviceStatus::Updating
            });
            if updating && matches!(rollout.status, RolloutStatus::Running) {
                let (next, actions) = rollout.apply(&report, Some(&calendar)).map_err(|e| e.to_string())?;
                rollout = next;
                announce(&actions, &local(t));
            }
        }
        if t.as_second() % 3600 == 0 {
            let told: Vec<String> = hour.iter().map(|(k, n)| format!("{n} {k}")).collect();
            println!("{}  {}", local(t), told.join(", "));
            hour.clear();
        }
    }
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for d in &fleet_devices {
        *counts.entry(d.version.to_string()).or_default() += 1;
    }
    println!("\n== after the day: {counts:?}; canary phase {:?}", rollout.stages[0].phase);
    Ok(())
}
