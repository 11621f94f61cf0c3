//! Property tests of the health summaries: merging the summaries of a split of the samples
//! equals summarising all of them (within the documented float tolerance), and neither
//! summaries nor verdicts depend on the order of the rows.

#![allow(clippy::cast_precision_loss, clippy::float_cmp, clippy::cast_possible_truncation)]

use fleetpath::health::stats::Trend;
use fleetpath::health::{
    Change, CohortDevice, Direction, HealthPolicy, HealthState, MetricSummary, Rule, SampleBatch, ScopeKind, Statistic,
};
use jiff::Timestamp;
use proptest::prelude::*;

const T0: i64 = 1_795_000_000;

/// One row: device index, minute relative to `T0`, and the four metrics.
#[derive(Debug, Clone)]
struct Row {
    device: usize,
    minute: i64,
    cycle: f64,
    connected: f64,
    errors: f64,
    memory: f64,
}

const METRICS: [&str; 4] = ["cycle_time_ms", "error_count", "memory_mb", "mqtt_connected"];

/// Up to four devices, each with distinct minutes in [-200, 200), values with gaps (NaN),
/// and an error counter that climbs and sometimes restarts.
fn rows() -> impl Strategy<Value = (Vec<Row>, Vec<i64>)> {
    let device = (
        prop::collection::btree_set(-200i64..200, 1..60),
        prop::collection::vec((0.0f64..1000.0, 0u8..10, 0u32..5, 0u8..20, 100.0f64..400.0), 60),
        -40i64..40,
    );
    prop::collection::vec(device, 1..5).prop_map(|devices| {
        let mut rows = Vec::new();
        let mut offsets = Vec::new();
        for (d, (minutes, values, offset)) in devices.into_iter().enumerate() {
            offsets.push(offset);
            let mut errors = 0.0;
            for (minute, (cycle, gap, inc, restart, memory)) in minutes.into_iter().zip(values) {
                errors = if restart == 0 { f64::from(inc) } else { errors + f64::from(inc) };
                rows.push(Row {
                    device: d,
                    minute,
                    cycle: if gap == 0 { f64::NAN } else { cycle },
                    connected: if gap == 1 { 0.0 } else { 1.0 },
                    errors: if gap == 2 { f64::NAN } else { errors },
                    memory,
                });
            }
        }
        (rows, offsets)
    })
}

/// The seed's rules, and two with baselines and recent windows of their own: shorter (a
/// gauge) and longer (a counter) than the policy's, so shards and merges cover those baselines
/// and the recent buckets too.
fn policy() -> HealthPolicy {
    let mut rules = Rule::seed_defaults();
    rules.push(Rule::Compare {
        name: "cycle_p1_last_hour".into(),
        metric: "cycle_time_ms".into(),
        statistic: Statistic::Tail99,
        change: Change::Relative,
        threshold: 0.1,
        baseline_floor: 0.0,
        scopes: None,
        direction: Some(Direction::TwoSided),
        baseline_hours: Some(1),
        window_minutes: Some(30),
    });
    rules.push(Rule::Compare {
        name: "errors_three_hours".into(),
        metric: "error_count".into(),
        statistic: Statistic::Mean,
        change: Change::Relative,
        threshold: 0.05,
        baseline_floor: 1.0 / 60.0,
        scopes: None,
        direction: None,
        baseline_hours: Some(3),
        window_minutes: Some(60),
    });
    // An exceedance rule: memory's baselines keep a trend (for their autocorrelation).
    rules.push(
        serde_json::from_value(serde_json::json!({"check": "exceedance", "name": "memory_spikes",
            "metric": "memory_mb", "quantile": 0.95, "threshold": 1.0, "window_minutes": 15}))
        .unwrap(),
    );
    HealthPolicy {
        baseline_hours: 2,
        monitoring_hours: 1,
        min_samples: 3,
        trend_warmup_minutes: 10,
        trend_min_hours: 0.5,
        scopes: vec![ScopeKind::Stage, ScopeKind::Line, ScopeKind::Device],
        rules,
        ..HealthPolicy::default()
    }
}

