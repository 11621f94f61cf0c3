//! Calendars: what loads answers `is_open` and `next_window` for its own sites, lines and
//! stages (windows open at or after the time asked), and writes back a spec that loads.
#![no_main]
use fleetpath::Calendar;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fleetpath_fuzz::text(data) else { return };
    let Ok(calendar) = Calendar::from_json(text) else { return };
    let spec = serde_json::to_string(calendar.spec()).expect("a spec serializes");
    Calendar::from_json(&spec).expect("a calendar reads back its spec");
    let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let sites: Vec<String> =
        value.get("sites").and_then(|s| s.as_object()).map(|s| s.keys().cloned().collect()).unwrap_or_default();
    let t = fleetpath_fuzz::at("2026-11-23T08:00:00Z");
    for site in sites.iter().take(3) {
        for stage in ["canary", "early", "production"] {
            let _ = calendar.is_open(site, "line-1", stage, t);
            if let Ok(Some(window)) = calendar.next_window(site, "line-1", stage, t) {
                assert!(window.start >= t && window.end > window.start, "{window:?}");
            }
        }
    }
});
