//! Health rules at, just under and just over their thresholds; crashes; thin data; zero
//! baselines; counter resets; leak detection and its false-positive rate.

#![allow(clippy::cast_precision_loss, clippy::float_cmp, clippy::cast_possible_truncation, clippy::cast_sign_loss)]

use fleetpath::health::{
    Change, CohortDevice, HealthPolicy, HealthReport, HealthState, HealthStatus, InconclusiveReason, MetricKind,
    MetricSpec, Outcome, Rule, SampleBatch, Scope, ScopeKind, Statistic,
};
use fleetpath::{Event, rollout::Verdict};
use jiff::Timestamp;

const T0: i64 = 1_795_000_000; // the update, unix seconds

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap()
}

/// Approximately standard normal, from 12 XXH3 uniforms (Irwin-Hall): no `ln`, the same
/// everywhere.
fn noise(seed: u64, device: &str, i: i64) -> f64 {
    let mut s = 0.0;
    for k in 0..12u64 {
        let h =
            xxhash_rust::xxh3::xxh3_64_with_seed(device.as_bytes(), seed ^ (i as u64).wrapping_mul(0x9E37) ^ (k << 56));
        s += (h >> 11) as f64 / (1u64 << 53) as f64;
    }
    s - 6.0
}

fn policy(rules: Vec<Rule>) -> HealthPolicy {
    HealthPolicy { rules, scopes: vec![ScopeKind::Stage], ..HealthPolicy::default() }
}

fn seed_rule(name: &str) -> Rule {
    Rule::seed_defaults().into_iter().find(|r| r.name() == name).unwrap()
}

/// One device per (id, line), updated at `T0`, fed `f(device, minute)` for every minute in
/// `minutes` (relative to the update).
fn run(
    policy: &HealthPolicy,
    devices: &[(&str, &str)],
    metrics: &[&str],
    minutes: std::ops::Range<i64>,
    f: impl Fn(&str, i64) -> Vec<f64>,
) -> HealthState {
    let mut state = HealthState::new(policy).unwrap();
    for (id, line) in devices {
        state.add_device(CohortDevice { id: (*id).into(), line: (*line).into(), updated_at: at(T0) }).unwrap();
    }
    let mut batch = SampleBatch::new(metrics);
    for (id, _) in devices {
        for m in minutes.clone() {
            batch.push(id, T0 + 60 * m, &f(id, m));
        }
    }
    let report = state.ingest(&batch).unwrap();
    assert_eq!(report.baseline + report.observation + report.before_baseline, batch.len() as u64);
    state
}

fn finding<'a>(report: &'a HealthReport, rule: &str, scope: &Scope) -> &'a fleetpath::health::Finding {
    report
        .findings
        .iter()
        .find(|f| f.rule == rule && &f.scope == scope)
        .unwrap_or_else(|| panic!("no finding {rule} on {scope}: {report}"))
}

const DAY: i64 = 24 * 60;

#[test]
fn cycle_time_at_under_and_over_ten_percent() {
    let p = HealthPolicy { baseline_hours: 25, ..policy(vec![seed_rule("cycle_time")]) };
    for (after, status) in
        [(880.0, HealthStatus::Healthy), (879.2, HealthStatus::Healthy), (880.8, HealthStatus::Breach)]
    {
        let state = run(&p, &[("d1", "L1")], &["cycle_time_ms"], -1500..1500, |_, m| {
            let level = if m < 0 { 800.0 } else { after };
            vec![if m % 2 == 0 { level - 10.0 } else { level + 10.0 }]
        });
        let report = state.evaluate(&p, at(T0 + 25 * 3600)).unwrap();
        assert_eq!(report.status, status, "{after}: {report}");
        let f = finding(&report, "cycle_time", &Scope::Stage);
        assert_eq!(f.baseline, Some(800.0));
        assert!((f.observed.unwrap() - after).abs() < 1e-9);
        assert!((f.change.unwrap() - (after - 800.0) / 800.0).abs() < 1e-12);
        assert_eq!((f.baseline_samples, f.observed_samples), (1500, 1500));
        if status == HealthStatus::Breach {
            assert!(f.z.unwrap() >= 3.0);
            assert_eq!(f.top_devices[0].device, "d1");
            assert!(
                report.summary.starts_with(
                    "breach: cycle_time on stage: mean cycle_time_ms 800 -> 880.8 (10.1% worse, threshold 10%"
                ),
                "{}",
                report.summary
            );
        }
    }
}

#[test]
fn connection_failures_at_under_and_over_two_points() {
    let p = HealthPolicy { baseline_hours: 25, ..policy(vec![seed_rule("connection_failures")]) };
    // Baseline: 1 % of samples disconnected. After: 3 % (+2 points, at), 2.9 %, 4 %.
    for (per_thousand, status) in [(30, HealthStatus::Healthy), (29, HealthStatus::Healthy), (40, HealthStatus::Breach)]
    {
        let state = run(&p, &[("d1", "L1")], &["mqtt_connected"], -1500..1500, |_, m| {
            let down = if m < 0 {
                (m + 1500) % 100 < 1
            } else {
                m % 1000 < per_thousand && m < 1000 || (m >= 1000 && (m - 1000) % 1000 < per_thousand / 2)
            };
            vec![if down { 0.0 } else { 1.0 }]
        });
        let report = state.evaluate(&p, at(T0 + 25 * 3600)).unwrap();
        let f = finding(&report, "connection_failures", &Scope::Stage);
        let expected_share = (per_thousand + per_thousand / 2) as f64 / 1500.0;
        assert!((1.0 - f.observed.unwrap() - expected_share).abs() < 1e-12, "{report}");
        assert_eq!(report.status, status, "{per_thousand}: {report}");
    }
}

