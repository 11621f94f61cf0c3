//! Runs the shared JSON vectors in `testdata/` (the same files every binding's tests read).

// `fleetpath::Error` carries structured fields by design (cold paths).
#![allow(clippy::result_large_err)]

use std::path::PathBuf;

use fleetpath::{Constraints, Fleet, Manifest, UpgradeGraph, Version, VersionRange};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(name: &str) -> Value {
    let path = root().join("testdata").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("missing string {key:?} in {v}"))
}

/// When a vector lists `fields`, each must equal the error's field of that name
/// ([`fleetpath::Error::fields`]); the fields not listed are not compared. A JSON error's
/// vector must list where it is: document, line, column and path.
fn check_fields(case: &Value, err: impl Into<fleetpath::Error>) {
    let err = err.into();
    let fields = err.fields();
    if err.code() == "invalid_json" {
        for key in ["document", "line", "column", "path"] {
            assert!(case["fields"].get(key).is_some(), "{err}: the vector must give fields.{key} ({fields:?})");
        }
    }
    if let Some(expected) = case.get("fields") {
        for (key, want) in expected.as_object().unwrap() {
            assert_eq!(fields.get(key), Some(want), "field {key:?} of {err} ({fields:?})");
        }
    }
}

/// The error's code, exact message and listed fields are the vector's (`expected`).
fn check_error(expected: &Value, err: impl Into<fleetpath::Error>, name: &str) {
    let err = err.into();
    assert_eq!(err.code(), str_of(expected, "code"), "{name}: {err}");
    assert_eq!(err.to_string(), str_of(expected, "message"), "{name}");
    check_fields(expected, err);
}

