//! The documented size limits of a manifest (`graph::MAX_RELEASES`, `graph::MAX_HOPS`): loading
//! stops with a typed error instead of expanding range edges without bound.

use fleetpath::UpgradeGraph;
use fleetpath::graph::{GraphError, MAX_HOPS, MAX_RELEASES};
use serde_json::json;

/// `n` releases `1.x.y`, each the target of one range edge from `range(i)`.
fn manifest(n: usize, range: impl Fn(usize) -> String) -> serde_json::Value {
    let version = |i: usize| format!("1.{}.{}", i / 100, i % 100);
    let releases: Vec<_> = (0..n).map(|i| json!({"version": version(i)})).collect();
    let edges: Vec<_> = (0..n).map(|i| json!({"from_range": range(i), "to": version(i)})).collect();
    json!({"format_version": 2, "releases": releases, "edges": edges})
}

fn load(doc: &serde_json::Value) -> Result<UpgradeGraph, GraphError> {
    UpgradeGraph::from_json(&doc.to_string())
}

#[test]
fn range_edges_that_expand_past_the_hop_limit_are_refused() {
    // Every release reachable from every older one: n(n-1)/2 hops.
    let err = load(&manifest(1500, |_| ">=0".to_owned())).unwrap_err();
    assert_eq!(err.code(), "manifest_too_large");
    let GraphError::TooLarge { what, count, limit } = err else { panic!("{err:?}") };
    assert_eq!((what, limit), ("hops", MAX_HOPS));
    assert!(count > MAX_HOPS && count < MAX_HOPS + 1500, "{count}");
}

#[test]
fn a_graph_just_under_the_hop_limit_loads_with_every_hop() {
    let n = 1400; // 979,300 hops
    let graph = load(&manifest(n, |_| ">=0".to_owned())).unwrap();
    assert_eq!(graph.edges().count(), n * (n - 1) / 2);
}

#[test]
fn narrow_ranges_over_many_releases_load() {
    // 20,000 releases, each range matching its own minor line: few hops each.
    let graph = load(&manifest(20_000, |i| format!("~1.{}", i / 100))).unwrap();
    assert_eq!(graph.edges().count(), 200 * (100 * 99 / 2));
}

#[test]
fn too_many_releases_or_edge_entries_are_refused() {
    let err = load(&manifest(MAX_RELEASES + 1, |i| format!("=1.{}.{}", i / 100, i % 100))).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("manifest has too many releases ({}; the limit is {MAX_RELEASES})", MAX_RELEASES + 1)
    );
}

#[test]
fn a_manifest_of_problems_reports_the_first_max_errors_in_order() {
    // 50,000 broken releases, 100,000 edges naming them or nothing, 50,000 duplicate hops:
    // every problem is looked at, only the first MAX_ERRORS are kept (memory stays bounded).
    let mut releases: Vec<String> = (0..50_000).map(|i| format!(r#"{{"version": "{i}.x"}}"#)).collect();
    releases.extend((0..3).map(|i| format!(r#"{{"version": "9{i}.0"}}"#)));
    let mut edges: Vec<String> =
        (0..100_000).map(|i| format!(r#"{{"from": "{}.x", "to": "90.0"}}"#, i % 50_000)).collect();
    edges.extend(
        (0..50_000).map(|i| format!(r#"{{"from": "90.0", "to": "91.0", "notes": "{i}", "models": ["m{}"]}}"#, i % 7)),
    );
    let text =
        format!(r#"{{"format_version": 1, "releases": [{}], "edges": [{}]}}"#, releases.join(","), edges.join(","));
    let err = fleetpath::UpgradeGraph::from_json(&text).unwrap_err();
    let errors = err.errors();
    assert_eq!(errors.len(), fleetpath::graph::MAX_ERRORS);
    assert!(errors.iter().all(|e| e.to_string().starts_with("releases[")), "release problems come first");
    assert_eq!(err.code(), "unexpected_character");
}
