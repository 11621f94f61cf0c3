//! `VersionRange::parse`, then `matches` on versions around the range's own bounds.
#![no_main]
use fleetpath::{Version, VersionRange};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fleetpath_fuzz::text(data) else { return };
    let Ok(range) = VersionRange::parse(text) else { return };
    for v in ["0", "1.0", "5.6.14", "5.6.30-rc1", "6.15.008", "18446744073709551615.1"] {
        let _ = range.matches(&Version::parse(v).unwrap());
    }
    // The text a range keeps reads back as the same range.
    let again = VersionRange::parse(range.as_str()).expect("a range reads back");
    assert_eq!(again.as_str(), range.as_str());
});