/// A graph named in a vector: a key of `graphs`, or a manifest path relative to the repo root.
fn graph(name: &str, graphs: &Value) -> UpgradeGraph {
    let manifest = match graphs.get(name) {
        Some(inline) => Manifest::from_value(inline.clone()).unwrap(),
        None => Manifest::from_json(&std::fs::read_to_string(root().join(name)).unwrap()).unwrap(),
    };
    UpgradeGraph::new(manifest).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn versions() {
    let data = load("versions.json");
    for case in data["valid"].as_array().unwrap() {
        let input = str_of(case, "input");
        let v = Version::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(v.to_string(), input);
        assert_eq!(v.normalized(), str_of(case, "normalized"), "{input}");
        let components: Vec<u64> = serde_json::from_value(case["components"].clone()).unwrap();
        assert_eq!(v.components(), components, "{input}");
        assert_eq!(v.is_prerelease(), case["prerelease"].as_bool().unwrap(), "{input}");
        match case["semver"].as_str() {
            Some(expected) => assert_eq!(v.to_semver().unwrap().to_string(), expected, "{input}"),
            None => assert_eq!(v.to_semver().unwrap_err().code(), "not_semver", "{input}"),
        }
        // Serde: a JSON string in, the same string out.
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(serde_json::from_str::<Version>(&json).unwrap().as_str(), input);
    }
    for case in data["invalid"].as_array().unwrap() {
        let input = str_of(case, "input");
        let err = Version::parse(input).expect_err(input);
        assert_eq!(err.code(), str_of(case, "code"), "{input}");
        assert_eq!(err.to_string(), str_of(case, "message"), "{input}");
        check_fields(case, err);
    }
    for case in data["ordering"].as_array().unwrap() {
        let (a, op, b) = (case[0].as_str().unwrap(), case[1].as_str().unwrap(), case[2].as_str().unwrap());
        let (va, vb) = (Version::parse(a).unwrap(), Version::parse(b).unwrap());
        match op {
            "==" => assert_eq!(va, vb, "{a} == {b}"),
            "<" => {
                assert!(va < vb, "{a} < {b}");
                assert!(vb > va, "{b} > {a}");
                assert_ne!(va, vb);
            }
            other => panic!("unknown operator {other}"),
        }
    }
    for case in data["not_semver"].as_array().unwrap() {
        let err = Version::parse(str_of(case, "input")).unwrap().to_semver().unwrap_err();
        assert_eq!(err.code(), str_of(case, "code"));
        assert_eq!(err.to_string(), str_of(case, "message"));
    }
}

#[test]
fn ranges() {
    let data = load("ranges.json");
    for case in data["matches"].as_array().unwrap() {
        let (range, version) = (str_of(case, "range"), str_of(case, "version"));
        let r = VersionRange::parse(range).unwrap_or_else(|e| panic!("{range}: {e}"));
        let expected = case["matches"].as_bool().unwrap();
        assert_eq!(r.matches(&Version::parse(version).unwrap()), expected, "{range:?} vs {version:?}");
        assert_eq!(r.to_string(), range);
    }
    for case in data["invalid"].as_array().unwrap() {
        let input = str_of(case, "input");
        let err = VersionRange::parse(input).expect_err(input);
        assert_eq!(err.code(), str_of(case, "code"), "{input:?}");
        assert_eq!(err.to_string(), str_of(case, "message"), "{input:?}");
    }
}

#[test]
fn manifest_errors() {
    for case in load("manifest_errors.json").as_array().unwrap() {
        let name = str_of(case, "name");
        let result = match case.get("json") {
            Some(text) => UpgradeGraph::from_json(text.as_str().unwrap()),
            None => {
                // Through text, so JSON-level errors carry positions as they would from a file.
                UpgradeGraph::from_json(&serde_json::to_string(&case["manifest"]).unwrap())
            }
        };
        let err = result.expect_err(name);
        assert_eq!(err.code(), str_of(case, "code"), "{name}: {err}");
        assert_eq!(err.to_string(), str_of(case, "message"), "{name}");
        let top: fleetpath::Error = err.clone().into();
        assert_eq!(top.code(), err.code());
        // The other ways in give the same error: the document with its keys in another order
        // (`from_json` resolves edges while it reads them only when the releases come first),
        // and an owned `Manifest` compiled by `new`. JSON positions move with the order.
        if let Some(document) = case.get("manifest") {
            for text in
                [keys_in_order(document, &["releases", "edges"]), keys_in_order(document, &["edges", "releases"])]
            {
                let other = UpgradeGraph::from_json(&text).expect_err(name);
                assert_eq!(other.code(), err.code(), "{name}: {other}");
                if err.code() != "invalid_json" {
                    assert_eq!(other, err, "{name}: {text}");
                }
            }
            agrees_with_value::<UpgradeGraph>(document, name, |g| g.to_manifest().to_json());
            if let Ok(manifest) = Manifest::from_value(document.clone()) {
                assert_eq!(UpgradeGraph::new(manifest).expect_err(name), err, "{name}");
            }
        }
        // Every problem found in one pass, in the loader's order (the first is the error's own).
        let errors: Vec<Value> =
            err.errors().iter().map(|e| serde_json::json!({"code": e.code(), "message": e.to_string()})).collect();
        match case.get("errors") {
            Some(expected) => assert_eq!(&Value::from(errors), expected, "{name}"),
            None => assert_eq!(errors.len(), 1, "{name}: a vector with several problems lists them ({errors:?})"),
        }
        let fields = fleetpath::Error::from(err.clone()).fields();
        assert_eq!(fields.get("errors").is_some(), err.errors().len() > 1, "{name}: fields.errors");
        check_fields(case, err);
    }
}

/// A JSON object as text with the keys `first` first (in that order), then the others.
fn keys_in_order(document: &Value, first: &[&str]) -> String {
    let Some(object) = document.as_object() else { return document.to_string() };
    let mut keys: Vec<&String> = object.keys().filter(|k| first.contains(&k.as_str())).collect();
    keys.sort_by_key(|k| first.iter().position(|f| f == k));
    keys.extend(object.keys().filter(|k| !first.contains(&k.as_str())));
    let fields: Vec<String> =
        keys.iter().map(|k| format!("{}: {}", Value::from(k.as_str()), object[k.as_str()])).collect();
    format!("{{{}}}", fields.join(", "))
}

fn constraints(case: &Value) -> Constraints {
    case.get("constraints").map(|c| serde_json::from_value(c.clone()).unwrap()).unwrap_or_default()
}

#[test]
fn resolve() {
    let data = load("resolve.json");
    for case in data["cases"].as_array().unwrap() {
        let name = str_of(case, "name");
        let graph = graph(str_of(case, "graph"), &data["graphs"]);
        let (from, to) = (Version::parse(str_of(case, "from")).unwrap(), Version::parse(str_of(case, "to")).unwrap());
        let c = constraints(case);
        let result = graph.resolve(&from, &to, &c);
        // A route table for the same target and constraints must agree (when it can be built).
        if let Ok(table) = graph.route_table(&to, &c) {
            assert_eq!(table.resolve(&from), result, "{name}: route table disagrees");
            let first = result.as_ref().map(|p| p.hops.first().cloned());
            assert_eq!(table.next_hop(&from), first.map_err(Clone::clone), "{name}: next_hop disagrees");
        }
        assert_eq!(graph.next_hop(&from, &to, &c), result.clone().map(|p| p.hops.into_iter().next()));
        match case.get("error") {
            None => {
                let path = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                let versions: Vec<String> = path.versions().iter().map(ToString::to_string).collect();
                let expected: Vec<String> = serde_json::from_value(case["path"].clone()).unwrap();
                assert_eq!(versions, expected, "{name}");
                let edges: Vec<usize> = path.hops.iter().map(|h| h.edge).collect();
                let expected: Vec<usize> = serde_json::from_value(case["edges"].clone()).unwrap();
                assert_eq!(edges, expected, "{name}");
                for hop in &path.hops {
                    assert_eq!(hop.artifact.as_ref(), graph.release(&hop.to).unwrap().artifact(), "{name}");
                }
                let json = serde_json::to_value(&path).unwrap();
                assert_eq!(serde_json::from_value::<fleetpath::Path>(json).unwrap(), path);
            }
            Some(expected) => check_error(expected, result.expect_err(name), name),
        }
    }
}

#[test]
fn latest_for() {
    let data = load("resolve.json");
    for case in data["latest"].as_array().unwrap() {
        let name = str_of(case, "name");
        let graph = graph(str_of(case, "graph"), &data["graphs"]);
        let result = graph.latest_for(str_of(case, "model"));
        match case.get("error") {
            None => assert_eq!(result.unwrap().version().to_string(), str_of(case, "version"), "{name}"),
            Some(expected) => check_error(expected, result.expect_err(name), name),
        }
    }
}

#[test]
fn edges() {
    let data = load("resolve.json");
    for case in data["edges"].as_array().unwrap() {
        let graph = graph(str_of(case, "graph"), &data["graphs"]);
        let edges = serde_json::to_value(graph.edges().collect::<Vec<_>>()).unwrap();
        assert_eq!(edges, case["edges"], "{}", str_of(case, "graph"));
        // Every listed hop is one `resolve` may take: the path between its ends is that hop
        // or a path of no more hops.
        for e in graph.edges() {
            let path = graph.resolve(e.from.version(), e.to.version(), &Constraints::default());
            assert!(
                path.is_ok_and(|p| p.hops.len() == 1),
                "{}: {} -> {}",
                str_of(case, "graph"),
                e.from.version(),
                e.to.version()
            );
        }
    }
}

#[test]
fn route_tables() {
    for case in load("route_tables.json").as_array().unwrap() {
        let graph = graph(str_of(case, "graph"), &Value::Null);
        let table = graph.route_table(&Version::parse(str_of(case, "to")).unwrap(), &constraints(case)).unwrap();
        let entries = serde_json::to_value(table.entries()).unwrap();
        assert_eq!(entries, case["entries"], "{}", str_of(case, "graph"));
    }
}

#[test]
fn lint() {
    for case in load("lint.json").as_array().unwrap() {
        let name = str_of(case, "name");
        let graph = match &case["graph"] {
            Value::String(path) => graph(path, &Value::Null),
            inline => UpgradeGraph::new(Manifest::from_value(inline.clone()).unwrap()).unwrap(),
        };
        // With `fleet_devices`, linted against that fleet.
        let findings = match case.get("fleet_devices") {
            Some(devices) => graph.lint_fleet(&Fleet::from_value(devices.clone()).unwrap()),
            None => graph.lint(),
        };
        assert_eq!(serde_json::to_value(findings).unwrap(), case["findings"], "{name}");
    }
}

#[test]
fn rollbacks() {
    let cases = load("decisions.json");
    for case in cases["rollbacks"].as_array().unwrap() {
        let name = str_of(case, "name");
        let graph = match &case["graph"] {
            Value::String(path) => graph(path, &Value::Null),
            inline => UpgradeGraph::new(Manifest::from_value(inline.clone()).unwrap()).unwrap(),
        };
        let (from, to): (Version, Version) =
            (str_of(case, "from").parse().unwrap(), str_of(case, "to").parse().unwrap());
        let got = fleetpath::rollback::rollback_route(&graph, &from, &to, case["model"].as_str());
        match (&case["hops"], got) {
            (Value::Array(hops), Ok(route)) => {
                let got: Vec<Value> =
                    route.hops.iter().map(|h| serde_json::json!([h.from.to_string(), h.to.to_string()])).collect();
                assert_eq!(&got, hops, "{name}");
            }
            (Value::Null, Err(e)) => {
                assert_eq!(
                    (e.code(), e.to_string().as_str()),
                    (str_of(case, "code"), str_of(case, "message")),
                    "{name}"
                );
            }
            (_, got) => panic!("{name}: {got:?}"),
        }
    }
}

#[test]
fn decisions() {
    use fleetpath::decision::{Decider, Decision, DecisionPolicy, DeviceRequest};
    let cases = load("decisions.json");
    let decider_for = |case: &Value, graph: &'_ UpgradeGraph| -> Result<(), fleetpath::decision::DecisionError> {
        let policy: DecisionPolicy =
            serde_json::from_value(case.get("policy").cloned().unwrap_or_else(|| serde_json::json!({}))).unwrap();
        let decider = Decider::new(graph, policy)?;
        if let Some(target) = case["target"].as_str() {
            decider.with_target(&target.parse().unwrap())?;
        }
        Ok(())
    };
    for case in cases["decider_errors"].as_array().unwrap() {
        let name = str_of(case, "name");
        let graph = graph(str_of(case, "graph"), &Value::Null);
        let e = decider_for(case, &graph).unwrap_err();
        assert_eq!((e.code(), e.to_string().as_str()), (str_of(case, "code"), str_of(case, "message")), "{name}");
    }
    for case in cases["decisions"].as_array().unwrap() {
        let name = str_of(case, "name");
        // A bundled file, or the manifest itself.
        let graph = match &case["graph"] {
            inline @ Value::Object(_) => UpgradeGraph::new(Manifest::from_value(inline.clone()).unwrap()).unwrap(),
            _ => graph(str_of(case, "graph"), &Value::Null),
        };
        decider_for(case, &graph).unwrap();
        let policy: DecisionPolicy =
            serde_json::from_value(case.get("policy").cloned().unwrap_or_else(|| serde_json::json!({}))).unwrap();
        let observed: Option<std::collections::BTreeMap<String, fleetpath::Availability>> =
            case.get("availability").map(|a| serde_json::from_value(a.clone()).unwrap());
        let mut decider = Decider::new(&graph, policy).unwrap();
        if let Some(target) = case["target"].as_str() {
            decider = decider.with_target(&target.parse().unwrap()).unwrap();
        }
        if let Some(observed) = &observed {
            decider = decider.with_availability(observed.clone());
        }
        for expect in case["requests"].as_array().unwrap() {
            let request: DeviceRequest = serde_json::from_value(expect["request"].clone()).unwrap();
            let here = format!("{name} / {}", request.device);
            let d = decider.decide(&request);
            assert_eq!((d.kind(), d.reason()), (str_of(expect, "kind"), str_of(expect, "reason")), "{here}: {d:?}");
            match &d {
                Decision::Download { step, url_lifetime_seconds } => {
                    assert_eq!(step.to.to_string(), str_of(expect, "to"), "{here}");
                    assert_eq!(u64::from(step.hops_left), expect["hops_left"].as_u64().unwrap(), "{here}");
                    if let Some(l) = expect["url_lifetime_seconds"].as_u64() {
                        assert_eq!(u64::from(*url_lifetime_seconds), l, "{here}");
                    }
                }
                Decision::RetryAfter { at, host_action, .. } => {
                    assert_eq!(
                        host_action.as_ref().map(|action| action.code()),
                        expect["host_action"].as_str(),
                        "{here}"
                    );
                    if let Some(not_before) = expect["not_before"].as_str() {
                        let not_before: jiff::Timestamp = not_before.parse().unwrap();
                        assert!(
                            *at >= not_before && *at <= not_before + jiff::SignedDuration::from_secs(30),
                            "{here}: {at}"
                        );
                    }
                }
                _ => {}
            }
        }
    }
}

