//! Property tests of manifest loading: every independent problem is reported, and adding an
//! unrelated valid release or edge never hides one.

use fleetpath::UpgradeGraph;
use proptest::prelude::*;
use serde_json::{Value, json};

/// A release entry: sound, or broken in one of the ways a catalog conversion breaks them.
fn release(k: usize, flaw: usize) -> Value {
    let version = format!("{k}.0");
    match flaw {
        1 => json!({"version": format!("{k}.x")}),
        2 => json!({"version": version, "models": []}),
        3 => json!({"version": version, "status": "blocked"}),
        4 => json!({"version": version, "reason": "why"}),
        5 => json!({"version": "1.0"}), // a duplicate (or the first 1.0)
        6 => json!({"version": version, "status": "retired"}),
        _ => json!({"version": version}),
    }
}

/// An edge entry between the first `n` releases' versions (or unknown ones).
fn edge(from: usize, to: usize, kind: usize) -> Value {
    let v = |k: usize| format!("{}.0", k + 1);
    match kind {
        1 => json!({"from": v(from), "to": "99.0"}),
        2 => json!({"from_range": format!("<{}", v(to)), "to": v(to)}),
        3 => json!({"from_range": ">=1.0 <2.0", "to": v(to)}),
        4 => json!({"to": v(to)}),
        5 => json!({"from": v(from), "to": v(to), "models": ["a"]}),
        6 => json!({"from": v(from), "to": v(to), "blocked": "bricks"}),
        _ => json!({"from": v(from), "to": v(to)}),
    }
}

fn manifest() -> impl Strategy<Value = Value> {
    (2usize..12).prop_flat_map(|n| {
        (
            prop::collection::vec(prop_oneof![6 => Just(0usize), 1 => 1usize..7], n),
            prop::collection::vec((0..n, 0..n, prop_oneof![5 => Just(0usize), 1 => 1usize..7]), 0..2 * n),
            prop::collection::vec((0..n, 0..n), 0..3),
        )
            .prop_map(move |(flaws, edges, downgrades)| {
                let releases: Vec<Value> = flaws.iter().enumerate().map(|(i, &f)| release(i + 1, f)).collect();
                let edges: Vec<Value> = edges.iter().map(|&(a, b, kind)| edge(a, b, kind)).collect();
                let downgrades: Vec<Value> = downgrades
                    .iter()
                    .map(|&(a, b)| json!({"from": format!("{}.0", a + 1), "to": format!("{}.0", b + 1)}))
                    .collect();
                json!({"format_version": 1, "releases": releases, "edges": edges, "downgrades": downgrades})
            })
    })
}

/// Every problem the loader reports, as (code, message); empty when the manifest loads.
fn problems(document: &Value) -> Vec<(String, String)> {
    match UpgradeGraph::from_json(&document.to_string()) {
        Ok(_) => Vec::new(),
        Err(e) => e.errors().iter().map(|p| (p.code().to_owned(), p.to_string())).collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn adding_an_unrelated_valid_release_or_edge_hides_no_problem(document in manifest(), add_edge in any::<bool>()) {
        let before = problems(&document);
        let mut grown = document.clone();
        grown["releases"].as_array_mut().unwrap().extend([json!({"version": "1000.0"}), json!({"version": "1001.0"})]);
        if add_edge {
            grown["edges"].as_array_mut().unwrap().push(json!({"from": "1000.0", "to": "1001.0"}));
        }
        let after = problems(&grown);
        for problem in &before {
            prop_assert!(after.contains(problem), "{:?} hidden; after: {:?}\n{}", problem, after, document);
        }
        // Every broken release entry is reported, whatever else is broken (a loader that stops
        // at the first problem fails this).
        for (i, entry) in document["releases"].as_array().unwrap().iter().enumerate() {
            let broken = entry["version"].as_str().is_some_and(|v| v.contains('x'))
                || entry["models"] == json!([])
                || (entry["status"] == "blocked" && entry.get("reason").is_none())
                || (entry.get("status").is_none() && entry.get("reason").is_some());
            let here = format!("releases[{i}]");
            let named = before.iter().any(|(_, m)| m.contains(&format!("{here} ")) || m.contains(&format!("{here}.")));
            prop_assert!(!broken || named || before.len() == fleetpath::graph::MAX_ERRORS, "{} not reported: {:?}", here, before);
        }
        // The error is the first problem, and reads as it.
        if let Err(e) = UpgradeGraph::from_json(&document.to_string()) {
            prop_assert_eq!((e.code().to_owned(), e.to_string()), before[0].clone());
            prop_assert_eq!(e.first().code(), e.code());
            prop_assert!(before.len() <= fleetpath::graph::MAX_ERRORS);
        }
    }

    /// A lone problem is reported as itself, without a list.
    #[test]
    fn a_lone_problem_is_the_error_itself(document in manifest()) {
        let found = problems(&document);
        if found.len() == 1 {
            let e = UpgradeGraph::from_json(&document.to_string()).unwrap_err();
            prop_assert_eq!(e.errors().len(), 1);
            let several = matches!(e, fleetpath::GraphError::Several { .. });
            prop_assert!(!several);
            prop_assert!(fleetpath::Error::from(e).fields().get("errors").is_none());
        }
    }
}
