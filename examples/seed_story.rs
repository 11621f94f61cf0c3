//! Both field reports, end to end, on bundled data: the main demo.
//!
//! ```text
//! cargo run --release --example seed_story
//! ```
//!
//! The plant of `examples/data/plant-340.csv` (340 IP modules on 17 lines; 269 still on the
//! TURN firmware 5.6.14, 71 on the bridge 5.6.30) and the upgrade graph of
//! `examples/data/seed-story.json`. The bridge's binary sits in Glacier (a lifecycle rule
//! moved it). Simulated time moves in 5-minute steps through two rollouts:
//!
//! 1. **6.15.007**: the prefetch planner restores the bridge before the canary's window;
//!    canary devices on 5.6.14 take the bridge first, then 6.15.007. The firmware leaks
//!    memory: the health gate breaches during the 24-hour monitoring, the rollout halts and
//!    every canary device rolls back (to 5.6.30: 5.6.14 cannot read the v6 shadow documents,
//!    so devices that came from it stop at the bridge).
//! 2. **6.15.008** (the respin, with 6.15.007 now blocked): canary in the 2nd shift, early in
//!    the 3rd, production in the Saturday maintenance window, each stage passing its health
//!    gate; the whole plant ends on 6.15.008.
//!
//! Every device decision goes through [`Decider`], artifacts through a [`MemoryStore`] with
//! the restore times AWS documents, health through the health module on simulated metrics
//! (`examples/sim`). The output is the timeline, in the plant's local time.
//!
//! `--snapshot DIR` also writes the moment the canary's health gate breaches (rollout 1) as
//! the files a dashboard loads: `rollout.json` (the rollout's state, halted, rolling back),
//! `health.json` (the canary's health state: its 7-day baseline and the hours since),
//! `fleet.csv` (what each device runs then) and `story.json` (the instant and the target).
//! `examples/dashboard/data/` is this snapshot; the test command checks it is current.

#[path = "common/mod.rs"]
mod common;

#[path = "sim/mod.rs"]
mod sim;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fleetpath::decision::{Decider, Decision, DecisionPolicy, DeviceRequest};
use fleetpath::health::{CohortDevice, HealthPolicy, HealthState, HealthStatus};
use fleetpath::prefetch::{PrefetchAction, PrefetchPolicy, plan_prefetch};
use fleetpath::rollback::plan_rollback;
use fleetpath::{
    Action, ArtifactStore, Availability, Calendar, Device, Event, Fleet, MemoryStore, RestoreTimes, RetryState,
    Rollout, RolloutPolicy, StorageClass, UpgradeGraph, Version, graph::ReleaseStatus, plan_rollout,
    rollout::DeviceOutcome, rollout::DeviceStatus, rollout::RolloutStatus, rollout::StagePhase,
};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use sim::{Faults, Plant, SimDevice};

const BRIDGE_KEY: &str = "firmware/ip-module/5.6.30.bin";
const STEP: SignedDuration = SignedDuration::from_mins(5);
const INSTALL: SignedDuration = SignedDuration::from_mins(10);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let snapshot = match args.as_slice() {
        [] => None,
        [flag, dir] if flag == "--snapshot" => Some(PathBuf::from(dir)),
        _ => return common::exit(Err("usage: seed_story [--snapshot DIR]".to_owned())),
    };
    common::exit(run(snapshot.as_deref()))
}

/// The plant: what each device runs, and the world around it.
struct World {
    graph: UpgradeGraph,
    calendar: Calendar,
    store: MemoryStore,
    devices: Vec<Device>,
    zone: TimeZone,
}

/// A device's side of the simulation.
#[derive(Default)]
struct DeviceSim {
    installing: Option<(Timestamp, Version)>,
    next_ask: Option<Timestamp>,
    retry: RetryState,
    finished: Option<Timestamp>,
}

/// The health gate of one stage: its state, fed hourly with simulated metrics.
struct Gate {
    stage: String,
    state: HealthState,
    plant: Plant,
    counters: Vec<(f64, f64)>,
    minute: i64,
    breach_seen: bool,
}

impl World {
    fn local(&self, t: Timestamp) -> String {
        t.to_zoned_datetime(self.zone.clone()).strftime("%a %d %b %H:%M").to_string()
    }

