//! Structure-aware: sequences of rollout events (ticks, device reports, health verdicts, pause,
//! resume, approve, abort, devices joining and leaving) chosen by the fuzzer and applied in time order to the seed's running
//! rollout. Each accepted event moves the revision by exactly one and leaves a state that
//! writes back exactly; a refused event changes nothing; no sequence panics.
#![no_main]
use arbitrary::Arbitrary;
use fleetpath::health::Verdict;
use fleetpath::rollout::DeviceOutcome;
use fleetpath::{Event, Version};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Step {
    Tick,
    Report { device: u16, outcome: u8 },
    Verdict { stage: u8, breach: bool },
    Pause,
    Resume,
    Approve { stage: u8 },
    Abort { roll_back: bool },
    Remove { device: u16 },
    Add { device: u16, stage: u8, id: u8 },
}

const STAGES: [&str; 4] = ["canary", "early", "production", "nope"];
const VERSIONS: [&str; 4] = ["5.6.14", "5.6.30", "6.15.008", "9.9.9"];

fuzz_target!(|steps: Vec<(u8, Step)>| {
    let seed = fleetpath_fuzz::seed();
    let devices = seed.fleet.to_devices();
    let mut state = seed.rollout.clone();
    let mut at = fleetpath_fuzz::at("2026-11-23T08:00:00Z");
    for (hours, step) in steps.into_iter().take(64) {
        at = at.checked_add(jiff::SignedDuration::from_mins(i64::from(hours) * 20)).unwrap();
        let event = match step {
            Step::Tick => Event::Tick { at },
            Step::Report { device, outcome } => {
                let device = devices[usize::from(device) % devices.len()].id.clone();
                let outcome = match outcome % 3 {
                    0 => DeviceOutcome::Succeeded {
                        version: Version::parse(VERSIONS[usize::from(outcome / 3) % 4]).unwrap(),
                    },
                    1 => DeviceOutcome::Failed { reason: "fuzz".into() },
                    _ => DeviceOutcome::TimedOut,
                };
                Event::DeviceReported { at, device, outcome }
            }
            Step::Verdict { stage, breach } => Event::HealthVerdict {
                at,
                stage: STAGES[usize::from(stage) % 4].into(),
                verdict: if breach { Verdict::Breach { detail: "fuzz".into() } } else { Verdict::Healthy },
                from: fleetpath_fuzz::at("2026-11-23T08:00:00Z"),
                to: at,
            },
            Step::Pause => Event::Pause { at },
            Step::Resume => Event::Resume { at },
            Step::Approve { stage } => Event::Approve { at, stage: STAGES[usize::from(stage) % 4].into() },
            Step::Abort { roll_back } => Event::Abort { at, note: "fuzz".into(), roll_back },
            Step::Remove { device } => {
                Event::RemoveDevice { at, device: devices[usize::from(device) % devices.len()].id.clone() }
            }
            Step::Add { device, stage, id } => {
                // A copy of a fleet device, under its own id or a new one.
                let mut device = devices[usize::from(device) % devices.len()].clone();
                if id % 2 == 1 {
                    device.id = format!("new-{}", id / 2);
                }
                let stage = (stage % 5 > 0).then(|| STAGES[usize::from(stage % 5) - 1].to_owned());
                Event::AddDevice { at, device, stage, artifacts: Vec::new() }
            }
        };
        // A refused event leaves `state` as it was.
        if let Ok((next, _actions)) = state.apply(&event, Some(&seed.calendar)) {
            assert_eq!(next.revision, state.revision + 1, "{event:?}");
            let mut ids = std::collections::HashSet::new();
            assert!(next.stages.iter().flat_map(|s| &s.devices).all(|d| ids.insert(d.id.clone())), "{event:?}");
            state = fleetpath_fuzz::written_back(next);
        }
    }
});