#[test]
fn error_rate_at_under_and_over_five_percent_with_resets() {
    let p = HealthPolicy { baseline_hours: 25, ..policy(vec![seed_rule("error_rate")]) };
    // Baseline: one error a minute. After: one more every k-th minute.
    for (every, status) in [(20, HealthStatus::Healthy), (25, HealthStatus::Healthy), (10, HealthStatus::Breach)] {
        let state = run(&p, &[("d1", "L1")], &["error_count"], -1500..1501, |_, m| {
            if m < 0 {
                return vec![(m + 1500) as f64];
            }
            // The update restarts the device: the counter starts again from 0, and once more
            // at minute 700 (a reboot).
            let start = if m >= 700 { 700 } else { 0 };
            let total = (start + 1..=m).map(|i| if i % every == 0 { 2.0 } else { 1.0 }).sum::<f64>();
            let first = if start == 700 { if 700 % every == 0 { 2.0 } else { 1.0 } } else { 0.0 };
            vec![total + first]
        });
        let d = &state.devices()["d1"];
        assert_eq!(d.observation["error_count"].counter.unwrap().resets, 1, "the reboot is a reset");
        let report = state.evaluate(&p, at(T0 + 25 * 3600)).unwrap();
        let f = finding(&report, "error_rate", &Scope::Stage);
        let expected = 1.0 + 1.0 / every as f64;
        assert!((f.observed.unwrap() - expected).abs() < 1e-12, "{report}");
        assert_eq!(report.status, status, "every {every}: {report}");
    }
}

#[test]
fn a_zero_baseline_is_explicit() {
    let floorless = Rule::Compare {
        name: "errors_from_zero".into(),
        metric: "error_count".into(),
        statistic: Statistic::Mean,
        change: Change::Relative,
        threshold: 0.05,
        baseline_floor: 0.0,
        scopes: None,
        direction: None,
        baseline_hours: None,
        window_minutes: None,
    };
    let p = HealthPolicy { baseline_hours: 25, ..policy(vec![seed_rule("error_rate"), floorless]) };
    // No errors before; one every ten minutes after.
    let state =
        run(&p, &[("d1", "L1")], &["error_count"], -1500..1501, |_, m| vec![if m < 0 { 0.0 } else { (m / 10) as f64 }]);
    let report = state.evaluate(&p, at(T0 + 25 * 3600)).unwrap();
    assert_eq!(report.status, HealthStatus::Breach);
    let floored = finding(&report, "error_rate", &Scope::Stage);
    assert_eq!((floored.outcome, floored.zero_baseline), (Outcome::Breach, true));
    assert!((floored.change.unwrap() - 0.1 * 60.0).abs() < 1e-9, "0.1 errors a minute against 1/60");
    let raw = finding(&report, "errors_from_zero", &Scope::Stage);
    assert_eq!((raw.outcome, raw.zero_baseline, raw.change), (Outcome::Breach, true, None));
    assert!(raw.message.contains("from a zero baseline"), "{}", raw.message);

    // Zero before and after: no change, healthy.
    let state = run(&p, &[("d1", "L1")], &["error_count"], -1500..1501, |_, _| vec![0.0]);
    let report = state.evaluate(&p, at(T0 + 25 * 3600)).unwrap();
    assert_eq!(report.status, HealthStatus::Healthy, "{report}");
    assert_eq!(finding(&report, "errors_from_zero", &Scope::Stage).change, Some(0.0));
}

#[test]
fn a_crash_breaches_at_once() {
    let p = policy(Rule::seed_defaults());
    let state = run(&p, &[("d1", "L1"), ("d2", "L2")], &["component_crashes"], -2 * DAY..5, |d, m| {
        vec![if d == "d2" && m >= 3 { 1.0 } else { 0.0 }]
    });
    // Five minutes after the update, long before the monitoring window ends.
    let report = state.evaluate(&p, at(T0 + 5 * 60)).unwrap();
    assert_eq!(report.status, HealthStatus::Breach, "{report}");
    let f = finding(&report, "component_crash", &Scope::Device("d2".into()));
    assert_eq!((f.observed, f.baseline), (Some(1.0), Some(0.0)));
    assert_eq!(
        report.summary,
        "breach: component_crash on device d2 (line L2): component_crashes rose by 1 since the update (baseline window: 0)"
    );
    assert_eq!(report.verdict(), Verdict::Breach { detail: report.summary.clone() });
    let Event::HealthVerdict { stage, from, to, .. } = report.event("canary") else { panic!() };
    assert_eq!((stage.as_str(), from, to), ("canary", at(T0), at(T0 + 300)));
}

#[test]
fn thin_data_is_inconclusive_never_healthy() {
    let p = HealthPolicy { baseline_hours: 25, monitoring_hours: 1, ..policy(vec![seed_rule("cycle_time")]) };
    // Kayenta #633: a +650 % regression on five samples must not pass.
    let state = run(&p, &[("d1", "L1")], &["cycle_time_ms"], -5..5, |_, m| vec![if m < 0 { 100.0 } else { 750.0 }]);
    let report = state.evaluate(&p, at(T0 + 2 * 3600)).unwrap();
    assert_eq!(report.status, HealthStatus::Inconclusive);
    let f = finding(&report, "cycle_time", &Scope::Stage);
    assert_eq!(f.outcome, Outcome::Inconclusive { reason: InconclusiveReason::TooFewSamples });
    assert_eq!((f.devices_reporting, f.devices_expected), (0, 1));

    // Ten devices, eight report: 90 % are needed.
    let ids: Vec<String> = (0..10).map(|i| format!("d{i}")).collect();
    let devices: Vec<(&str, &str)> = ids.iter().map(|d| (d.as_str(), "L1")).collect();
    let state = run(&p, &devices, &["cycle_time_ms"], -100..100, |d, _| {
        vec![if d == "d8" || d == "d9" { f64::NAN } else { 100.0 }]
    });
    let report = state.evaluate(&p, at(T0 + 2 * 3600)).unwrap();
    let f = finding(&report, "cycle_time", &Scope::Stage);
    assert_eq!(f.outcome, Outcome::Inconclusive { reason: InconclusiveReason::TooFewDevices });
    assert!(f.message.contains("8 of 10 devices") && f.message.contains("d8, d9"), "{}", f.message);
    assert_eq!(report.status, HealthStatus::Inconclusive);

    // A metric nobody sends.
    let leak = HealthPolicy { rules: vec![seed_rule("memory_leak")], ..p.clone() };
    let state = run(&leak, &devices, &["cycle_time_ms"], -100..100, |_, _| vec![100.0]);
    let report = state.evaluate(&leak, at(T0 + 2 * 3600)).unwrap();
    assert_eq!(report.findings[0].outcome, Outcome::Inconclusive { reason: InconclusiveReason::MetricMissing });

    // Data after the update but none before.
    let state = run(&p, &[("d1", "L1")], &["cycle_time_ms"], 0..100, |_, _| vec![100.0]);
    let report = state.evaluate(&p, at(T0 + 2 * 3600)).unwrap();
    assert_eq!(report.findings[0].outcome, Outcome::Inconclusive { reason: InconclusiveReason::NoBaseline });
}