    fn say(&self, t: Timestamp, what: &str) {
        println!("{}  {what}", self.local(t));
    }

    fn fleet(&self) -> Result<Fleet, String> {
        Fleet::new(self.devices.clone()).map_err(|e| e.to_string())
    }

    fn version_counts(&self) -> String {
        let mut counts: BTreeMap<Version, usize> = BTreeMap::new();
        for d in &self.devices {
            *counts.entry(d.version.clone()).or_default() += 1;
        }
        counts.iter().map(|(v, n)| format!("{n} on {v}")).collect::<Vec<_>>().join(", ")
    }

    /// Restores what the prefetch plan says is due; prints what it did.
    fn prefetch(&self, rollout: &Rollout, t: Timestamp) -> Result<(), String> {
        let plan = plan_prefetch(
            rollout,
            &self.graph,
            Some(&self.calendar),
            &self.store.snapshot(),
            &PrefetchPolicy::default(),
            t,
        );
        for item in plan.due() {
            match &item.action {
                PrefetchAction::Restore { tier, days, .. } | PrefetchAction::Late { tier, days, .. } => {
                    let state = common::block_on(self.store.request_restore(&item.artifact.key, *tier, *days))
                        .map_err(|e| e.to_string())?;
                    let ready = match state {
                        Availability::Restoring { ready_by, .. } => self.local(ready_by),
                        _ => "now".to_owned(),
                    };
                    self.say(
                        t,
                        &format!(
                            "prefetch: {} ({}) is in Glacier; {} stage needs it at {} -> restore requested, {tier:?} tier, ready {ready}",
                            item.artifact.key,
                            item.version,
                            item.stage,
                            self.local(item.needed_at),
                        ),
                    );
                }
                PrefetchAction::Missing => {
                    self.say(t, &format!("prefetch: {} is MISSING (operators paged)", item.artifact.key));
                }
                PrefetchAction::Check | PrefetchAction::Restoring { .. } => {}
            }
        }
        Ok(())
    }
}

fn run(snapshot: Option<&Path>) -> Result<(), String> {
    let graph = UpgradeGraph::from_json(&common::read("seed-story.json")?).map_err(|e| e.to_string())?;
    let calendar = Calendar::from_json(&common::read("plant-calendar.json")?).map_err(|e| e.to_string())?;
    let fleet = Fleet::from_csv(&common::read("plant-340.csv")?).map_err(|e| e.to_string())?;
    let start: Timestamp = "2026-11-30T06:00:00Z".parse().map_err(|e: jiff::Error| e.to_string())?;
    let store = MemoryStore::new(start, RestoreTimes::default());
    for release in graph.releases() {
        if let Some(a) = release.artifact() {
            store.insert(&a.key, Availability::Available { class: StorageClass::Standard });
        }
    }
    store.insert(BRIDGE_KEY, Availability::Archived { class: StorageClass::GlacierFlexibleRetrieval });
    let zone = TimeZone::get("Europe/Berlin").map_err(|e| e.to_string())?;
    let mut world = World { graph, calendar, store, devices: fleet.to_devices(), zone };

    println!("== fleetpath seed story: plant-a, 340 IP modules on 17 lines (times Europe/Berlin)");
    println!("   fleet: {}", world.version_counts());
    println!("   {BRIDGE_KEY} was moved to Glacier Flexible Retrieval by a lifecycle rule\n");

    println!("== rollout 1: 6.15.007");
    let leak = Faults { leak: Some((Vec::new(), 0.015)), slow_line: None };
    let status = rollout(&mut world, "6.15.007", "rollout-6.15.007", start, &leak, snapshot)?;
    if !matches!(status, RolloutStatus::Halted { .. }) {
        return Err(format!("rollout 1 should have halted, ended {status:?}"));
    }
    println!("   fleet: {}\n", world.version_counts());

    // The operators block the leaking release; the respin goes out two days later.
    let mut manifest = world.graph.to_manifest();
    for release in &mut manifest.releases {
        if release.version == "6.15.007" {
            release.status = ReleaseStatus::Blocked;
            release.reason = Some("memory leak found by the canary of rollout-6.15.007".to_owned());
        }
    }
    world.graph = UpgradeGraph::new(manifest).map_err(|e| e.to_string())?;
    println!("== rollout 2: 6.15.008 (6.15.007 now blocked in the manifest)");
    let start2: Timestamp = "2026-12-02T06:00:00Z".parse().map_err(|e: jiff::Error| e.to_string())?;
    let status = rollout(&mut world, "6.15.008", "rollout-6.15.008", start2, &Faults::default(), None)?;
    if status != RolloutStatus::Completed {
        return Err(format!("rollout 2 should have completed, ended {status:?}"));
    }
    println!("   fleet: {}", world.version_counts());
    println!("   restores requested from Glacier: {}", world.store.restores_requested());
    Ok(())
}

