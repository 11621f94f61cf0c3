//! Fleets from CSV or JSON text: what loads writes back as CSV and as JSON that load to the same
//! devices; in CSV without quotes or carriage returns, each device's row is the line that states
//! it, and the same cells given as a table (in two batches) read the same devices or fail with
//! the same code.
#![no_main]
use fleetpath::Fleet;
use fleetpath::fleet::{FleetTable, TextColumn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fleetpath_fuzz::text(data) else { return };
    let read = Fleet::from_text(text);
    check_table(text, &read);
    let Ok(fleet) = read else { return };
    let csv = Fleet::from_csv(&fleet.to_csv()).expect("a fleet reads back its CSV");
    let json = Fleet::from_json(&fleet.to_json()).expect("a fleet reads back its JSON");
    assert_eq!(csv.devices(), fleet.devices());
    assert_eq!(json.devices(), fleet.devices());
    let _ = fleet.check_against(&fleetpath_fuzz::seed().graph);
    check_rows(text, &fleet);
});

/// The cells of a CSV text without quotes or carriage returns, trimmed (as the CSV reader
/// trims them), read as a table cut into two batches: the devices `Fleet::from_csv` reads, or
/// its error's code (but for the CSV's own errors, which a table cannot have).
fn check_table(text: &str, csv: &Result<Fleet, fleetpath::FleetError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // The CSV reader skips a second byte-order mark itself (found by this target).
    if text.trim_start().starts_with(['{', '[', '\u{feff}']) || text.contains(['"', '\r']) {
        return;
    }
    let mut lines = text.split('\n').filter(|line| !line.is_empty()).map(|line| line.split(',').map(str::trim));
    let Some(names) = lines.next() else { return };
    let names: Vec<&str> = names.collect();
    let mut columns: Vec<Vec<Option<&str>>> = vec![Vec::new(); names.len()];
    for line in lines {
        let cells: Vec<&str> = line.collect();
        if cells.len() != names.len() {
            return; // a CSV error
        }
        for (column, cell) in columns.iter_mut().zip(cells) {
            column.push(Some(cell));
        }
    }
    let rows = columns.first().map_or(0, Vec::len);
    let cut = text.len() % (rows + 1);
    let table = FleetTable::new(&names, rows)
        .and_then(|table| read(table, &columns, 0..cut))
        .and_then(|table| read(table, &columns, cut..rows))
        .and_then(FleetTable::finish);
    match (csv, table) {
        (Ok(csv), Ok(table)) => assert_eq!(csv.devices(), table.devices()),
        (Err(e), _) if e.code() == "invalid_csv" => {}
        (Err(e), Err(t)) => assert_eq!(e.code(), t.code(), "{e} / {t}"),
        (csv, table) => panic!("CSV {:?}, table {:?}", csv.as_ref().map(Fleet::len), table.map(|f| f.len())),
    }
}

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

/// Reads the rows `range` of `columns` as one batch.
fn read(
    table: FleetTable,
    columns: &[Vec<Option<&str>>],
    range: std::ops::Range<usize>,
) -> Result<FleetTable, fleetpath::FleetError> {
    let slices: Vec<&[Option<&str>]> = columns.iter().map(|c| &c[range.clone()]).collect();
    table.read(&slices.iter().map(|c| c as &dyn TextColumn).collect::<Vec<_>>())
}