#[test]
fn a_short_observation_is_inconclusive_until_the_window_ends() {
    let p = HealthPolicy { baseline_hours: 25, ..policy(vec![seed_rule("cycle_time")]) };
    let state = run(&p, &[("d1", "L1")], &["cycle_time_ms"], -1500..1500, |d, m| vec![800.0 + 5.0 * noise(1, d, m)]);
    let early = state.evaluate(&p, at(T0 + 2 * 3600)).unwrap();
    assert_eq!(early.status, HealthStatus::Inconclusive);
    assert_eq!(early.summary, "inconclusive: observed 2 h of the 24 h monitoring window, no breach so far");
    let done = state.evaluate(&p, at(T0 + 24 * 3600)).unwrap();
    assert_eq!(done.status, HealthStatus::Healthy, "{done}");
    assert_eq!(done.verdict(), Verdict::Healthy);
}

#[test]
fn a_change_within_the_baselines_noise_does_not_breach() {
    let p = HealthPolicy { baseline_hours: 25, monitoring_hours: 2, ..policy(vec![seed_rule("cycle_time")]) };
    // Mean +15 % but the values spread ±60 %: not distinguishable on 60 vs 30 samples.
    let before = [40.0, 70.0, 100.0, 130.0, 160.0];
    let after = [55.0, 85.0, 115.0, 145.0, 175.0];
    let state = run(&p, &[("d1", "L1")], &["cycle_time_ms"], -60..30, |_, m| {
        vec![if m < 0 { before[(m + 60) as usize % 5] } else { after[m as usize % 5] }]
    });
    // Half-way through the window: more data may still tell, inconclusive.
    let report = state.evaluate(&p, at(T0 + 3600)).unwrap();
    let f = finding(&report, "cycle_time", &Scope::Stage);
    assert!(f.change.unwrap() > 0.10);
    assert!(f.z.unwrap() < 3.0);
    assert!((f.z_needed.unwrap() - 3.0 * 2f64.sqrt()).abs() < 1e-12, "an early look needs more");
    assert_eq!(f.outcome, Outcome::Inconclusive { reason: InconclusiveReason::WithinNoise });
    assert!(f.message.contains("but within the baseline's noise"), "{}", f.message);
    // The whole window observed with enough samples: judged noise, a pass that says so.
    let report = state.evaluate(&p, at(T0 + 2 * 3600)).unwrap();
    let f = finding(&report, "cycle_time", &Scope::Stage);
    assert_eq!((f.outcome, f.within_noise, f.z_needed), (Outcome::Pass, true, Some(3.0)));
    assert_eq!(report.status, HealthStatus::Healthy);
    assert!(f.message.contains("within the baseline's noise over the whole window"), "{}", f.message);
    // Unless the policy is strict.
    let strict = HealthPolicy { strict_noise: true, ..p.clone() };
    let report = state.evaluate(&strict, at(T0 + 2 * 3600)).unwrap();
    assert_eq!(report.status, HealthStatus::Inconclusive);
}

#[test]
fn early_looks_need_overwhelming_evidence() {
    // A 3 % slower cycle time on a noisy line: clear after a day, not after 40 minutes.
    let p = HealthPolicy {
        baseline_hours: 25,
        ..policy(vec![Rule::Compare {
            name: "cycle_time".into(),
            metric: "cycle_time_ms".into(),
            statistic: Statistic::Mean,
            change: Change::Relative,
            threshold: 0.02,
            baseline_floor: 0.0,
            scopes: None,
            direction: None,
            baseline_hours: None,
            window_minutes: None,
        }])
    };
    let samples = |d: &str, m: i64| vec![if m < 0 { 800.0 } else { 824.0 } + 16.0 * noise(3, d, m)];
    let state = run(&p, &[("d1", "L1")], &["cycle_time_ms"], -1500..40, samples);
    let early = state.evaluate(&p, at(T0 + 40 * 60)).unwrap();
    assert_eq!(early.status, HealthStatus::Inconclusive, "{early}");
    let f = finding(&early, "cycle_time", &Scope::Stage);
    assert!(f.z.unwrap() > 3.0, "a fixed z of 3 would have breached: {early}");
    assert_eq!(f.outcome, Outcome::Inconclusive { reason: InconclusiveReason::WithinNoise });
    let state = run(&p, &[("d1", "L1")], &["cycle_time_ms"], -1500..1440, samples);
    let late = state.evaluate(&p, at(T0 + 24 * 3600)).unwrap();
    assert_eq!(late.status, HealthStatus::Breach, "{late}");
}

#[test]
fn one_bad_line_breaches_its_line_while_the_stage_passes() {
    let p = HealthPolicy {
        baseline_hours: 25,
        scopes: vec![ScopeKind::Stage, ScopeKind::Line],
        ..policy(vec![seed_rule("cycle_time")])
    };
    let ids: Vec<(String, String)> = (0..17).map(|i| (format!("press-{i:02}"), format!("L{i:02}"))).collect();
    let devices: Vec<(&str, &str)> = ids.iter().map(|(d, l)| (d.as_str(), l.as_str())).collect();
    let state = run(&p, &devices, &["cycle_time_ms"], -1500..1500, |d, m| {
        let slow = if m >= 0 && d == "press-07" { 1.12 } else { 1.0 };
        vec![800.0 * slow + 8.0 * noise(7, d, m)]
    });
    let report = state.evaluate(&p, at(T0 + 25 * 3600)).unwrap();
    assert_eq!(report.status, HealthStatus::Breach, "{report}");
    assert_eq!(finding(&report, "cycle_time", &Scope::Stage).outcome, Outcome::Pass);
    let line = finding(&report, "cycle_time", &Scope::Line("L07".into()));
    assert_eq!(line.outcome, Outcome::Breach);
    assert_eq!(line.top_devices[0].device, "press-07");
    assert_eq!(report.problem_findings().count(), 1);
}

