//! Fleets from CSV or JSON text: what loads writes back as CSV and as JSON that load to the same
//! devices.
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
});
