//! S3 HEAD responses (as the SDK's output object or raw headers, in JSON): read into fields,
//! then into an artifact's availability, with and without the manifest's artifact.
#![no_main]
use fleetpath::{Artifact, RestoreTier, RestoreTimes};
use fleetpath_aws::HeadFields;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(head) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let Ok(fields) = HeadFields::from_response(&head) else { return };
    let now = fleetpath_fuzz::at("2026-11-23T08:00:00Z");
    let artifact = Artifact { key: "fw/a.bin".into(), sha256: "ab".repeat(32), size: Some(42) };
    for artifact in [None, Some(&artifact)] {
        let _ = fields.observe("fw/a.bin", artifact, now, RestoreTier::Standard, &RestoreTimes::default());
    }
});
