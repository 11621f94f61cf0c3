//! Property tests of rollouts: plans partition the fleet whatever the input order and
//! re-planning moves few devices; the state machine keeps its promises and never panics on
//! edited states.

use std::collections::{BTreeSet, HashMap, HashSet};

use fleetpath::{Device, Fleet, UpgradeGraph, Version};
use proptest::prelude::*;

// ---------- rollout plans ----------

fn seed_graph() -> UpgradeGraph {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/seed-ip-module.json");
    UpgradeGraph::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Devices with unique ids on up to 8 lines, on known, target and unknown versions, of a
/// model the target installs on or not.
fn plant_devices() -> impl Strategy<Value = Vec<Device>> {
    prop::collection::vec(
        (
            0usize..8,
            prop_oneof![6 => Just("5.6.14"), 3 => Just("5.6.30"), 1 => Just("6.15.008"), 1 => Just("5.6.99")],
            prop_oneof![9 => Just("IPM-1"), 1 => Just("IPM-9")],
        ),
        1..120,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (line, version, model))| Device {
                id: format!("dev-{i:03}"),
                model: model.into(),
                line: format!("line-{line}").into(),
                site: None,
                version: Version::parse(version).unwrap(),
                labels: std::collections::BTreeMap::new(),
            })
            .collect()
    })
}

fn policy_strategy() -> impl Strategy<Value = fleetpath::RolloutPolicy> {
    prop_oneof![
        Just(fleetpath::RolloutPolicy::default()),
        (prop::collection::vec((1u32..400, 0u32..3, prop::option::weighted(0.2, 1u32..30)), 1..4),).prop_map(
            |(stages,)| {
                // Shares in thousandths, scaled down so that they add up to at most 1.
                let total: u32 = stages.iter().map(|s| s.0).sum::<u32>().max(1000);
                let mut out: Vec<fleetpath::rollout::StagePolicy> = stages
                    .iter()
                    .enumerate()
                    .map(|(k, &(share, min_per_line, max_devices))| fleetpath::rollout::StagePolicy {
                        name: format!("s{k}"),
                        share: Some(f64::from(share) / f64::from(total)),
                        min_per_line,
                        max_devices,
                        monitoring_hours: 24,
                        approval: false,
                    })
                    .collect();
                out.push(fleetpath::rollout::StagePolicy {
                    name: "rest".into(),
                    share: None,
                    min_per_line: 0,
                    max_devices: None,
                    monitoring_hours: 24,
                    approval: false,
                });
                fleetpath::RolloutPolicy { stages: out, ..fleetpath::RolloutPolicy::default() }
            }
        ),
    ]
}

