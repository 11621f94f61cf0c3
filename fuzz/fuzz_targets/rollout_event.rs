//! Rollout events applied to the seed's running rollout: an accepted event moves the revision by
//! one and leaves a state that writes back exactly.
#![no_main]
use fleetpath::Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fleetpath_fuzz::text(data) else { return };
    let Some(event) = fleetpath_fuzz::round_trip::<Event>(text) else { return };
    let seed = fleetpath_fuzz::seed();
    if let Ok((next, _)) = seed.rollout.apply(&event, Some(&seed.calendar)) {
        assert_eq!(next.revision, seed.rollout.revision + 1);
        fleetpath_fuzz::written_back(next);
    }
});
