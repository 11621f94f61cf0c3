//! The seed plant's rollout, planned and walked through on simulated time.
//!
//! ```text
//! cargo run --example plant_rollout
//! ```
//!
//! Plans 6.15.008 for the 340 IP modules of `examples/data/plant-340.csv` (17 production
//! lines), prints each stage per line with its next window in local and UTC time, then plays
//! the host: it feeds the rollout state machine ticks, device reports (each hop takes 20
//! minutes; modules on 5.6.14 take the bridge 5.6.30 first) and healthy verdicts at the end of
//! each 24-hour monitoring window, and prints the timeline until the rollout completes.

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::process::ExitCode;

use fleetpath::{
    Action, Calendar, Event, Fleet, Rollout, RolloutPolicy, UpgradeGraph, Version, plan_rollout,
    rollout::DeviceOutcome, rollout::RolloutStatus, rollout::Verdict,
};
use jiff::{SignedDuration, Timestamp, tz::TimeZone};

fn main() -> ExitCode {
    common::exit(run())
}

fn local(t: Timestamp, zone: &TimeZone) -> String {
    let zoned = t.to_zoned_datetime(zone.clone());
    format!("{} ({}Z)", zoned.strftime("%a %d %b %H:%M %Z"), t.strftime("%H:%M"))
}

