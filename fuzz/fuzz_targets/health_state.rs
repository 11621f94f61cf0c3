//! Stored health states and policies: what loads writes back exactly and evaluates.
#![no_main]
use fleetpath::health::{HealthPolicy, HealthReport, HealthState};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fleetpath_fuzz::text(data) else { return };
    // The first line may be a policy; the rest a state.
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let policy = fleetpath_fuzz::round_trip::<HealthPolicy>(first).unwrap_or_default();
    let Some(state) = fleetpath_fuzz::round_trip::<HealthState>(if rest.is_empty() { first } else { rest }) else {
        return;
    };
    if let Ok(report) = state.evaluate(&policy, fleetpath_fuzz::at("2026-11-30T08:00:00Z")) {
        fleetpath_fuzz::written_back::<HealthReport>(report);
    }
});
