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
