//! Graph benches: manifest load + validation, `resolve`, `route_table`, each beside a plain
//! baseline (serde-only parsing; BFS over `Vec<Vec<u32>>` adjacency of the same graph).

mod common;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fleetpath::{Constraints, Manifest, UpgradeGraph, Version};

const SIZES: [(usize, &str); 3] = [(1_000, "1k"), (10_000, "10k"), (100_000, "100k")];

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("graph/load");
    group.sample_size(10);
    for (n, label) in SIZES {
        let json = common::manifest_json(n);
        group.bench_function(BenchmarkId::new("manifest+validate", label), |b| {
            b.iter_with_large_drop(|| UpgradeGraph::from_json(black_box(&json)).unwrap());
        });
        group.bench_function(BenchmarkId::new("baseline_serde_only", label), |b| {
            b.iter_with_large_drop(|| serde_json::from_str::<Manifest>(black_box(&json)).unwrap());
        });
        // The validation phase alone (parsing excluded): where the time beyond serde goes.
        group.bench_function(BenchmarkId::new("validate_only", label), |b| {
            b.iter_batched(
                || serde_json::from_str::<Manifest>(&json).unwrap(),
                |m| UpgradeGraph::new(black_box(m)).unwrap(),
                criterion::BatchSize::LargeInput,
            );
        });
        // The same document signed (one Ed25519 key): verify the envelope (parse it, canonical
        // JSON, signature, expiry, version), then load the document it holds.
        let key = fleetpath::trust::SigningKey::from_seed(&[7; 32]);
        let trusted = fleetpath::trust::TrustedKeys::new([key.public_key()], 1).unwrap();
        let expires = "2030-01-01T00:00:00Z".parse().unwrap();
        let now = "2026-12-01T00:00:00Z".parse().unwrap();
        let kind = fleetpath::trust::DocumentKind::Manifest;
        let envelope = fleetpath::trust::sign(kind, 1, expires, &json, &[&key]);
        let signed = serde_json::to_string(&envelope).unwrap();
        group.bench_function(BenchmarkId::new("signed_verify+load", label), |b| {
            b.iter_with_large_drop(|| {
                let verified = fleetpath::trust::verify(black_box(&signed), kind, &trusted, now, Some(1)).unwrap();
                UpgradeGraph::from_json(&verified.document).unwrap()
            });
        });
        // The floor of any serde_json reader: tokenizing the document, building nothing.
        group.bench_function(BenchmarkId::new("baseline_tokenize_only", label), |b| {
            b.iter(|| serde_json::from_str::<serde::de::IgnoredAny>(black_box(&json)).unwrap());
        });
    }
    group.finish();
}

fn paths(c: &mut Criterion) {
    let mut group = c.benchmark_group("graph/paths");
    for (n, label) in SIZES {
        let graph = UpgradeGraph::from_json(&common::manifest_json(n)).unwrap();
        let forward = common::adjacency(n);
        let reverse = common::reverse_adjacency(n);
        let oldest = Version::parse(&common::version(0)).unwrap();
        let newest = Version::parse(&common::version(n - 1)).unwrap();
        let model = Constraints::for_model("m0");
        group.bench_function(BenchmarkId::new("route_table", label), |b| {
            b.iter(|| graph.route_table(black_box(&newest), &model).unwrap());
        });
        group.bench_function(BenchmarkId::new("baseline_plain_bfs", label), |b| {
            b.iter(|| common::plain_bfs(black_box(&reverse), u32::try_from(n - 1).unwrap()));
        });
        group.bench_function(BenchmarkId::new("resolve_oldest_to_newest", label), |b| {
            b.iter(|| graph.resolve(black_box(&oldest), &newest, &model).unwrap());
        });
        group.bench_function(BenchmarkId::new("baseline_plain_bfs_forward", label), |b| {
            b.iter(|| common::plain_bfs(black_box(&forward), 0));
        });
        let table = graph.route_table(&newest, &model).unwrap();
        let sources: Vec<Version> = (0..n).step_by(7).map(|i| Version::parse(&common::version(i)).unwrap()).collect();
        group.bench_function(BenchmarkId::new("route_table_next_hop_lookup", label), |b| {
            let mut k = 0;
            b.iter(|| {
                k = (k + 1) % sources.len();
                table.next_hop(black_box(&sources[k])).is_ok_and(|h| h.is_some())
            });
        });
    }
    group.finish();
}

criterion_group!(benches, load, paths);
criterion_main!(benches);