#[test]
fn business_metrics_and_counter_resets() {
    let units = Rule::Compare {
        name: "units".into(),
        metric: "units_produced".into(),
        statistic: Statistic::Mean,
        change: Change::Relative,
        threshold: 0.05,
        baseline_floor: 1.0,
        scopes: None,
        direction: None,
        baseline_hours: None,
        window_minutes: None,
    };
    let quality = Rule::Compare {
        name: "quality".into(),
        metric: "quality_pass_rate".into(),
        statistic: Statistic::Median,
        change: Change::Absolute,
        threshold: 0.01,
        baseline_floor: 0.0,
        scopes: None,
        direction: None,
        baseline_hours: None,
        window_minutes: None,
    };
    let p = HealthPolicy { baseline_hours: 25, ..policy(vec![units, quality]) };
    // 12 units a minute; the counter resets at the update and at a reboot; quality 99 %.
    let state = run(&p, &[("d1", "L1")], &["quality_pass_rate", "units_produced"], -1500..1501, |_, m| {
        let count = if m < 0 {
            12 * (m + 1500)
        } else if m < 900 {
            12 * m
        } else {
            12 * (m - 900)
        };
        vec![0.99, count as f64]
    });
    let report = state.evaluate(&p, at(T0 + 25 * 3600)).unwrap();
    // The reboot's reading is 0 (a reset counts its value, 0): one interval of 1500 lost.
    let f = finding(&report, "units", &Scope::Stage);
    assert!((f.observed.unwrap() - 12.0 * 1499.0 / 1500.0).abs() < 1e-9, "{report}");
    assert_eq!(report.status, HealthStatus::Healthy, "{report}");

    // Quality down 2 points: breach; units down 10 %: breach.
    let state = run(&p, &[("d1", "L1")], &["quality_pass_rate", "units_produced"], -1500..1501, |_, m| {
        let (q, rate) = if m < 0 { (0.99, 12) } else { (0.97, 10) };
        vec![q, f64::from(rate) * (m + 1500) as f64]
    });
    let report = state.evaluate(&p, at(T0 + 25 * 3600)).unwrap();
    assert_eq!(
        report.problem_findings().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
        ["units", "quality"],
        "{report}"
    );
}

/// Memory on `n` devices: a level near 300 MB with 2 % noise; `leaky` climbs 2 % of its
/// baseline an hour after the update.
fn memory_state(p: &HealthPolicy, seed: u64, leaky: Option<&str>, minutes: i64, ar: f64) -> HealthState {
    let ids: Vec<String> = (0..17).map(|i| format!("m{i:02}")).collect();
    let devices: Vec<(&str, &str)> = ids.iter().map(|d| (d.as_str(), d.as_str())).collect();
    let mut state = HealthState::new(p).unwrap();
    for (id, line) in &devices {
        state.add_device(CohortDevice { id: (*id).into(), line: (*line).into(), updated_at: at(T0) }).unwrap();
    }
    let mut batch = SampleBatch::new(&["memory_mb"]);
    for (id, _) in &devices {
        let mut e = 0.0;
        for m in -i64::from(p.baseline_hours) * 60..minutes {
            // AR(1) noise with unit variance: e' = ar·e + sqrt(1 − ar²)·z.
            e = ar * e + (1.0 - ar * ar).sqrt() * noise(seed, id, m);
            let climb = if Some(*id) == leaky && m > 0 { 300.0 * 0.02 * m as f64 / 60.0 } else { 0.0 };
            batch.push(id, T0 + 60 * m, &[300.0 + climb + 6.0 * e]);
        }
    }
    state.ingest(&batch).unwrap();
    state
}

#[test]
fn a_two_percent_an_hour_leak_is_caught_within_four_hours() {
    let p = HealthPolicy { baseline_hours: 24, ..policy(vec![seed_rule("memory_leak")]) };
    let mut earliest = Vec::new();
    for seed in 0..5 {
        earliest.push(first_caught(&p, seed, 0.0, 16).expect("caught within four hours"));
        let state = memory_state(&p, seed, Some("m05"), 4 * 60, 0.0);
        let report = state.evaluate(&p, at(T0 + 4 * 3600)).unwrap();
        assert_eq!(report.status, HealthStatus::Breach, "seed {seed}: {report}");
        let f = finding(&report, "memory_leak", &Scope::Device("m05".into()));
        let proj = f.projection.unwrap();
        assert!((proj.slope_per_hour - 6.0).abs() < 1.0, "{proj:?}");
        assert!(proj.hours_to_limit.unwrap() < 24.0);
        assert_eq!(report.problem_findings().count(), 1, "only the leaky device: {report}");
    }
    println!("leak caught after {earliest:?} hours of observation");
}

/// The first quarter hour, up to `quarters`, at which the leak on `m05` breaches.
fn first_caught(p: &HealthPolicy, seed: u64, ar: f64, quarters: i64) -> Option<f64> {
    (4..=quarters)
        .find(|q| {
            let state = memory_state(p, seed, Some("m05"), q * 15, ar);
            state.evaluate(p, at(T0 + q * 15 * 60)).unwrap().status == HealthStatus::Breach
        })
        .map(|q| q as f64 / 4.0)
}

#[test]
fn on_wandering_memory_the_leak_is_caught_later_but_caught() {
    // AR(1) noise with φ = 0.9: the baseline's long-run variance is 19 times the samples',
    // so the slope needs more hours to stand out (about 5 after the warm-up, by the
    // standard error).
    let p = HealthPolicy { baseline_hours: 24, ..policy(vec![seed_rule("memory_leak")]) };
    let earliest: Vec<f64> =
        (0..3).map(|seed| first_caught(&p, seed, 0.9, 40).expect("caught within ten hours")).collect();
    assert!(earliest.iter().all(|h| *h > 2.75), "{earliest:?}");
    println!("on AR(1) memory the leak is caught after {earliest:?} hours of observation");
}

#[test]
fn flat_memory_gives_no_leak_finding_false_positive_rate() {
    // 17 devices × seeds, each judged after 4 h and after 24 h; iid noise and strongly
    // autocorrelated noise (AR(1), φ = 0.9, as a slowly wandering level).
    let p = HealthPolicy { baseline_hours: 24, ..policy(vec![seed_rule("memory_leak")]) };
    let mut tests = 0;
    let mut positives = 0;
    let mut max_t: f64 = 0.0;
    let seeds: u64 = std::env::var("FLEETPATH_FP_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    for ar in [0.0, 0.9] {
        for seed in 100..100 + seeds {
            for hours in [4, 24] {
                let state = memory_state(&p, seed, None, hours * 60, ar);
                let report = state.evaluate(&p, at(T0 + hours * 3600)).unwrap();
                tests += 17;
                positives += report.problem_findings().count();
                if let Some(proj) = report.findings[0].projection {
                    max_t = max_t.max(proj.t);
                }
            }
        }
    }
    println!("leak false positives: {positives} of {tests} device checks (largest t among passes {max_t:.2})");
    assert_eq!(positives, 0, "a flat series must not look like a leak");
}

