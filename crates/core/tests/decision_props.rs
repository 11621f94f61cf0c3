//! Invariants of the update decision and of backoff, over random graphs, observations and
//! requests.

use std::borrow::Cow;
use std::collections::BTreeMap;

use fleetpath::decision::{Decider, Decision, DecisionPolicy, DeviceRequest};
use fleetpath::{
    Artifact, Availability, Constraints, Manifest, RetryPolicy, RetryState, StorageClass, UpgradeGraph, Version,
    graph::DowngradeSpec, graph::EdgeSpec, graph::ReleaseSpec, graph::ReleaseStatus, retry::Jitter,
};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

const AT: i64 = 1_795_000_000;
const DEVICES: usize = 400;

#[derive(Debug, Clone)]
struct Case {
    releases: usize,
    edges: Vec<(usize, usize)>,
    blocked: Vec<bool>,
    models: Vec<u8>,
    has_artifact: Vec<bool>,
    observed: Vec<u8>,
    target: Option<usize>,
    devices: Vec<(usize, u8, u32)>,
    observe: bool,
    /// Per edge (by index, cycling): 0 no risk, 1 risk "R1" (label region=eu), 2 risk "R2"
    /// (model "a").
    risks: Vec<u8>,
    /// Per device (by index, cycling): 0 labels unknown, 1 region=eu, 2 region=us.
    regions: Vec<u8>,
    /// The risks the policy accepts.
    accepted: Vec<&'static str>,
}

fn case() -> impl Strategy<Value = Case> {
    (3usize..10).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec((0..n, 1usize..4), 0..3 * n),
            prop::collection::vec(prop::bool::weighted(0.15), n),
            prop::collection::vec(0u8..4, n),
            prop::collection::vec(prop::bool::weighted(0.9), n),
            prop::collection::vec(0u8..7, n),
            prop::option::of(0..n),
            prop::collection::vec((0..n + 1, 0u8..3, 0u32..14), 1..30),
            any::<bool>(),
            (
                prop::collection::vec(prop_oneof![6 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8)], 1..8),
                prop::collection::vec(0u8..3, 1..5),
                prop::sample::subsequence(vec!["R1", "R2"], 0..=2),
            ),
        )
            .prop_map(
                |(
                    n,
                    raw,
                    blocked,
                    models,
                    has_artifact,
                    observed,
                    target,
                    devices,
                    observe,
                    (risks, regions, accepted),
                )| {
                    let mut edges: Vec<(usize, usize)> = (0..n - 1).map(|i| (i, i + 1)).collect();
                    edges.extend(raw.into_iter().filter(|&(i, d)| i + d < n).map(|(i, d)| (i, i + d)));
                    edges.sort_unstable();
                    edges.dedup();
                    Case {
                        releases: n,
                        edges,
                        blocked,
                        models,
                        has_artifact,
                        observed,
                        target,
                        devices,
                        observe,
                        risks,
                        regions,
                        accepted,
                    }
                },
            )
    })
}

fn key(i: usize) -> String {
    format!("fw/{i}.bin")
}

