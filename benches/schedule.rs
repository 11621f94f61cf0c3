//! Calendar queries, beside a plain UTC-to-local conversion of the same instants (jiff).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fleetpath::Calendar;

const CALENDAR: &str = include_str!("../examples/data/plant-calendar.json");

fn queries(c: &mut Criterion) {
    let calendar = Calendar::from_json(CALENDAR).unwrap();
    let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let start: jiff::Timestamp = "2026-11-23T00:00:00Z".parse().unwrap();
    // 1000 instants spread over three weeks.
    let instants: Vec<jiff::Timestamp> =
        (0..1000).map(|k| start.checked_add(jiff::SignedDuration::from_mins(k * 31)).unwrap()).collect();
    let mut group = c.benchmark_group("schedule/1000_instants");
    for stage in ["canary", "production"] {
        group.bench_function(format!("next_window_{stage}"), |b| {
            b.iter(|| {
                instants
                    .iter()
                    .filter_map(|&t| calendar.next_window("plant-a", "press-2", stage, black_box(t)).unwrap())
                    .count()
            });
        });
    }
    group.bench_function("baseline_to_local_time", |b| {
        b.iter(|| instants.iter().map(|&t| zone.to_datetime(black_box(t)).hour()).map(i64::from).sum::<i64>());
    });
    group.finish();
}

criterion_group!(benches, queries);
criterion_main!(benches);