#[test]
fn policies_from_json_define_custom_metrics() {
    let p = HealthPolicy::from_json(
        r#"{"metrics": [{"name": "scrap_count", "kind": "counter", "direction": "higher_is_worse", "wraps_at": 65536}],
            "rules": [{"check": "compare", "name": "scrap", "metric": "scrap_count", "statistic": "mean",
                       "change": "relative", "threshold": 0.2, "baseline_floor": 0.01, "scopes": ["line", "device"]}]}"#,
    )
    .unwrap();
    assert!(p.all_metrics().contains(&MetricSpec {
        name: "scrap_count".into(),
        kind: MetricKind::Counter,
        direction: fleetpath::health::Direction::HigherIsWorse,
        wraps_at: Some(65536.0)
    }));
    // A 16-bit counter wrapping is not a reset.
    let state = run(&p, &[("d1", "L1")], &["scrap_count"], -100..101, |_, m| vec![((m + 100) * 1000 % 65536) as f64]);
    let obs = &state.devices()["d1"].observation["scrap_count"];
    assert_eq!(obs.counter.unwrap().resets, 0);
    assert!(obs.counter.unwrap().wraps >= 1);
    assert_eq!(obs.moments.max, 1000.0, "every interval is 1000 a minute, across wraps");
}

#[test]
fn a_trend_at_under_and_over_its_limit() {
    // Memory 300 MB before; after, a clean climb whose 24 h projection lands at, just under or
    // just over 375 MB (baseline + 25 %). Four hours observed, points from 0.5 h to 239/60 h.
    let p = HealthPolicy { baseline_hours: 25, ..policy(vec![seed_rule("memory_leak")]) };
    let last = 239.0 / 60.0;
    let at_limit = 75.0 / (last + 24.0); // MB per hour
    for (factor, status) in
        [(1.0, HealthStatus::Inconclusive), (0.99, HealthStatus::Inconclusive), (1.01, HealthStatus::Breach)]
    {
        let slope = at_limit * factor;
        let state = run(&p, &[("d1", "L1")], &["memory_mb"], -1500..240, |_, m| {
            vec![if m < 0 { 300.0 } else { 300.0 + slope * m as f64 / 60.0 }]
        });
        let report = state.evaluate(&p, at(T0 + 4 * 3600)).unwrap();
        // Before the 24 h window ends, no breach means inconclusive.
        assert_eq!(report.status, status, "x{factor}: {report}");
        let f = &report.findings[0];
        let proj = f.projection.unwrap();
        assert!((proj.projected - 300.0 - slope * (last + 24.0)).abs() < 1e-6, "{proj:?}");
        assert_eq!(proj.limit, 375.0);
    }
}

#[test]
fn a_view_over_borrowed_columns_ingests_as_the_batch_does() {
    use fleetpath::health::SampleView;
    let p = policy(vec![seed_rule("cycle_time")]);
    let updated_at = at(1_795_000_000);
    let mut batch = SampleBatch::new(&["cycle_time_ms", "mqtt_connected"]);
    for minute in -120..120i64 {
        let cycle = if minute >= 0 { 930.0 } else { 800.0 } + noise(7, "d1", minute);
        batch.push("d1", updated_at.as_second() + 60 * minute, &[cycle, 1.0]);
    }
    let fresh = || {
        let mut s = HealthState::new(&p).unwrap();
        s.add_device(CohortDevice { id: "d1".into(), line: "L1".into(), updated_at }).unwrap();
        s
    };
    let (mut a, mut b) = (fresh(), fresh());
    let ra = a.ingest(&batch).unwrap();
    // Columns in another order, borrowed from plain slices.
    let (cycle, mqtt) = (&batch.metrics["cycle_time_ms"].0, &batch.metrics["mqtt_connected"].0);
    let view = SampleView::new(
        &batch.devices,
        &batch.device,
        &batch.time,
        [("mqtt_connected", &mqtt[..]), ("cycle_time_ms", &cycle[..])],
    )
    .unwrap();
    assert_eq!(view.len(), batch.len());
    assert_eq!(b.ingest_view(&view).unwrap(), ra);
    assert_eq!(a, b);

    let twice = SampleView::new(
        &batch.devices,
        &batch.device,
        &batch.time,
        [("cycle_time_ms", &cycle[..]), ("cycle_time_ms", &cycle[..])],
    );
    let err = twice.unwrap_err();
    assert_eq!(
        (err.code(), err.to_string().as_str()),
        ("duplicate_name", "metric column \"cycle_time_ms\" is defined twice")
    );
    let short =
        SampleView::new(&batch.devices, &batch.device, &batch.time, [("cycle_time_ms", &cycle[1..])]).unwrap_err();
    assert_eq!(short.to_string(), "sample column \"cycle_time_ms\" has 239 rows, the batch has 240");
}

#[test]
fn a_falling_lower_is_worse_metric_is_said_to_fall() {
    let p: HealthPolicy = serde_json::from_value(serde_json::json!({
        "baseline_hours": 25, "monitoring_hours": 24, "min_samples": 3, "scopes": ["device"],
        "metrics": [{"name": "throughput", "kind": "gauge", "direction": "lower_is_worse"}],
        "rules": [{"check": "trend", "name": "throughput_drop", "metric": "throughput", "limit": {"relative": 0.25}}]
    }))
    .unwrap();
    let state = run(&p, &[("d1", "L1")], &["throughput"], -1500..240, |_, m| {
        vec![if m < 0 { 100.0 } else { 100.0 - 5.0 * m as f64 / 60.0 }]
    });
    let report = state.evaluate(&p, at(T0 + 4 * 3600)).unwrap();
    let breach = report.findings.iter().find(|f| f.scope == fleetpath::health::Scope::Device("d1".into()));
    let message = &breach.expect("a finding for d1").message;
    assert!(message.contains("throughput falls "), "{message}");
    assert!(!message.contains("climbs"), "{message}");
}