#[allow(clippy::too_many_lines)]
fn run() -> Result<(), String> {
    let graph = UpgradeGraph::from_json(&common::read("seed-ip-module.json")?).map_err(|e| e.to_string())?;
    let fleet = Fleet::from_csv(&common::read("plant-340.csv")?).map_err(|e| e.to_string())?;
    fleet.check_against(&graph).map_err(|e| e.to_string())?;
    let calendar = Calendar::from_json(&common::read("plant-calendar.json")?).map_err(|e| e.to_string())?;
    let zone = TimeZone::get("Europe/Berlin").map_err(|e| e.to_string())?;
    let target = Version::parse("6.15.008").map_err(|e| e.to_string())?;
    let policy = RolloutPolicy::default();
    let plan = plan_rollout(&graph, &fleet, &target, &policy, "seed-2026-11").map_err(|e| e.to_string())?;

    println!("== plan: {} devices on {} lines to {target}", fleet.len(), fleet.lines().len());
    for stage in &plan.stages {
        let two_hops = stage.devices.iter().filter(|d| d.hops == 2).count();
        println!("   {:<10} {:>3} devices ({two_hops} take the bridge 5.6.30 first)", stage.name, stage.devices.len());
    }
    println!("   up to date: {}, excluded: {}", plan.up_to_date.len(), plan.excluded.len());

    let start: Timestamp = "2026-11-23T07:00:00Z".parse().map_err(|e: jiff::Error| e.to_string())?;
    println!("\n== per line, and the next window of each stage after {}", local(start, &zone));
    println!("   {:<11} {:>4} {:>7} {:>6} {:>11}", "line", "size", "canary", "early", "production");
    for (line, size) in fleet.lines() {
        let count = |k: usize| plan.stages[k].lines.get(line).copied().unwrap_or(0);
        println!("   {line:<11} {size:>4} {:>7} {:>6} {:>11}", count(0), count(1), count(2));
    }
    for stage in &plan.stages {
        let window = calendar
            .next_window("plant-a", "press-1", &stage.name, start)
            .map_err(|e| e.to_string())?
            .ok_or(format!("no window for {}", stage.name))?;
        println!("   {:<10} opens {}  closes {}", stage.name, local(window.start, &zone), local(window.end, &zone));
    }

    println!("\n== the rollout, as the host sees it");
    let mut state = Rollout::new(&plan, &fleet, &graph, &policy).map_err(|e| e.to_string())?;
    // The host's queue of future events: ticks it was asked for, device reports, verdicts.
    let mut queue: BTreeMap<(Timestamp, u64), Event> = BTreeMap::new();
    let mut seq = 0u64;
    let mut push = |queue: &mut BTreeMap<(Timestamp, u64), Event>, event: Event| {
        let at = match &event {
            Event::Tick { at } | Event::DeviceReported { at, .. } | Event::HealthVerdict { at, .. } => *at,
            _ => start,
        };
        seq += 1;
        queue.insert((at, seq), event);
    };
    push(&mut queue, Event::Start { at: start });
    let hop = SignedDuration::from_mins(20);
    let mut printed_reports: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(((at, _), event)) = queue.pop_first() {
        let (next, actions) = state.apply(&event, Some(&calendar)).map_err(|e| format!("{event:?}: {e}"))?;
        state = next;
        for action in actions {
            match action {
                Action::Prefetch { stage, artifacts } => {
                    let keys: Vec<&str> = artifacts.iter().map(|a| a.key.as_str()).collect();
                    println!("{}  {stage}: prefetch {}", local(at, &zone), keys.join(", "));
                }
                Action::UpdateDevices { stage, devices } => {
                    let first_hop = devices.iter().filter(|d| !printed_reports.contains_key(*d)).count();
                    if first_hop > 0 {
                        println!("{}  {stage}: {first_hop} devices start updating", local(at, &zone));
                    }
                    for device in devices {
                        let hops = printed_reports.entry(device.clone()).or_insert(0);
                        *hops += 1;
                        let current = &fleet.get(&device).ok_or("unknown device")?.version;
                        // 5.6.14 reaches the bridge on its first hop, everything else the target.
                        let reached = if current.to_string() == "5.6.14" && *hops == 1 {
                            Version::parse("5.6.30").map_err(|e| e.to_string())?
                        } else {
                            target.clone()
                        };
                        let when = at.checked_add(hop).map_err(|e| e.to_string())?;
                        push(
                            &mut queue,
                            Event::DeviceReported {
                                at: when,
                                device,
                                outcome: DeviceOutcome::Succeeded { version: reached },
                            },
                        );
                    }
                }
                Action::WaitUntil { at: when, reason } => {
                    if reason.ends_with("monitoring ends") {
                        let stage_name = reason.trim_end_matches(" monitoring ends").to_owned();
                        println!(
                            "{}  {stage_name}: all updated; monitoring until {}",
                            local(at, &zone),
                            local(when, &zone)
                        );
                        // The health gate runs at the end of the window and finds it healthy.
                        let since = when.checked_sub(SignedDuration::from_hours(24)).map_err(|e| e.to_string())?;
                        push(
                            &mut queue,
                            Event::HealthVerdict {
                                at: when,
                                stage: stage_name,
                                verdict: Verdict::Healthy,
                                from: since,
                                to: when,
                            },
                        );
                    } else if reason.ends_with("window opens") {
                        println!("{}  {reason} at {}", local(at, &zone), local(when, &zone));
                        push(&mut queue, Event::Tick { at: when });
                    } else {
                        push(&mut queue, Event::Tick { at: when });
                    }
                }
                Action::Promote { from, to } => println!("{}  {from} passed: promote to {to}", local(at, &zone)),
                Action::Complete => println!("{}  rollout complete", local(at, &zone)),
                Action::RequestApproval { stage } => println!("{}  {stage}: waiting for approval", local(at, &zone)),
                Action::RollBack { devices } => println!("{}  roll back {} devices", local(at, &zone), devices.len()),
                Action::Halt { reason } => println!("{}  halted: {reason:?}", local(at, &zone)),
                Action::Notify { message } => println!("{}  {message}", local(at, &zone)),
                other => println!("{}  {other:?}", local(at, &zone)),
            }
        }
        if matches!(state.status, RolloutStatus::Completed | RolloutStatus::Halted { .. }) {
            break;
        }
    }
    let on_target = state.stages.iter().flat_map(|s| &s.devices).filter(|d| d.version == target).count();
    println!("\n{on_target} of {} devices run {target}; state revision {}", fleet.len(), state.revision);
    if state.status != RolloutStatus::Completed {
        return Err(format!("the rollout did not complete: {:?}", state.status));
    }
    Ok(())
}