/// Runs one rollout to its end; returns how it ended.
#[allow(clippy::too_many_lines)]
fn rollout(
    world: &mut World,
    target: &str,
    id: &str,
    start: Timestamp,
    faults: &Faults,
    mut snapshot: Option<&Path>,
) -> Result<RolloutStatus, String> {
    let target = Version::parse(target).map_err(|e| e.to_string())?;
    let policy = RolloutPolicy::default();
    let fleet = world.fleet()?;
    let plan = plan_rollout(&world.graph, &fleet, &target, &policy, id).map_err(|e| e.to_string())?;
    let sizes: Vec<String> = plan.stages.iter().map(|s| format!("{} {}", s.name, s.devices.len())).collect();
    world.say(start, &format!("planned: {}", sizes.join(", ")));
    let mut state = Rollout::new(&plan, &fleet, &world.graph, &policy).map_err(|e| e.to_string())?;
    let mut sims: BTreeMap<String, DeviceSim> = BTreeMap::new();
    let mut gate: Option<Gate> = None;
    let decision_policy = DecisionPolicy::default();
    let mut t = start;
    world.store.set_now(t);
    world.prefetch(&state, t)?;
    let mut event = Event::Start { at: t };
    let deadline = start.checked_add(SignedDuration::from_hours(24 * 14)).map_err(|e| e.to_string())?;
    while t < deadline {
        let halted = matches!(state.status, RolloutStatus::Halted { .. });
        let actions = if halted {
            // Nothing more happens to a halted rollout; its devices finish their rollbacks.
            Vec::new()
        } else {
            let (next, actions) = state.apply(&event, Some(&world.calendar)).map_err(|e| e.to_string())?;
            state = next;
            actions
        };
        if let (Some(dir), Some(g)) = (snapshot, gate.as_ref().filter(|g| g.breach_seen)) {
            write_snapshot(dir, world, &state, g, &target.to_string(), t)?;
            snapshot = None;
        }
        for action in &actions {
            match action {
                Action::UpdateDevices { stage, devices } => {
                    world.say(t, &format!("{stage}: window open, {} devices start", devices.len()));
                    for d in devices {
                        sims.entry(d.clone()).or_default().next_ask = Some(t);
                    }
                }
                Action::Promote { from, to } => world.say(t, &format!("{from} passed -> {to} waits for its window")),
                Action::RollBack { devices } => {
                    world.say(t, &format!("ROLLBACK of {} devices", devices.len()));
                    let plan = plan_rollback(&world.graph, &state);
                    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
                    for d in &plan.devices {
                        let to = d.outcome.route().map_or_else(|| "-".to_owned(), |r| r.to.to_string());
                        let kind = serde_json::to_value(&d.outcome)
                            .ok()
                            .and_then(|v| v["outcome"].as_str().map(str::to_owned));
                        *outcomes.entry(format!("{} to {to}", kind.unwrap_or_default())).or_default() += 1;
                        sims.entry(d.device.clone()).or_default().next_ask = Some(t);
                    }
                    for (what, n) in outcomes {
                        world.say(t, &format!("  rollback plan: {n} x {what}"));
                    }
                    if let Some(d) = plan.devices.iter().find_map(|d| match &d.outcome {
                        fleetpath::rollback::RollbackOutcome::Partial { refused, .. } => Some(refused),
                        _ => None,
                    }) {
                        world.say(t, &format!("  partial because: {}", d.message));
                    }
                }
                Action::Halt { reason } => {
                    let why = match reason {
                        fleetpath::rollout::HaltReason::Breach { stage, .. } => format!("health breach in {stage}"),
                        other => serde_json::to_string(other).unwrap_or_default(),
                    };
                    world.say(t, &format!("rollout HALTED ({why})"));
                }
                Action::Complete => world.say(t, "rollout complete"),
                Action::Notify { message } => world.say(t, &format!("note: {message}")),
                // Approvals, prefetch hints, waits, and actions of later versions: nothing to show.
                _ => {}
            }
        }
        let rolled_back_done = matches!(state.status, RolloutStatus::Halted { .. })
            && sims.values().all(|s| s.installing.is_none() && s.next_ask.is_none());
        if state.status == RolloutStatus::Completed || rolled_back_done {
            return Ok(state.status);
        }

        // The next step.
        t = t.checked_add(STEP).map_err(|e| e.to_string())?;
        world.store.set_now(t);
        if t.as_second() % 3600 == 0 {
            world.prefetch(&state, t)?;
        }

        // Devices: finish installs, then ask.
        let mut reports = Vec::new();
        let observed = world.store.snapshot();
        let decider = Decider::new(&world.graph, decision_policy.clone())
            .and_then(|d| d.with_rollout(state.clone(), Some(&world.calendar)))
            .map_err(|e| e.to_string())?
            .with_availability(observed);
        let mut told: BTreeMap<String, usize> = BTreeMap::new();
        for device in &mut world.devices {
            let Some(sim) = sims.get_mut(&device.id) else { continue };
            if let Some((done, version)) = sim.installing.clone() {
                if done > t {
                    continue;
                }
                device.version = version.clone();
                sim.installing = None;
                sim.next_ask = Some(t);
                let status = state.stages.iter().flat_map(|s| &s.devices).find(|d| d.id == device.id).map(|d| d.status);
                if status == Some(DeviceStatus::Updating) && state.status == RolloutStatus::Running {
                    reports.push(Event::DeviceReported {
                        at: t,
                        device: device.id.clone(),
                        outcome: DeviceOutcome::Succeeded { version },
                    });
                }
            }
            if sim.next_ask.is_none_or(|a| a > t) {
                continue;
            }
            let request = DeviceRequest {
                device: device.id.clone(),
                model: device.model.to_string(),
                version: device.version.clone(),
                at: t,
                retry: sim.retry,
                labels: Some(device.labels.clone()),
            };
            let decision = decider.decide(&request);
            let what = match &decision {
                Decision::Download { step, .. } => format!("download {}", step.to),
                Decision::RollBack { step, .. } => format!("roll back to {}", step.to),
                d => format!("{} ({})", d.kind(), d.reason()),
            };
            *told.entry(what).or_default() += 1;
            match decision {
                Decision::Download { step, .. } => {
                    sim.installing = Some((t.checked_add(INSTALL).map_err(|e| e.to_string())?, step.to.clone()));
                    sim.retry = RetryState::default();
                }
                Decision::RollBack { step, .. } => {
                    sim.installing = Some((t.checked_add(INSTALL).map_err(|e| e.to_string())?, step.to.clone()));
                }
                Decision::RetryAfter { at, retry, .. } => {
                    sim.next_ask = Some(at);
                    sim.retry = *retry;
                }
                Decision::UpToDate { .. } => {
                    sim.finished = Some(t);
                    sim.next_ask = None;
                }
                Decision::Wait { until, .. } => sim.next_ask = until,
                // Give-ups, blocked devices, and decisions of later versions: stop asking.
                _ => sim.next_ask = None,
            }
        }
        if !told.is_empty() {
            let mut line = String::from("devices told: ");
            for (i, (what, n)) in told.iter().enumerate() {
                let _ = write!(line, "{}{n} x {what}", if i > 0 { ", " } else { "" });
            }
            world.say(t, &line);
        }
        for report in reports {
            state = state.apply(&report, Some(&world.calendar)).map_err(|e| e.to_string())?.0;
        }

        // Health: a gate per stage in monitoring, fed and judged every hour.
        let current = &state.stages[state.current.min(state.stages.len() - 1)];
        if current.phase == StagePhase::Monitoring && gate.as_ref().is_none_or(|g| g.stage != current.name) {
            gate = Some(open_gate(&state, &sims, faults, t)?);
            world.say(t, &format!("{}: all updated; 24 h health monitoring against the 7-day baseline", current.name));
        }
        event = Event::Tick { at: t };
        let monitoring = (current.phase == StagePhase::Monitoring).then(|| current.name.clone());
        let due = t.as_second() % 3600 == 0 && state.status == RolloutStatus::Running;
        if let Some(g) = gate.as_mut().filter(|g| due && monitoring.as_ref() == Some(&g.stage)) {
            let minute = t.as_second() / 60;
            let batch = g.plant.batch(g.minute, minute, &mut g.counters);
            g.minute = minute;
            g.state.ingest(&batch).map_err(|e| e.to_string())?;
            let report = g.state.evaluate(&HealthPolicy::default(), t).map_err(|e| e.to_string())?;
            match report.status {
                HealthStatus::Breach if !g.breach_seen => {
                    g.breach_seen = true;
                    world.say(t, &format!("{}: HEALTH BREACH: {}", g.stage, report.summary));
                    let more = report.problem_findings().count().saturating_sub(1);
                    if more > 0 {
                        world.say(t, &format!("  ({more} more findings are not a pass)"));
                    }
                }
                HealthStatus::Healthy => world.say(t, &format!("{}: healthy ({})", g.stage, report.summary)),
                _ => {}
            }
            if report.status != HealthStatus::Inconclusive {
                event = report.event(&g.stage);
            }
        }
    }
    Err(format!("{id}: still running after 14 simulated days"))
}