/// A policy over one custom gauge (`throughput`, lower is worse, or `temperature`, two-sided)
/// with the given rules, 7-day baseline, per-stage scope.
fn gauge_policy(rules: &serde_json::Value) -> HealthPolicy {
    HealthPolicy::from_value(serde_json::json!({
        "min_samples": 30, "scopes": ["stage"],
        "metrics": [
            {"name": "throughput", "kind": "gauge", "direction": "lower_is_worse"},
            {"name": "temperature", "kind": "gauge", "direction": "two_sided"}
        ],
        "rules": rules
    }))
    .unwrap()
}

fn tail_rule(name: &str, metric: &str, statistic: &str, extra: &serde_json::Value) -> serde_json::Value {
    let mut rule = serde_json::json!({"check": "compare", "name": name, "metric": metric, "statistic": statistic,
                                      "change": "relative", "threshold": 0.1});
    rule.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    rule
}

#[test]
fn a_drop_on_a_lower_is_worse_metric_is_caught_by_a_low_quantile_not_by_p95() {
    let p = gauge_policy(&serde_json::json!([
        tail_rule("p95", "throughput", "p95", &serde_json::json!({})),
        tail_rule("p5", "throughput", "p5", &serde_json::json!({})),
        tail_rule("tail", "throughput", "tail_95", &serde_json::json!({})),
        tail_rule("mean", "throughput", "mean", &serde_json::json!({})),
        tail_rule("min", "throughput", "min", &serde_json::json!({"threshold": 0.2})),
    ]));
    // 100 ± 2 a minute; after the update, one minute in ten stalls at 60.
    let state = run(&p, &[("d1", "L1")], &["throughput"], -7 * DAY..DAY, |id, m| {
        let stalled = m >= 0 && m % 10 == 3;
        vec![if stalled { 60.0 } else { 100.0 + 2.0 * noise(7, id, m) }]
    });
    let report = state.evaluate(&p, at(T0 + DAY * 60)).unwrap();
    let outcome = |rule| finding(&report, rule, &Scope::Stage).outcome;
    assert_eq!(outcome("p95"), Outcome::Pass, "the upper tail does not see a drop: {report}");
    assert_eq!(outcome("mean"), Outcome::Pass, "4 % lower on average, within 10 %: {report}");
    for rule in ["p5", "tail", "min"] {
        assert_eq!(outcome(rule), Outcome::Breach, "{rule}: {report}");
    }
    let tail = finding(&report, "tail", &Scope::Stage);
    assert_eq!(tail.statistic, Some(Statistic::P5), "a lower-is-worse tail reads the low end");
    let within_sketch = 60.0 * fleetpath::health::stats::RELATIVE_ERROR;
    assert!((tail.observed.unwrap() - 60.0).abs() <= within_sketch, "{report}");
    assert!(tail.message.starts_with("tail on stage: p5 throughput "), "{}", tail.message);
    let min = finding(&report, "min", &Scope::Stage);
    assert_eq!(min.observed, Some(60.0), "min is exact");

    // Without the stalls, every rule passes.
    let quiet = run(&p, &[("d1", "L1")], &["throughput"], -7 * DAY..DAY, |id, m| vec![100.0 + 2.0 * noise(7, id, m)]);
    let report = quiet.evaluate(&p, at(T0 + DAY * 60)).unwrap();
    assert_eq!(report.status, HealthStatus::Healthy, "{report}");
}

#[test]
fn two_sided_rules_catch_a_rise_and_a_drop() {
    let rules = serde_json::json!([
        tail_rule("temp_mean", "temperature", "mean", &serde_json::json!({"change": "absolute", "threshold": 2.0})),
        tail_rule("temp_tail", "temperature", "tail_99", &serde_json::json!({"change": "absolute", "threshold": 3.0})),
        // A higher-is-worse gauge watched both ways by the rule's own direction.
        tail_rule("cycle_both", "cycle_time_ms", "mean", &serde_json::json!({"direction": "two_sided"})),
    ]);
    let p = gauge_policy(&rules);
    for (shift, cycle, expect) in [
        (0.0, 1.0, HealthStatus::Healthy),
        (4.0, 1.0, HealthStatus::Breach),
        (-4.0, 1.0, HealthStatus::Breach),
        (0.0, 0.8, HealthStatus::Breach),
    ] {
        let state = run(&p, &[("d1", "L1")], &["cycle_time_ms", "temperature"], -7 * DAY..DAY, |id, m| {
            let after = m >= 0;
            let temp = 40.0 + 0.5 * noise(3, id, m) + if after { shift } else { 0.0 };
            let ct = 800.0 * if after { cycle } else { 1.0 } + 5.0 * noise(4, id, m);
            vec![ct, temp]
        });
        let report = state.evaluate(&p, at(T0 + DAY * 60)).unwrap();
        assert_eq!(report.status, expect, "shift {shift}, cycle {cycle}: {report}");
        let tail = finding(&report, "temp_tail", &Scope::Stage);
        if shift != 0.0 {
            assert_eq!(finding(&report, "temp_mean", &Scope::Stage).outcome, Outcome::Breach, "{report}");
            assert_eq!(tail.outcome, Outcome::Breach, "{report}");
            // The end that moved is the one read, its change a distance.
            let end = if shift > 0.0 { Statistic::P99 } else { Statistic::P1 };
            assert_eq!(tail.statistic, Some(end), "{report}");
            assert!((tail.change.unwrap() - 4.0).abs() < 0.5, "{report}");
            assert!(tail.z.unwrap() >= 3.0, "{report}");
        }
        if cycle != 1.0 {
            let f = finding(&report, "cycle_both", &Scope::Stage);
            assert_eq!(f.outcome, Outcome::Breach, "a faster cycle is a move too: {report}");
            assert!((f.change.unwrap() - 0.2).abs() < 0.01, "{report}");
        }
    }
}

#[test]
fn directions_that_cannot_be_judged_are_refused() {
    let refused = |rule: serde_json::Value| {
        HealthPolicy::from_value(serde_json::json!({
            "metrics": [{"name": "temperature", "kind": "gauge", "direction": "two_sided"}],
            "rules": [rule]
        }))
        .unwrap_err()
        .to_string()
    };
    let level = refused(serde_json::json!({"check": "compare", "name": "hot", "metric": "temperature",
        "statistic": "max", "change": "level", "threshold": 80}));
    assert!(level.starts_with("rules[0].change: a level needs one worse direction"), "{level}");
    let trend = refused(serde_json::json!({"check": "trend", "name": "drift", "metric": "temperature",
        "limit": {"absolute": 80}}));
    assert!(trend.starts_with("rules[0].direction: a trend needs one worse direction"), "{trend}");
    let zero = refused(serde_json::json!({"check": "compare", "name": "t", "metric": "temperature",
        "statistic": "mean", "change": "absolute", "threshold": 1, "baseline_hours": 0}));
    assert_eq!(zero, "rules[0].baseline_hours: must be at least 1");
    // With a direction of its own, the same rules are fine.
    HealthPolicy::from_value(serde_json::json!({
        "metrics": [{"name": "temperature", "kind": "gauge", "direction": "two_sided"}],
        "rules": [{"check": "compare", "name": "hot", "metric": "temperature", "statistic": "max",
                   "change": "level", "threshold": 80, "direction": "higher_is_worse"},
                  {"check": "trend", "name": "drift", "metric": "temperature", "limit": {"absolute": 80},
                   "direction": "higher_is_worse"}]
    }))
    .unwrap();
}

