//! Property tests: version parsing and ordering, range semantics against semver, and the graph
//! invariants (paths use only declared edges, are shortest, avoid blocked releases, do not
//! depend on manifest order, and agree with route tables).

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, RandomState};

use fleetpath::{
    Constraints, Device, Fleet, Manifest, UpgradeGraph, Version, VersionRange, graph::EdgeSpec, graph::ReleaseSpec,
    graph::ReleaseStatus,
};
use proptest::prelude::*;

// ---------- versions ----------

fn pre_identifier() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u64..40).prop_map(|n| n.to_string()),
        "[a-z][a-z0-9]{0,5}",
        Just("rc".to_owned()),
        Just("alpha".to_owned()),
    ]
}

fn dotted(ids: &[String]) -> String {
    ids.join(".")
}

/// A vendor spelling: prefix, 1..=8 components with optional leading zeros, suffixes.
fn vendor_version() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(""), Just("v"), Just("V")],
        prop::collection::vec((0u64..300, 0usize..3), 1..=8),
        prop::option::of(prop::collection::vec(pre_identifier(), 1..3).prop_map(|ids| dotted(&ids))),
        prop::option::of(prop::collection::vec("[0-9A-Za-z]{1,6}", 1..3).prop_map(|ids| dotted(&ids))),
    )
        .prop_map(|(prefix, parts, pre, build)| {
            let mut s = prefix.to_owned();
            let nums: Vec<String> = parts.iter().map(|(n, zeros)| format!("{}{n}", "0".repeat(*zeros))).collect();
            s.push_str(&nums.join("."));
            if let Some(pre) = pre {
                s.push('-');
                s.push_str(&pre);
            }
            if let Some(build) = build {
                s.push('+');
                s.push_str(&build);
            }
            s
        })
}

fn semver_version() -> impl Strategy<Value = semver::Version> {
    (
        0u64..5,
        0u64..5,
        0u64..5,
        prop::option::of(prop::collection::vec(pre_identifier(), 1..3).prop_map(|ids| dotted(&ids))),
        prop::option::of(prop::collection::vec("[0-9a-z]{1,4}", 1..3).prop_map(|ids| dotted(&ids))),
    )
        .prop_map(|(major, minor, patch, pre, build)| {
            let mut v = semver::Version::new(major, minor, patch);
            if let Some(pre) = pre {
                v.pre = semver::Prerelease::new(&pre).unwrap();
            }
            if let Some(build) = build {
                v.build = semver::BuildMetadata::new(&build).unwrap();
            }
            v
        })
}

proptest! {
    #[test]
    fn display_round_trips(s in vendor_version()) {
        // Leading zeros in numeric pre-release identifiers are not semver: skip those.
        let Ok(v) = Version::parse(&s) else {
            prop_assume!(false);
            unreachable!()
        };
        prop_assert_eq!(v.to_string(), s.clone());
        let again = Version::parse(&v.normalized()).unwrap();
        prop_assert_eq!(&again, &v);
        prop_assert_eq!(again.normalized(), v.normalized());
        let json = serde_json::to_string(&v).unwrap();
        let back: Version = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.as_str(), s.as_str());
    }

    #[test]
    fn ordering_agrees_with_semver(a in semver_version(), b in semver_version(), zeros in 0usize..3) {
        // Spell ours with leading zeros and a prefix: the order must not change.
        let spell = |v: &semver::Version| {
            let mut s = format!("v{z}{}.{z}{}.{}", v.major, v.minor, v.patch, z = "0".repeat(zeros));
            if !v.pre.is_empty() { s.push('-'); s.push_str(v.pre.as_str()); }
            if !v.build.is_empty() { s.push('+'); s.push_str(v.build.as_str()); }
            s
        };
        let (ours_a, ours_b) = (Version::parse(&spell(&a)).unwrap(), Version::parse(&spell(&b)).unwrap());
        prop_assert_eq!(ours_a.cmp(&ours_b), a.cmp(&b));
        prop_assert_eq!(ours_a == ours_b, a == b);
        prop_assert_eq!(ours_a.to_semver().unwrap(), a.clone());
        prop_assert_eq!(Version::from(&a), ours_a);
    }

    #[test]
    fn ordering_is_total_and_consistent(mut vs in prop::collection::vec(vendor_version(), 1..20)) {
        let mut parsed: Vec<Version> = vs.drain(..).filter_map(|s| Version::parse(&s).ok()).collect();
        parsed.sort();
        for w in parsed.windows(2) {
            prop_assert!(w[0] <= w[1]);
        }
        let state = RandomState::new();
        for a in &parsed {
            for b in &parsed {
                prop_assert_eq!(a == b, a.cmp(b) == std::cmp::Ordering::Equal);
                prop_assert_eq!(a.cmp(b), b.cmp(a).reverse());
                if a == b {
                    prop_assert_eq!(state.hash_one(a), state.hash_one(b));
                }
            }
        }
    }
}