#[test]
fn every_code_has_a_vector() {
    // Every error code in the one list must be exercised by a vector.
    let mut seen = std::collections::BTreeSet::new();
    for file in [
        "versions.json",
        "ranges.json",
        "manifest_errors.json",
        "resolve.json",
        "fleets.json",
        "rollouts.json",
        "schedules.json",
        "rollout_events.json",
        "health.json",
        "decisions.json",
        "documents.json",
        "trust.json",
        "cincinnati.json",
    ] {
        collect_codes(&load(file), &mut seen);
    }
    // `revision_exhausted` needs a state at revision u64::MAX, which no JavaScript number holds
    // exactly: tested in crates/core/tests/rollout_machine.rs.
    seen.insert("revision_exhausted".to_owned());
    // `fleet_too_large` needs 2^32 - 1 devices: tested with a lowered limit in fleet.rs.
    seen.insert("fleet_too_large".to_owned());
    // `invalid_table` is a table's shape (columns of different lengths, given in code) or
    // columns of values that are not text (Arrow's types, in a binding): tested in
    // crates/core/tests/fleet_props.rs and bindings/python/tests/test_fleet_tables.py.
    seen.insert("invalid_table".to_owned());
    // `internal` is a panic caught at a binding's boundary: each binding tests it with a
    // deliberate panic, and no input may ever produce it.
    seen.insert("internal".to_owned());
    let all: std::collections::BTreeSet<String> =
        fleetpath::ERROR_CODES.iter().flat_map(|(_, codes)| codes.iter().map(|c| (*c).to_owned())).collect();
    let missing: Vec<_> = all.difference(&seen).collect();
    assert!(missing.is_empty(), "codes without a vector: {missing:?}");
    let unknown: Vec<_> = seen.difference(&all).collect();
    assert!(unknown.is_empty(), "vectors with codes not in ERROR_CODES: {unknown:?}");

    let mut lint_seen = std::collections::BTreeSet::new();
    collect_codes(&load("lint.json"), &mut lint_seen);
    for code in fleetpath::graph::LintCode::ALL {
        assert!(lint_seen.contains(code.as_str()), "lint code {code} has no vector");
    }
}

fn collect_codes(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "code"
                    && let Some(code) = v.as_str()
                {
                    out.insert(code.to_owned());
                }
                collect_codes(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_codes(i, out)),
        _ => {}
    }
}

#[test]
fn manifests_round_trip() {
    for name in ["examples/data/seed-ip-module.json", "examples/data/line-controller.json"] {
        let text = std::fs::read_to_string(root().join(name)).unwrap();
        let manifest = Manifest::from_json(&text).unwrap();
        let graph = UpgradeGraph::new(manifest.clone()).unwrap();
        assert_eq!(graph.to_manifest(), manifest, "{name}");
        // Writing and reading back gives the same document.
        assert_eq!(Manifest::from_json(&manifest.to_json()).unwrap(), manifest, "{name}");
        assert_eq!(graph.edge_specs(), manifest.edges.as_slice());
        // Read from text, a graph keeps plain entries as two releases: written back the same.
        let read = UpgradeGraph::from_json(&text).unwrap();
        assert_eq!((read.to_manifest(), read.edge_specs()), (manifest.clone(), manifest.edges.as_slice()), "{name}");
        assert_eq!(graph.downgrade_specs(), manifest.downgrades.as_slice());
        assert_eq!(graph.name(), manifest.name.as_deref());
    }
}

#[test]
fn blocked_hops_and_downgrades_of_the_bundled_manifests() {
    let graph = graph("examples/data/line-controller.json", &Value::Null);
    let blocked: Vec<(String, String, usize)> = graph
        .blocked_hops()
        .map(|(hop, _)| (hop.from.version().to_string(), hop.to.version().to_string(), hop.spec))
        .collect();
    assert_eq!(blocked, [("4.1.2.4".to_owned(), "4.3.0.2".to_owned(), 7)]);
    let v = |s: &str| Version::parse(s).unwrap();
    let targets = |from: &str, model: Option<&str>| -> Vec<String> {
        graph.downgrades_from(&v(from), model).iter().map(|(r, _)| r.version().to_string()).collect()
    };
    assert_eq!(targets("4.2.0.17", None), ["4.1.2.4", "4.1.0.8"]);
    assert_eq!(targets("4.2.0.17", Some("EC-200")), ["4.1.0.8"]);
    assert_eq!(targets("4.2.0.17", Some("EC-310")), ["4.1.2.4"]);
    assert!(targets("4.1.0.8", None).is_empty());
    assert_eq!(graph.models(), ["EC-200", "EC-300", "EC-310"]);
    assert_eq!(graph.latest_for("EC-200").unwrap().version().to_string(), "4.2.0.17");
    assert_eq!(graph.latest_for("EC-310").unwrap().version().to_string(), "4.3.0.2");
    assert_eq!(graph.latest_for("EC-999").unwrap_err().code(), "no_release_for_model");
}

#[test]
fn exports_draw_every_element() {
    let graph = graph("examples/data/seed-ip-module.json", &Value::Null);
    let path =
        graph.resolve(&"5.6.14".parse().unwrap(), &"6.15.008".parse().unwrap(), &Constraints::default()).unwrap();
    let dot = graph.to_dot(Some(&path));
    assert!(dot.starts_with("digraph \"ip-alarm-module\" {"));
    assert!(dot.contains("r0 -> r1 [style=dashed, color=\"#1e8449\", penwidth=3];"), "{dot}");
    assert!(dot.contains("r1 -> r2 [color=\"#1e8449\", penwidth=3];"), "{dot}");
    assert!(dot.contains("r0 -> r2 [color=\"#c0392b\""), "blocked hop drawn: {dot}");
    assert!(dot.contains("label=\"blocked: direct jump from TURN firmware"), "{dot}");
    assert!(dot.contains("r2 -> r1 [color=\"#2e86c1\""), "downgrade drawn: {dot}");
    assert!(dot.contains("peripheries=2"), "barrier drawn: {dot}");
    let mermaid = graph.to_mermaid(Some(&path));
    assert!(mermaid.starts_with("flowchart LR\n"));
    assert!(mermaid.contains("r1[[\"5.6.30<br/>protocol: turn+mqtt<br/>barrier\"]]"), "{mermaid}");
    assert!(mermaid.contains("r0 --x|\"blocked: direct jump"), "{mermaid}");
    assert!(mermaid.contains("linkStyle 0,1 stroke:#1e8449,stroke-width:3px"), "{mermaid}");
    assert!(mermaid.contains("class r0,r1,r2 onpath"), "{mermaid}");
    assert_ne!(graph.to_dot(None), dot, "the highlight changes the drawing");
}

fn fleet_of(case: &Value) -> Result<Fleet, fleetpath::FleetError> {
    if let Some(csv) = case.get("csv") {
        Fleet::from_csv(csv.as_str().unwrap())
    } else if let Some(json) = case.get("json") {
        Fleet::from_json(&serde_json::to_string(json).unwrap())
    } else if let Some(text) = case.get("json_text") {
        Fleet::from_json(text.as_str().unwrap())
    } else {
        Fleet::from_csv(&std::fs::read_to_string(root().join(str_of(case, "fleet"))).unwrap())
    }
}

