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

/// A site with 5,000 shifts in one stage (each a few minutes on one weekday, about 700 a day):
/// a query costs a scan of the days it looks at, not of every shift.
fn many_shifts(c: &mut Criterion) {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let shifts: Vec<serde_json::Value> = (0..5000)
        .map(|k| {
            let minute = (k * 7) % 1435;
            serde_json::json!({
                "name": format!("s{k}"),
                "start": format!("{:02}:{:02}", minute / 60, minute % 60),
                "end": format!("{:02}:{:02}", (minute + 2) / 60, (minute + 2) % 60),
                "days": [days[k % 7]],
            })
        })
        .collect();
    let names: Vec<String> = (0..5000).map(|k| format!("s{k}")).collect();
    let calendar = Calendar::from_value(serde_json::json!({"sites": [{
        "name": "plant-a", "time_zone": "Europe/Berlin", "shifts": shifts, "stages": {"canary": names},
    }]}))
    .unwrap();
    let start: jiff::Timestamp = "2026-11-23T00:00:00Z".parse().unwrap();
    let instants: Vec<jiff::Timestamp> =
        (0..100).map(|k| start.checked_add(jiff::SignedDuration::from_mins(k * 97)).unwrap()).collect();
    c.bench_function("schedule/5000_shifts/next_window_100_instants", |b| {
        b.iter(|| {
            instants
                .iter()
                .filter_map(|&t| calendar.next_window("plant-a", "press-2", "canary", black_box(t)).unwrap())
                .count()
        });
    });
}

criterion_group!(benches, queries, many_shifts);
criterion_main!(benches);
