//! Summarising a week of the seed plant's metrics: 340 devices x 7 days x 1 sample a minute x
//! 8 metrics (27.4M values), beside a plain sum of the same values.
//!
//! - `health/summarise/ingest_27m`: `HealthState::ingest` of the whole week (6 days baseline,
//!   1 day observation): value checks, grouping by device, windows, moments, sketches,
//!   counters and trends.
//! - `health/summarise/ingest_27m_recent_windows`: the same under a policy whose rules also
//!   read the last 60 minutes of five metrics (exceedance rules): the observation keeps
//!   5-minute buckets of them.
//! - `health/summarise/moments_27m`: `Moments::of` over every device's column slice.
//! - `health/summarise/baseline_sum_27m`: `iter().sum()` over every column.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fleetpath::health::stats::Moments;
use fleetpath::health::{CohortDevice, HealthPolicy, HealthState, MetricSpec, SampleBatch};
use jiff::Timestamp;

const DEVICES: usize = 340;
const MINUTES: i64 = 7 * 24 * 60;
const T0: i64 = 1_795_000_000;

/// A cheap deterministic generator (the values' realism matters less than their volume).
struct Lcg(u64);

impl Lcg {
    #[allow(clippy::cast_precision_loss)]
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn week() -> (SampleBatch, Vec<CohortDevice>) {
    // The eight built-in metrics; a batch keeps its columns sorted by name.
    let mut names: Vec<String> = MetricSpec::builtin().into_iter().map(|m| m.name).collect();
    names.sort();
    let metrics: Vec<&str> = names.iter().map(String::as_str).collect();
    let at = |name: &str| metrics.iter().position(|m| *m == name).unwrap();
    let slots = [
        at("component_crashes"),
        at("cpu_percent"),
        at("cycle_time_ms"),
        at("error_count"),
        at("memory_mb"),
        at("mqtt_connected"),
        at("quality_pass_rate"),
        at("units_produced"),
    ];
    let mut batch = SampleBatch::new(&metrics);
    let mut rng = Lcg(42);
    let mut cohort = Vec::new();
    let updated_at = Timestamp::from_second(T0 + 6 * 24 * 3600).unwrap();
    for d in 0..DEVICES {
        let id = format!("press-{:02}-{d:03}", d % 17);
        cohort.push(CohortDevice { id: id.clone(), line: format!("L{:02}", d % 17), updated_at });
        let (mut errors, mut units) = (0.0, 0.0);
        for m in 0..MINUTES {
            if rng.next() < 0.05 {
                errors += 1.0;
            }
            units += 70.0 + (rng.next() * 4.0).floor();
            let values = [
                0.0,
                30.0 + 10.0 * rng.next(),
                780.0 + 40.0 * rng.next(),
                errors,
                300.0 + 8.0 * rng.next(),
                if rng.next() < 0.004 { 0.0 } else { 1.0 },
                0.97 + 0.02 * rng.next(),
                units,
            ];
            let mut row = [0.0; 8];
            for (slot, v) in slots.iter().zip(values) {
                row[*slot] = v;
            }
            batch.push(&id, T0 + 60 * m, &row);
        }
    }
    (batch, cohort)
}

fn summarise(c: &mut Criterion) {
    let (batch, cohort) = week();
    let policy = HealthPolicy::default();
    let mut empty = HealthState::new(&policy).unwrap();
    for d in &cohort {
        empty.add_device(d.clone()).unwrap();
    }
    let windowed = HealthPolicy {
        rules: policy
            .rules
            .iter()
            .cloned()
            .chain(["cycle_time_ms", "cpu_percent", "memory_mb", "error_count", "mqtt_connected"].map(|metric| {
                serde_json::from_value(serde_json::json!({"check": "exceedance", "name": format!("{metric}_1h"),
                    "metric": metric, "quantile": 0.99, "threshold": 2.0, "window_minutes": 60}))
                .unwrap()
            }))
            .collect(),
        ..policy.clone()
    };
    let mut empty_windowed = HealthState::new(&windowed).unwrap();
    for d in &cohort {
        empty_windowed.add_device(d.clone()).unwrap();
    }
    let rows = usize::try_from(MINUTES).unwrap();
    let mut group = c.benchmark_group("health/summarise");
    group.sample_size(10);
    group.bench_function("ingest_27m", |b| {
        b.iter_batched(
            || empty.clone(),
            |mut state| {
                state.ingest(black_box(&batch)).unwrap();
                state
            },
            criterion::BatchSize::LargeInput,
        );
    });
    group.bench_function("ingest_27m_recent_windows", |b| {
        b.iter_batched(
            || empty_windowed.clone(),
            |mut state| {
                state.ingest(black_box(&batch)).unwrap();
                state
            },
            criterion::BatchSize::LargeInput,
        );
    });
    group.bench_function("moments_27m", |b| {
        b.iter(|| {
            let mut n = 0;
            for column in batch.metrics.values() {
                for device in column.0.chunks(rows) {
                    n += Moments::of(black_box(device)).count;
                }
            }
            n
        });
    });
    group.bench_function("baseline_sum_27m", |b| {
        b.iter(|| batch.metrics.values().map(|c| black_box(&c.0).iter().sum::<f64>()).sum::<f64>());
    });
    group.finish();
}

criterion_group!(benches, summarise);
criterion_main!(benches);
