//! `Version::parse`: anything parsed prints back as written, its normalized form parses to an
//! equal version, and ordering is consistent with equality.
#![no_main]
use fleetpath::Version;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fleetpath_fuzz::text(data) else { return };
    let Ok(version) = Version::parse(text) else { return };
    assert_eq!(version.as_str(), text.trim());
    let normalized = Version::parse(&version.normalized()).expect("the normalized form parses");
    assert_eq!(normalized, version);
    assert_eq!(normalized.cmp(&version), std::cmp::Ordering::Equal);
    if let Ok(semver) = version.to_semver() {
        assert_eq!(Version::parse(&semver.to_string()).expect("the SemVer form parses"), version);
    }
});