/// A fleet vector's table (`columns`: `[name, cells]` pairs, a cell text or null), read in
/// batches cut at the rows `batches` lists.
fn table_of(case: &Value) -> Result<Fleet, fleetpath::FleetError> {
    use fleetpath::fleet::{FleetTable, TextColumn};
    let columns = case["columns"].as_array().unwrap();
    let names: Vec<&str> = columns.iter().map(|c| c[0].as_str().unwrap()).collect();
    let cells: Vec<Vec<Option<&str>>> =
        columns.iter().map(|c| c[1].as_array().unwrap().iter().map(Value::as_str).collect()).collect();
    let rows = cells[0].len();
    let cuts = case.get("batches").map_or(Vec::new(), |b| {
        b.as_array().unwrap().iter().map(|c| usize::try_from(c.as_u64().unwrap()).unwrap()).collect()
    });
    let mut table = FleetTable::new(&names, rows)?;
    let mut start = 0;
    for end in cuts.into_iter().chain([rows]) {
        let slices: Vec<&[Option<&str>]> = cells.iter().map(|c| &c[start..end]).collect();
        table = table.read(&slices.iter().map(|c| c as &dyn TextColumn).collect::<Vec<_>>())?;
        start = end;
    }
    table.finish()
}

#[test]
fn fleets() {
    let data = load("fleets.json");
    for case in data["valid"].as_array().unwrap() {
        let name = str_of(case, "name");
        let fleet = fleet_of(case).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(serde_json::to_value(fleet.devices()).unwrap(), case["devices"], "{name}");
        let origins: Vec<String> = fleet.ids().map(|id| fleet.origin(id).unwrap()).collect();
        assert_eq!(serde_json::to_value(origins).unwrap(), case["origins"], "{name}");
        // JSON and CSV round trips keep every device.
        assert_eq!(Fleet::from_json(&fleet.to_json()).unwrap().devices(), fleet.devices(), "{name}");
        // As a value, whole or its list of devices alone, from its JSON as from the value.
        let value: Value = serde_json::from_str(&fleet.to_json()).unwrap();
        let view = |f: &Fleet| f.to_json();
        agrees_with_value::<Fleet>(&value, name, view);
        agrees_with_value::<Fleet>(&value["devices"], name, view);
        let devices = <Fleet as fleetpath::Document>::from_value_text(&value["devices"].to_string()).unwrap();
        assert_eq!(devices.devices(), fleet.devices(), "{name}");
        assert_eq!(Fleet::from_csv(&fleet.to_csv()).unwrap().devices(), fleet.devices(), "{name}");
    }
    for case in data["invalid"].as_array().unwrap() {
        let name = str_of(case, "name");
        if let Some(value) = case.get("json") {
            agrees_with_value::<Fleet>(value, name, Fleet::to_json);
        }
        let err = fleet_of(case).expect_err(name);
        assert_eq!(err.code(), str_of(case, "code"), "{name}: {err}");
        assert_eq!(err.to_string(), str_of(case, "message"), "{name}");
        check_fields(case, err);
    }
    for case in data["tables"].as_array().unwrap() {
        let name = str_of(case, "name");
        match (table_of(case), case.get("code")) {
            (Ok(fleet), None) => {
                assert_eq!(serde_json::to_value(fleet.devices()).unwrap(), case["devices"], "{name}");
                let origins: Vec<String> = fleet.ids().map(|id| fleet.origin(id).unwrap()).collect();
                assert_eq!(serde_json::to_value(origins).unwrap(), case["origins"], "{name}");
            }
            (Err(err), Some(code)) => {
                assert_eq!(err.code(), code, "{name}: {err}");
                assert_eq!(err.to_string(), str_of(case, "message"), "{name}");
                check_fields(case, err);
            }
            (outcome, _) => panic!("{name}: {:?}", outcome.map(|f| f.len())),
        }
    }
    for case in data["check_against"].as_array().unwrap() {
        let name = str_of(case, "name");
        let fleet = fleet_of(case).unwrap();
        let result = fleet.check_against(&graph(str_of(case, "graph"), &Value::Null));
        match case.get("error") {
            None => assert_eq!(result, Ok(()), "{name}"),
            Some(expected) => {
                let err = result.expect_err(name);
                assert_eq!(err.code(), str_of(expected, "code"), "{name}");
                assert_eq!(err.to_string(), str_of(expected, "message"), "{name}");
            }
        }
    }
}

#[test]
fn the_seed_plant() {
    let fleet = Fleet::from_csv(&std::fs::read_to_string(root().join("examples/data/plant-340.csv")).unwrap()).unwrap();
    assert_eq!(fleet.len(), 340);
    let lines = fleet.lines();
    assert_eq!(lines.len(), 17);
    assert!(lines.iter().all(|&(_, n)| (12..=28).contains(&n)), "{lines:?}");
    assert_eq!(fleet.origin("press-1-01").as_deref(), Some("row 2"));
    let on = |v: &str| fleet.devices().filter(|d| *d.version == Version::parse(v).unwrap()).count();
    assert_eq!((on("5.6.14"), on("5.6.30"), on("6.15.008")), (269, 71, 0));
}

#[test]
fn rollouts() {
    let data = load("rollouts.json");
    for case in data["policy_errors"].as_array().unwrap() {
        let name = str_of(case, "name");
        let policy: fleetpath::RolloutPolicy = serde_json::from_value(case["policy"].clone()).unwrap();
        let err = policy.validate().expect_err(name);
        assert_eq!(err.code(), str_of(case, "code"), "{name}");
        assert_eq!(err.to_string(), str_of(case, "message"), "{name}");
    }
    for case in data["plans"].as_array().unwrap() {
        let name = str_of(case, "name");
        let graph = graph(str_of(case, "graph"), &Value::Null);
        let fleet = fleet_of(case).unwrap();
        let policy = case
            .get("policy")
            .map_or_else(fleetpath::RolloutPolicy::default, |p| serde_json::from_value(p.clone()).unwrap());
        let target = Version::parse(str_of(case, "target")).unwrap();
        let result = fleetpath::plan_rollout(&graph, &fleet, &target, &policy, str_of(case, "rollout_id"));
        if let Some(expected) = case.get("error") {
            let err = result.expect_err(name);
            assert_eq!(err.code(), str_of(expected, "code"), "{name}");
            assert_eq!(err.to_string(), str_of(expected, "message"), "{name}");
            continue;
        }
        let plan = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        for (stage, expected) in plan.stages.iter().zip(case["stages"].as_array().unwrap()) {
            assert_eq!(stage.name, str_of(expected, "name"), "{name}");
            assert_eq!(stage.devices.len() as u64, expected["size"].as_u64().unwrap(), "{name}: {}", stage.name);
            assert_eq!(serde_json::to_value(&stage.lines).unwrap(), expected["lines"], "{name}: {}", stage.name);
        }
        assert_eq!(plan.stages.len(), case["stages"].as_array().unwrap().len());
        assert_eq!(serde_json::to_value(&plan.up_to_date).unwrap(), case["up_to_date"], "{name}");
        let excluded: Vec<Value> =
            plan.excluded.iter().map(|e| serde_json::json!({"id": e.id, "code": e.code})).collect();
        assert_eq!(Value::Array(excluded), case["excluded"], "{name}");
        // Every device is in exactly one place.
        let mut placed: Vec<&str> = plan.stages.iter().flat_map(|s| s.devices.iter().map(|d| d.id)).collect();
        placed.extend(plan.up_to_date.iter().map(String::as_str));
        placed.extend(plan.excluded.iter().map(|e| e.id.as_str()));
        placed.sort_unstable();
        let mut all: Vec<&str> = fleet.ids().collect();
        all.sort_unstable();
        assert_eq!(placed, all, "{name}");
        // The plan survives a JSON round trip.
        let json = serde_json::to_string(&plan).unwrap();
        assert_eq!(serde_json::from_str::<fleetpath::RolloutPlan>(&json).unwrap(), plan);
    }
}