impl Case {
    fn graph(&self) -> UpgradeGraph {
        let releases = (0..self.releases)
            .map(|i| ReleaseSpec {
                version: format!("{}.0", i + 1).into(),
                models: match self.models[i] {
                    0 | 1 => None,
                    2 => Some(vec!["a".into()]),
                    _ => Some(vec!["a".into(), "b".into()]),
                },
                labels: fleetpath::graph::Labels::new(),
                status: if self.blocked[i] { ReleaseStatus::Blocked } else { ReleaseStatus::Active },
                reason: self.blocked[i].then(|| "recalled".to_owned()),
                barrier: false,
                artifact: self.has_artifact[i].then(|| Artifact {
                    key: key(i),
                    sha256: "ab".repeat(32),
                    size: Some(1 + i as u64),
                }),
                schema: None,
                reads: Vec::new(),
                notes: None,
            })
            .collect();
        let edges = self
            .edges
            .iter()
            .enumerate()
            .map(|(k, &(a, b))| EdgeSpec {
                from: Some(format!("{}.0", a + 1)),
                from_range: None,
                include_prerelease: None,
                to: format!("{}.0", b + 1),
                models: None,
                blocked: None,
                risks: match self.risks[k % self.risks.len()] {
                    0 => Vec::new(),
                    1 => vec![
                        serde_json::from_str(r#"{"name": "R1", "when": {"label": {"name": "region", "in": ["eu"]}}}"#)
                            .unwrap(),
                    ],
                    _ => vec![serde_json::from_str(r#"{"name": "R2", "when": {"model": ["a"]}}"#).unwrap()],
                },
                notes: None,
            })
            .collect();
        let downgrades: Vec<DowngradeSpec> = Vec::new();
        UpgradeGraph::new(Manifest {
            format_version: 2,
            name: None,
            description: None,
            include_prerelease: false,
            releases,
            edges,
            downgrades,
            channels: std::collections::BTreeMap::new(),
        })
        .unwrap()
    }

    fn observed(&self) -> BTreeMap<String, Availability> {
        let at = Timestamp::from_second(AT).unwrap();
        let hours = |h: i64| at.checked_add(SignedDuration::from_hours(h)).unwrap();
        let class = StorageClass::GlacierFlexibleRetrieval;
        (0..self.releases)
            .filter_map(|i| {
                let a = match self.observed[i] {
                    0 => Availability::Available { class: StorageClass::Standard },
                    1 => Availability::Archived { class },
                    2 => Availability::Restoring { class, since: hours(-1), ready_by: hours(2) },
                    3 => Availability::Restoring { class, since: hours(-9), ready_by: hours(-1) },
                    4 => Availability::Restored { class, until: hours(1) },
                    5 => Availability::Restored { class, until: hours(-1) },
                    _ => return None,
                };
                Some((key(i), a))
            })
            .collect()
    }

    fn requests(&self) -> Vec<DeviceRequest> {
        let at = Timestamp::from_second(AT).unwrap();
        self.devices
            .iter()
            .enumerate()
            .map(|(k, &(v, m, attempts))| DeviceRequest {
                device: format!("device-{k}"),
                model: ["a", "b", "c"][m as usize].to_owned(),
                // One past the last release: a version the graph does not know.
                version: format!("{}.0", v + 1).parse().unwrap(),
                at,
                retry: RetryState { attempts, first_failure_at: (attempts > 0).then_some(at), last_delay_ms: 0 },
                labels: match self.regions[k % self.regions.len()] {
                    0 => None,
                    1 => Some(BTreeMap::from([("region".to_owned(), "eu".to_owned())])),
                    _ => Some(BTreeMap::from([("region".to_owned(), "us".to_owned())])),
                },
            })
            .collect()
    }

    fn policy(&self) -> DecisionPolicy {
        DecisionPolicy {
            accepted_risks: self.accepted.iter().map(|&r| r.to_owned()).collect(),
            ..DecisionPolicy::default()
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// The columnar batch says what the rows say, device by device; and a decider that has
    /// already explained a stuck device (its misses remembered) answers as a fresh one does.
    #[test]
    fn columns_equal_rows_and_remembered_answers_equal_fresh_ones(case in case()) {
        let graph = case.graph();
        let requests = case.requests();
        let devices = requests.iter().map(|r| fleetpath::Device {
            id: r.device.clone(),
            model: r.model.as_str().into(),
            line: "l".into(),
            site: None,
            version: r.version.clone(),
            labels: r.labels.clone().unwrap_or_default(),
        });
        let fleet = fleetpath::Fleet::new(devices.collect()).unwrap();
        let at = Timestamp::from_second(AT).unwrap();
        // With availability observed, and without (then downloads are read from the route
        // tables when asked for); columns first, on a fresh decider.
        let decider = |observe: bool| {
            let decider = Decider::new(&graph, case.policy()).unwrap();
            if observe { decider.with_availability(case.observed()) } else { decider }
        };
        let fresh = decider(case.observe);
        let columns = fresh.decide_columns(&fleet, at);
        let decider = decider(case.observe);
        let rows = decider.decide_fleet(&fleet, at);
        prop_assert_eq!(columns.len(), rows.len());
        for (i, d) in rows.iter().enumerate() {
            let got = columns.get(i);
            // Only a download read from a route table is made for the call.
            prop_assert!(matches!(got, Some(Cow::Borrowed(_))) || matches!(d, Decision::Download { .. }), "{:?}", got);
            prop_assert_eq!(got, Some(Cow::Borrowed(d)));
            prop_assert_eq!(fleetpath::decision::DecisionColumns::KINDS[columns.kind[i] as usize], d.kind());
            prop_assert_eq!(columns.reason(i), d.reason());
            let next = match d {
                Decision::Download { step, .. } => Some(step.to.as_str()),
                Decision::RollBack { step, .. } => Some(step.to.as_str()),
                _ => None,
            };
            let got = (columns.next[i] != fleetpath::decision::DecisionColumns::NONE)
                .then(|| columns.versions[columns.next[i] as usize].as_str());
            prop_assert_eq!(got, next);
            let at_ms = match d {
                Decision::Wait { until, .. } => until.map(Timestamp::as_millisecond),
                Decision::RetryAfter { at, .. } => Some(at.as_millisecond()),
                _ => None,
            };
            let got = (columns.at_ms[i] != fleetpath::decision::DecisionColumns::NO_TIME).then_some(columns.at_ms[i]);
            prop_assert_eq!(got, at_ms);
            let action = match d {
                Decision::RetryAfter { host_action: Some(action), .. } => serde_json::to_value(action).unwrap()["type"].as_str().unwrap().to_owned(),
                _ => "none".to_owned(),
            };
            prop_assert_eq!(fleetpath::decision::DecisionColumns::HOST_ACTIONS[columns.host_action[i] as usize], action);
        }
        prop_assert_eq!(columns.clone().into_rows(), rows.clone());
        // Read again once the batch's decisions are made (borrowed now): the same.
        prop_assert_eq!(columns.distinct().len(), columns.indices().iter().max().map_or(0, |&k| k as usize + 1));
        for (i, d) in rows.iter().enumerate() {
            let got = columns.get(i);
            prop_assert!(matches!(got, Some(Cow::Borrowed(_))), "device {} not borrowed: {:?}", i, got);
            prop_assert_eq!(got, Some(Cow::Borrowed(d)));
        }
        // Each version the columns name is listed once: the graph's releases first, in its
        // order, then the others.
        let listed: std::collections::BTreeSet<&fleetpath::Version> = columns.versions.iter().collect();
        prop_assert_eq!(listed.len(), columns.versions.len());
        let releases: Vec<&str> = graph.releases().iter().map(|r| r.version().as_str()).collect();
        let first: Vec<&str> = columns.versions.releases().iter().map(fleetpath::Version::as_str).collect();
        prop_assert_eq!(first, releases);
        // Asked again (misses now remembered), and by a fresh decider per request.
        for (request, first) in requests.iter().zip(&rows) {
            let mut plain = request.clone();
            plain.retry = RetryState::default();
            plain.labels = Some(plain.labels.unwrap_or_default());
            prop_assert_eq!(&decider.decide(&plain), first);
            let fresh = Decider::new(&graph, case.policy()).unwrap();
            let fresh = if case.observe { fresh.with_availability(case.observed()) } else { fresh };
            prop_assert_eq!(&fresh.decide(&plain), first);
        }
    }

    #[test]
    fn downloads_are_next_hops_of_valid_paths_and_available(case in case()) {
        let graph = case.graph();
        let observed = case.observed();
        let mut decider = Decider::new(&graph, case.policy()).unwrap();
        if let Some(t) = case.target {
            decider = decider.with_target(&format!("{}.0", t + 1).parse().unwrap()).unwrap();
        }
        if case.observe {
            decider = decider.with_availability(observed.clone());
        }
        let requests = case.requests();
        let batch = decider.decide_all(&requests);
        for (request, decision) in requests.iter().zip(&batch) {
            // The batch equals one call per device, and calls are deterministic.
            prop_assert_eq!(decision, &decider.decide(request));
            // The device's constraints: its model, its labels, the risks the policy accepts.
            let constraints = Constraints {
                labels: request.labels.clone(),
                accepted_risks: case.policy().accepted_risks,
                ..Constraints::for_model(request.model.clone())
            };
            if decision.reason() == "withheld_by_risk" {
                // Withheld exactly when the graph, asked with the same constraints, says so.
                let target = case.target.map_or_else(
                    || graph.latest_for(&request.model).unwrap().version().clone(),
                    |t| format!("{}.0", t + 1).parse().unwrap(),
                );
                let err = graph.resolve(&request.version, &target, &constraints).unwrap_err();
                prop_assert!(
                    matches!(&err, fleetpath::ResolveError::NoPath { reason: fleetpath::graph::NoPathReason::WithheldByRisk { .. }, .. }),
                    "{}", err
                );
            }
            if let Decision::Download { step, url_lifetime_seconds } = decision {
                // The next hop of a valid path: the shortest path the graph resolves.
                let path = graph.resolve(&request.version, &step.target, &constraints);
                prop_assert!(path.is_ok(), "{:?}", path);
                let path = path.unwrap();
                prop_assert_eq!(&path.hops[0].to, &step.to);
                prop_assert_eq!(path.hops[0].artifact.as_ref(), Some(&step.artifact));
                prop_assert_eq!(path.hops.len() - 1, step.hops_left as usize);
                prop_assert!(graph.edges().any(|e| e.from.version() == &step.from && e.to.version() == &step.to));
                // Never an artifact that cannot be downloaded now, nor a URL that outlives it.
                if case.observe {
                    let seen = observed.get(&step.artifact.key);
                    prop_assert!(seen.is_some_and(|a| a.downloadable_at(request.at)), "{:?}", seen);
                    if let Some(Availability::Restored { until, .. }) = seen {
                        let left = until.duration_since(request.at).as_secs();
                        prop_assert!(i64::from(*url_lifetime_seconds) <= left);
                    }
                }
            }
            if let Decision::RetryAfter { at, .. } = decision {
                prop_assert!(*at > request.at);
            }
            let kind = decision.kind();
            prop_assert!(fleetpath::decision::reasons().contains(&decision.reason()), "{} {}", kind, decision.reason());
        }
        // The JSON form round-trips.
        let json = serde_json::to_string(&batch).unwrap();
        prop_assert_eq!(serde_json::from_str::<Vec<Decision>>(&json).unwrap(), batch);
    }

    #[test]
    fn backoff_is_bounded_and_grows_in_expectation(
        base in 1u32..120,
        extra in 0u32..7200,
        jitter in prop::sample::select(vec![Jitter::Full, Jitter::Decorrelated, Jitter::None]),
        seed in any::<u64>(),
    ) {
        backoff_is_bounded_and_grows(base, extra, jitter, seed)?;
    }
}

/// Retry delays of 400 devices over ten attempts stay within their bounds, and their mean never
/// shrinks beyond noise.
fn backoff_is_bounded_and_grows(base: u32, extra: u32, jitter: Jitter, seed: u64) -> Result<(), TestCaseError> {
    let policy = RetryPolicy { base_seconds: base, cap_seconds: base + extra, jitter, seed, ..RetryPolicy::default() };
    let (base_ms, cap_ms) = (u64::from(base) * 1000, u64::from(base + extra) * 1000);
    let mut previous = vec![0u64; DEVICES];
    let (mut last_mean, mut last_variance) = (0.0f64, 0.0f64);
    for attempt in 1..=10u32 {
        let (mut sum, mut squares) = (0u64, 0.0f64);
        for (d, prev) in previous.iter_mut().enumerate() {
            let delay = policy.delay_ms(&format!("device-{d}"), attempt, *prev);
            let low = if jitter == Jitter::Full { 1 } else { base_ms.min(cap_ms) };
            prop_assert!(
                delay >= low && delay <= cap_ms,
                "attempt {} delay {} not in [{}, {}]",
                attempt,
                delay,
                low,
                cap_ms
            );
            if jitter == Jitter::None {
                prop_assert!(delay >= *prev, "no jitter: never shorter");
            }
            *prev = delay;
            sum += delay;
            #[allow(clippy::cast_precision_loss)]
            let delay = delay as f64;
            squares += delay * delay;
        }
        #[allow(clippy::cast_precision_loss)]
        let (n, sum) = (DEVICES as f64, sum as f64);
        let (mean, variance) = (sum / n, (squares / n - (sum / n).powi(2)).max(0.0));
        // Non-decreasing in expectation: the sample mean of 400 devices may dip by noise,
        // never by six standard errors of the difference of two means (about one chance in
        // 10^9 a step). A fixed 15% failed once where the cap equals the base, so that every
        // attempt draws from one range: a dip of about 4 standard errors (base 22 s, no
        // extra, full jitter, seed 14993533256547593303). Without jitter the bound is exact.
        let tolerance = 6.0 * ((variance + last_variance) / n).sqrt();
        prop_assert!(
            mean >= last_mean - tolerance,
            "attempt {}: mean {} after {} (± {})",
            attempt,
            mean,
            last_mean,
            tolerance
        );
        (last_mean, last_variance) = (mean, variance);
    }
    Ok(())
}

#[test]
fn backoff_with_the_cap_at_the_base_grows_within_noise() {
    // The input that failed the fixed 15% bound: every attempt draws from the same range.
    backoff_is_bounded_and_grows(22, 0, Jitter::Full, 14_993_533_256_547_593_303).unwrap();
}

#[test]
fn unknown_versions_are_blocked_never_downloaded() {
    let graph = UpgradeGraph::from_json(r#"{"format_version": 1, "releases": [{"version": "1.0"}]}"#).unwrap();
    let decider = Decider::new(&graph, DecisionPolicy::default()).unwrap();
    let request = DeviceRequest {
        device: "d".into(),
        model: "m".into(),
        version: Version::parse("0.9").unwrap(),
        at: Timestamp::from_second(AT).unwrap(),
        retry: RetryState::default(),
        labels: None,
    };
    assert_eq!(decider.decide(&request).reason(), "unknown_version");
}
