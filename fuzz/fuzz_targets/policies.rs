//! Every policy and small document: the first byte picks the kind, the rest is its JSON; what
//! loads writes back exactly.
#![no_main]
use fleetpath::decision::{DecisionPolicy, DeviceRecord};
use fleetpath::prefetch::PrefetchPolicy;
use fleetpath::trust::TrustedKeys;
use fleetpath::{Constraints, RestoreTimes, RetryPolicy, RetryState, RolloutPlan, RolloutPolicy};
use fleetpath_fuzz::round_trip;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    let Some(text) = fleetpath_fuzz::text(rest) else { return };
    match kind % 10 {
        0 => drop(round_trip::<DecisionPolicy>(text)),
        1 => drop(round_trip::<RolloutPolicy>(text)),
        2 => drop(round_trip::<RetryPolicy>(text)),
        3 => drop(round_trip::<RetryState>(text)),
        4 => drop(round_trip::<PrefetchPolicy>(text)),
        5 => drop(round_trip::<TrustedKeys>(text)),
        6 => drop(round_trip::<Constraints>(text)),
        7 => drop(round_trip::<RestoreTimes>(text)),
        8 => drop(round_trip::<DeviceRecord>(text)),
        _ => {
            // A plan read back starts a rollout over the seed, or is refused.
            if let Some(plan) = round_trip::<RolloutPlan>(text) {
                let seed = fleetpath_fuzz::seed();
                let _ = fleetpath::Rollout::new(&plan, &seed.fleet, &seed.graph, &RolloutPolicy::default());
            }
        }
    }
});