#[test]
fn the_seed_plant_rollout() {
    let graph = graph("examples/data/seed-ip-module.json", &Value::Null);
    let fleet = Fleet::from_csv(&std::fs::read_to_string(root().join("examples/data/plant-340.csv")).unwrap()).unwrap();
    let policy = fleetpath::RolloutPolicy::default();
    let target = Version::parse("6.15.008").unwrap();
    let plan = fleetpath::plan_rollout(&graph, &fleet, &target, &policy, "seed-2026-11").unwrap();
    let sizes: Vec<usize> = plan.stages.iter().map(|s| s.devices.len()).collect();
    assert_eq!(sizes, [17, 68, 255]);
    let lines = fleet.lines();
    for &(line, n) in &lines {
        assert_eq!(plan.stages[0].lines[line], 1, "one canary on {line}");
        let early = f64::from(plan.stages[1].lines[line]);
        #[allow(clippy::cast_precision_loss)]
        let quota = n as f64 * 0.2;
        assert!((early - quota).abs() < 1.0, "{line}: {early} early of {n}");
    }
    // Multi-hop devices are planned with their hop count: 5.6.14 takes the bridge first.
    for device in plan.stages.iter().flat_map(|s| &s.devices) {
        let from = &fleet.get(device.id).unwrap().version;
        let expected = if from.to_string() == "5.6.14" { 2 } else { 1 };
        assert_eq!(device.hops, expected, "{}", device.id);
    }
    // Same inputs, same plan; a different rollout id, a different choice of the same sizes.
    assert_eq!(fleetpath::plan_rollout(&graph, &fleet, &target, &policy, "seed-2026-11").unwrap(), plan);
    let other = fleetpath::plan_rollout(&graph, &fleet, &target, &policy, "seed-2026-12").unwrap();
    assert_eq!(other.stages.iter().map(|s| s.devices.len()).collect::<Vec<_>>(), sizes);
    assert_ne!(other.stages[0].devices, plan.stages[0].devices);
}

#[test]
fn selection_keys_are_xxh3_and_pinned() {
    use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};
    // The XXH3 specification's reference value for the empty input: the crate is real XXH3.
    assert_eq!(xxh3_64(b""), 0x2D06_8005_38D3_94C2);
    for case in load("rollouts.json")["selection_keys"].as_array().unwrap() {
        let (rollout, device) = (str_of(case, "rollout_id"), str_of(case, "device_id"));
        let key = fleetpath::rollout::selection_key(rollout, device);
        assert_eq!(key, xxh3_64_with_seed(device.as_bytes(), xxh3_64(rollout.as_bytes())));
        assert_eq!(format!("{key:016x}"), str_of(case, "key"), "{rollout} / {device}");
    }
}

#[test]
fn schedules() {
    let data = load("schedules.json");
    let calendar = fleetpath::Calendar::new(serde_json::from_value(data["calendar"].clone()).unwrap()).unwrap();
    for q in data["queries"].as_array().unwrap() {
        let name = str_of(q, "name");
        let at: jiff::Timestamp = str_of(q, "at").parse().unwrap();
        let (site, line, stage) = (str_of(q, "site"), str_of(q, "line"), str_of(q, "stage"));
        assert_eq!(calendar.is_open(site, line, stage, at).unwrap(), q["open"].as_bool().unwrap(), "{name}");
        let next = calendar.next_window(site, line, stage, at).unwrap();
        assert_eq!(serde_json::to_value(next).unwrap(), q["next"], "{name}");
    }
    for case in data["errors"].as_array().unwrap() {
        let name = str_of(case, "name");
        let err = match case.get("json") {
            Some(text) => fleetpath::Calendar::from_json(text.as_str().unwrap()).unwrap_err(),
            None => fleetpath::Calendar::from_json(&serde_json::to_string(&case["calendar"]).unwrap()).unwrap_err(),
        };
        assert_eq!(err.code(), str_of(case, "code"), "{name}: {err}");
        assert_eq!(err.to_string(), str_of(case, "message"), "{name}");
        check_fields(case, err);
    }
    let at: jiff::Timestamp = "2026-11-23T11:00:00Z".parse().unwrap();
    for case in data["query_errors"].as_array().unwrap() {
        let err = calendar.next_window(str_of(case, "site"), "l", str_of(case, "stage"), at).unwrap_err();
        assert_eq!(err.code(), str_of(case, "code"));
        assert_eq!(err.to_string(), str_of(case, "message"));
    }
}

#[test]
fn rollout_events() {
    for scenario in load("rollout_events.json")["scenarios"].as_array().unwrap() {
        let name = str_of(scenario, "name");
        let graph = graph(str_of(scenario, "graph"), &Value::Null);
        let fleet = Fleet::from_csv(str_of(scenario, "csv")).unwrap();
        let plan_fleet =
            scenario.get("plan_csv").map_or_else(|| fleet.clone(), |c| Fleet::from_csv(c.as_str().unwrap()).unwrap());
        let policy = fleetpath::RolloutPolicy::default();
        let target = Version::parse(str_of(scenario, "target")).unwrap();
        let plan =
            fleetpath::plan_rollout(&graph, &plan_fleet, &target, &policy, str_of(scenario, "rollout_id")).unwrap();
        let created = fleetpath::Rollout::new(&plan, &fleet, &graph, &policy);
        if let Some(expected) = scenario.get("new_error") {
            let err = created.expect_err(name);
            assert_eq!(err.code(), str_of(expected, "code"), "{name}");
            assert_eq!(err.to_string(), str_of(expected, "message"), "{name}");
            continue;
        }
        let mut state = created.unwrap();
        if let Some(tamper) = scenario.get("tamper") {
            // A state as a host might read it back from storage, edited.
            let mut json = serde_json::to_value(&state).unwrap();
            for (key, value) in tamper.as_object().unwrap() {
                json[key] = value.clone();
            }
            // Read as hosts read a stored state (its document entry point), it is refused at
            // once; read with serde alone, the machine still refuses every event.
            let loaded = <fleetpath::Rollout as fleetpath::Document>::from_value(json.clone());
            match scenario.get("load_error") {
                Some(expected) => {
                    let err = loaded.expect_err(name);
                    assert_eq!(
                        (err.code(), err.to_string().as_str()),
                        (str_of(expected, "code"), str_of(expected, "message"))
                    );
                }
                None => drop(loaded.unwrap()),
            }
            state = serde_json::from_value(json).unwrap();
        }
        // Placeholders for planned devices: `{canary.0}`, `{early.0}`…
        let fill = |s: &str| {
            let mut s = s.to_owned();
            for stage in &plan.stages {
                for (i, d) in stage.devices.iter().enumerate() {
                    s = s.replace(&format!("{{{}.{i}}}", stage.name), d.id);
                }
            }
            s
        };
        for (k, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
            let event: fleetpath::Event = serde_json::from_str(&fill(&step["event"].to_string())).unwrap();
            let result = state.apply(&event, None);
            if let Some(expected) = step.get("error") {
                let err = result.expect_err(&format!("{name}: step {k}"));
                assert_eq!(err.code(), str_of(expected, "code"), "{name}: step {k}");
                assert_eq!(err.to_string(), fill(str_of(expected, "message")), "{name}: step {k}");
                continue;
            }
            let (next, actions) = result.unwrap_or_else(|e| panic!("{name}: step {k}: {e}"));
            let types: Vec<String> =
                actions.iter().map(|a| serde_json::to_value(a).unwrap()["type"].as_str().unwrap().to_owned()).collect();
            assert_eq!(serde_json::to_value(&types).unwrap(), step["actions"], "{name}: step {k}");
            let status = serde_json::to_value(&next.status).unwrap();
            assert_eq!(status["state"], step["status"], "{name}: step {k}");
            if let Some(phases) = step.get("phases") {
                let got: Vec<_> = next.stages.iter().map(|s| serde_json::to_value(s.phase).unwrap()).collect();
                assert_eq!(&Value::Array(got), phases, "{name}: step {k}");
            }
            state = next;
        }
    }
}

