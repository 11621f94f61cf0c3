//! The seed plant's health gate after the canary stage, on simulated metrics.
//!
//! ```text
//! cargo run --example health_gate
//! ```
//!
//! Plans the canary stage for the 340 devices of `examples/data/plant-340.csv` (one device per
//! line, 17 in all), simulates 7 days of metrics before each canary's update and 24 hours
//! after it (8 metrics a minute, `examples/sim`, seeded), and plays the host's Lambda: one
//! health state summarised from the 7-day baseline, then a run every 5 minutes that reads the
//! state back from JSON, adds the last 5 minutes of samples, evaluates the seed's rules and
//! writes the state again.
//!
//! Twice: with healthy firmware, and with firmware that leaks memory (1.5 % an hour) on one
//! device and runs 12 % slower on a line. Prints when each problem was first found and
//! both reports.
//!
//! `cargo run --release --example health_gate -- --false-alarms N` instead runs the healthy
//! firmware under N seeds and counts the verdicts (a healthy canary should pass).

#[path = "common/mod.rs"]
mod common;

#[path = "sim/mod.rs"]
mod sim;

use std::process::ExitCode;

use fleetpath::health::{CohortDevice, HealthPolicy, HealthReport, HealthState, Outcome, Scope};
use fleetpath::{Fleet, RolloutPolicy, UpgradeGraph, Version, plan_rollout};
use jiff::Timestamp;
use sim::{Faults, Plant, SimDevice};

fn main() -> ExitCode {
    common::exit(run())
}

/// The canary update starts in the 2nd shift, Tue 24 Nov 2026 15:00 CET; devices finish
/// two minutes apart.
const START: i64 = 1_795_528_800;

fn run() -> Result<(), String> {
    let graph = UpgradeGraph::from_json(&common::read("seed-ip-module.json")?).map_err(|e| e.to_string())?;
    let fleet = Fleet::from_csv(&common::read("plant-340.csv")?).map_err(|e| e.to_string())?;
    let target = Version::parse("6.15.008").map_err(|e| e.to_string())?;
    let plan =
        plan_rollout(&graph, &fleet, &target, &RolloutPolicy::default(), "seed-2026-11").map_err(|e| e.to_string())?;
    let canary = plan.stages.first().ok_or("the plan has no stages")?;
    let devices: Vec<SimDevice> = canary
        .devices
        .iter()
        .zip(0..)
        .map(|(d, i)| SimDevice {
            id: d.id.to_string(),
            line: fleet.get(d.id).map(|f| f.line.to_string()).unwrap_or_default(),
            updated_at: START + 120 * i,
        })
        .collect();
    let last_update = devices.iter().map(|d| d.updated_at).max().unwrap_or(START);
    println!("== canary: {} devices, one per line; updated {} to {}", devices.len(), ts(START)?, ts(last_update)?);

    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, n] = args.as_slice() {
        if flag != "--false-alarms" {
            return Err(format!("unknown option {flag}; usage: health_gate [--false-alarms N]"));
        }
        let n: u64 = n.parse().map_err(|_| format!("--false-alarms needs a count, not {n:?}"))?;
        let mut counts = std::collections::BTreeMap::new();
        for seed in 0..n {
            let plant = Plant { seed: 10_000 + seed, devices: devices.clone(), faults: Faults::default() };
            let report = gate(&plant, last_update, true)?;
            *counts.entry(format!("{:?}", report.status)).or_insert(0) += 1;
            if report.status != fleetpath::health::HealthStatus::Healthy {
                println!("   seed {}: {}", 10_000 + seed, report.summary);
            }
        }
        println!("== healthy firmware under {n} seeds: {counts:?}");
        return Ok(());
    }

    let leaky = devices.get(4).map(|d| d.id.clone()).unwrap_or_default();
    let slow = devices.get(6).map(|d| d.line.clone()).unwrap_or_default();
    let scenarios = [
        ("healthy firmware".to_owned(), Faults::default()),
        (
            format!("memory leak (1.5 %/h) on {leaky}, cycle time +12 % on line {slow}"),
            Faults { leak: Some((vec![leaky.clone()], 0.015)), slow_line: Some((slow.clone(), 1.12)) },
        ),
    ];
    for (seed, (name, faults)) in (2026u64..).zip(scenarios) {
        println!("\n== scenario: {name}");
        let plant = Plant { seed, devices: devices.clone(), faults };
        let report = gate(&plant, last_update, false)?;
        print_report(&report);
        println!("   -> rollout event: {}", serde_json::to_string(&report.event("canary")).map_err(|e| e.to_string())?);
    }
    Ok(())
}

