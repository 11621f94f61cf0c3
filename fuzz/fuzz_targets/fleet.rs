//! Fleets from CSV or JSON text: what loads writes back as CSV and as JSON that load to the same
//! devices; in CSV without quotes or carriage returns, each device's row is the line that states
//! it.
#![no_main]
use fleetpath::Fleet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fleetpath_fuzz::text(data) else { return };
    let Ok(fleet) = Fleet::from_text(text) else { return };
    let csv = Fleet::from_csv(&fleet.to_csv()).expect("a fleet reads back its CSV");
    let json = Fleet::from_json(&fleet.to_json()).expect("a fleet reads back its JSON");
    assert_eq!(csv.devices(), fleet.devices());
    assert_eq!(json.devices(), fleet.devices());
    let _ = fleet.check_against(&fleetpath_fuzz::seed().graph);
    check_rows(text, &fleet);
});

/// A device's row (`row N`) is the line its record is on, counted by newlines, past blank lines:
/// checked where lines and records coincide (no quoted cell, no lone carriage return).
fn check_rows(text: &str, fleet: &Fleet) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with(['{', '[']) || text.contains(['"', '\r']) {
        return;
    }
    let lines: Vec<&str> = text.split('\n').collect();
    let Some(id) = lines[0].split(',').position(|cell| cell.trim() == "id") else { return };
    let mut last = 1;
    for device in fleet.devices() {
        let origin = fleet.origin(device.id).expect("every device has an origin");
        let row: usize = origin.strip_prefix("row ").and_then(|n| n.parse().ok()).expect("a CSV origin is a row");
        assert!(row > last, "rows increase: {origin} after row {last}");
        last = row;
        let cell = lines.get(row - 1).and_then(|line| line.split(',').nth(id)).map(str::trim);
        assert_eq!(cell, Some(device.id), "{origin}");
    }
}