fn state(offsets: &[i64]) -> HealthState {
    let mut s = HealthState::new(&policy()).unwrap();
    for (d, off) in offsets.iter().enumerate() {
        s.add_device(CohortDevice {
            id: format!("dev-{d}"),
            line: format!("L{}", d % 2),
            updated_at: Timestamp::from_second(T0 + 60 * off).unwrap(),
        })
        .unwrap();
    }
    s
}

fn batch<'a>(rows: impl IntoIterator<Item = &'a Row>) -> SampleBatch {
    let mut b = SampleBatch::new(&METRICS);
    for r in rows {
        b.push(&format!("dev-{}", r.device), T0 + 60 * r.minute, &[r.cycle, r.errors, r.memory, r.connected]);
    }
    b
}

fn close(a: f64, b: f64, rel: f64, scale: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(scale)
}

fn assert_summary_close(what: &str, a: &MetricSummary, b: &MetricSummary, seams_exact: bool) {
    assert_eq!(a.recent.keys().collect::<Vec<_>>(), b.recent.keys().collect::<Vec<_>>(), "{what}: recent buckets");
    for (start, ra) in &a.recent {
        let rb = &b.recent[start];
        assert_eq!(ra.sketch, rb.sketch, "{what}: recent bucket {start}");
        assert_eq!(
            (ra.moments.count, ra.moments.min, ra.moments.max),
            (rb.moments.count, rb.moments.min, rb.moments.max)
        );
        assert!(close(ra.moments.sum, rb.moments.sum, 1e-9, ra.moments.max.abs().max(1.0)), "{what}: recent {start}");
    }
    let (ma, mb) = (&a.moments, &b.moments);
    assert_eq!((ma.count, ma.min, ma.max), (mb.count, mb.min, mb.max), "{what}: count/min/max");
    let scale = ma.max.abs().max(ma.min.abs()).max(1.0);
    assert!(close(ma.sum, mb.sum, 1e-9, scale), "{what}: sum {} vs {}", ma.sum, mb.sum);
    assert!(close(ma.mean, mb.mean, 1e-9, scale), "{what}: mean {} vs {}", ma.mean, mb.mean);
    assert!(close(ma.m2, mb.m2, 1e-6, scale * scale), "{what}: m2 {} vs {}", ma.m2, mb.m2);
    assert_eq!(a.sketch, b.sketch, "{what}: sketches merge exactly");
    assert_eq!(a.counter, b.counter, "{what}: counter tracks (whole numbers) merge exactly");
    match (a.trend, b.trend) {
        (None, None) => {}
        (Some(x), Some(y)) => assert_trend_close(what, &x, &y, seams_exact, scale),
        (x, y) => panic!("{what}: trend {x:?} vs {y:?}"),
    }
}

fn assert_trend_close(what: &str, x: &Trend, y: &Trend, seams_exact: bool, scale: f64) {
    assert_eq!((x.count, x.first_t, x.last_t), (y.count, y.first_t, y.last_t), "{what}: trend span");
    for (name, a, b, s) in [
        ("mean_t", x.mean_t, y.mean_t, 10.0),
        ("mean_x", x.mean_x, y.mean_x, scale),
        ("ctt", x.ctt, y.ctt, 100.0),
        ("ctx", x.ctx, y.ctx, 10.0 * scale),
        ("cxx", x.cxx, y.cxx, scale * scale),
    ] {
        assert!(close(a, b, 1e-6, s), "{what}: trend {name} {a} vs {b}");
    }
    if seams_exact {
        assert_eq!((x.pairs, x.first_x, x.last_x), (y.pairs, y.first_x, y.last_x), "{what}: trend seams");
        assert!(close(x.sdd, y.sdd, 1e-9, scale * scale), "{what}: sdd {} vs {}", x.sdd, y.sdd);
        assert_eq!(
            (x.pairs2, x.second_x, x.penultimate_x),
            (y.pairs2, y.second_x, y.penultimate_x),
            "{what}: lag-2 seams"
        );
        assert!(close(x.sdd2, y.sdd2, 1e-9, scale * scale), "{what}: sdd2 {} vs {}", x.sdd2, y.sdd2);
    }
}

