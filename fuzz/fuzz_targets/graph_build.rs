//! Structure-aware: small graphs (up to 24 releases, explicit edges, barriers, blocked
//! releases, a model some releases lack) built from the fuzzer's choices, then paths checked
//! against what the manifest declares: a path starts and ends where asked, each hop is a
//! declared edge, it never passes through a blocked release, it respects the hop limit and the
//! model, and the route table agrees with it.
#![no_main]
use std::collections::HashSet;

use arbitrary::Arbitrary;
use fleetpath::{Constraints, UpgradeGraph, Version};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    releases: u8,
    edges: Vec<(u8, u8)>,
    barriers: Vec<u8>,
    blocked: Vec<u8>,
    only_m0: Vec<u8>,
    from: u8,
    to: u8,
    max_hops: Option<u8>,
    model_m1: bool,
}

fuzz_target!(|input: Input| {
    let n = usize::from(input.releases % 24) + 2;
    let pick = |i: u8| usize::from(i) % n;
    let version = |i: usize| format!("1.{i}");
    let set = |list: &[u8]| list.iter().map(|&i| pick(i)).collect::<HashSet<_>>();
    let (barriers, blocked, only_m0) = (set(&input.barriers), set(&input.blocked), set(&input.only_m0));
    let releases: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let mut r = serde_json::json!({"version": version(i), "models": if only_m0.contains(&i) { vec!["m0"] } else { vec!["m0", "m1"] }});
            if barriers.contains(&i) {
                r["barrier"] = true.into();
            }
            if blocked.contains(&i) {
                r["status"] = "blocked".into();
            }
            r
        })
        .collect();
    let declared: HashSet<(usize, usize)> =
        input.edges.iter().map(|&(a, b)| (pick(a), pick(b))).filter(|(a, b)| a < b).collect();
    let edges: Vec<serde_json::Value> =
        declared.iter().map(|&(a, b)| serde_json::json!({"from": version(a), "to": version(b)})).collect();
    let manifest = serde_json::json!({"format_version": 1, "releases": releases, "edges": edges});
    let Ok(graph) = UpgradeGraph::from_json(&manifest.to_string()) else { return };

    let (from, to) = (pick(input.from), pick(input.to));
    let model = if input.model_m1 { "m1" } else { "m0" };
    let constraints = Constraints {
        model: Some(model.to_owned()),
        max_hops: input.max_hops.map(u32::from),
        ..Constraints::default()
    };
    let (vf, vt) = (Version::parse(&version(from)).unwrap(), Version::parse(&version(to)).unwrap());
    let Ok(path) = graph.resolve(&vf, &vt, &constraints) else { return };
    assert_eq!((&path.from, &path.to), (&vf, &vt));
    let index = |v: &Version| (0..n).find(|&i| Version::parse(&version(i)).unwrap() == *v).unwrap();
    let mut at = from;
    for (k, hop) in path.hops.iter().enumerate() {
        let (a, b) = (index(&hop.from), index(&hop.to));
        assert_eq!(a, at, "hops chain");
        assert!(declared.contains(&(a, b)), "hop {a} -> {b} is declared");
        assert!(!(model == "m1" && only_m0.contains(&b)), "hop into a release without the model");
        if k + 1 < path.hops.len() {
            assert!(!blocked.contains(&b), "passes through blocked release {b}");
        }
        at = b;
    }
    assert_eq!(at, to);
    if let Some(limit) = input.max_hops {
        assert!(path.hops.len() <= usize::from(limit));
    }
    if input.max_hops.is_none() {
        let table = graph.route_table(&vt, &constraints).expect("a reachable target has a table");
        assert_eq!(table.hops(&vf), Some(u32::try_from(path.hops.len()).unwrap()), "route table and resolve agree");
    }
});