/// Writes the dashboard's files (see the module's docs).
fn write_snapshot(
    dir: &Path,
    world: &World,
    state: &Rollout,
    gate: &Gate,
    target: &str,
    at: Timestamp,
) -> Result<(), String> {
    let write = |name: &str, text: String| {
        std::fs::write(dir.join(name), text + "\n").map_err(|e| format!("{}: {e}", dir.join(name).display()))
    };
    let json = |text: serde_json::Result<String>| text.map_err(|e| e.to_string());
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    write("rollout.json", json(serde_json::to_string_pretty(state))?)?;
    write("health.json", json(serde_json::to_string_pretty(&gate.state))?)?;
    write("fleet.csv", world.fleet()?.to_csv().trim_end().to_owned())?;
    let story = serde_json::json!({
        "at": at.to_string(),
        "target": target,
        "rollout": state.id,
        "stage": gate.stage,
        "zone": world.zone.iana_name(),
        "manifest": "seed-story.json",
        "calendar": "plant-calendar.json",
    });
    write("story.json", json(serde_json::to_string_pretty(&story))?)
}

/// The health gate for the stage now monitoring: its devices, a 7-day baseline before
/// each device's update, and the simulated plant from then on.
fn open_gate(
    state: &Rollout,
    sims: &BTreeMap<String, DeviceSim>,
    faults: &Faults,
    t: Timestamp,
) -> Result<Gate, String> {
    let monitored = &state.stages[state.current];
    let mut health = HealthState::new(&HealthPolicy::default()).map_err(|e| e.to_string())?;
    let mut devices = Vec::new();
    for d in &monitored.devices {
        let updated_at = sims.get(&d.id).and_then(|s| s.finished).unwrap_or(t);
        health
            .add_device(CohortDevice { id: d.id.clone(), line: d.line.clone(), updated_at })
            .map_err(|e| e.to_string())?;
        devices.push(SimDevice { id: d.id.clone(), line: d.line.clone(), updated_at: updated_at.as_second() });
    }
    let mut faults = faults.clone();
    if let Some((ids, _)) = faults.leak.as_mut() {
        // The leak is in the firmware: every device of the stage has it.
        *ids = devices.iter().map(|d| d.id.clone()).collect();
    }
    let seed = 2026 + state.current as u64;
    let plant = Plant { seed, devices, faults };
    let first = plant.devices.iter().map(|d| d.updated_at).min().unwrap_or(t.as_second()) / 60;
    let mut counters = vec![(-1.0, -1.0); plant.devices.len()];
    let baseline = plant.batch(first - 7 * 24 * 60, first, &mut counters);
    health.ingest(&baseline).map_err(|e| e.to_string())?;
    Ok(Gate { stage: monitored.name.clone(), state: health, plant, counters, minute: first, breach_seen: false })
}
