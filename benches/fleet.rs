//! Reading a fleet from CSV, beside a bare `csv::ByteRecord` pass over the same text, and what
//! a fleet holds in memory a device (the growth of the process's resident memory, read once).

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use fleetpath::Fleet;

/// The process's resident memory in bytes (Linux; 0 elsewhere).
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm.split_whitespace().nth(1).and_then(|pages| pages.parse::<usize>().ok()).unwrap_or(0) * 4096
}

/// A plant-like fleet as CSV: ids, a few models, 200 lines over 4 sites, a handful of versions
/// and one label column (empty for most devices).
fn csv_text(devices: usize) -> String {
    let versions = ["5.6.14", "5.6.30", "6.15.007", "6.15.008", "v6.15.8-rc.1"];
    let mut text = String::from("id,model,line,site,version,label:cell\n");
    for i in 0..devices {
        let _ = writeln!(
            text,
            "device-{i:07},IPM-{},line-{:03},plant-{},{},{}",
            i % 3 + 1,
            (i * 7919) % 200,
            (i * 7919) % 200 / 50,
            versions[(i * 31) % 7 % versions.len()],
            if i % 10 == 0 { "A" } else { "" }
        );
    }
    text
}

fn read(c: &mut Criterion) {
    // Memory first, before any bench has grown the allocator's free lists (which later
    // fleets would reuse without the process growing).
    let text = csv_text(1_000_000);
    let before = resident();
    let fleet = Fleet::from_csv(&text).unwrap();
    let held = resident().saturating_sub(before);
    eprintln!("fleet/csv: {} bytes a device resident ({} devices)", held / fleet.len(), fleet.len());
    drop((fleet, text));
    let mut group = c.benchmark_group("fleet/csv");
    group.sample_size(10);
    for (devices, label) in [(10_000, "10k"), (1_000_000, "1m")] {
        let text = csv_text(devices);
        group.bench_function(BenchmarkId::new("from_csv", label), |b| {
            b.iter_with_large_drop(|| Fleet::from_csv(black_box(&text)).unwrap());
        });
        // The bare pass: every record read as bytes, no field looked at beyond its length.
        group.bench_function(BenchmarkId::new("baseline_byte_records", label), |b| {
            b.iter(|| {
                let mut reader = csv::ReaderBuilder::new().from_reader(black_box(text.as_bytes()));
                let mut record = csv::ByteRecord::new();
                let mut bytes = 0;
                while reader.read_byte_record(&mut record).unwrap() {
                    bytes += record.as_slice().len();
                }
                bytes
            });
        });
    }
    group.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);