#[test]
fn the_host_guide_examples_are_valid() {
    let doc = std::fs::read_to_string(root().join("docs/rollouts.md")).unwrap();
    let blocks: Vec<&str> = doc.split("```json\n").skip(1).map(|b| b.split("```").next().unwrap()).collect();
    let policy: fleetpath::RolloutPolicy = serde_json::from_str(blocks[0]).unwrap();
    assert_eq!(policy.validate().unwrap(), [Some(50_000), Some(200_000), None]);
    assert!(policy.stages[1].approval);
    assert_eq!(policy.stages[2].monitoring_hours, 48);
    let calendar = fleetpath::Calendar::from_json(blocks[1]).unwrap();
    let thursday_night: jiff::Timestamp = "2026-11-26T22:30:00Z".parse().unwrap();
    assert!(calendar.is_open("plant-a", "press-2", "production", thursday_night).unwrap());
    // Every event line parses as an event.
    assert_eq!(blocks[2].lines().count(), 14);
    for line in blocks[2].lines() {
        let _: fleetpath::Event = serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    }
}

#[test]
fn retries() {
    let data = load("retries.json");
    for case in data["delays"].as_array().unwrap() {
        let policy: fleetpath::RetryPolicy = serde_json::from_value(case["policy"].clone()).unwrap();
        let mut previous = 0;
        let mut delays = Vec::new();
        for attempt in 1..=8 {
            previous = policy.delay_ms(str_of(case, "device"), attempt, previous);
            delays.push(previous);
        }
        assert_eq!(serde_json::to_value(delays).unwrap(), case["delays_ms"], "{}", case["policy"]);
    }
    for case in data["sequences"].as_array().unwrap() {
        let name = str_of(case, "name");
        let policy: fleetpath::RetryPolicy = serde_json::from_value(case["policy"].clone()).unwrap();
        let mut state = fleetpath::RetryState::default();
        let mut decisions = Vec::new();
        for failure in case["failures"].as_array().unwrap() {
            let at: jiff::Timestamp = failure.as_str().unwrap().parse().unwrap();
            let (next, decision) = policy.after_failure(state, str_of(case, "device"), at);
            state = next;
            decisions.push(serde_json::to_value(decision).unwrap());
        }
        assert_eq!(Value::Array(decisions), case["decisions"], "{name}");
    }
}

