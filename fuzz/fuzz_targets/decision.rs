//! Device requests (and records) decided against the seed's graph and rollout.
#![no_main]
use fleetpath::Document;
use fleetpath::decision::{Decider, DecisionPolicy, DeviceRecord, DeviceRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = fleetpath_fuzz::text(data) else { return };
    let seed = fleetpath_fuzz::seed();
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(request) = DeviceRequest::from_json(first) else { return };
    let decider = Decider::new(&seed.graph, DecisionPolicy::default()).unwrap();
    let decision = decider.decide(&request);
    assert!(fleetpath::decision::reasons().contains(&decision.reason()));
    let within = Decider::new(&seed.graph, DecisionPolicy::default())
        .unwrap()
        .with_rollout(seed.rollout.clone(), Some(&seed.calendar))
        .unwrap();
    let _ = within.decide(&request);
    if let Ok(record) = DeviceRecord::from_json(rest) {
        let _ = within.decide_checked(&request, &record);
    }
});
