//! How often each health rule breaches on healthy firmware: the false-alarm rate per rule and
//! per look schedule, on seeded simulated canaries.
//!
//! ```text
//! cargo run --release --example health_false_alarms -- [RUNS]    # 100 runs by default
//! ```
//!
//! A canary of 17 devices (one per line, updated two minutes apart), 7 days of baseline and
//! 24 hours of observation, one sample a minute. Nothing changes at the update: every breach
//! is a false alarm. The seed plant's eight metrics (`examples/sim`) feed the default policy's
//! rules; three more metrics feed the rules added for spikes, tails and drops (`latency_ms`,
//! higher is worse; `throughput`, lower is worse; `temperature`, two-sided).
//!
//! Two kinds of noise: independent samples (`iid`), and AR(1) samples with a correlation of
//! 0.9 from one minute to the next (`ar1`), as sensor and latency series are: the plant's
//! gauges (cycle time, CPU, memory, quality) and the three extra metrics get it.
//!
//! Two look schedules: every 5 minutes (288 looks) and every hour (24 looks). A run counts for
//! a rule when any of its findings (stage or any line) breaches at any look; the rate is per
//! stage.
//!
//! `TREND_T=10` and `TREND_MIN_HOURS=4` in the environment set the policy's
//! `trend_t_critical` and `trend_min_hours` (the leak rule's settings) for a run.

#[allow(dead_code)] // only `exit` is used here
#[path = "common/mod.rs"]
mod common;

#[allow(dead_code)] // rows only: the batches here add three metrics
#[path = "sim/mod.rs"]
mod sim;

use std::collections::BTreeMap;

use fleetpath::health::{CohortDevice, HealthPolicy, HealthState, Outcome, SampleBatch};
use jiff::Timestamp;
use sim::{Faults, Plant, SimDevice};

fn main() -> std::process::ExitCode {
    common::exit(run())
}

const START: i64 = 1_795_528_800;
const LINES: usize = 17;
/// The last device's update, minutes after the first's (two minutes apart).
const LAST_UPDATE_MINUTES: i64 = 2 * 16;

/// The seed's rules, and the rules for spikes, tails and drops on the three extra metrics.
fn policy() -> Result<HealthPolicy, String> {
    let mut policy = HealthPolicy::from_value(serde_json::json!({
        "metrics": [
            {"name": "latency_ms", "kind": "gauge", "direction": "higher_is_worse"},
            {"name": "throughput", "kind": "gauge", "direction": "lower_is_worse"},
            {"name": "temperature", "kind": "gauge", "direction": "two_sided"}
        ],
        "rules": [
            {"check": "exceedance", "name": "latency_spikes_1h", "metric": "latency_ms",
             "quantile": 0.99, "threshold": 2.0, "window_minutes": 60},
            {"check": "exceedance", "name": "latency_spikes", "metric": "latency_ms",
             "quantile": 0.99, "threshold": 1.0},
            {"check": "compare", "name": "latency_p99_1h", "metric": "latency_ms", "statistic": "p99",
             "change": "relative", "threshold": 0.1, "window_minutes": 60},
            {"check": "compare", "name": "throughput_p5", "metric": "throughput", "statistic": "tail_95",
             "change": "relative", "threshold": 0.05},
            {"check": "exceedance", "name": "throughput_drops_1h", "metric": "throughput",
             "quantile": 0.99, "threshold": 2.0, "window_minutes": 60},
            {"check": "compare", "name": "temperature_moves", "metric": "temperature", "statistic": "mean",
             "change": "absolute", "threshold": 1.0},
            {"check": "compare", "name": "temperature_tails_6h", "metric": "temperature", "statistic": "tail_99",
             "change": "absolute", "threshold": 1.0, "window_minutes": 360}
        ]
    }))
    .map_err(|e| e.to_string())?;
    let mut rules = fleetpath::health::Rule::seed_defaults();
    rules.append(&mut policy.rules);
    policy.rules = rules;
    if let Ok(h) = std::env::var("TREND_MIN_HOURS") {
        policy.trend_min_hours = h.parse().map_err(|_| "TREND_MIN_HOURS must be a number".to_owned())?;
    }
    if let Ok(t) = std::env::var("TREND_T") {
        policy.trend_t_critical = t.parse().map_err(|_| "TREND_T must be a number".to_owned())?;
    }
    policy.validate().map_err(|e| e.to_string())?;
    Ok(policy)
}

