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
            b.iter(|| fleet.devices().map(|d| next.get(black_box(d.version)).copied()).collect::<Vec<_>>());
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
        // Shared, as a host keeps it: a decider per request batch copies no state.
        let rollout = std::sync::Arc::new(rollout);
        group.bench_function(BenchmarkId::new("decide_fleet_rollout", label), |b| {
            b.iter_with_large_drop(|| {
                let decider = Decider::new(&graph, DecisionPolicy::default())
                    .unwrap()
                    .with_rollout(std::sync::Arc::clone(&rollout), None)
                    .unwrap()
                    .with_availability(observed.clone());
                decider.decide_fleet(black_box(&fleet), at)
            });
        });
    }
    group.finish();
}

/// Makes the `i`-th device of one outcome's fleet.
type MakeDevice<'a> = Box<dyn Fn(usize, &mut common::Lcg) -> fleetpath::Device + 'a>;

/// Every outcome on a 10k-release graph (about 95k edges, two models, 1% blocked releases):
/// 10k devices each, all of one kind, so each row is the per-device cost of that outcome.
/// A stuck device must not cost much more than one that downloads.
fn outcomes(c: &mut Criterion) {
    let n = 10_000;
    let graph = UpgradeGraph::from_json(&common::manifest_json(n)).unwrap();
    let at: jiff::Timestamp = "2026-11-24T14:00:00Z".parse().unwrap();
    let version = |i: usize| common::version(i).parse::<Version>().unwrap();
    let device = |i: usize, model: &str, version: Version| fleetpath::Device {
        id: format!("device-{i:07}"),
        model: model.into(),
        line: format!("line-{:03}", i % 17).into(),
        site: None,
        version,
        labels: BTreeMap::new(),
    };
    let mut rng = common::Lcg(3);
    // Releases every third of which m1 cannot install; m0 installs all of them.
    let kinds: [(&str, MakeDevice<'_>); 4] = [
        ("download", Box::new(|i, rng| device(i, "m0", version(rng.next(n - 200) / 100 * 100 + 7)))),
        ("on_blocked_release", Box::new(|i, rng| device(i, "m0", version(rng.next(n / 100 - 1) * 100 + 50)))),
        ("unknown_version", Box::new(|i, rng| device(i, "m0", format!("99.{}.0", rng.next(1000)).parse().unwrap()))),
        ("no_release_for_model", Box::new(|i, rng| device(i, "m2", version(rng.next(n))))),
    ];
    let mut group = c.benchmark_group("decision/outcomes_10k_releases");
    group.sample_size(10);
    let decider = Decider::new(&graph, DecisionPolicy::default()).unwrap();
    for (name, make) in &kinds {
        let fleet = Fleet::new((0..10_000).map(|i| make(i, &mut rng)).collect()).unwrap();
        let kinds: std::collections::BTreeSet<&str> =
            decider.decide_fleet(&fleet, at).iter().map(fleetpath::decision::Decision::reason).collect();
        assert!(!kinds.is_empty(), "{name}: {kinds:?}");
        group.bench_function(BenchmarkId::new("decide_fleet_10k_devices", name), |b| {
            b.iter_with_large_drop(|| decider.decide_fleet(black_box(&fleet), at));
        });
    }
    group.finish();
}

/// Conditional edges: the seed story with a risk on 5.6.30 -> 6.15.008 for devices whose
/// `bootloader` label is "1", against the same graph without it, on 100k labelled devices:
/// the price of evaluating risks per device (no device withheld), and with a tenth withheld
/// (those devices are answered `blocked`, as they must be).
fn risks(c: &mut Criterion) {
    let mut story: serde_json::Value = serde_json::from_str(STORY).unwrap();
    let plain = UpgradeGraph::from_value(story.clone()).unwrap();
    for edge in story["edges"].as_array_mut().unwrap() {
        if edge["from"] == "5.6.30" && edge["to"] == "6.15.008" {
            edge["risks"] =
                serde_json::json!([{"name": "OldBoot", "when": {"label": {"name": "bootloader", "in": ["1"]}}}]);
        }
    }
    let risky = UpgradeGraph::from_value(story).unwrap();
    let target = Version::parse("6.15.008").unwrap();
    let at: jiff::Timestamp = "2026-11-24T14:00:00Z".parse().unwrap();
    let labelled = |share: usize| {
        let mut devices = fleet(100_000, 200).to_devices();
        for (i, d) in devices.iter_mut().enumerate() {
            let bootloader = if share > 0 && i % share == 0 { "1" } else { "2" };
            d.labels.insert("bootloader".to_owned(), bootloader.to_owned());
        }
        Fleet::new(devices).unwrap()
    };
    let (none_apply, tenth_apply) = (labelled(0), labelled(10));
    let mut group = c.benchmark_group("decision/risks_100k");
    group.sample_size(10);
    let cases = [
        ("no_risks", &plain, &tenth_apply),
        ("risky_edge_applying_to_none", &risky, &none_apply),
        ("risky_edge_applying_to_a_tenth", &risky, &tenth_apply),
    ];
    for (name, graph, fleet) in cases {
        let decider = Decider::new(graph, DecisionPolicy::default()).unwrap().with_target(&target).unwrap();
        group.bench_function(BenchmarkId::new("decide_fleet", name), |b| {
            b.iter_with_large_drop(|| decider.decide_fleet(black_box(fleet), at));
        });
    }
    group.finish();
}

/// A realistic large batch: 1M devices on the 10k-release graph (two models with releases,
/// a third without; devices on random releases, 0.5% on a version the graph does not know),
/// read from CSV as a host would, decided by a decider the host keeps; about 17% of the
/// devices are blocked (no path, unknown version or model). Rows, columns, and a std hash
/// lookup of each device's version beside them.
fn fleet_10k_releases(c: &mut Criterion) {
    use std::fmt::Write as _;
    let n = 10_000;
    let graph = UpgradeGraph::from_json(&common::manifest_json(n)).unwrap();
    let at: jiff::Timestamp = "2026-11-24T14:00:00Z".parse().unwrap();
    let fleet_of = |devices: usize| {
        let mut rng = common::Lcg(7);
        let mut csv = String::from("id,model,line,version\n");
        for i in 0..devices {
            let r = rng.next(1000);
            let model = if r < 5 {
                "m2"
            } else if r % 2 == 1 {
                "m1"
            } else {
                "m0"
            };
            let version = if (5..10).contains(&r) { format!("99.{r}.0") } else { common::version(rng.next(n)) };
            let _ = writeln!(csv, "device-{i:07},{model},line-{:03},{version}", i % 200);
        }
        Fleet::from_csv(&csv).unwrap()
    };
    let decider = Decider::new(&graph, DecisionPolicy::default()).unwrap();
    let index: HashMap<Version, usize> =
        graph.releases().iter().enumerate().map(|(i, r)| (r.version().clone(), i)).collect();
    let mut group = c.benchmark_group("decision/fleet_10k_releases");
    group.sample_size(10);
    // 100k devices: as many models and spellings as a million nearly, so the first decision
    // of each (model, spelling) weighs five times as much a device (what the bindings see).
    for (devices, label) in [(100_000, "100k"), (1_000_000, "1m")] {
        let fleet = fleet_of(devices);
        let stuck = decider.decide_fleet(&fleet, at).iter().filter(|d| d.kind() == "blocked").count();
        eprintln!("decision/fleet_10k_releases: {stuck} of {} devices blocked", fleet.len());
        group.bench_function(BenchmarkId::new("baseline_hash_lookup", label), |b| {
            b.iter(|| fleet.devices().map(|d| index.get(black_box(d.version)).copied()).collect::<Vec<_>>());
        });
        if devices == 1_000_000 {
            group.bench_function(BenchmarkId::new("decide_fleet", label), |b| {
                b.iter_with_large_drop(|| decider.decide_fleet(black_box(&fleet), at));
            });
        }
        group.bench_function(BenchmarkId::new("decide_columns", label), |b| {
            b.iter_with_large_drop(|| decider.decide_columns(black_box(&fleet), at));
        });
    }
    group.finish();
}

criterion_group!(benches, decision, outcomes, risks, fleet_10k_releases);
criterion_main!(benches);