/// A JSON value as the text a host would pass (a string vector is already text).
fn text_of(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

fn health_state(
    case: &Value,
    policy: &fleetpath::health::HealthPolicy,
) -> Result<fleetpath::health::HealthState, fleetpath::health::HealthError> {
    let mut state = fleetpath::health::HealthState::new(policy)?;
    for d in case["devices"].as_array().into_iter().flatten() {
        state.add_device(serde_json::from_value(d.clone()).unwrap())?;
    }
    Ok(state)
}

#[test]
fn health() {
    use fleetpath::health::{HealthPolicy, HealthState, SampleBatch};
    let data = load("health.json");
    for case in data["cases"].as_array().unwrap() {
        let name = str_of(case, "name");
        let policy = HealthPolicy::from_json(&text_of(&case["policy"])).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut state = health_state(case, &policy).unwrap();
        let batch = SampleBatch::from_json(&text_of(&case["batch"])).unwrap();
        let ingest = state.ingest(&batch).unwrap();
        let now: jiff::Timestamp = str_of(case, "now").parse().unwrap();
        let report = state.evaluate(&policy, now).unwrap();
        let got = serde_json::to_value(&report).unwrap();
        let expect = &case["expect"];
        assert_eq!(got["status"], expect["status"], "{name}: {report}");
        if let Some(summary) = expect.get("summary") {
            assert_eq!(&got["summary"], summary, "{name}");
        }
        if let Some(counts) = expect.get("ingest") {
            assert_eq!(&serde_json::to_value(&ingest).unwrap(), counts, "{name}");
        }
        for want in expect["findings"].as_array().into_iter().flatten() {
            let found = got["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["rule"] == want["rule"] && f["scope"] == want["scope"])
                .unwrap_or_else(|| panic!("{name}: no finding {want}\n{report}"));
            for (key, value) in want.as_object().unwrap() {
                match (value.as_f64(), found.get(key).and_then(Value::as_f64)) {
                    (Some(w), Some(f)) if value.is_number() => {
                        assert!((w - f).abs() <= 1e-9, "{name}: {key} = {f}, expected {w}");
                    }
                    _ => assert_eq!(found.get(key), Some(value), "{name}: {key} in {found}"),
                }
            }
        }
        // The report survives JSON (a binding hands it back to build the rollout event).
        let text = serde_json::to_string(&report).unwrap();
        assert_eq!(serde_json::from_str::<fleetpath::health::HealthReport>(&text).unwrap(), report, "{name}");
        // The state survives JSON exactly, and the report is the same from the copy.
        let back = HealthState::from_json(&serde_json::to_string(&state).unwrap()).unwrap();
        assert_eq!(back.evaluate(&policy, now).unwrap(), report, "{name}");
    }
    for case in data["errors"].as_array().unwrap() {
        let op = str_of(case, "op");
        let policy = || HealthPolicy::from_json(&text_of(&case["policy"])).unwrap();
        let err = match op {
            "policy" => HealthPolicy::from_json(&text_of(&case["policy"])).unwrap_err(),
            "batch" => SampleBatch::from_json(&text_of(&case["batch"])).unwrap_err(),
            "add_devices" => health_state(case, &policy()).unwrap_err(),
            "ingest" => {
                let mut state = health_state(case, &policy()).unwrap();
                let before = state.clone();
                let err = state.ingest(&SampleBatch::from_json(&text_of(&case["batch"])).unwrap()).unwrap_err();
                assert_eq!(state, before, "a refused batch leaves the state unchanged");
                err
            }
            "merge" => {
                let mut states = case["batches"].as_array().unwrap().iter().map(|b| {
                    let mut s = health_state(case, &policy()).unwrap();
                    s.ingest(&SampleBatch::from_json(&text_of(b)).unwrap()).unwrap();
                    s
                });
                let (mut a, b) = (states.next().unwrap(), states.next().unwrap());
                a.merge(&b).unwrap_err()
            }
            "evaluate" => {
                let state = health_state(case, &policy()).unwrap();
                let other = HealthPolicy::from_json(&text_of(&case["evaluate_policy"])).unwrap();
                state.evaluate(&other, jiff::Timestamp::UNIX_EPOCH).unwrap_err()
            }
            other => panic!("unknown op {other}"),
        };
        assert_eq!(err.code(), str_of(case, "code"), "{case}");
        assert_eq!(err.to_string(), str_of(case, "message"), "{case}");
        check_fields(case, err.clone());
        assert_eq!(fleetpath::Error::from(err).code(), str_of(case, "code"));
    }
}

/// `UpgradeGraph::from_json` reads the document and its edge entries with its own visitors (borrowing
/// the versions): its shape errors must be serde's own, at the same line and column, as
/// `Manifest::from_json` (serde's derive) reports them.
#[test]
fn shape_errors_are_serdes() {
    let edges = [
        r#"[{"from": "1", "to": "2", "from": "1"}]"#,
        r#"[{"from": "1", "to": "2", "to": "2"}]"#,
        r#"[{"from": "1", "to": "2", "notes": "a", "notes": "b"}]"#,
        r#"[{"from": "1", "to": "2", "models": ["a"], "models": ["b"]}]"#,
        r#"[{"from": "1", "to": "2", "blocked": "x", "blocked": "y"}]"#,
        r#"[{"from_range": "<2", "to": "2", "from_range": "<2"}]"#,
        r#"[{"from": "1"}]"#,
        r#"[{"from": "1", "too": "2"}]"#,
        r#"[{"from": 1, "to": "2"}]"#,
        r#"[{"from": "1", "to": null}]"#,
        r#"[{"from": "1", "to": "2", "models": "a"}]"#,
        r#"[{"from": "1", "to": "2", "blocked": 5}]"#,
        r#"["1"]"#,
        r#"[["1"]]"#,
        r#"[["1", null, "2", null, null, null, 5]]"#,
        r#"[{"from": "1", "to": "2"}, {"to": "2", "from": "1",}]"#,
        r#"{"from": "1"}"#,
    ];
    for e in edges {
        for document in [
            format!(r#"{{"format_version": 1, "releases": [{{"version": "1"}}, {{"version": "2"}}], "edges": {e}}}"#),
            format!(r#"{{"format_version": 1, "edges": {e}, "releases": [{{"version": "1"}}, {{"version": "2"}}]}}"#),
        ] {
            let serde = Manifest::from_json(&document).expect_err(&document);
            assert_eq!(serde.code(), "invalid_json", "{document}");
            assert_eq!(UpgradeGraph::from_json(&document).expect_err(&document), serde, "{document}");
        }
    }
    // The top-level object is read by a visitor of its own too.
    let r = r#"[{"version": "1"}, {"version": "2"}]"#;
    for document in [
        format!(r#"{{"format_version": 1, "releases": {r}, "releases": {r}}}"#),
        format!(r#"{{"format_version": 1, "releases": {r}, "edges": [], "edges": []}}"#),
        format!(r#"{{"format_version": 1, "format_version": 1, "releases": {r}}}"#),
        format!(r#"{{"format_version": 1, "releases": {r}, "name": "a", "name": "b"}}"#),
        format!(r#"{{"format_version": 1, "releases": {r}, "downgrades": [], "downgrades": []}}"#),
        format!(r#"{{"format_version": 1, "releases": {r}, "edge": []}}"#),
        format!(r#"{{"format_version": 1, "releases": {r}, "name": 5}}"#),
        format!(r#"{{"format_version": "1", "releases": {r}}}"#),
        r#"{"format_version": 1, "releases": {}}"#.to_owned(),
        format!(r#"{{"format_version": 1, "releases": {r}, "edges": 5}}"#),
        format!(r#"{{"format_version": 1, "releases": {r}, "downgrades": [{{"from": "2"}}]}}"#),
        r#"{"format_version": 1}"#.to_owned(),
        r#"{"releases": []}"#.to_owned(),
        r#"{"format_version": 1, "releases": []} x"#.to_owned(),
        "5".to_owned(),
    ] {
        let serde = Manifest::from_json(&document).expect_err(&document);
        assert_eq!(serde.code(), "invalid_json", "{document}");
        assert_eq!(UpgradeGraph::from_json(&document).expect_err(&document), serde, "{document}");
    }
    // The positional form serde's derive reads is read too.
    let positional =
        r#"{"format_version": 1, "releases": [{"version": "1"}, {"version": "2"}], "edges": [["1", null, "2"]]}"#;
    assert_eq!(UpgradeGraph::from_json(positional).unwrap().edges().count(), 1);
    let same = UpgradeGraph::new(Manifest::from_json(positional).unwrap()).unwrap();
    assert_eq!(UpgradeGraph::from_json(positional).unwrap().to_manifest(), same.to_manifest());
    // Versions with escapes (kept as written), spelled otherwise than their release (kept as
    // written) or as it (kept as two releases): each written back as the document says it.
    let spelled = r#"{"format_version": 1, "releases": [{"version": "1.0"}, {"version": "1.1"}, {"version": "2.0"}],
        "edges": [{"from": "1.\u0030", "to": "1.1"}, {"from": "1.0.0", "to": "2.0"}, {"from": "1.1", "to": "2\u002e0"},
                  {"from": "1.0", "to": "1.1", "notes": "again"}]}"#;
    let read = UpgradeGraph::from_json(spelled).unwrap();
    let same = UpgradeGraph::new(Manifest::from_json(spelled).unwrap()).unwrap();
    assert_eq!(read.edge_specs(), same.edge_specs());
    assert_eq!(read.edge_specs()[0].from.as_deref(), Some("1.0"));
    assert_eq!(read.edge_specs()[1].from.as_deref(), Some("1.0.0"));
    assert_eq!(read.edge_specs()[2].to, "2.0");
    assert_eq!(read.to_manifest(), same.to_manifest());
    assert_eq!(read.edges().count(), 3, "the fourth entry repeats the first's hop");
}

/// Reads document `name` through its [`Document`](fleetpath::Document) entry point.
/// `T::from_value_text` of a value's JSON (what a JavaScript binding hands over for an
/// object) reads as `T::from_value` of the value: the same document as `view` shows it, or the
/// same error.
fn agrees_with_value<T: fleetpath::Document>(value: &Value, name: &str, view: impl Fn(&T) -> String) {
    let text = serde_json::to_string(value).unwrap();
    let (from_text, from_value) = (T::from_value_text(&text), T::from_value(value.clone()));
    assert_eq!(from_text.as_ref().map(&view), from_value.as_ref().map(&view), "{name}: {text}");
}

fn read_document(name: &str, case: &Value) -> Result<(), fleetpath::Error> {
    fn read<T: fleetpath::Document>(case: &Value) -> Result<(), fleetpath::Error> {
        if let Some(text) = case.get("json") {
            return T::from_json(text.as_str().unwrap()).map(drop);
        }
        agrees_with_value::<T>(&case["value"], str_of(case, "name"), |_| String::new());
        T::from_value(case["value"].clone()).map(drop)
    }
    use fleetpath::{decision, health};
    match name {
        "decision policy" => read::<decision::DecisionPolicy>(case),
        "device request" => read::<decision::DeviceRequest>(case),
        "device requests" => read::<Vec<decision::DeviceRequest>>(case),
        "rollout event" => read::<fleetpath::Event>(case),
        "rollout state" => read::<fleetpath::Rollout>(case),
        "rollout policy" => read::<fleetpath::RolloutPolicy>(case),
        "availability" => read::<fleetpath::artifact::Observations>(case),
        "retry policy" => read::<fleetpath::RetryPolicy>(case),
        "manifest" => read::<UpgradeGraph>(case),
        "fleet" => read::<Fleet>(case),
        "calendar" => read::<fleetpath::Calendar>(case),
        "health policy" => read::<health::HealthPolicy>(case),
        other => panic!("no document named {other:?}"),
    }
}

#[test]
fn documents() {
    let data = load("documents.json");
    for case in data["documents"].as_array().unwrap() {
        let name = str_of(case, "name");
        let err = read_document(str_of(case, "document"), case).expect_err(name);
        assert_eq!(err.code(), str_of(case, "code"), "{name}: {err}");
        assert_eq!(err.to_string(), str_of(case, "message"), "{name}");
        check_fields(case, err);
    }
    for case in data["times"].as_array().unwrap() {
        let name = str_of(case, "name");
        let result = match case.get("text") {
            Some(text) => fleetpath::document::timestamp("at", text.as_str().unwrap()),
            None => fleetpath::document::unix_seconds("at", case["unix"].as_f64().unwrap()),
        };
        if let Some(utc) = case.get("utc") {
            assert_eq!(result.unwrap().to_string(), utc.as_str().unwrap(), "{name}");
        } else {
            let err = result.expect_err(name);
            assert_eq!(err.code(), str_of(case, "code"), "{name}");
            assert_eq!(err.to_string(), str_of(case, "message"), "{name}");
        }
    }
}

#[test]
fn trust() {
    use fleetpath::trust::{self, DocumentKind, SealedRetry, SigningKey, TrustedKeys};
    let data = load("trust.json");
    // The keys are what their seeds give, their ids what TUF computes.
    for key in data["keys"].as_object().unwrap().values() {
        let seed: [u8; 32] = (0..32)
            .map(|i| u8::from_str_radix(&str_of(key, "seed")[2 * i..2 * i + 2], 16).unwrap())
            .collect::<Vec<_>>()
            .try_into()
            .unwrap();
        let signing = SigningKey::from_seed(&seed);
        assert_eq!(serde_json::to_value(signing.public_key()).unwrap(), key["public"]);
        assert_eq!(signing.public_key().keyid(), str_of(key, "keyid"));
    }
    for case in data["cases"].as_array().unwrap() {
        let name = str_of(case, "name");
        let text = match case.get("envelope_json") {
            Some(text) => text.as_str().unwrap().to_owned(),
            None => data["envelopes"][str_of(case, "envelope")].to_string(),
        };
        let trusted: TrustedKeys = serde_json::from_value(data["trusted"][str_of(case, "trusted")].clone()).unwrap();
        let kind: DocumentKind = serde_json::from_value(case["kind"].clone()).unwrap();
        let now = str_of(case, "now").parse().unwrap();
        let result = trust::verify(&text, kind, &trusted, now, case.get("last_accepted").and_then(Value::as_u64));
        if let Some(ok) = case.get("ok") {
            let verified = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(verified.version, ok["version"].as_u64().unwrap(), "{name}");
            assert_eq!(serde_json::to_value(&verified.signed_by).unwrap(), ok["signed_by"], "{name}");
            // What it signs is a manifest that loads.
            UpgradeGraph::from_json(&verified.document).unwrap();
        } else {
            let err = result.expect_err(name);
            assert_eq!(err.code(), str_of(case, "code"), "{name}: {err}");
            assert_eq!(err.to_string(), str_of(case, "message"), "{name}");
            check_fields(case, err);
        }
    }
    let retry = &data["retry"];
    let key: Vec<u8> = (0..str_of(retry, "key_hex").len() / 2)
        .map(|i| u8::from_str_radix(&str_of(retry, "key_hex")[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let sealed: SealedRetry = serde_json::from_value(retry["sealed"].clone()).unwrap();
    let state = sealed.open(str_of(retry, "device"), &key).unwrap();
    assert_eq!(serde_json::to_value(state).unwrap(), retry["state"]);
    assert_eq!(serde_json::to_value(SealedRetry::seal(state, str_of(retry, "device"), &key)).unwrap(), retry["sealed"]);
    let other = &retry["other_device"];
    let err = sealed.open(str_of(other, "device"), &key).unwrap_err();
    assert_eq!((err.code(), err.to_string().as_str()), (str_of(other, "code"), str_of(other, "message")));
}

/// A graph of `cincinnati.json`: a Cincinnati document of its `graphs` (imported), or a
/// manifest path.
fn cincinnati_graph(name: &str, data: &Value) -> UpgradeGraph {
    match data["graphs"].get(name) {
        Some(doc) => UpgradeGraph::new(Manifest::from_cincinnati(&doc.to_string()).unwrap()).unwrap(),
        None => graph(name, &Value::Null),
    }
}

#[test]
fn cincinnati() {
    let data = load("cincinnati.json");
    for case in data["imports"].as_array().unwrap() {
        let name = str_of(case, "name");
        let doc = &data["graphs"][str_of(case, "graph")];
        let manifest = Manifest::from_cincinnati(&doc.to_string()).unwrap();
        assert_eq!(serde_json::to_value(&manifest.channels).unwrap(), case["channels"], "{name}");
        let graph = UpgradeGraph::new(manifest).unwrap();
        let versions: Vec<String> = graph.releases().iter().map(|r| r.version().to_string()).collect();
        assert_eq!(serde_json::to_value(versions).unwrap(), case["releases"], "{name}");
        let edges: Vec<[String; 2]> =
            graph.edges().map(|e| [e.from.version().to_string(), e.to.version().to_string()]).collect();
        assert_eq!(serde_json::to_value(&edges).unwrap(), case["edges"], "{name}");
        let blocked: Vec<(String, String, &str)> = graph
            .blocked_hops()
            .map(|(e, why)| (e.from.version().to_string(), e.to.version().to_string(), why))
            .collect();
        assert_eq!(serde_json::to_value(&blocked).unwrap(), case["blocked"], "{name}");
        let conditional: Vec<Value> = graph
            .to_manifest()
            .edges
            .iter()
            .filter(|e| !e.risks.is_empty())
            .map(|e| {
                let names: Vec<&str> = e.risks.iter().map(|r| r.name.as_str()).collect();
                serde_json::json!([e.from, e.to, names])
            })
            .collect();
        assert_eq!(Value::from(conditional), case["conditional"], "{name}");
        for (model, want) in case["latest"].as_object().unwrap() {
            assert_eq!(graph.latest_for(model).unwrap().version().to_string(), want.as_str().unwrap(), "{name}");
        }
        // Every hop of every path is an edge the Cincinnati document serves unconditionally.
        let served: Vec<(String, String)> = doc["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| {
                let node = |k: usize| {
                    let index = usize::try_from(pair[k].as_u64().unwrap()).unwrap();
                    str_of(&doc["nodes"][index], "version").to_owned()
                };
                (node(0), node(1))
            })
            .collect();
        for p in case["paths"].as_array().unwrap() {
            let mut c = p.get("model").map(|m| Constraints::for_model(m.as_str().unwrap())).unwrap_or_default();
            let accepted: Vec<&str> = p
                .get("accepted_risks")
                .map_or(Vec::new(), |a| a.as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect());
            c.accepted_risks = accepted.iter().map(|&r| r.to_owned()).collect();
            let result = graph.resolve(&str_of(p, "from").parse().unwrap(), &str_of(p, "to").parse().unwrap(), &c);
            if let Some(code) = p.get("error") {
                assert_eq!(result.unwrap_err().code(), code.as_str().unwrap(), "{name}");
                continue;
            }
            let path = result.unwrap();
            let versions: Vec<String> = path.versions().iter().map(ToString::to_string).collect();
            assert_eq!(serde_json::to_value(versions).unwrap(), p["path"], "{name}");
            // ...or a conditional one whose every risk is accepted.
            let accepted_hop = |from: &str, to: &str| {
                doc["conditionalEdges"].as_array().into_iter().flatten().all(|group| {
                    let names = group["edges"].as_array().unwrap().iter().any(|e| e["from"] == from && e["to"] == to);
                    !names || group["risks"].as_array().unwrap().iter().all(|r| accepted.contains(&str_of(r, "name")))
                })
            };
            for hop in &path.hops {
                let (from, to) = (hop.from.to_string(), hop.to.to_string());
                let plain = served.contains(&(from.clone(), to.clone()));
                let conditional = !graph.to_manifest().edges[hop.edge].risks.is_empty();
                assert!(plain || (conditional && accepted_hop(&from, &to)), "{name}: {hop:?}");
            }
        }
    }
    for case in data["exports"].as_array().unwrap() {
        let graph = cincinnati_graph(str_of(case, "graph"), &data);
        let served = graph.to_cincinnati(case["model"].as_str());
        let nodes: Vec<&str> = served.nodes.iter().map(|n| n.version.as_str()).collect();
        assert_eq!(serde_json::to_value(nodes).unwrap(), case["nodes"], "{}", case["graph"]);
        assert_eq!(serde_json::to_value(&served.edges).unwrap(), case["edges"], "{}", case["graph"]);
        let conditional = serde_json::to_value(&served.conditional_edges).unwrap();
        assert_eq!(conditional, case["conditional_edges"], "{}", case["graph"]);
        // Round trip: the served document imports to a graph that serves the same.
        let json = serde_json::to_string(&served).unwrap();
        let again = UpgradeGraph::new(Manifest::from_cincinnati(&json).unwrap()).unwrap();
        assert_eq!(again.to_cincinnati(None), served, "{}", case["graph"]);
    }
    for case in data["errors"].as_array().unwrap() {
        let name = str_of(case, "name");
        check_error(case, Manifest::from_cincinnati(str_of(case, "json")).unwrap_err(), name);
    }
}

/// A graph read from text keeps its edge entries as written: a plain entry spelling a release
/// otherwise than the release does, escaped text, and entries with more fields.
#[test]
fn edge_entries_read_from_text_are_kept_as_written() {
    let text = r#"{"format_version": 1,
      "releases": [{"version": "1.0"}, {"version": "1.1"}, {"version": "2.0"}, {"version": "3.0"}],
      "edges": [{"from": "v1.0", "to": "1.1"}, {"from": "1.1", "to": "2.00"}, {"from": "1.0", "to": "\u0032.0"},
                {"from": "1.1", "to": "3.0", "notes": "n"}, {"from": "2.0", "to": "3.0"},
                {"from": "1.0", "to": "3.0", "blocked": "bricks"}]}"#;
    let manifest = Manifest::from_json(text).unwrap();
    let read = UpgradeGraph::from_json(text).unwrap();
    assert_eq!(read.edge_specs(), manifest.edges.as_slice());
    assert_eq!(read.to_manifest(), UpgradeGraph::new(manifest.clone()).unwrap().to_manifest());
    assert_eq!(read.edge_specs()[0].from.as_deref(), Some("v1.0"));
    assert_eq!(read.edge_specs()[3].notes.as_deref(), Some("n"));
    assert_eq!(read.blocked_hops().map(|(_, why)| why.to_owned()).collect::<Vec<_>>(), ["bricks"]);
}
