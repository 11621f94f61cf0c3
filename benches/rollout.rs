//! Stage selection for a large fleet, beside a plain hash-and-sort of the same device ids.

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fleetpath::{Fleet, RolloutPolicy, UpgradeGraph, Version, plan_rollout};

const SEED_GRAPH: &str = include_str!("../examples/data/seed-ip-module.json");

fn fleet(devices: usize, lines: usize) -> Fleet {
    common::fleet(devices, lines, &["5.6.14", "5.6.30"], |i| i % 3 / 2)
}

fn selection(c: &mut Criterion) {
    let graph = UpgradeGraph::from_json(SEED_GRAPH).unwrap();
    let target = Version::parse("6.15.008").unwrap();
    let policy = RolloutPolicy::default();
    let mut group = c.benchmark_group("rollout/select");
    group.sample_size(10);
    for (devices, label) in [(10_000, "10k_200_lines"), (1_000_000, "1m_200_lines")] {
        let fleet = fleet(devices, 200);
        group.bench_function(BenchmarkId::new("plan_rollout", label), |b| {
            // Dropped inside the timing, as the baseline's keys are: a service that plans again
            // reuses the memory of the plan before (kept apart, each plan's memory was fresh
            // and faulted in, which the baseline's never is).
            b.iter(|| plan_rollout(&graph, black_box(&fleet), &target, &policy, "r-2026").unwrap());
        });
        group.bench_function(BenchmarkId::new("baseline_hash_and_sort", label), |b| {
            b.iter(|| {
                let mut keys: Vec<u64> =
                    fleet.ids().map(|id| fleetpath::rollout::selection_key("r-2026", black_box(id))).collect();
                keys.sort_unstable();
                keys
            });
        });
    }
    group.finish();
}

criterion_group!(benches, selection);
criterion_main!(benches);