/// About standard normal from one hash: 12 uniforms of 16 bits and 4 of the next hash
/// (Irwin-Hall; tails to ±6).
#[allow(clippy::cast_precision_loss)]
fn normal(seed: u64, device: usize, stream: u64, minute: i64) -> f64 {
    #[allow(clippy::cast_sign_loss)]
    let key = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (minute as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    let mut s = 0.0;
    for part in 0..3u64 {
        let h = xxhash_rust::xxh3::xxh3_64_with_seed(&device.to_le_bytes(), key ^ part);
        s += (0..4).map(|k| ((h >> (16 * k)) & 0xFFFF) as f64 / 65536.0).sum::<f64>();
    }
    s - 6.0
}

/// AR(1) noise with unit variance and this lag-1 correlation, one value a minute over
/// `from..to` (0 correlation: independent).
fn series(seed: u64, device: usize, stream: u64, from: i64, to: i64, rho: f64) -> Vec<f64> {
    let scale = (1.0 - rho * rho).sqrt();
    let mut x = normal(seed, device, stream, from - 1);
    (from..to)
        .map(|m| {
            x = rho * x + scale * normal(seed, device, stream, m);
            x
        })
        .collect()
}

/// One canary's samples: the plant's metrics (with AR(1) noise added to its gauges when
/// `rho` > 0) and the three extra metrics, for unix minutes `from..to`.
struct Canary {
    plant: Plant,
    rho: f64,
    first: i64,
    /// Per device: AR(1) streams over the whole run (cycle, cpu, memory, quality, latency,
    /// throughput, temperature).
    noise: Vec<Vec<Vec<f64>>>,
}

const EXTRA: [&str; 3] = ["latency_ms", "temperature", "throughput"];

impl Canary {
    fn new(seed: u64, rho: f64) -> Self {
        let devices: Vec<SimDevice> = (0..=LAST_UPDATE_MINUTES / 2)
            .map(|i| SimDevice { id: format!("dev-{i:02}"), line: format!("line-{i:02}"), updated_at: START + 120 * i })
            .collect();
        let first = START / 60 - 7 * 24 * 60;
        let end = START / 60 + 25 * 60;
        let noise = (0..LINES).map(|d| (0..7).map(|s| series(seed, d, s + 10, first, end, rho)).collect()).collect();
        Self { plant: Plant { seed, devices, faults: Faults::default() }, rho, first, noise }
    }

    fn batch(&self, from: i64, to: i64, counters: &mut [(f64, f64)]) -> SampleBatch {
        let mut names: Vec<&str> = sim::METRICS.iter().copied().chain(EXTRA).collect();
        names.sort_unstable();
        let mut batch = SampleBatch::new(&names);
        let ar = self.rho > 0.0;
        for (d, (device, c)) in self.plant.devices.iter().zip(counters.iter_mut()).enumerate() {
            if c.0 < 0.0 {
                *c = (0.0, 0.0);
            }
            for minute in from..to {
                let i = usize::try_from(minute - self.first).unwrap_or(0);
                let n = |s: usize| self.noise[d][s][i];
                let mut row = self.plant.row(device, minute, c);
                if ar {
                    // The plant's gauges wander too: cycle time, CPU, memory, quality.
                    row[2] *= 1.0 + 0.02 * n(0);
                    row[1] += 4.0 * n(1);
                    row[4] += 4.0 * n(2);
                    row[6] = (row[6] + 0.005 * n(3)).clamp(0.0, 1.0);
                }
                let extra = [45.0 + 3.0 * n(4), 40.0 + 0.5 * n(6), 100.0 + 2.0 * n(5)];
                let mut values: Vec<(&str, f64)> =
                    sim::METRICS.iter().copied().zip(row).chain(EXTRA.into_iter().zip(extra)).collect();
                values.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let values: Vec<f64> = values.into_iter().map(|(_, v)| v).collect();
                batch.push(&device.id, minute * 60, &values);
            }
        }
        batch
    }
}

/// For each rule: (breached at some 5-minute look, breached at some hourly look).
fn one_run(policy: &HealthPolicy, canary: &Canary) -> Result<BTreeMap<String, (bool, bool)>, String> {
    let err = |e: fleetpath::health::HealthError| e.to_string();
    let mut state = HealthState::new(policy).map_err(err)?;
    for d in &canary.plant.devices {
        let updated_at = Timestamp::from_second(d.updated_at).map_err(|e| e.to_string())?;
        state.add_device(CohortDevice { id: d.id.clone(), line: d.line.clone(), updated_at }).map_err(err)?;
    }
    let mut counters = vec![(-1.0, -1.0); LINES];
    let update = START / 60;
    state.ingest(&canary.batch(canary.first, update, &mut counters)).map_err(err)?;
    let last_update = update + LAST_UPDATE_MINUTES;
    let end = last_update + 24 * 60;
    let mut out: BTreeMap<String, (bool, bool)> =
        policy.rules.iter().map(|r| (r.name().to_owned(), (false, false))).collect();
    let mut minute = update;
    let mut look = 0;
    while minute < end {
        let to = (minute + 5).min(end);
        state.ingest(&canary.batch(minute, to, &mut counters)).map_err(err)?;
        look += 1;
        let report =
            state.evaluate(policy, Timestamp::from_second(to * 60).map_err(|e| e.to_string())?).map_err(err)?;
        for f in report.findings.iter().filter(|f| f.outcome == Outcome::Breach) {
            if std::env::var("DEBUG_RULE").is_ok_and(|r| r == f.rule) {
                eprintln!("look {look}: {}", f.message);
            }
            if let Some(seen) = out.get_mut(&f.rule) {
                seen.0 = true;
                seen.1 |= look % 12 == 0;
            }
        }
        minute = to;
    }
    Ok(out)
}

#[allow(clippy::cast_precision_loss)]
fn run() -> Result<(), String> {
    let runs: u64 = match std::env::args().nth(1) {
        Some(n) => n.parse().map_err(|_| format!("RUNS must be a count, not {n:?}"))?,
        None => 100,
    };
    let policy = policy()?;
    let mut table: BTreeMap<(&str, String), (u64, u64)> = BTreeMap::new();
    for (noise, rho) in [("iid", 0.0), ("ar1", 0.9)] {
        for seed in 0..runs {
            let canary = Canary::new(20_000 + seed, rho);
            for (rule, (five, hourly)) in one_run(&policy, &canary)? {
                let entry = table.entry((noise, rule)).or_default();
                entry.0 += u64::from(five);
                entry.1 += u64::from(hourly);
            }
        }
    }
    println!("false alarms per stage on healthy canaries (17 devices, 24 h), {runs} runs per noise:");
    println!("| rule | default | iid, 5-min looks | iid, hourly | AR(1) 0.9, 5-min looks | AR(1), hourly |");
    println!("|---|---|---|---|---|---|");
    let pct = |n: u64| format!("{:.1} %", 100.0 * n as f64 / runs as f64);
    let defaults: Vec<String> = fleetpath::health::Rule::seed_defaults().iter().map(|r| r.name().to_owned()).collect();
    for rule in &policy.rules {
        let name = rule.name().to_owned();
        let (i5, ih) = table[&("iid", name.clone())];
        let (a5, ah) = table[&("ar1", name.clone())];
        let default = if defaults.contains(&name) { "yes" } else { "" };
        println!("| `{name}` | {default} | {} | {} | {} | {} |", pct(i5), pct(ih), pct(a5), pct(ah));
    }
    Ok(())
}
