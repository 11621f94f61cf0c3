//! Property tests of calendars: next windows agree with `is_open`.

use proptest::prelude::*;

// ---------- calendars ----------

fn plant_calendar() -> fleetpath::Calendar {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/plant-calendar.json");
    fleetpath::Calendar::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn next_windows_are_consistent_with_is_open(
        // Any minute of 2026 and early 2027, DST transitions included.
        minute in 0i64..(400 * 24 * 60),
        stage in prop_oneof![Just("canary"), Just("early"), Just("production")],
        line in prop_oneof![Just("press-1"), Just("press-2")],
    ) {
        let calendar = plant_calendar();
        let start_of_2026: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let at = start_of_2026.checked_add(jiff::SignedDuration::from_mins(minute)).unwrap();
        let open = calendar.is_open("plant-a", line, stage, at).unwrap();
        let Some(window) = calendar.next_window("plant-a", line, stage, at).unwrap() else {
            prop_assert!(!open);
            return Ok(());
        };
        prop_assert!(window.start >= at && window.end > window.start);
        prop_assert_eq!(open, window.start == at);
        // Open at its start and just before its end; closed at its end (windows are merged).
        let minute = jiff::SignedDuration::from_mins(1);
        prop_assert!(calendar.is_open("plant-a", line, stage, window.start).unwrap());
        prop_assert!(calendar.is_open("plant-a", line, stage, window.end.checked_sub(minute).unwrap()).unwrap());
        prop_assert!(!calendar.is_open("plant-a", line, stage, window.end).unwrap());
        if window.start > at {
            // Closed from `at` until the window opens: the minute before it is closed.
            prop_assert!(!calendar.is_open("plant-a", line, stage, window.start.checked_sub(minute).unwrap()).unwrap());
        }
        // Asking from inside the window gives the same end.
        let inside = calendar.next_window("plant-a", line, stage, window.start).unwrap().unwrap();
        prop_assert_eq!(inside.end, window.end);
    }
}

// ---------- random calendars against a whole-horizon oracle ----------

/// A shift as numbers: start and end minute of the day, and its weekdays (`None`: every day).
type Shift = (u16, u16, Option<Vec<usize>>);
/// A dated window or exclusion: start as minutes after 2026-01-01T00:00 local, length in minutes.
type Dated = (u32, u32);

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn local(minute: u32) -> jiff::civil::DateTime {
    let base = jiff::civil::date(2026, 1, 1).to_datetime(jiff::civil::Time::midnight());
    base.checked_add(jiff::SignedDuration::from_mins(i64::from(minute))).unwrap()
}

/// Every open period over the whole horizon (shifts on each day from the day before `after`,
/// dated windows, merged, exclusions removed), and the first that ends after `after`.
fn oracle(
    zone: &jiff::tz::TimeZone,
    shifts: &[Shift],
    dated: &[Dated],
    exclusions: &[Dated],
    after: jiff::Timestamp,
) -> Option<fleetpath::schedule::Window> {
    let instant = |dt: jiff::civil::DateTime| zone.to_ambiguous_timestamp(dt).compatible().unwrap();
    let first = zone.to_datetime(after).date().yesterday().unwrap();
    let mut intervals = Vec::new();
    for offset in 0..fleetpath::schedule::HORIZON_DAYS {
        let day = first.checked_add(jiff::Span::new().days(offset)).unwrap();
        let weekday = usize::try_from(day.weekday().to_monday_zero_offset()).unwrap();
        for (start, end, days) in shifts {
            if days.as_ref().is_none_or(|d| d.contains(&weekday)) {
                let time = |m: u16| hhmm(m).parse::<jiff::civil::Time>().unwrap();
                let end_day = if end > start { day } else { day.tomorrow().unwrap() };
                intervals.push((instant(day.to_datetime(time(*start))), instant(end_day.to_datetime(time(*end)))));
            }
        }
    }
    let to = first.checked_add(jiff::Span::new().days(fleetpath::schedule::HORIZON_DAYS)).unwrap();
    for &(start, length) in dated {
        let (s, e) = (local(start), local(start + length));
        if s.date() < to && e.date() >= first {
            intervals.push((instant(s), instant(e)));
        }
    }
    intervals.retain(|(s, e)| s < e);
    intervals.sort();
    let mut merged: Vec<(jiff::Timestamp, jiff::Timestamp)> = Vec::new();
    for (s, e) in intervals {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    for &(start, length) in exclusions {
        let (xs, xe) = (instant(local(start)), instant(local(start + length)));
        merged = merged
            .into_iter()
            .flat_map(|(s, e)| {
                if xe <= s || e <= xs {
                    return vec![(s, e)];
                }
                [(s, xs), (xe, e)].into_iter().filter(|(a, b)| a < b && (*a >= s && *b <= e)).collect()
            })
            .collect();
    }
    merged
        .into_iter()
        .find(|&(_, e)| e > after)
        .map(|(s, e)| fleetpath::schedule::Window { start: s.max(after), end: e })
}

fn shift() -> impl Strategy<Value = Shift> {
    (0u16..48, 0u16..48, prop::option::of(prop::collection::btree_set(0usize..7, 1..4)))
        .prop_map(|(s, e, days)| (s * 30, e * 30, days.map(|d| d.into_iter().collect())))
}

fn dated(max_length: u32) -> impl Strategy<Value = Dated> {
    // Starts within 2026 on the half hour (DST changes included); 30 min up to `max_length`.
    (0u32..(365 * 48), 1u32..=(max_length / 30)).prop_map(|(s, l)| (s * 30, l * 30))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// The day-by-day scan gives what merging every window of the horizon gives.
    #[test]
    fn next_window_agrees_with_the_whole_horizon(
        zone in prop_oneof![Just("Europe/Berlin"), Just("America/New_York"), Just("Australia/Lord_Howe"), Just("UTC")],
        shifts in prop::collection::vec(shift(), 0..5),
        one_offs in prop::collection::vec(dated(6 * 24 * 60), 0..3),
        exclusions in prop::collection::vec(dated(20 * 24 * 60), 0..3),
        after_minute in 0i64..(365 * 24 * 60),
    ) {
        let mut names = Vec::new();
        let shift_specs: Vec<_> = shifts.iter().enumerate().map(|(k, (s, e, days))| {
            names.push(format!("s{k}"));
            let mut spec = serde_json::json!({"name": format!("s{k}"), "start": hhmm(*s), "end": hhmm(*e)});
            if let Some(days) = days {
                spec["days"] = days.iter().map(|&d| DAYS[d]).collect();
            }
            spec
        }).collect();
        let stamp = |m: u32| local(m).strftime("%Y-%m-%dT%H:%M").to_string();
        let one_off_specs: Vec<_> = one_offs.iter().enumerate().map(|(k, &(s, l))| {
            names.push(format!("o{k}"));
            serde_json::json!({"name": format!("o{k}"), "start": stamp(s), "end": stamp(s + l)})
        }).collect();
        let exclusion_specs: Vec<_> =
            exclusions.iter().map(|&(s, l)| serde_json::json!({"start": stamp(s), "end": stamp(s + l)})).collect();
        let calendar = fleetpath::Calendar::from_value(serde_json::json!({"sites": [{
            "name": "p", "time_zone": zone, "shifts": shift_specs, "one_off": one_off_specs,
            "exclusions": exclusion_specs, "stages": {"canary": names},
        }]})).unwrap();
        let start_of_2026: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let after = start_of_2026.checked_add(jiff::SignedDuration::from_mins(after_minute)).unwrap();
        let expected = oracle(&jiff::tz::TimeZone::get(zone).unwrap(), &shifts, &one_offs, &exclusions, after);
        prop_assert_eq!(calendar.next_window("p", "l", "canary", after).unwrap(), expected);
    }
}

// ---------- gaps between a calendar and a fleet ----------

#[test]
fn the_bundled_plant_has_no_calendar_gaps() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/plant-340.csv");
    let fleet = fleetpath::Fleet::from_csv(&std::fs::read_to_string(path).unwrap()).unwrap();
    let at: jiff::Timestamp = "2026-11-30T08:00:00Z".parse().unwrap();
    assert_eq!(plant_calendar().gaps(&fleet, &["canary", "early", "production"], at), []);
}

