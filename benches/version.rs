//! Version parsing and range matching, beside `semver`'s parser on the same (semver-valid)
//! strings as the baseline.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fleetpath::{Version, VersionRange};

fn parse(c: &mut Criterion) {
    let inputs: Vec<String> = (0..1000).map(|i| format!("{}.{}.{}", i % 7, i % 31, i)).collect();
    let mut group = c.benchmark_group("version/parse_1000");
    group.bench_function("fleetpath", |b| {
        b.iter(|| inputs.iter().map(|s| Version::parse(black_box(s)).unwrap()).collect::<Vec<_>>());
    });
    group.bench_function("baseline_semver", |b| {
        b.iter(|| inputs.iter().map(|s| semver::Version::parse(black_box(s)).unwrap()).collect::<Vec<_>>());
    });
    group.finish();

    let versions: Vec<Version> = inputs.iter().map(|s| Version::parse(s).unwrap()).collect();
    let semvers: Vec<semver::Version> = inputs.iter().map(|s| semver::Version::parse(s).unwrap()).collect();
    let ours = VersionRange::parse(">=1.5, <5.20.0").unwrap();
    let theirs = semver::VersionReq::parse(">=1.5, <5.20.0").unwrap();
    let mut group = c.benchmark_group("version/range_match_1000");
    group.bench_function("fleetpath", |b| b.iter(|| versions.iter().filter(|v| ours.matches(black_box(v))).count()));
    group.bench_function("baseline_semver", |b| {
        b.iter(|| semvers.iter().filter(|v| theirs.matches(black_box(v))).count());
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