/// Stage of every device (None: not in a stage).
fn stages_of(plan: &fleetpath::RolloutPlan) -> HashMap<String, usize> {
    plan.stages.iter().enumerate().flat_map(|(k, s)| s.devices.iter().map(move |d| (d.id.to_string(), k))).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn plans_partition_the_fleet_and_ignore_input_order(
        devices in plant_devices(),
        policy in policy_strategy(),
        seed in any::<u64>(),
    ) {
        let graph = seed_graph();
        let target = Version::parse("6.15.008").unwrap();
        let fleet = Fleet::new(devices.clone()).unwrap();
        let plan = fleetpath::plan_rollout(&graph, &fleet, &target, &policy, "r").unwrap();
        // Every device in exactly one place.
        let mut placed: Vec<String> = plan.stages.iter().flat_map(|s| s.devices.iter().map(|d| d.id.to_string())).collect();
        placed.extend(plan.up_to_date.iter().cloned());
        placed.extend(plan.excluded.iter().map(|e| e.id.clone()));
        placed.sort();
        let mut all: Vec<String> = devices.iter().map(|d| d.id.clone()).collect();
        all.sort();
        prop_assert_eq!(placed, all);
        // Per-line counts agree with the devices listed.
        for stage in &plan.stages {
            let total: u32 = stage.lines.values().sum();
            prop_assert_eq!(total as usize, stage.devices.len());
        }
        // Its JSON reads back as the same plan.
        let json = serde_json::to_string(&plan).unwrap();
        prop_assert_eq!(&serde_json::from_str::<fleetpath::RolloutPlan>(&json).unwrap(), &plan);
        // A shuffled fleet gives the same stages.
        let mut shuffled = devices.clone();
        let mut state = seed;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            shuffled.swap(i, usize::try_from(state >> 33).unwrap() % (i + 1));
        }
        let again = fleetpath::plan_rollout(&graph, &Fleet::new(shuffled).unwrap(), &target, &policy, "r").unwrap();
        prop_assert_eq!(&again.stages, &plan.stages);
        // Minimums and quotas of the first stage (nothing taken before it).
        let first = &policy.stages[0];
        let eligible: HashMap<String, u32> = plan.stages.iter().fold(HashMap::new(), |mut acc, s| {
            for (line, n) in &s.lines {
                *acc.entry(line.clone()).or_default() += n;
            }
            acc
        });
        if let Some(share) = first.share {
            for (line, &n) in &eligible {
                let seats = plan.stages[0].lines[line];
                if first.max_devices.is_none() && n > 0 {
                    prop_assert!(seats >= first.min_per_line.min(n), "{line}: {seats} < min");
                }
                if first.max_devices.is_none() && first.min_per_line == 0 {
                    let quota = f64::from(n) * share;
                    prop_assert!(f64::from(seats) <= quota.ceil() + 1e-9 && f64::from(seats) >= quota.floor() - 1e-9,
                        "{line}: {seats} seats for a quota of {quota}");
                }
            }
        }
    }

    #[test]
    fn replanning_moves_few_devices(
        devices in plant_devices(),
        remove in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        add in prop::collection::vec((0usize..8, any::<u16>()), 0..4),
    ) {
        let graph = seed_graph();
        let target = Version::parse("6.15.008").unwrap();
        let policy = fleetpath::RolloutPolicy::default();
        let before = fleetpath::plan_rollout(&graph, &Fleet::new(devices.clone()).unwrap(), &target, &policy, "r").unwrap();
        let mut after_devices = devices.clone();
        let mut changed_lines: HashMap<String, usize> = HashMap::new();
        for pick in &remove {
            if after_devices.is_empty() { break; }
            let gone = after_devices.remove(pick.index(after_devices.len()));
            *changed_lines.entry(gone.line.to_string()).or_default() += 1;
        }
        for (line, tag) in &add {
            let line = format!("line-{line}");
            after_devices.push(Device {
                id: format!("new-{tag}-{}", after_devices.len()),
                model: "IPM-1".into(),
                line: line.as_str().into(),
                site: None,
                version: Version::parse("5.6.14").unwrap(),
                labels: std::collections::BTreeMap::new(),
            });
            *changed_lines.entry(line).or_default() += 1;
        }
        let mut seen = HashSet::new();
        after_devices.retain(|d| seen.insert(d.id.clone()));
        let after = fleetpath::plan_rollout(&graph, &Fleet::new(after_devices.clone()).unwrap(), &target, &policy, "r").unwrap();
        let (old, new) = (stages_of(&before), stages_of(&after));
        // Per line: staying devices that changed stage ≤ Σ_k (m + |ΔB_k|).
        let boundaries = |plan: &fleetpath::RolloutPlan, line: &str| -> Vec<i64> {
            let mut acc = 0i64;
            plan.stages.iter().map(|s| { acc += i64::from(s.lines.get(line).copied().unwrap_or(0)); acc }).collect()
        };
        let lines: BTreeSet<String> = devices.iter().chain(&after_devices).map(|d| d.line.to_string()).collect();
        for line in lines {
            let moved = after_devices
                .iter()
                .filter(|d| *d.line == *line)
                .filter(|d| matches!((old.get(&d.id), new.get(&d.id)), (Some(a), Some(b)) if a != b))
                .count();
            let m = i64::try_from(changed_lines.get(&line).copied().unwrap_or(0)).unwrap();
            let (b0, b1) = (boundaries(&before, &line), boundaries(&after, &line));
            let bound: i64 = b0.iter().zip(&b1).take(b0.len().saturating_sub(1)).map(|(x, y)| m + (x - y).abs()).sum();
            prop_assert!(i64::try_from(moved).unwrap() <= bound, "{line}: {moved} moved, bound {bound}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    /// Stages list their devices by line name, then by selection key (ties by id), each line's
    /// ranking cut into consecutive ranges: checked against a plain sort of every line, on lines
    /// of up to thousands of devices.
    #[test]
    fn stages_take_each_line_in_selection_order(
        devices in 1..6000usize,
        lines in 1..6usize,
        policy in policy_strategy(),
        rollout in "[a-z]{1,8}",
    ) {
        let graph = seed_graph();
        let target = Version::parse("6.15.008").unwrap();
        let fleet: Vec<Device> = (0..devices)
            .map(|i| Device {
                id: format!("d{}", i.wrapping_mul(7919) % 100_003),
                model: "IPM-1".into(),
                line: format!("line-{}", i % lines).into(),
                site: None,
                version: Version::parse(if i % 5 == 0 { "5.6.30" } else { "5.6.14" }).unwrap(),
                labels: std::collections::BTreeMap::new(),
            })
            .collect();
        let plan = fleetpath::plan_rollout(&graph, &Fleet::new(fleet.clone()).unwrap(), &target, &policy, &rollout).unwrap();
        let line_of: HashMap<&str, &str> = fleet.iter().map(|d| (d.id.as_str(), &*d.line)).collect();
        let key = |id: &str| fleetpath::rollout::selection_key(&rollout, id);
        // The reference: each line's devices sorted by (key, id).
        let mut runs: HashMap<&str, Vec<(u64, &str)>> = HashMap::new();
        for d in &fleet {
            runs.entry(&*d.line).or_default().push((key(&d.id), d.id.as_str()));
        }
        for run in runs.values_mut() {
            run.sort_unstable();
        }
        let mut taken: HashMap<&str, usize> = HashMap::new();
        for stage in &plan.stages {
            let order: Vec<(&str, u64, &str)> =
                stage.devices.iter().map(|d| (line_of[d.id], key(d.id), d.id)).collect();
            prop_assert!(order.windows(2).all(|w| w[0] < w[1]), "stage {} is out of order", stage.name);
            for (line, _, id) in order {
                let k = taken.entry(line).or_default();
                prop_assert_eq!(runs[line][*k].1, id, "line {} at rank {}", line, *k);
                *k += 1;
            }
        }
        prop_assert_eq!(taken.values().sum::<usize>(), devices);
    }
}

// ---------- the rollout state machine ----------

#[derive(Debug, Clone)]
enum Step {
    Tick(i64),
    Report(prop::sample::Index, u8),
    Verdict(u8, u8, i64, i64),
    Pause,
    Resume,
    Approve(u8),
    Abort(bool),
    /// A device leaves the fleet (any id seen so far).
    Remove(prop::sample::Index),
    /// A device joins (stage 0: the default, 1–3: by name; id `n{k}`, possibly one seen before).
    Add(u8, u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0i64..900).prop_map(Step::Tick),
        8 => (any::<prop::sample::Index>(), 0u8..4).prop_map(|(i, o)| Step::Report(i, o)),
        4 => (0u8..3, 0u8..3, -600i64..600, 0i64..3000).prop_map(|(s, v, f, l)| Step::Verdict(s, v, f, l)),
        1 => Just(Step::Pause),
        1 => Just(Step::Resume),
        2 => (0u8..3).prop_map(Step::Approve),
        1 => any::<bool>().prop_map(Step::Abort),
        2 => any::<prop::sample::Index>().prop_map(Step::Remove),
        2 => (0u8..4, 0u8..6).prop_map(|(s, k)| Step::Add(s, k)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn the_state_machine_keeps_its_promises(
        n in 4usize..30,
        monitoring in prop::collection::vec(1u32..30, 3),
        approvals in prop::collection::vec(prop::bool::weighted(0.3), 3),
        steps in prop::collection::vec(step(), 1..120),
    ) {
        use fleetpath::{Action, rollout::DeviceOutcome, rollout::DeviceStatus, Event, Rollout, rollout::RolloutStatus, rollout::Verdict};
        let graph = seed_graph();
        let mut policy = fleetpath::RolloutPolicy::default();
        for (k, stage) in policy.stages.iter_mut().enumerate() {
            stage.monitoring_hours = monitoring[k];
            stage.approval = approvals[k];
        }
        let devices: Vec<Device> = (0..n)
            .map(|i| Device {
                id: format!("d{i:02}"),
                model: "IPM-1".into(),
                line: format!("l{}", i % 3).into(),
                site: None,
                version: Version::parse(if i % 4 == 0 { "5.6.14" } else { "5.6.30" }).unwrap(),
                labels: std::collections::BTreeMap::new(),
            })
            .collect();
        let fleet = Fleet::new(devices.clone()).unwrap();
        let target = Version::parse("6.15.008").unwrap();
        let plan = fleetpath::plan_rollout(&graph, &fleet, &target, &policy, "r").unwrap();
        let mut state = Rollout::new(&plan, &fleet, &graph, &policy).unwrap();
        let mut now: jiff::Timestamp = "2026-11-23T08:00:00Z".parse().unwrap();
        let (started, _) = state.apply(&Event::Start { at: now }, None).unwrap();
        state = started;
        let mut rolled_back: HashSet<String> = HashSet::new();
        let names = ["canary", "early", "production"];
        let mut ids: Vec<String> = devices.iter().map(|d| d.id.clone()).collect();
        for s in steps {
            let event = match s {
                Step::Tick(minutes) => {
                    now = now.checked_add(jiff::SignedDuration::from_mins(minutes)).unwrap();
                    Event::Tick { at: now }
                }
                Step::Report(pick, outcome) => Event::DeviceReported {
                    at: now,
                    device: ids[pick.index(ids.len())].clone(),
                    outcome: match outcome {
                        0 | 1 => DeviceOutcome::Succeeded { version: target.clone() },
                        2 => DeviceOutcome::Succeeded { version: Version::parse("5.6.30").unwrap() },
                        _ => DeviceOutcome::Failed { reason: "flash error".into() },
                    },
                },
                Step::Verdict(stage, verdict, from, length) => {
                    let from = now.checked_add(jiff::SignedDuration::from_mins(-from.abs() * 60)).unwrap();
                    Event::HealthVerdict {
                        at: now,
                        stage: names[stage as usize].into(),
                        verdict: match verdict {
                            0 | 1 => Verdict::Healthy,
                            _ => Verdict::Breach { detail: "crash".into() },
                        },
                        from,
                        to: from.checked_add(jiff::SignedDuration::from_mins(length * 60)).unwrap(),
                    }
                }
                Step::Pause => Event::Pause { at: now },
                Step::Resume => Event::Resume { at: now },
                Step::Approve(stage) => Event::Approve { at: now, stage: names[stage as usize].into() },
                Step::Abort(roll_back) => Event::Abort { at: now, note: "operator".into(), roll_back },
                Step::Remove(pick) => Event::RemoveDevice { at: now, device: ids[pick.index(ids.len())].clone() },
                Step::Add(stage, k) => {
                    let device = Device { id: format!("n{k}"), ..devices[usize::from(k) % n].clone() };
                    if !ids.contains(&device.id) {
                        ids.push(device.id.clone());
                    }
                    let stage = stage.checked_sub(1).map(|s| names[usize::from(s)].to_owned());
                    Event::AddDevice { at: now, device, stage, artifacts: Vec::new() }
                }
            };
            let Ok((next, actions)) = state.apply(&event, None) else { continue };
            prop_assert_eq!(next.revision, state.revision + 1);
            for action in &actions {
                match action {
                    Action::Promote { from, .. } => {
                        let k = names.iter().position(|s| s == from).unwrap();
                        let stage = &next.stages[k];
                        let since = stage.monitoring_since.unwrap();
                        let end = since.checked_add(jiff::SignedDuration::from_hours(i64::from(monitoring[k]))).unwrap();
                        prop_assert!(now >= end, "promoted {from} at {now}, window ends {end}");
                        prop_assert!(stage.healthy_through.is_some_and(|t| t >= end), "promoted {from} without a covering verdict");
                    }
                    Action::RollBack { devices: targets } => {
                        for target in targets {
                            prop_assert!(rolled_back.insert(target.device.clone()), "{} rolled back twice", target.device);
                            let before = state.stages.iter().flat_map(|s| &s.devices).find(|d| d.id == target.device);
                            prop_assert!(before.is_some_and(|d| d.status != DeviceStatus::Removed), "{} left, yet rolled back", target.device);
                        }
                        // Every device the rollout had touched is in this rollback.
                        for stage in &state.stages {
                            for d in &stage.devices {
                                let touched = d.version != d.from || d.status != DeviceStatus::Pending;
                                if touched && !matches!(d.status, DeviceStatus::RolledBack | DeviceStatus::Removed) {
                                    prop_assert!(targets.iter().any(|t| t.device == d.id && t.to == d.from), "{} not rolled back", d.id);
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            if matches!(next.status, RolloutStatus::Halted { .. } | RolloutStatus::Completed) {
                let after_end = next.apply(&Event::Tick { at: now }, None);
                prop_assert!(after_end.is_err());
            }
            // Every id is in the rollout once, wherever it is.
            let mut seen = HashSet::new();
            prop_assert!(next.stages.iter().flat_map(|s| &s.devices).all(|d| seen.insert(d.id.clone())));
            let json = serde_json::to_string(&next).unwrap();
            prop_assert_eq!(serde_json::from_str::<Rollout>(&json).unwrap(), next.clone());
            state = next;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// A host may read back a state someone edited: `apply` answers (Ok or a typed error),
    /// it never panics.
    #[test]
    fn edited_states_never_panic(
        current in 0usize..6,
        phases in prop::collection::vec(0usize..6, 3),
        status in 0usize..5,
        event in 0usize..4,
    ) {
        use fleetpath::{Event, Rollout};
        let graph = seed_graph();
        let fleet = Fleet::from_csv("id,model,line,version\na,IPM-1,l1,5.6.30\nb,IPM-1,l2,5.6.14\nc,IPM-1,l1,5.6.30\n").unwrap();
        let policy = fleetpath::RolloutPolicy::default();
        let target = Version::parse("6.15.008").unwrap();
        let plan = fleetpath::plan_rollout(&graph, &fleet, &target, &policy, "r").unwrap();
        let state = Rollout::new(&plan, &fleet, &graph, &policy).unwrap();
        let mut json = serde_json::to_value(&state).unwrap();
        let phase_names = ["waiting", "awaiting_approval", "open", "updating", "monitoring", "passed"];
        for (k, &p) in phases.iter().enumerate() {
            json["stages"][k]["phase"] = serde_json::json!(phase_names[p]);
        }
        json["current"] = serde_json::json!(current);
        json["status"] = [
            serde_json::json!({"state": "not_started"}),
            serde_json::json!({"state": "running"}),
            serde_json::json!({"state": "paused"}),
            serde_json::json!({"state": "completed"}),
            serde_json::json!({"state": "halted", "reason": {"kind": "operator", "note": "x"}}),
        ][status].clone();
        let edited: Rollout = serde_json::from_value(json).unwrap();
        let at: jiff::Timestamp = "2026-11-23T08:00:00Z".parse().unwrap();
        let event = [
            Event::Tick { at },
            Event::Start { at },
            Event::Approve { at, stage: "early".into() },
            Event::DeviceReported { at, device: "a".into(), outcome: fleetpath::rollout::DeviceOutcome::TimedOut },
        ][event].clone();
        let _ = edited.apply(&event, None);
    }
}