#[test]
fn gaps_name_every_group_a_rollout_would_stop_or_wait_on() {
    use fleetpath::schedule::GapKind;
    let calendar = fleetpath::Calendar::from_json(
        r#"{"sites": [{
          "name": "plant-a", "time_zone": "Europe/Berlin",
          "shifts": [{"name": "day", "start": "06:00", "end": "14:00"}],
          "exclusions": [{"start": "2026-01-01T00:00", "end": "2029-01-01T00:00", "lines": ["press-3"]}],
          "stages": {"canary": ["day"], "production": ["day"]}
        }]}"#,
    )
    .unwrap();
    let fleet = fleetpath::Fleet::from_csv(
        "id,model,version,line,site\n\
         a1,m,1.0,press-1,plant-a\na2,m,1.0,press-1,plant-a\n\
         b1,m,1.0,press-3,plant-a\n\
         c1,m,1.0,press-9,plant-z\n\
         d1,m,1.0,press-1,\n",
    )
    .unwrap();
    let at: jiff::Timestamp = "2026-11-30T08:00:00Z".parse().unwrap();
    let gaps = calendar.gaps(&fleet, &["canary", "early"], at);
    let seen: Vec<_> =
        gaps.iter().map(|g| (g.site.as_deref(), g.line.as_str(), g.stage.as_deref(), g.devices, g.kind)).collect();
    assert_eq!(
        seen,
        [
            (None, "press-1", None, 1, GapKind::NoSite),
            (Some("plant-a"), "press-1", Some("early"), 2, GapKind::UnknownStage),
            (Some("plant-a"), "press-3", Some("canary"), 1, GapKind::NoWindow),
            (Some("plant-a"), "press-3", Some("early"), 1, GapKind::UnknownStage),
            (Some("plant-z"), "press-9", None, 1, GapKind::UnknownSite),
        ]
    );
    // Each gap is what querying the calendar for that group says.
    for gap in &gaps {
        let (Some(site), Some(stage)) = (&gap.site, &gap.stage) else { continue };
        let answer = calendar.next_window(site, &gap.line, stage, at);
        assert_eq!(answer.is_ok_and(|w| w.is_none()), gap.kind == GapKind::NoWindow, "{gap}");
    }
    assert_eq!(
        gaps[2].to_string(),
        "site \"plant-a\" (1 device on line \"press-3\"): stage \"canary\" has no window within 400 days"
    );
    assert_eq!(serde_json::to_value(&gaps[0]).unwrap()["kind"], "no_site");
    // After the exclusion ends (within the horizon), press-3 has a canary window again.
    let later: jiff::Timestamp = "2028-06-01T00:00:00Z".parse().unwrap();
    assert!(calendar.gaps(&fleet, &["canary"], later).iter().all(|g| g.kind != GapKind::NoWindow));
}