// ---------- ranges ----------

/// A comparator semver can read, in both syntaxes.
fn semver_comparator() -> impl Strategy<Value = String> {
    let op = prop_oneof![Just("="), Just(">"), Just(">="), Just("<"), Just("<="), Just("~"), Just("^")];
    prop_oneof![
        (op.clone(), 0u64..4).prop_map(|(op, a)| format!("{op}{a}")),
        (op.clone(), 0u64..4, 0u64..4).prop_map(|(op, a, b)| format!("{op}{a}.{b}")),
        (op, 0u64..4, 0u64..4, 0u64..4, prop::option::of(prop_oneof![Just("alpha"), Just("rc.1"), Just("rc.2")]))
            .prop_map(|(op, a, b, c, pre)| match pre {
                Some(pre) => format!("{op}{a}.{b}.{c}-{pre}"),
                None => format!("{op}{a}.{b}.{c}"),
            }),
        (0u64..4).prop_map(|a| format!("{a}.*")),
        (0u64..4, 0u64..4).prop_map(|(a, b)| format!("{a}.{b}.*")),
    ]
}

proptest! {
    #[test]
    fn ranges_agree_with_semver(
        comparators in prop::collection::vec(semver_comparator(), 1..3),
        versions in prop::collection::vec(semver_version(), 1..10),
    ) {
        let text = comparators.join(", ");
        let ours = VersionRange::parse(&text).unwrap();
        let theirs = semver::VersionReq::parse(&text).unwrap();
        for v in &versions {
            let mine = Version::parse(&v.to_string()).unwrap();
            prop_assert_eq!(ours.matches(&mine), theirs.matches(v), "{} vs {}", text, v);
        }
    }
}

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
            prop::collection::vec((0..n, 0..n, prop::bool::weighted(0.15), prop::option::weighted(0.2, models)), 0..3 * n),
            prop::collection::vec((0..n, 0..n, 0..n, 0usize..3, prop::bool::weighted(0.15)), 0..3),
        )
            .prop_map(|(n, spell_release, spell_edge, status, models, barrier, raw, raw_ranges)| {
                let crosses = |from: usize, to: usize| (from + 1..to).any(|b| barrier[b]);
                let mut seen = HashSet::new();
                let mut explicit = Vec::new();
                for (a, b, blocked, edge_models) in raw {
                    let (from, to) = (a.min(b), a.max(b));
                    if from == to || !seen.insert((from, to)) || (!blocked && crosses(from, to)) {
                        continue;
                    }
                    // Blocked edges forbid the hop for every model: no model list on them.
                    explicit.push((from, to, blocked, edge_models.filter(|_| !blocked)));
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
                Spec { n, spell_release, spell_edge, status, models, barrier, explicit, ranges }
            })
    })
}