fn ts(seconds: i64) -> Result<Timestamp, String> {
    Timestamp::from_second(seconds).map_err(|e| e.to_string())
}

/// Plays the Lambda: baseline once, then a run every 5 minutes for 24 h after the last
/// update, printing when each breach is first found. Returns the last report.
#[allow(clippy::cast_precision_loss)]
fn gate(plant: &Plant, last_update: i64, quiet: bool) -> Result<HealthReport, String> {
    let policy = HealthPolicy::default();
    let mut state = HealthState::new(&policy).map_err(|e| e.to_string())?;
    for d in &plant.devices {
        state
            .add_device(CohortDevice { id: d.id.clone(), line: d.line.clone(), updated_at: ts(d.updated_at)? })
            .map_err(|e| e.to_string())?;
    }
    let first = plant.devices.iter().map(|d| d.updated_at).min().unwrap_or(last_update) / 60;
    let mut counters = vec![(-1.0, -1.0); plant.devices.len()];
    let baseline = plant.batch(first - 7 * 24 * 60, first, &mut counters);
    let ingested = state.ingest(&baseline).map_err(|e| e.to_string())?;
    if !quiet {
        println!(
            "   baseline: {} rows x {} metrics ({} values) in one batch",
            ingested.rows,
            sim::METRICS.len(),
            ingested.rows * sim::METRICS.len() as u64
        );
    }

    let mut saved = serde_json::to_string(&state).map_err(|e| e.to_string())?;
    let end = last_update / 60 + 24 * 60;
    let (mut minute, mut runs) = (first, 0);
    let mut seen = Vec::new();
    let mut last = None;
    while minute < end {
        let to = (minute + 5).min(end);
        // One Lambda run: read the state, add 5 minutes, judge, write it back.
        let mut state = HealthState::from_json(&saved).map_err(|e| e.to_string())?;
        state.ingest(&plant.batch(minute, to, &mut counters)).map_err(|e| e.to_string())?;
        let report = state.evaluate(&policy, ts(to * 60)?).map_err(|e| e.to_string())?;
        saved = serde_json::to_string(&state).map_err(|e| e.to_string())?;
        runs += 1;
        for f in report.problem_findings().filter(|f| f.outcome == Outcome::Breach) {
            let key = (f.rule.clone(), f.scope.clone());
            if !seen.contains(&key) && !quiet {
                println!(
                    "   run {runs:>3}, {:>5.2} h after the last update: {} breaches on {}",
                    (to * 60 - last_update) as f64 / 3600.0,
                    f.rule,
                    f.scope
                );
                seen.push(key);
            }
        }
        last = Some(report);
        minute = to;
    }
    if !quiet {
        println!("   {runs} runs of 5 minutes; state between runs: {} KB of JSON", saved.len() / 1024);
    }
    // The last report holds every problem found (a host halts at the first breach; the
    // simulation goes on to show when each one would have been found).
    last.ok_or_else(|| "no run".to_owned())
}

fn print_report(report: &HealthReport) {
    println!("   report at {}: {}", report.evaluated_at, report.summary);
    let mut passing_lines = 0;
    for f in &report.findings {
        let line_pass = matches!(f.scope, Scope::Line(_)) && f.outcome == Outcome::Pass;
        if line_pass {
            passing_lines += 1;
            continue;
        }
        let tag = match f.outcome {
            Outcome::Pass => "pass",
            Outcome::Breach => "BREACH",
            Outcome::Inconclusive { .. } => "inconclusive",
        };
        println!("     [{tag}] {}", f.message);
        if f.outcome != Outcome::Pass {
            for c in &f.top_devices {
                println!("         {} ({}): {:.1} -> {:.1}", c.device, c.line, c.baseline, c.observed);
            }
        }
    }
    println!("     (+{passing_lines} per-line findings, all pass)");
}
