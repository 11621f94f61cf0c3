//! Signed envelopes: read, then verified against a fixed trusted key set; a forged or altered
//! envelope is refused, never accepted.
#![no_main]
use fleetpath::Document;
use fleetpath::trust::{self, DocumentKind, Envelope, SigningKey, TrustedKeys};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fleetpath_fuzz::text(data) else { return };
    let Ok(envelope) = Envelope::from_json(text) else { return };
    let key = SigningKey::from_seed(&[7; 32]);
    let trusted = TrustedKeys::new(vec![key.public_key()], 1).unwrap();
    let now = fleetpath_fuzz::at("2026-11-23T08:00:00Z");
    // The fuzzer cannot sign with the seed key: whatever it writes must be refused.
    assert!(trust::verify_envelope(envelope, DocumentKind::Manifest, &trusted, now, None).is_err());
});