#[test]
fn a_rule_can_have_a_baseline_of_its_own() {
    // The line's process changed three days before the update: cycle time 650 before, 800
    // since. Against 7 days the update looks 12 % slower; against the last 48 h it is not.
    let rules = serde_json::json!([
        tail_rule("week", "cycle_time_ms", "mean", &serde_json::json!({})),
        tail_rule("two_days", "cycle_time_ms", "mean", &serde_json::json!({"baseline_hours": 48})),
        tail_rule("ten_days", "cycle_time_ms", "mean", &serde_json::json!({"baseline_hours": 240})),
    ]);
    let p = gauge_policy(&rules);
    let f = |id: &str, m: i64| vec![if m < -3 * DAY { 650.0 } else { 800.0 } + 5.0 * noise(5, id, m)];
    let state = run(&p, &[("d1", "L1"), ("d2", "L2")], &["cycle_time_ms"], -10 * DAY..DAY, f);
    let report = state.evaluate(&p, at(T0 + DAY * 60)).unwrap();
    let week = finding(&report, "week", &Scope::Stage);
    let two_days = finding(&report, "two_days", &Scope::Stage);
    let ten_days = finding(&report, "ten_days", &Scope::Stage);
    assert_eq!(week.outcome, Outcome::Breach, "{report}");
    assert_eq!(ten_days.outcome, Outcome::Breach, "{report}");
    assert_eq!(two_days.outcome, Outcome::Pass, "{report}");
    assert_eq!((two_days.baseline_samples, week.baseline_samples), (2 * 48 * 60, 2 * 7 * DAY as u64));
    assert_eq!(ten_days.baseline_samples, 2 * 10 * DAY as u64);
    assert!((two_days.baseline.unwrap() - 800.0).abs() < 1.0, "{report}");

    // Every row of the longest baseline is used; the state survives JSON.
    let json = serde_json::to_string(&state).unwrap();
    assert!(json.contains(
        r#""rule_baselines":[{"metric":"cycle_time_ms","hours":48},{"metric":"cycle_time_ms","hours":240}]"#
    ));
    assert_eq!(HealthState::from_json(&json).unwrap(), state);

    // Two shards (days split anywhere) merge into the state one run builds.
    let mut a = run(&p, &[("d1", "L1"), ("d2", "L2")], &["cycle_time_ms"], -10 * DAY..-5 * DAY, f);
    let b = run(&p, &[("d1", "L1"), ("d2", "L2")], &["cycle_time_ms"], -5 * DAY..DAY, f);
    a.merge(&b).unwrap();
    let merged = a.evaluate(&p, at(T0 + DAY * 60)).unwrap();
    for (m, r) in merged.findings.iter().zip(&report.findings) {
        assert_eq!(
            (m.outcome, m.baseline_samples, m.observed_samples),
            (r.outcome, r.baseline_samples, r.observed_samples)
        );
        assert!((m.baseline.unwrap() - r.baseline.unwrap()).abs() < 1e-9, "{merged}");
    }

    // A policy whose rules ask for other baselines cannot read this state.
    let other = gauge_policy(&serde_json::json!([tail_rule(
        "two_days",
        "cycle_time_ms",
        "mean",
        &serde_json::json!({"baseline_hours": 72})
    )]));
    let err = state.evaluate(&other, at(T0)).unwrap_err();
    assert_eq!(err.code(), "policy_mismatch");
    assert_eq!(
        err.to_string(),
        "health state does not match: the rules' own baselines are cycle_time_ms 48 h, cycle_time_ms 240 h in the state and cycle_time_ms 72 h in the policy"
    );
}

#[test]
fn update_times_read_as_text_or_unix_seconds() {
    let devices: Vec<CohortDevice> = serde_json::from_str(
        r#"[{"id": "a", "line": "L", "updated_at": 1795000000},
            {"id": "b", "line": "L", "updated_at": 1795000000.5},
            {"id": "c", "line": "L", "updated_at": "2026-11-18T12:06:40+01:00"}]"#,
    )
    .unwrap();
    assert_eq!(devices[0].updated_at, at(T0));
    assert_eq!(devices[1].updated_at.as_millisecond(), T0 * 1000 + 500);
    assert_eq!(devices[2].updated_at, at(T0));
    let naive =
        serde_json::from_str::<Vec<CohortDevice>>(r#"[{"id": "a", "line": "L", "updated_at": "2026-11-18T20:06:40"}]"#);
    assert!(naive.unwrap_err().to_string().contains("has no time zone"), "naive times are refused");
}

/// Latency a minute on one device: 45 ms ± 1.5 for 7 days before the update and 24 h after;
/// with `spike`, seven samples at +50–100 % between 10:00 and 10:25 after the update.
fn latency(id: &str, m: i64, spike: bool) -> f64 {
    const BAD: [(i64, f64); 7] =
        [(600, 68.0), (603, 75.0), (607, 90.0), (611, 70.0), (615, 85.0), (619, 72.0), (624, 80.0)];
    match BAD.iter().find(|(at, _)| *at == m) {
        Some((_, v)) if spike => *v,
        _ => 45.0 + 1.5 * noise(11, id, m),
    }
}

