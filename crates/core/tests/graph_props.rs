//! Property tests of the upgrade graph: paths use only declared edges, are shortest, avoid
//! blocked releases, do not depend on manifest order, and agree with route tables; every way
//! of loading gives the same graph.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};

use fleetpath::{
    Constraints, Manifest, UpgradeGraph, Version, VersionRange, graph::EdgeSpec, graph::ReleaseSpec,
    graph::ReleaseStatus,
};
use proptest::prelude::*;

// ---------- graphs ----------

/// A random manifest, described by indices so the test can compute the expected answers
/// independently of the library.
#[derive(Debug, Clone)]
struct Spec {
    n: usize,
    /// Spelling variant for releases and for edges (numerically equal, written differently).
    spell_release: Vec<usize>,
    spell_edge: Vec<usize>,
    status: Vec<ReleaseStatus>,
    models: Vec<Option<Vec<&'static str>>>,
    barrier: Vec<bool>,
    /// Explicit edges (from, to, blocked, models).
    explicit: Vec<(usize, usize, bool, Option<Vec<&'static str>>)>,
    /// Range edges: (range text, to, blocked).
    ranges: Vec<(String, usize, bool)>,
    /// Per explicit edge, its risk (see `RISKS`), if any.
    risks: Vec<Option<usize>>,
}

/// The risks an explicit edge may carry: (name, condition as JSON). "R0" applies to every
/// device, "R1" to devices labelled region=eu (or of unknown labels), "R2" to model "a" (or
/// an unknown model).
const RISKS: [(&str, &str); 3] =
    [("R0", r#""always""#), ("R1", r#"{"label": {"name": "region", "in": ["eu"]}}"#), ("R2", r#"{"model": ["a"]}"#)];

/// What the test's device is: its labels (`None`: unknown) and the risks its host accepts.
#[derive(Debug, Clone, Default)]
struct Device {
    region: Option<&'static str>,
    labels_known: bool,
    accepted: Vec<&'static str>,
}

impl Device {
    /// Whether risk `k` withholds an edge from this device of `model`, by the documented rule.
    fn withholds(&self, k: usize, model: Option<&str>) -> bool {
        let applies = match k {
            0 => true,
            1 => !self.labels_known || self.region == Some("eu"),
            _ => model.is_none_or(|m| m == "a"),
        };
        applies && !self.accepted.contains(&RISKS[k].0)
    }

    fn constraints(&self, model: Option<&str>, allow_blocked: bool, max_hops: Option<u32>) -> Constraints {
        Constraints {
            model: model.map(str::to_owned),
            allow_blocked,
            max_hops,
            labels: self
                .labels_known
                .then(|| self.region.map(|r| ("region".to_owned(), r.to_owned())).into_iter().collect()),
            accepted_risks: self.accepted.iter().map(|&r| r.to_owned()).collect(),
        }
    }
}

fn device_strategy() -> impl Strategy<Value = Device> {
    (
        prop::option::of(prop_oneof![Just("eu"), Just("us")]),
        prop::bool::ANY,
        prop::sample::subsequence(vec!["R0", "R1", "R2"], 0..=3),
    )
        .prop_map(|(region, labels_known, accepted)| Device { region, labels_known, accepted })
}

fn spelled(i: usize, variant: usize) -> String {
    let k = i + 1;
    match variant % 5 {
        0 => format!("{k}"),
        1 => format!("v{k}.0"),
        2 => format!("{k}.0.0.0"),
        3 => format!("0{k}"),
        _ => format!("V{k}.00"),
    }
}

fn spec_strategy() -> impl Strategy<Value = Spec> {
    (3usize..24).prop_flat_map(|n| {
        let models = prop::sample::subsequence(vec!["a", "b"], 1..=2);
        (
            Just(n),
            prop::collection::vec(0usize..5, n),
            prop::collection::vec(0usize..5, n),
            prop::collection::vec(
                prop_oneof![8 => Just(ReleaseStatus::Active), 2 => Just(ReleaseStatus::Blocked), 1 => Just(ReleaseStatus::Archived)],
                n,
            ),
            prop::collection::vec(prop::option::of(models.clone()), n),
            prop::collection::vec(prop::bool::weighted(0.1), n),
            prop::collection::vec(
                (0..n, 0..n, prop::bool::weighted(0.15), prop::option::weighted(0.2, models), prop::option::weighted(0.25, 0usize..3)),
                0..3 * n,
            ),
            prop::collection::vec((0..n, 0..n, 0..n, 0usize..3, prop::bool::weighted(0.15)), 0..3),
        )
            .prop_map(|(n, spell_release, spell_edge, status, models, barrier, raw, raw_ranges)| {
                let crosses = |from: usize, to: usize| (from + 1..to).any(|b| barrier[b]);
                let mut seen = HashSet::new();
                let mut explicit = Vec::new();
                let mut risks = Vec::new();
                for (a, b, blocked, edge_models, risk) in raw {
                    let (from, to) = (a.min(b), a.max(b));
                    if from == to || !seen.insert((from, to)) || (!blocked && crosses(from, to)) {
                        continue;
                    }
                    // Blocked edges forbid the hop for every model: no model list on them.
                    explicit.push((from, to, blocked, edge_models.filter(|_| !blocked)));
                    // Risks only on edges that may be taken (refused on blocked ones).
                    risks.push(risk.filter(|_| !blocked));
                }
                let ranges = raw_ranges
                    .into_iter()
                    .map(|(a, b, to, kind, blocked)| {
                        let (lo, hi) = (a.min(b) + 1, a.max(b) + 1);
                        let text = match kind {
                            0 => format!("<{hi}"),
                            1 => format!(">={lo}, <{hi}"),
                            _ => format!("{lo} || {hi}"),
                        };
                        (text, to, blocked)
                    })
                    .collect();
                Spec { n, spell_release, spell_edge, status, models, barrier, explicit, ranges, risks }
            })
    })
}

impl Spec {
    /// The manifest, with releases and edges in the order `release_order` / `edge_order`.
    fn manifest(&self, release_order: &[usize], edge_order: &[usize]) -> Manifest {
        let releases = release_order
            .iter()
            .map(|&i| ReleaseSpec {
                version: spelled(i, self.spell_release[i]).into(),
                models: self.models[i].as_ref().map(|ms| ms.iter().map(|&m| m.into()).collect()),
                labels: fleetpath::graph::Labels::default(),
                status: self.status[i],
                reason: (self.status[i] == ReleaseStatus::Blocked).then(|| format!("recall {i}")),
                barrier: self.barrier[i],
                artifact: None,
                schema: None,
                reads: Vec::new(),
                notes: None,
            })
            .collect();
        let all_edges = self.edge_specs();
        let edges = edge_order.iter().map(|&k| all_edges[k].clone()).collect();
        Manifest {
            format_version: 1,
            name: None,
            description: None,
            include_prerelease: false,
            releases,
            edges,
            downgrades: Vec::new(),
            channels: std::collections::BTreeMap::new(),
        }
    }

    fn edge_specs(&self) -> Vec<EdgeSpec> {
        let mut out: Vec<EdgeSpec> = self
            .explicit
            .iter()
            .zip(&self.risks)
            .map(|((from, to, blocked, models), risk)| EdgeSpec {
                from: Some(spelled(*from, self.spell_edge[*from])),
                from_range: None,
                include_prerelease: None,
                to: spelled(*to, self.spell_edge[*to]),
                models: models.as_ref().map(|ms| ms.iter().map(|m| (*m).to_owned()).collect()),
                blocked: blocked.then(|| format!("bad hop {from}->{to}")),
                risks: risk
                    .map(|k| {
                        serde_json::from_str(&format!(r#"{{"name": "{}", "when": {}}}"#, RISKS[k].0, RISKS[k].1))
                            .unwrap()
                    })
                    .into_iter()
                    .collect(),
                notes: None,
            })
            .collect();
        out.extend(self.ranges.iter().map(|(text, to, blocked)| EdgeSpec {
            from: None,
            from_range: Some(text.clone()),
            include_prerelease: None,
            to: spelled(*to, self.spell_edge[*to]),
            models: None,
            blocked: blocked.then(|| "bad range".to_owned()),
            risks: Vec::new(),
            notes: None,
        }));
        out
    }

    fn supports(&self, i: usize, model: Option<&str>) -> bool {
        match (model, &self.models[i]) {
            (None, _) | (_, None) => true,
            (Some(m), Some(ms)) => ms.contains(&m),
        }
    }

    /// The usable hops for `model` and `device`, computed from the rules in the graph
    /// module's docs: a hop withheld by a risk the device has not accepted is not usable.
    fn hops_for(&self, model: Option<&str>, device: &Device) -> BTreeSet<(usize, usize)> {
        let version = |i: usize| Version::parse(&spelled(i, 0)).unwrap();
        let crosses = |from: usize, to: usize| (from + 1..to).any(|b| self.barrier[b]);
        let mut blocked: HashSet<(usize, usize)> = self.explicit.iter().filter(|e| e.2).map(|e| (e.0, e.1)).collect();
        let mut explicit: HashMap<(usize, usize), Option<Vec<&str>>> = HashMap::new();
        let mut withheld: HashSet<(usize, usize)> = HashSet::new();
        for (e, risk) in self.explicit.iter().zip(&self.risks).filter(|(e, _)| !e.2) {
            explicit.insert((e.0, e.1), e.3.clone());
            if risk.is_some_and(|k| device.withholds(k, model)) {
                withheld.insert((e.0, e.1));
            }
        }
        for (text, to, is_blocked) in &self.ranges {
            if *is_blocked {
                let range = VersionRange::parse(text).unwrap();
                blocked.extend((0..*to).filter(|&u| range.matches(&version(u))).map(|u| (u, *to)));
            }
        }
        let mut hops = BTreeSet::new();
        for (&(from, to), models) in &explicit {
            let edge_ok = match (model, models) {
                (Some(m), Some(ms)) => ms.contains(&m),
                _ => true,
            };
            if edge_ok && self.supports(from, model) && self.supports(to, model) && !withheld.contains(&(from, to)) {
                hops.insert((from, to));
            }
        }
        for (text, to, is_blocked) in &self.ranges {
            if *is_blocked {
                continue;
            }
            let range = VersionRange::parse(text).unwrap();
            for u in (0..*to).filter(|&u| range.matches(&version(u))) {
                let hop = (u, *to);
                if blocked.contains(&hop) || explicit.contains_key(&hop) || crosses(u, *to) {
                    continue;
                }
                if self.supports(u, model) && self.supports(*to, model) {
                    hops.insert(hop);
                }
            }
        }
        hops
    }

    /// Brute-force BFS: fewest hops from `from` to `to`.
    fn shortest_for(
        &self,
        from: usize,
        to: usize,
        model: Option<&str>,
        allow_blocked: bool,
        device: &Device,
    ) -> Option<usize> {
        let hops = self.hops_for(model, device);
        let mut dist = vec![usize::MAX; self.n];
        dist[from] = 0;
        let mut queue = VecDeque::from([from]);
        while let Some(u) = queue.pop_front() {
            if u == to {
                return Some(dist[u]);
            }
            if u != from && self.status[u] == ReleaseStatus::Blocked && !allow_blocked {
                continue;
            }
            for &(a, b) in &hops {
                if a == u && dist[b] == usize::MAX && (allow_blocked || self.status[b] != ReleaseStatus::Blocked) {
                    dist[b] = dist[u] + 1;
                    queue.push_back(b);
                }
            }
        }
        None
    }
}

fn node_of(v: &Version) -> usize {
    usize::try_from(v.components()[0]).unwrap() - 1
}

fn build(spec: &Spec, release_order: &[usize], edge_order: &[usize]) -> Option<UpgradeGraph> {
    match UpgradeGraph::new(spec.manifest(release_order, edge_order)) {
        Ok(g) => Some(g),
        // A blocked range may cover an explicit upgrade: a legitimate rejection, skip it.
        Err(e) if e.code() == "conflicting_edge" => None,
        Err(e) => panic!("generator produced an invalid manifest: {e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn paths_are_valid_shortest_and_agree_with_route_tables(
        spec in spec_strategy(),
        model in prop::option::of(prop_oneof![Just("a"), Just("b"), Just("z")]),
        allow_blocked in prop::bool::weighted(0.2),
        max_hops in prop::option::of(1u32..4),
        device in device_strategy(),
    ) {
        let identity: Vec<usize> = (0..spec.n).collect();
        let edge_identity: Vec<usize> = (0..spec.edge_specs().len()).collect();
        let Some(graph) = build(&spec, &identity, &edge_identity) else { return Ok(()) };
        let constraints = device.constraints(model, allow_blocked, max_hops);
        let usable = spec.hops_for(model, &device);
        let edges = spec.edge_specs();
        for to in 0..spec.n {
            let target = Version::parse(&spelled(to, 1)).unwrap();
            let table = graph.route_table(&target, &constraints);
            for from in 0..spec.n {
                let source = Version::parse(&spelled(from, 3)).unwrap();
                let result = graph.resolve(&source, &target, &constraints);
                if let Ok(table) = &table {
                    prop_assert_eq!(&table.resolve(&source), &result);
                }
                let target_blocked = spec.status[to] == ReleaseStatus::Blocked && !allow_blocked;
                match &result {
                    Ok(path) => {
                        prop_assert!(from <= to && !target_blocked);
                        prop_assert_eq!(node_of(&path.from), from);
                        prop_assert_eq!(node_of(&path.to), to);
                        let nodes: Vec<usize> = path.versions().iter().map(|v| node_of(v)).collect();
                        for (k, hop) in path.hops.iter().enumerate() {
                            let (a, b) = (node_of(&hop.from), node_of(&hop.to));
                            prop_assert_eq!((a, b), (nodes[k], nodes[k + 1]));
                            // The hop is a usable declared (or range-generated) edge...
                            prop_assert!(usable.contains(&(a, b)), "hop {a}->{b} not declared");
                            // ...and the edge entry it cites really declares it.
                            let entry = &edges[hop.edge];
                            prop_assert!(entry.blocked.is_none());
                            // A withheld edge is never taken unless its risk is accepted.
                            if let Some(k) = spec.risks.get(hop.edge).copied().flatten() {
                                prop_assert!(!device.withholds(k, model), "took {a}->{b} withheld by {}", RISKS[k].0);
                            }
                            prop_assert_eq!(node_of(&Version::parse(&entry.to).unwrap()), b);
                            match (&entry.from, &entry.from_range) {
                                (Some(f), None) => prop_assert_eq!(node_of(&Version::parse(f).unwrap()), a),
                                (None, Some(r)) => prop_assert!(VersionRange::parse(r).unwrap().matches(&hop.from)),
                                _ => prop_assert!(false),
                            }
                            if !allow_blocked {
                                prop_assert!(spec.status[b] != ReleaseStatus::Blocked, "visits blocked {b}");
                            }
                        }
                        let expected = spec.shortest_for(from, to, model, allow_blocked, &device);
                        prop_assert_eq!(Some(path.len()), expected);
                        if let Some(max) = max_hops {
                            prop_assert!(path.len() <= max as usize);
                        }
                    }
                    Err(e) => match e.code() {
                        "target_older" => prop_assert!(to < from),
                        "target_blocked" => prop_assert!(target_blocked),
                        "model_incompatible" => prop_assert!(!spec.supports(to, model) || !spec.supports(from, model)),
                        "no_path" => {
                            prop_assert_eq!(spec.shortest_for(from, to, model, allow_blocked, &device), None);
                            // A hop named as withheld is an edge with that risk, withheld from this device.
                            if let fleetpath::ResolveError::NoPath {
                                reason: fleetpath::graph::NoPathReason::WithheldByRisk { from: a, to: b, risk, .. },
                                ..
                            } = e
                            {
                                let hop = (node_of(a), node_of(b));
                                let k = spec.explicit.iter().zip(&spec.risks).find(|(x, _)| (x.0, x.1) == hop).and_then(|(_, r)| *r);
                                prop_assert!(k.is_some_and(|k| RISKS[k].0 == risk && device.withholds(k, model)), "{e}");
                            }
                        }
                        "too_many_hops" => {
                            let hops = spec.shortest_for(from, to, model, allow_blocked, &device).unwrap();
                            prop_assert!(hops > max_hops.unwrap() as usize);
                        }
                        other => prop_assert!(false, "unexpected error {other}: {e}"),
                    },
                }
            }
        }
    }

    /// `UpgradeGraph::from_json` compiles while it reads, resolving edges on the fly when the
    /// releases come first in the document and at the end otherwise; `UpgradeGraph::new`
    /// compiles an owned `Manifest`. All three give the same graph, or the same error.
    #[test]
    fn every_way_of_loading_gives_the_same_graph(spec in spec_strategy(), seed in any::<u64>()) {
        let mut release_order: Vec<usize> = (0..spec.n).collect();
        let mut state = seed;
        for i in (1..release_order.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            release_order.swap(i, usize::try_from(state >> 33).unwrap() % (i + 1));
        }
        let edge_identity: Vec<usize> = (0..spec.edge_specs().len()).collect();
        let manifest = spec.manifest(&release_order, &edge_identity);
        // `to_json` writes the fields in declaration order (releases before edges); a
        // `serde_json::Value` sorts its keys (edges before releases).
        let releases_first = manifest.to_json();
        let edges_first = serde_json::to_value(&manifest).unwrap().to_string();
        if !manifest.edges.is_empty() {
            prop_assert!(releases_first.find("\"releases\"") < releases_first.find("\"edges\""));
            prop_assert!(edges_first.find("\"edges\"") < edges_first.find("\"releases\""));
        }
        let owned = UpgradeGraph::new(manifest.clone());
        let fingerprint = |g: &UpgradeGraph| {
            let edges: Vec<(String, String, usize, bool)> = g
                .edges()
                .map(|e| (e.from.version().to_string(), e.to.version().to_string(), e.spec, e.generated))
                .collect();
            let blocked: Vec<(String, String, usize, bool, String)> = g
                .blocked_hops()
                .map(|(e, why)| (e.from.version().to_string(), e.to.version().to_string(), e.spec, e.generated, why.to_owned()))
                .collect();
            (
                g.to_manifest(),
                g.edge_specs().to_vec(),
                edges,
                blocked,
                serde_json::to_string(&g.lint()).unwrap(),
                g.to_dot(None),
                g.models().iter().map(|m| (*m).to_owned()).collect::<Vec<_>>(),
            )
        };
        for text in [&releases_first, &edges_first] {
            let read = UpgradeGraph::from_json(text);
            match (&owned, &read) {
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!(fingerprint(a), fingerprint(b));
                    prop_assert_eq!(&a.to_manifest(), &manifest);
                }
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                _ => prop_assert!(false, "new: {owned:?}, from_json: {read:?}"),
            }
        }
    }

    #[test]
    fn results_do_not_depend_on_manifest_order(
        spec in spec_strategy(),
        seed in any::<u64>(),
        model in prop::option::of(prop_oneof![Just("a"), Just("b")]),
    ) {
        let n_edges = spec.edge_specs().len();
        let identity: Vec<usize> = (0..spec.n).collect();
        let edge_identity: Vec<usize> = (0..n_edges).collect();
        // A deterministic shuffle from the seed.
        let shuffle = |mut items: Vec<usize>, salt: u64| {
            let mut state = seed ^ salt;
            for i in (1..items.len()).rev() {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let j = usize::try_from(state >> 33).unwrap() % (i + 1);
                items.swap(i, j);
            }
            items
        };
        let release_order = shuffle(identity.clone(), 1);
        let edge_order = shuffle(edge_identity.clone(), 2);
        let (Some(a), Some(b)) = (build(&spec, &identity, &edge_identity), build(&spec, &release_order, &edge_order)) else {
            return Ok(());
        };
        let constraints = Constraints { model: model.map(str::to_owned), ..Constraints::default() };
        let versions_of = |p: &fleetpath::Path| p.versions().iter().map(|v| node_of(v)).collect::<Vec<_>>();
        for to in 0..spec.n {
            let target = Version::parse(&spelled(to, 0)).unwrap();
            for from in 0..=to {
                let source = Version::parse(&spelled(from, 0)).unwrap();
                let (ra, rb) = (a.resolve(&source, &target, &constraints), b.resolve(&source, &target, &constraints));
                match (&ra, &rb) {
                    (Ok(pa), Ok(pb)) => prop_assert_eq!(versions_of(pa), versions_of(pb)),
                    (Err(ea), Err(eb)) => prop_assert_eq!(ea.code(), eb.code()),
                    _ => prop_assert!(false, "{ra:?} vs {rb:?}"),
                }
            }
        }
        // Lint finds the same things (edge subjects renumbered through the permutation).
        let key = |g: &UpgradeGraph, order: &[usize]| {
            g.lint()
                .into_iter()
                .map(|f| {
                    let subject = match f.subject {
                        fleetpath::graph::Subject::Edge { index } => format!("edge {}", order[index]),
                        fleetpath::graph::Subject::Release { version } => format!("release {}", node_of(&Version::parse(&version).unwrap())),
                        other => format!("{other:?}"),
                    };
                    (f.code, subject)
                })
                .collect::<BTreeSet<_>>()
        };
        prop_assert_eq!(key(&a, &edge_identity), key(&b, &edge_order));
        // Exports are deterministic for the same manifest.
        prop_assert_eq!(a.to_dot(None), build(&spec, &identity, &edge_identity).unwrap().to_dot(None));
    }
}

// ---------- dead ends ----------

proptest! {
    /// No path ever leaves a dead end (not through a range edge, not through an explicit one),
    /// route tables agree, and a path from a dead end fails with the `dead_end` reason.
    #[test]
    fn a_dead_end_is_never_left(
        deadend in prop::collection::vec(prop::bool::weighted(0.3), 2..12),
        ranges in prop::collection::vec(0usize..12, 0..4),
        explicit in prop::collection::vec((0usize..12, 0usize..12), 0..12),
    ) {
        let n = deadend.len();
        let v = |i: usize| format!("{}.0", i + 1);
        let releases: Vec<serde_json::Value> = (0..n)
            .map(|i| if deadend[i] { serde_json::json!({"version": v(i), "status": "deadend"}) } else { serde_json::json!({"version": v(i)}) })
            .collect();
        let mut edges: Vec<serde_json::Value> =
            ranges.iter().filter(|&&t| t < n).map(|&t| serde_json::json!({"from_range": format!("<{}", v(t)), "to": v(t)})).collect();
        let mut seen = HashSet::new();
        for &(a, b) in &explicit {
            if a < b && b < n && !deadend[a] && seen.insert((a, b)) {
                edges.push(serde_json::json!({"from": v(a), "to": v(b)}));
            }
        }
        let text = serde_json::json!({"format_version": 1, "releases": releases, "edges": edges}).to_string();
        let graph = UpgradeGraph::from_json(&text).unwrap();
        let constraints = Constraints::default();
        for a in 0..n {
            for b in a + 1..n {
                let (from, to): (Version, Version) = (v(a).parse().unwrap(), v(b).parse().unwrap());
                match graph.resolve(&from, &to, &constraints) {
                    Ok(path) => {
                        for hop in &path.hops {
                            let left = graph.release(&hop.from).unwrap();
                            prop_assert_ne!(left.status(), ReleaseStatus::Deadend, "{} -> {}: {:?}", a, b, path);
                        }
                    }
                    Err(fleetpath::ResolveError::NoPath { reason, .. }) if deadend[a] => {
                        let is_dead_end = matches!(reason, fleetpath::graph::NoPathReason::DeadEnd { .. });
                        prop_assert!(is_dead_end, "{:?}", reason);
                    }
                    Err(e) => prop_assert!(!deadend[a], "{}", e),
                }
                if !deadend[b] {
                    let table = graph.route_table(&to, &constraints).unwrap();
                    prop_assert_eq!(table.next_hop(&from).is_ok(), graph.resolve(&from, &to, &constraints).is_ok());
                }
            }
        }
    }
}
