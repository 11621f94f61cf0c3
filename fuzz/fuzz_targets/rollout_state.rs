//! Stored rollout states: what loads writes back exactly, and takes a tick.
#![no_main]
use fleetpath::{Event, Rollout};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fleetpath_fuzz::text(data) else { return };
    let Some(state) = fleetpath_fuzz::round_trip::<Rollout>(text) else { return };
    let tick = Event::Tick { at: fleetpath_fuzz::at("2026-11-24T08:00:00Z") };
    if let Ok((next, _)) = state.apply(&tick, Some(&fleetpath_fuzz::seed().calendar)) {
        assert_eq!(next.revision, state.revision + 1);
        fleetpath_fuzz::written_back(next);
    }
});
