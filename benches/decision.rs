//! The batch decision for a large fleet against one target, beside a plain hash map lookup
//! per device in the same run.

#[path = "common/mod.rs"]
mod common;

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fleetpath::decision::{Decider, DecisionPolicy};
use fleetpath::{
    Availability, Event, Fleet, Rollout, RolloutPolicy, StorageClass, UpgradeGraph, Version, plan_rollout,
};

const STORY: &str = include_str!("../examples/data/seed-story.json");

fn fleet(devices: usize, lines: usize) -> Fleet {
    common::fleet(devices, lines, &["5.6.14", "5.6.30", "6.15.007", "6.15.008"], |i| (i * 31) % 7 % 4)
}

fn decision(c: &mut Criterion) {
    let graph = UpgradeGraph::from_json(STORY).unwrap();
    let target = Version::parse("6.15.008").unwrap();
    let at: jiff::Timestamp = "2026-11-24T14:00:00Z".parse().unwrap();
    let mut observed = BTreeMap::new();
    for r in graph.releases() {
        if let Some(a) = r.artifact() {
            observed.insert(a.key.clone(), Availability::Available { class: StorageClass::Standard });
        }
    }
    observed.insert(
        "firmware/ip-module/5.6.30.bin".to_owned(),
        Availability::Archived { class: StorageClass::GlacierFlexibleRetrieval },
    );
    let mut group = c.benchmark_group("decision/batch");
    group.sample_size(10);
    for (devices, label) in [(10_000, "10k"), (1_000_000, "1m")] {
        let fleet = fleet(devices, 200);
        // The plain baseline: one std hash map lookup per device (version -> next version).
        let next: HashMap<Version, usize> =
            graph.releases().iter().enumerate().map(|(i, r)| (r.version().clone(), i)).collect();
        group.bench_function(BenchmarkId::new("baseline_hash_lookup", label), |b| {
            b.iter(|| fleet.devices().iter().map(|d| next.get(black_box(&d.version)).copied()).collect::<Vec<_>>());
        });
        group.bench_function(BenchmarkId::new("decide_fleet_target", label), |b| {
            b.iter_with_large_drop(|| {
                let decider = Decider::new(&graph, DecisionPolicy::default())
                    .unwrap()
                    .with_target(&target)
                    .unwrap()
                    .with_availability(observed.clone());
                decider.decide_fleet(black_box(&fleet), at)
            });
        });
        // Within a rollout: the canary started, the other stages wait.
        let policy = RolloutPolicy::default();
        let plan = plan_rollout(&graph, &fleet, &target, &policy, "r-2026").unwrap();
        let rollout = Rollout::new(&plan, &fleet, &graph, &policy).unwrap();
        let (rollout, _) = rollout.apply(&Event::Start { at }, None).unwrap();
        group.bench_function(BenchmarkId::new("decide_fleet_rollout", label), |b| {
            b.iter_with_large_drop(|| {
                let decider = Decider::new(&graph, DecisionPolicy::default())
                    .unwrap()
                    .with_rollout(rollout.clone(), None)
                    .unwrap()
                    .with_availability(observed.clone());
                decider.decide_fleet(black_box(&fleet), at)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, decision);
criterion_main!(benches);