fn assert_states_close(a: &HealthState, b: &HealthState, seams_exact: bool) {
    assert_eq!(a.devices().keys().collect::<Vec<_>>(), b.devices().keys().collect::<Vec<_>>());
    for (id, da) in a.devices() {
        let db = &b.devices()[id];
        assert_eq!(da.rule_baselines.keys().collect::<Vec<_>>(), db.rule_baselines.keys().collect::<Vec<_>>(), "{id}");
        let rule_windows = da.rule_baselines.iter().map(|(h, w)| (format!("{h} h baseline"), w, &db.rule_baselines[h]));
        for (window, wa, wb) in [
            ("baseline".to_owned(), &da.baseline, &db.baseline),
            ("observation".to_owned(), &da.observation, &db.observation),
        ]
        .into_iter()
        .chain(rule_windows)
        {
            assert_eq!(wa.keys().collect::<Vec<_>>(), wb.keys().collect::<Vec<_>>(), "{id} {window}");
            for (metric, sa) in wa {
                assert_summary_close(&format!("{id} {window} {metric}"), sa, &wb[metric], seams_exact);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Shuffled rows give the identical state and the identical report, byte for byte.
    #[test]
    fn summaries_and_verdicts_ignore_row_order((rows, offsets) in rows(), seed in any::<u64>()) {
        let mut shuffled = rows.clone();
        // Deterministic shuffle from the seed.
        for i in (1..shuffled.len()).rev() {
            let j = (xxhash_rust::xxh3::xxh3_64_with_seed(&i.to_le_bytes(), seed) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        let (mut a, mut b) = (state(&offsets), state(&offsets));
        let ra = a.ingest(&batch(&rows)).unwrap();
        let rb = b.ingest(&batch(&shuffled)).unwrap();
        prop_assert_eq!(&ra, &rb);
        prop_assert_eq!(ra.baseline + ra.observation + ra.before_baseline, rows.len() as u64);
        prop_assert_eq!(&a, &b);
        // Rows in a device's last hour before its update feed the one-hour rule baseline.
        for (d, off) in offsets.iter().enumerate() {
            let last_hour = rows.iter().any(|r| r.device == d && !r.cycle.is_nan() && (off - 60..*off).contains(&r.minute));
            let kept = a.devices()[&format!("dev-{d}")].rule_baselines.get(&1).is_some_and(|m| m.contains_key("cycle_time_ms"));
            prop_assert_eq!(last_hour, kept);
            // The observation keeps the last 30 minutes of 5-minute buckets before its latest.
            if let Some(o) = a.devices()[&format!("dev-{d}")].observation.get("cycle_time_ms") {
                let latest = *o.recent.keys().next_back().expect("recent buckets");
                prop_assert!(o.recent.keys().all(|&k| k % 300 == 0 && k >= latest - 1800));
                prop_assert_eq!(o.recent.values().map(|b| b.moments.count).sum::<u64>() <= o.moments.count, true);
            }
            // Memory's baseline keeps a trend (an exceedance rule reads it); cycle time's does not.
            let dev = &a.devices()[&format!("dev-{d}")];
            if let Some(b) = dev.baseline.get("memory_mb") {
                prop_assert_eq!(b.trend.map(|t| t.count), Some(b.moments.count));
            }
            prop_assert!(dev.baseline.get("cycle_time_ms").is_none_or(|b| b.trend.is_none()));
        }
        let now = Timestamp::from_second(T0 + 60 * 240).unwrap();
        let (pa, pb) = (a.evaluate(&policy(), now).unwrap(), b.evaluate(&policy(), now).unwrap());
        prop_assert_eq!(serde_json::to_string(&pa).unwrap(), serde_json::to_string(&pb).unwrap());
        // And the state survives JSON exactly.
        let back = HealthState::from_json(&serde_json::to_string(&a).unwrap()).unwrap();
        prop_assert_eq!(&back, &a);
    }

    /// Shards by device and by time (consecutive runs) merge into what one run summarises,
    /// in either merge order.
    #[test]
    fn device_and_time_shards_merge_like_one_run(
        (rows, offsets) in rows(),
        cut in -200i64..200,
        device_mask in any::<u8>(),
    ) {
        let mut whole = state(&offsets);
        whole.ingest(&batch(&rows)).unwrap();
        // Shard 1: some devices, all their rows. Shards 2 and 3: the others, split in time.
        let mine = |r: &&Row| device_mask & (1 << r.device) != 0;
        let (mut s1, mut s2, mut s3) = (state(&offsets), state(&offsets), state(&offsets));
        s1.ingest(&batch(rows.iter().filter(mine))).unwrap();
        s2.ingest(&batch(rows.iter().filter(|r| !mine(r) && r.minute < cut))).unwrap();
        s3.ingest(&batch(rows.iter().filter(|r| !mine(r) && r.minute >= cut))).unwrap();
        let mut forward = s1.clone();
        forward.merge(&s2).unwrap();
        forward.merge(&s3).unwrap();
        assert_states_close(&forward, &whole, true);
        let mut backward = s3.clone();
        backward.merge(&s2).unwrap();
        backward.merge(&s1).unwrap();
        assert_states_close(&backward, &whole, true);
        // Consecutive 5-minute runs into one state do the same.
        let mut runs = s1;
        runs.ingest(&batch(rows.iter().filter(|r| !mine(r) && r.minute < cut))).unwrap();
        runs.ingest(&batch(rows.iter().filter(|r| !mine(r) && r.minute >= cut))).unwrap();
        assert_states_close(&runs, &whole, true);
    }

    /// Gauges and ratios merge from any split of the rows, even interleaved in time (only a
    /// trend's autocorrelation estimate is then approximate). Counters that overlap in time
    /// are refused, never merged wrongly.
    #[test]
    fn gauges_merge_from_any_split((rows, offsets) in rows(), picks in prop::collection::vec(any::<bool>(), 240)) {
        let gauge_only: Vec<Row> = rows.iter().map(|r| Row { errors: f64::NAN, ..r.clone() }).collect();
        let mut whole = state(&offsets);
        whole.ingest(&batch(&gauge_only)).unwrap();
        let side = |i: usize| picks[i % picks.len()];
        let (mut a, mut b) = (state(&offsets), state(&offsets));
        a.ingest(&batch(gauge_only.iter().enumerate().filter(|(i, _)| side(*i)).map(|(_, r)| r))).unwrap();
        b.ingest(&batch(gauge_only.iter().enumerate().filter(|(i, _)| !side(*i)).map(|(_, r)| r))).unwrap();
        a.merge(&b).unwrap();
        assert_states_close(&a, &whole, false);

        // The same split with counters: either it merges (no overlap) or it is refused with
        // the state untouched.
        let (mut a, mut b) = (state(&offsets), state(&offsets));
        a.ingest(&batch(rows.iter().enumerate().filter(|(i, _)| side(*i)).map(|(_, r)| r))).unwrap();
        b.ingest(&batch(rows.iter().enumerate().filter(|(i, _)| !side(*i)).map(|(_, r)| r))).unwrap();
        let before = a.clone();
        if let Err(e) = a.merge(&b) {
            prop_assert_eq!(e.code(), "overlapping_counter");
            prop_assert_eq!(&a, &before);
        }
    }
}

/// Values from the whole float range: ±`f64::MAX`, huge normals, subnormals, zeros, ordinary.
fn extreme() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        Just(0.0),
        1e300f64..f64::MAX,
        -f64::MAX..-1e300f64,
        1e-320f64..1e-300,
        0.0f64..1000.0,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Numbers a float cannot hold never pass a gate, and every state reads back exactly.
    #[test]
    fn unrepresentable_numbers_never_pass_and_states_round_trip(
        baseline in prop::collection::vec(extreme(), 5..20),
        observed in prop::collection::vec(extreme(), 5..20),
    ) {
        let policy: HealthPolicy = serde_json::from_value(serde_json::json!({
            "baseline_hours": 1, "monitoring_hours": 1, "min_samples": 3, "scopes": ["device"],
            "rules": [
                {"check": "compare", "name": "cycle_mean", "metric": "cycle_time_ms", "statistic": "mean",
                 "change": "relative", "threshold": 0.1, "baseline_floor": 0.0},
                {"check": "compare", "name": "cycle_p95", "metric": "cycle_time_ms", "statistic": "p95",
                 "change": "absolute", "threshold": 1.0},
                {"check": "trend", "name": "cycle_climb", "metric": "cycle_time_ms", "limit": {"relative": 0.25}}
            ]
        })).unwrap();
        let updated = Timestamp::from_second(T0).unwrap();
        let mut state = HealthState::new(&policy).unwrap();
        state.add_device(CohortDevice { id: "d1".into(), line: "l1".into(), updated_at: updated }).unwrap();
        let time: Vec<i64> = (0..baseline.len())
            .map(|i| T0 - 3000 + 60 * i64::try_from(i).unwrap())
            .chain((0..observed.len()).map(|i| T0 + 60 + 60 * i64::try_from(i).unwrap()))
            .collect();
        let values: Vec<f64> = baseline.iter().chain(&observed).copied().collect();
        let batch = SampleBatch::from_value(serde_json::json!({
            "devices": ["d1"], "device": vec![0; time.len()], "time": time, "metrics": {"cycle_time_ms": values},
        })).unwrap();
        state.ingest(&batch).unwrap();
        // Stored and read back: the same state, to the bit.
        let text = serde_json::to_string(&state).unwrap();
        let back: HealthState = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(serde_json::to_string(&back).unwrap(), text);
        let report = state.evaluate(&policy, Timestamp::from_second(T0 + 3700).unwrap()).unwrap();
        for f in &report.findings {
            // Every number a report carries is finite (what overflowed is only in the message).
            prop_assert!([f.baseline, f.observed, f.change, f.z].iter().flatten().all(|v| v.is_finite()), "{:?}", f);
            // A comparison passes or breaches only on numbers it has.
            if f.rule != "cycle_climb" && f.outcome != fleetpath::health::Outcome::Pass {
                continue;
            }
            if f.rule != "cycle_climb" {
                // From a zero baseline the relative change is infinite: `None`, by design
                // (`zero_baseline`), and the noise gate still decides.
                prop_assert!(f.baseline.is_some() && f.observed.is_some(), "{:?}", f);
                prop_assert!(f.change.is_some() || f.zero_baseline, "{:?}", f);
            }
        }
        let text = serde_json::to_string(&report).unwrap();
        prop_assert_eq!(serde_json::from_str::<fleetpath::health::HealthReport>(&text).unwrap(), report);
    }
}

/// The cases, each once: gauges near the float limit give no `healthy`.
#[test]
fn gauges_near_the_float_limit_are_not_healthy() {
    for (before, after) in [(1e308, 1.5e308), (3e306, 4.5e306), (-1e308, 1e308)] {
        let policy: HealthPolicy = serde_json::from_value(serde_json::json!({
            "baseline_hours": 1, "monitoring_hours": 1, "min_samples": 3, "scopes": ["device"],
            "rules": [{"check": "compare", "name": "cycle", "metric": "cycle_time_ms", "statistic": "mean",
                       "change": "relative", "threshold": 0.1, "baseline_floor": 0.0}]
        }))
        .unwrap();
        let mut state = HealthState::new(&policy).unwrap();
        let updated = Timestamp::from_second(T0).unwrap();
        state.add_device(CohortDevice { id: "d1".into(), line: "l1".into(), updated_at: updated }).unwrap();
        let time: Vec<i64> = (0..60).map(|i| T0 - 3600 + 60 * i).chain((0..60).map(|i| T0 + 60 * i)).collect();
        let values: Vec<f64> = (0..120).map(|i| if i < 60 { before } else { after }).collect();
        let batch = SampleBatch::from_value(serde_json::json!({
            "devices": ["d1"], "device": vec![0; 120], "time": time, "metrics": {"cycle_time_ms": values},
        }))
        .unwrap();
        state.ingest(&batch).unwrap();
        let report = state.evaluate(&policy, Timestamp::from_second(T0 + 3700).unwrap()).unwrap();
        assert_ne!(report.status, fleetpath::health::HealthStatus::Healthy, "{before} -> {after}: {report}");
        let text = serde_json::to_string(&state).unwrap();
        let back: HealthState = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }
}