/// Plays the looks: the baseline at once, then every 5 minutes: ingest, evaluate. Returns,
/// per rule, the minute after the update of its first breach.
fn first_breaches(p: &HealthPolicy, spike: bool) -> std::collections::BTreeMap<String, i64> {
    let mut state = HealthState::new(p).unwrap();
    state.add_device(CohortDevice { id: "d1".into(), line: "L1".into(), updated_at: at(T0) }).unwrap();
    let feed = |state: &mut HealthState, minutes: std::ops::Range<i64>| {
        let mut batch = SampleBatch::new(&["latency_ms"]);
        for m in minutes {
            batch.push("d1", T0 + 60 * m, &[latency("d1", m, spike)]);
        }
        state.ingest(&batch).unwrap();
    };
    feed(&mut state, -7 * DAY..0);
    let mut first = std::collections::BTreeMap::new();
    for look in 1..=DAY / 5 {
        feed(&mut state, 5 * (look - 1)..5 * look);
        let report = state.evaluate(p, at(T0 + 300 * look)).unwrap();
        for f in report.problem_findings().filter(|f| f.outcome == Outcome::Breach) {
            first.entry(f.rule.clone()).or_insert(5 * look);
        }
    }
    first
}

#[test]
fn a_short_spike_is_caught_in_a_recent_window_by_an_exceedance_rule_not_by_noise() {
    let p = HealthPolicy::from_value(serde_json::json!({
        "scopes": ["device"],
        "metrics": [{"name": "latency_ms", "kind": "gauge", "direction": "higher_is_worse"}],
        "rules": [
            {"check": "compare", "name": "p99", "metric": "latency_ms", "statistic": "p99",
             "change": "relative", "threshold": 0.1},
            {"check": "exceedance", "name": "spikes_1h", "metric": "latency_ms", "quantile": 0.99,
             "threshold": 2.0, "window_minutes": 60},
            {"check": "exceedance", "name": "spikes", "metric": "latency_ms", "quantile": 0.99, "threshold": 1.0}
        ]
    }))
    .unwrap();
    let quiet = first_breaches(&p, false);
    assert!(quiet.is_empty(), "no rule breaches on noise alone: {quiet:?}");
    let spiked = first_breaches(&p, true);
    // Seven bad samples among 1440 move the day's p99 by too little.
    assert!(!spiked.contains_key("p99"), "{spiked:?}");
    // The last hour's exceedances are many times the baseline's 1 %: caught within the hour.
    let caught = spiked.get("spikes_1h").copied();
    assert!(caught.is_some_and(|m| (600..=660).contains(&m)), "caught at minute {caught:?}");

    // The finding says what it counted.
    let mut state = HealthState::new(&p).unwrap();
    state.add_device(CohortDevice { id: "d1".into(), line: "L1".into(), updated_at: at(T0) }).unwrap();
    let mut batch = SampleBatch::new(&["latency_ms"]);
    for m in -7 * DAY..630 {
        batch.push("d1", T0 + 60 * m, &[latency("d1", m, true)]);
    }
    state.ingest(&batch).unwrap();
    let report = state.evaluate(&p, at(T0 + 630 * 60)).unwrap();
    let f = finding(&report, "spikes_1h", &Scope::Device("d1".into()));
    assert_eq!(f.outcome, Outcome::Breach, "{report}");
    // The window is counted to the 5-minute bucket: buckets that start in the last hour.
    assert_eq!(f.window_minutes, Some(60));
    assert!((55..=60).contains(&f.observed_samples), "{report}");
    assert!(f.exceedances.is_some_and(|k| k >= 7), "the seven bad samples, and any noise past p99: {report}");
    assert!(f.autocorrelation.unwrap() < 0.1, "independent noise: {report}");
    assert!(f.baseline.unwrap() <= 0.01 && f.z.unwrap() >= f.z_needed.unwrap(), "{report}");
    assert!((f.z_needed.unwrap() - p.window_z(60)).abs() < 1e-12);
    assert!(
        f.message.starts_with("spikes_1h on device d1: latency_ms samples above p99 of the baseline ("),
        "{}",
        f.message
    );
}

#[test]
fn exceedances_below_the_low_tail_and_on_both_sides() {
    let p = gauge_policy(&serde_json::json!([
        {"check": "exceedance", "name": "stalls", "metric": "throughput", "quantile": 0.99, "threshold": 2.0},
        {"check": "exceedance", "name": "swings", "metric": "temperature", "quantile": 0.99, "threshold": 2.0}
    ]));
    for (stall, swing, expect) in [
        (false, 0.0, [false, false]),
        (true, 0.0, [true, false]),
        (false, 3.0, [false, true]),
        (false, -3.0, [false, true]),
    ] {
        let state = run(&p, &[("d1", "L1")], &["temperature", "throughput"], -7 * DAY..DAY, |id, m| {
            let after = m >= 0 && m % 20 == 7;
            let throughput = if stall && after { 80.0 } else { 100.0 + noise(8, id, m) };
            let temperature = 40.0 + 0.5 * noise(9, id, m) + if after { swing } else { 0.0 };
            vec![temperature, throughput]
        });
        let report = state.evaluate(&p, at(T0 + DAY * 60)).unwrap();
        let got = ["stalls", "swings"].map(|r| finding(&report, r, &Scope::Stage).outcome == Outcome::Breach);
        assert_eq!(got, expect, "stall {stall}, swing {swing}: {report}");
        let swings = finding(&report, "swings", &Scope::Stage);
        assert_eq!(swings.tail_edges.len(), 2, "two-sided: both edges");
        assert!(swings.tail_edges[0] < 40.0 && swings.tail_edges[1] > 40.0, "{report}");
    }
}

#[test]
fn autocorrelated_noise_is_worth_fewer_trials() {
    let p = gauge_policy(&serde_json::json!([
        {"check": "exceedance", "name": "spikes_1h", "metric": "throughput", "quantile": 0.99, "threshold": 2.0,
         "window_minutes": 60}
    ]));
    // AR(1) with correlation 0.95: the series wanders; excursions past p1 come in clusters.
    let ar = |id: &str| {
        let mut x = 0.0;
        (-7 * DAY..DAY)
            .map(|m| {
                x = 0.95 * x + (1.0f64 - 0.95 * 0.95).sqrt() * noise(13, id, m);
                x
            })
            .collect::<Vec<f64>>()
    };
    let series = ar("d1");
    let state = run(&p, &[("d1", "L1")], &["throughput"], -7 * DAY..0, |_, m| {
        vec![100.0 + 2.0 * series[(m + 7 * DAY) as usize]]
    });
    let b = &state.devices()["d1"].baseline["throughput"];
    let rho = b.trend.unwrap().fit().unwrap().rho;
    assert!((rho - 0.95).abs() < 0.03, "the baseline's trend estimates the correlation: {rho}");
}