impl Spec {
    /// The manifest, with releases and edges in the order `release_order` / `edge_order`.
    fn manifest(&self, release_order: &[usize], edge_order: &[usize]) -> Manifest {
        let releases = release_order
            .iter()
            .map(|&i| ReleaseSpec {
                version: spelled(i, self.spell_release[i]),
                models: self.models[i].as_ref().map(|ms| ms.iter().map(|m| (*m).to_owned()).collect()),
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
        Manifest { format_version: 1, name: None, description: None, releases, edges, downgrades: Vec::new() }
    }

    fn edge_specs(&self) -> Vec<EdgeSpec> {
        let mut out: Vec<EdgeSpec> = self
            .explicit
            .iter()
            .map(|(from, to, blocked, models)| EdgeSpec {
                from: Some(spelled(*from, self.spell_edge[*from])),
                from_range: None,
                to: spelled(*to, self.spell_edge[*to]),
                models: models.as_ref().map(|ms| ms.iter().map(|m| (*m).to_owned()).collect()),
                blocked: blocked.then(|| format!("bad hop {from}->{to}")),
                notes: None,
            })
            .collect();
        out.extend(self.ranges.iter().map(|(text, to, blocked)| EdgeSpec {
            from: None,
            from_range: Some(text.clone()),
            to: spelled(*to, self.spell_edge[*to]),
            models: None,
            blocked: blocked.then(|| "bad range".to_owned()),
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

    /// The usable hops for `model`, computed from the rules in the graph module's docs.
    fn hops(&self, model: Option<&str>) -> BTreeSet<(usize, usize)> {
        let version = |i: usize| Version::parse(&spelled(i, 0)).unwrap();
        let crosses = |from: usize, to: usize| (from + 1..to).any(|b| self.barrier[b]);
        let mut blocked: HashSet<(usize, usize)> = self.explicit.iter().filter(|e| e.2).map(|e| (e.0, e.1)).collect();
        let mut explicit: HashMap<(usize, usize), Option<Vec<&str>>> = HashMap::new();
        for e in self.explicit.iter().filter(|e| !e.2) {
            explicit.insert((e.0, e.1), e.3.clone());
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
            if edge_ok && self.supports(from, model) && self.supports(to, model) {
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
    fn shortest(&self, from: usize, to: usize, model: Option<&str>, allow_blocked: bool) -> Option<usize> {
        let hops = self.hops(model);
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
    ) {
        let identity: Vec<usize> = (0..spec.n).collect();
        let edge_identity: Vec<usize> = (0..spec.edge_specs().len()).collect();
        let Some(graph) = build(&spec, &identity, &edge_identity) else { return Ok(()) };
        let constraints = Constraints { model: model.map(str::to_owned), allow_blocked, max_hops };
        let usable = spec.hops(model);
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
                        let expected = spec.shortest(from, to, model, allow_blocked);
                        prop_assert_eq!(Some(path.len()), expected);
                        if let Some(max) = max_hops {
                            prop_assert!(path.len() <= max as usize);
                        }
                    }
                    Err(e) => match e.code() {
                        "target_older" => prop_assert!(to < from),
                        "target_blocked" => prop_assert!(target_blocked),
                        "model_incompatible" => prop_assert!(!spec.supports(to, model) || !spec.supports(from, model)),
                        "no_path" => prop_assert_eq!(spec.shortest(from, to, model, allow_blocked), None),
                        "too_many_hops" => {
                            let hops = spec.shortest(from, to, model, allow_blocked).unwrap();
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
                .upgrade_edges()
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

// ---------- fleets ----------

/// A cell value: anything printable, commas, quotes and `#` included, without surrounding
/// whitespace (cells are trimmed on reading).
fn cell() -> impl Strategy<Value = String> {
    "[A-Za-z0-9#,\"' /_.-]{0,12}".prop_map(|s| s.trim().to_owned()).prop_filter("non-empty", |s| !s.is_empty())
}

fn device() -> impl Strategy<Value = Device> {
    (
        cell(),
        cell(),
        cell(),
        prop::option::of(cell()),
        vendor_version(),
        prop::collection::btree_map("[a-z]{1,5}", cell(), 0..3),
    )
        .prop_filter_map("valid version", |(id, model, line, site, version, labels)| {
            Some(Device { id, model, line, site, version: Version::parse(&version).ok()?, labels })
        })
}

proptest! {
    #[test]
    fn fleets_round_trip_through_csv_and_json(devices in prop::collection::vec(device(), 0..30)) {
        let mut seen = HashSet::new();
        let devices: Vec<Device> = devices.into_iter().filter(|d| seen.insert(d.id.clone())).collect();
        let fleet = Fleet::new(devices.clone()).unwrap();
        let csv = fleet.to_csv();
        let from_csv = Fleet::from_csv(&csv).unwrap_or_else(|e| panic!("{e}\n{csv}"));
        prop_assert_eq!(from_csv.devices(), devices.as_slice());
        // No value holds a line break, so device k sits on row k + 2 (after the header).
        for (k, d) in devices.iter().enumerate() {
            let expected = format!("row {}", k + 2);
            prop_assert_eq!(from_csv.origin(&d.id), Some(expected.as_str()));
        }
        let from_json = Fleet::from_json(&fleet.to_json()).unwrap();
        prop_assert_eq!(from_json.devices(), devices.as_slice());
    }

    #[test]
    fn a_duplicate_id_is_caught_on_its_row(devices in prop::collection::vec(device(), 1..20), pick in any::<prop::sample::Index>()) {
        let mut seen = HashSet::new();
        let mut devices: Vec<Device> = devices
            .into_iter()
            .filter(|d| seen.insert(d.id.clone()))
            .map(|d| Device { labels: std::collections::BTreeMap::new(), ..d })
            .collect();
        let first = pick.index(devices.len());
        let mut twin = devices[first].clone();
        twin.line = format!("{}-other", twin.line);
        // Without labels every fleet has the same header, so the twin's row can be appended.
        let twin_row = Fleet::new(vec![twin.clone()]).unwrap().to_csv().lines().nth(1).unwrap().to_owned();
        let csv = format!("{}{twin_row}\n", Fleet::new(devices.clone()).unwrap().to_csv());
        let err = Fleet::from_csv(&csv).unwrap_err();
        prop_assert_eq!(err.code(), "duplicate_device");
        let expected = format!(
            "duplicate device id {:?} at row {} (first at row {})",
            twin.id,
            devices.len() + 2,
            first + 2
        );
        prop_assert_eq!(err.to_string(), expected);
        devices.push(twin);
        prop_assert_eq!(Fleet::new(devices).unwrap_err().code(), "duplicate_device");
    }
}

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
                model: model.to_owned(),
                line: format!("line-{line}"),
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
    plan.stages.iter().enumerate().flat_map(|(k, s)| s.devices.iter().map(move |d| (d.id.clone(), k))).collect()
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
        let mut placed: Vec<String> = plan.stages.iter().flat_map(|s| s.devices.iter().map(|d| d.id.clone())).collect();
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
            *changed_lines.entry(gone.line).or_default() += 1;
        }
        for (line, tag) in &add {
            let line = format!("line-{line}");
            after_devices.push(Device {
                id: format!("new-{tag}-{}", after_devices.len()),
                model: "IPM-1".into(),
                line: line.clone(),
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
        let lines: BTreeSet<String> = devices.iter().chain(&after_devices).map(|d| d.line.clone()).collect();
        for line in lines {
            let moved = after_devices
                .iter()
                .filter(|d| d.line == line)
                .filter(|d| matches!((old.get(&d.id), new.get(&d.id)), (Some(a), Some(b)) if a != b))
                .count();
            let m = i64::try_from(changed_lines.get(&line).copied().unwrap_or(0)).unwrap();
            let (b0, b1) = (boundaries(&before, &line), boundaries(&after, &line));
            let bound: i64 = b0.iter().zip(&b1).take(b0.len().saturating_sub(1)).map(|(x, y)| m + (x - y).abs()).sum();
            prop_assert!(i64::try_from(moved).unwrap() <= bound, "{line}: {moved} moved, bound {bound}");
        }
    }
}

// ---------- calendars ----------

fn plant_calendar() -> fleetpath::Calendar {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/plant-calendar.json");
    fleetpath::Calendar::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn next_windows_are_consistent_with_is_open(
        // Any minute of 2026 and early 2027, DST transitions included.
        minute in 0i64..(400 * 24 * 60),
        stage in prop_oneof![Just("canary"), Just("early"), Just("production")],
        line in prop_oneof![Just("press-1"), Just("press-2")],
    ) {
        let calendar = plant_calendar();
        let start_of_2026: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let at = start_of_2026.checked_add(jiff::SignedDuration::from_mins(minute)).unwrap();
        let open = calendar.is_open("plant-a", line, stage, at).unwrap();
        let Some(window) = calendar.next_window("plant-a", line, stage, at).unwrap() else {
            prop_assert!(!open);
            return Ok(());
        };
        prop_assert!(window.start >= at && window.end > window.start);
        prop_assert_eq!(open, window.start == at);
        // Open at its start and just before its end; closed at its end (windows are merged).
        let minute = jiff::SignedDuration::from_mins(1);
        prop_assert!(calendar.is_open("plant-a", line, stage, window.start).unwrap());
        prop_assert!(calendar.is_open("plant-a", line, stage, window.end.checked_sub(minute).unwrap()).unwrap());
        prop_assert!(!calendar.is_open("plant-a", line, stage, window.end).unwrap());
        if window.start > at {
            // Closed from `at` until the window opens: the minute before it is closed.
            prop_assert!(!calendar.is_open("plant-a", line, stage, window.start.checked_sub(minute).unwrap()).unwrap());
        }
        // Asking from inside the window gives the same end.
        let inside = calendar.next_window("plant-a", line, stage, window.start).unwrap().unwrap();
        prop_assert_eq!(inside.end, window.end);
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
                line: format!("l{}", i % 3),
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
        for s in steps {
            let event = match s {
                Step::Tick(minutes) => {
                    now = now.checked_add(jiff::SignedDuration::from_mins(minutes)).unwrap();
                    Event::Tick { at: now }
                }
                Step::Report(pick, outcome) => Event::DeviceReported {
                    at: now,
                    device: devices[pick.index(n)].id.clone(),
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
                        }
                        // Every device the rollout had touched is in this rollback.
                        for stage in &state.stages {
                            for d in &stage.devices {
                                let touched = d.version != d.from || d.status != DeviceStatus::Pending;
                                if touched && d.status != DeviceStatus::RolledBack {
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

// ---------- retries ----------

proptest! {
    #[test]
    fn backoff_delays_stay_in_bounds(
        base in 1u32..120,
        extra in 0u32..7200,
        jitter in prop_oneof![Just(fleetpath::retry::Jitter::Full), Just(fleetpath::retry::Jitter::Decorrelated), Just(fleetpath::retry::Jitter::None)],
        seed in any::<u64>(),
        device in "[a-z0-9-]{1,12}",
    ) {
        let policy = fleetpath::RetryPolicy { base_seconds: base, cap_seconds: base + extra, jitter, seed, max_attempts: 40, ..fleetpath::RetryPolicy::default() };
        let (base_ms, cap_ms) = (u64::from(base) * 1000, u64::from(base + extra) * 1000);
        let mut previous = 0;
        for attempt in 1..=30u32 {
            let delay = policy.delay_ms(&device, attempt, previous);
            let exponential = base_ms.saturating_mul(1u64 << (attempt - 1).min(62)).min(cap_ms);
            match jitter {
                fleetpath::retry::Jitter::Full => prop_assert!((1..=exponential).contains(&delay), "{delay} vs {exponential}"),
                fleetpath::retry::Jitter::Decorrelated => prop_assert!((base_ms..=cap_ms).contains(&delay), "{delay}"),
                fleetpath::retry::Jitter::None => prop_assert_eq!(delay, exponential),
            }
            // Deterministic: the same inputs, the same delay.
            prop_assert_eq!(delay, policy.delay_ms(&device, attempt, previous));
            previous = delay;
        }
    }
}

#[test]
fn backoff_is_non_decreasing_in_expectation() {
    for jitter in [fleetpath::retry::Jitter::Full, fleetpath::retry::Jitter::Decorrelated] {
        let policy = fleetpath::RetryPolicy { jitter, ..fleetpath::RetryPolicy::default() };
        // Mean delay of attempt n over 2000 devices, following each device's own history.
        let mut previous = vec![0u64; 2000];
        let mut means = Vec::new();
        for attempt in 1..=10u32 {
            let mut total = 0u64;
            for (i, prev) in previous.iter_mut().enumerate() {
                let delay = policy.delay_ms(&format!("device-{i}"), attempt, *prev);
                total += delay;
                *prev = delay;
            }
            means.push(total / 2000);
        }
        for pair in means.windows(2) {
            // 5% slack for sampling noise once the cap flattens the curve.
            assert!(pair[1] * 105 >= pair[0] * 100, "{jitter:?}: means {means:?}");
        }
        assert!(means[9] > means[0] * 4, "{jitter:?}: the backoff grows: {means:?}");
    }
}
