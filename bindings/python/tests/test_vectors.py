"""The shared vectors of testdata/, read by the Rust tests too: same answers, codes and messages."""

import json

import pytest

import fleetpath
from conftest import ROOT, graph_source, vectors

VERSIONS = vectors("versions")
RANGES = vectors("ranges")
RESOLVE = vectors("resolve")
FLEETS = vectors("fleets")
DECISIONS = vectors("decisions")
SCHEDULES = vectors("schedules")
ROLLOUTS = vectors("rollouts")


def assert_error(excinfo, code, message, fields=None):
    """The class, code and exact message; and, where the vector lists `fields`, those fields
    (each also an attribute), as the Rust test compares `Error::fields`."""
    err = excinfo.value
    assert isinstance(err, fleetpath.FleetpathError)
    assert type(err) is fleetpath.error_class(code), (type(err), code)
    assert err.code == code
    assert str(err) == message
    assert isinstance(err.fields, dict)
    for key, want in (fields or {}).items():
        assert err.fields.get(key) == want, (key, err.fields)
        assert getattr(err, key) == want


@pytest.mark.parametrize("case", VERSIONS["valid"], ids=lambda c: c["input"])
def test_valid_versions(case):
    v = fleetpath.Version(case["input"])
    assert str(v) == case["input"]
    assert v.normalized() == case["normalized"]
    assert v.components == case["components"]
    assert v.is_prerelease == case["prerelease"]
    if case.get("semver"):
        assert v.to_semver() == case["semver"]


@pytest.mark.parametrize("case", VERSIONS["invalid"] + VERSIONS["not_semver"], ids=lambda c: c["input"])
def test_invalid_versions(case):
    with pytest.raises(ValueError) as excinfo:
        v = fleetpath.Version(case["input"])
        v.to_semver()  # the not_semver cases parse, then refuse the conversion
    assert_error(excinfo, case["code"], case["message"], case.get("fields"))


def test_version_ordering():
    for pair in VERSIONS["ordering"]:
        a, op, b = pair if len(pair) == 3 else (pair[0], "<", pair[1])
        va, vb = fleetpath.Version(a), fleetpath.Version(b)
        assert {"<": va < vb, "==": va == vb, ">": va > vb}[op], pair
        if op == "==":
            assert hash(va) == hash(vb)


@pytest.mark.parametrize("case", RANGES["matches"], ids=lambda c: f'{c["range"]} ? {c["version"]}')
def test_range_matches(case):
    r = fleetpath.VersionRange(case["range"])
    assert r.matches(case["version"]) is case["matches"]
    assert (fleetpath.Version(case["version"]) in r) is case["matches"]


@pytest.mark.parametrize("case", RANGES["invalid"], ids=lambda c: c["input"])
def test_invalid_ranges(case):
    with pytest.raises(ValueError) as excinfo:
        fleetpath.VersionRange(case["input"])
    assert_error(excinfo, case["code"], case["message"], case.get("fields"))


@pytest.mark.parametrize("case", vectors("manifest_errors"), ids=lambda c: c["name"])
def test_manifest_errors(case):
    source = case["json"] if "json" in case else case["manifest"]
    with pytest.raises(fleetpath.FleetpathError) as excinfo:
        fleetpath.UpgradeGraph.load(source)
    assert_error(excinfo, case["code"], case["message"], case.get("fields"))
    # Every problem in one pass: each as its own exception of its code's class.
    errors = excinfo.value.errors
    expected = case.get("errors", [{"code": case["code"], "message": case["message"]}])
    assert [{"code": e.code, "message": str(e)} for e in errors] == expected
    assert all(type(e) is fleetpath.errors.error_class(e.code) for e in errors)


@pytest.mark.parametrize("case", RESOLVE["cases"], ids=lambda c: c["name"])
def test_resolve(case):
    graph = fleetpath.UpgradeGraph.load(graph_source(case["graph"], RESOLVE["graphs"]))
    kwargs = dict(case.get("constraints", {}))
    if "error" in case or "code" in case:
        with pytest.raises(fleetpath.FleetpathError) as excinfo:
            graph.resolve(case["from"], case["to"], **kwargs)
        err = case.get("error", case)
        assert_error(excinfo, err["code"], err["message"], err.get("fields"))
        return
    path = graph.resolve(case["from"], case["to"], **kwargs)
    assert list(path.versions()) == case["path"]
    if "edges" in case:
        assert [h.edge for h in path.hops] == case["edges"]
    first = graph.next_hop(case["from"], case["to"], **kwargs)
    assert (first is None) == (len(case["path"]) == 1)


@pytest.mark.parametrize("case", RESOLVE["latest"], ids=lambda c: c["name"])
def test_latest_for(case):
    graph = fleetpath.UpgradeGraph.load(graph_source(case["graph"], RESOLVE["graphs"]))
    if "error" in case:
        with pytest.raises(fleetpath.FleetpathError) as excinfo:
            graph.latest_for(case["model"])
        err = case["error"]
        assert_error(excinfo, err["code"], err["message"], err.get("fields"))
    else:
        assert str(graph.latest_for(case["model"])) == case["version"]


@pytest.mark.parametrize("case", RESOLVE["edges"], ids=lambda c: c["graph"])
def test_edges(case):
    graph = fleetpath.UpgradeGraph.load(graph_source(case["graph"], RESOLVE["graphs"]))
    edges = graph.edges()
    assert [e.to_dict() for e in edges] == case["edges"]
    assert [(e.from_, e.to, e.edge, e.generated) for e in edges] == [
        (e["from"], e["to"], e["edge"], e["generated"]) for e in case["edges"]
    ]


@pytest.mark.parametrize("case", vectors("route_tables"), ids=lambda c: f'{c["graph"]} -> {c["to"]}')
def test_route_tables(case):
    graph = fleetpath.UpgradeGraph.load(graph_source(case["graph"], RESOLVE["graphs"]))
    table = graph.route_table(case["to"], **case.get("constraints", {}))
    assert [e.to_dict() for e in table.entries()] == case["entries"]
    for entry in case["entries"]:
        assert table.hops(entry["from"]) == entry["hops"]
        hop = table.next_hop(entry["from"])
        assert (hop is None and entry["hops"] == 0) or hop.to == entry["next"]


@pytest.mark.parametrize("case", vectors("lint"), ids=lambda c: c["name"])
def test_lint(case):
    graph = fleetpath.UpgradeGraph.load(graph_source(case["graph"], RESOLVE["graphs"]))
    if "fleet_devices" in case:
        findings = graph.lint_fleet(fleetpath.Fleet.from_records(case["fleet_devices"]))
    else:
        findings = graph.lint()
    assert [f.to_dict() for f in findings] == case["findings"]


@pytest.mark.parametrize("case", FLEETS["valid"], ids=lambda c: c["name"])
def test_valid_fleets(case):
    fleet = fleetpath.Fleet.from_csv(case["csv"]) if "csv" in case else fleetpath.Fleet.from_json(json.dumps(case["json"]))
    assert [d.to_dict() for d in fleet.devices()] == case["devices"]
    assert [fleet.origin(d["id"]) for d in case["devices"]] == case["origins"]


@pytest.mark.parametrize("case", FLEETS["invalid"], ids=lambda c: c["name"])
def test_invalid_fleets(case):
    with pytest.raises(ValueError) as excinfo:
        if "csv" in case:
            fleetpath.Fleet.from_csv(case["csv"])
        else:
            fleetpath.Fleet.from_json(case["json_text"] if "json_text" in case else json.dumps(case["json"]))
    assert_error(excinfo, case["code"], case["message"], case.get("fields"))


@pytest.mark.parametrize("case", FLEETS["check_against"], ids=lambda c: c["name"])
def test_fleets_against_graphs(case):
    fleet = fleetpath.Fleet.load(ROOT / case["fleet"]) if "fleet" in case else fleetpath.Fleet.from_csv(case["csv"])
    graph = fleetpath.UpgradeGraph.load(graph_source(case["graph"], RESOLVE["graphs"]))
    if "error" in case:
        with pytest.raises(fleetpath.FleetpathError) as excinfo:
            fleet.check_against(graph)
        assert_error(excinfo, case["error"]["code"], case["error"]["message"], case["error"].get("fields"))
    else:
        fleet.check_against(graph)


@pytest.mark.parametrize("case", DECISIONS["decisions"], ids=lambda c: c["name"])
def test_decisions(case):
    graph = fleetpath.UpgradeGraph.load(graph_source(case["graph"]))
    decider = fleetpath.Decider(
        graph,
        availability=case.get("availability"),
        target=case.get("target"),
        policy=case.get("policy"),
    )
    singles = [decider.decide(r["request"]) for r in case["requests"]]
    assert list(decider.decide_all([r["request"] for r in case["requests"]])) == singles
    for want, got in zip(case["requests"], singles):
        assert (got.kind, got.reason) == (want["kind"], want["reason"]), want["request"]
        if "to" in want:
            assert got.step.to == want["to"] and got.step.hops_left == want["hops_left"]
        if "host_action" in want:
            assert got.host_action.type == want["host_action"]
        if "not_before" in want:
            assert got.at >= want["not_before"]


@pytest.mark.parametrize("case", DECISIONS["decider_errors"], ids=lambda c: c["name"])
def test_decider_errors(case):
    graph = fleetpath.UpgradeGraph.load(graph_source(case["graph"]))
    with pytest.raises(fleetpath.FleetpathError) as excinfo:
        fleetpath.Decider(graph, target=case.get("target"), policy=case.get("policy"))
    assert_error(excinfo, case["code"], case["message"], case.get("fields"))


@pytest.mark.parametrize("case", SCHEDULES["queries"], ids=lambda c: c["name"])
def test_calendar_queries(case):
    calendar = fleetpath.Calendar.load(SCHEDULES["calendar"])
    assert calendar.is_open(case["site"], case["line"], case["stage"], case["at"]) is case["open"]
    window = calendar.next_window(case["site"], case["line"], case["stage"], case["at"])
    if case.get("next") is None:
        assert window is None
    else:
        start, end = window
        assert start.isoformat().replace("+00:00", "Z") == case["next"]["start"]
        assert end.isoformat().replace("+00:00", "Z") == case["next"]["end"]


@pytest.mark.parametrize("case", SCHEDULES["errors"], ids=lambda c: c["name"])
def test_calendar_errors(case):
    with pytest.raises(ValueError) as excinfo:
        fleetpath.Calendar.load(case["calendar"] if "calendar" in case else case["json"])
    assert_error(excinfo, case["code"], case["message"], case.get("fields"))


@pytest.mark.parametrize("case", SCHEDULES["query_errors"], ids=lambda c: c["code"] + c["site"])
def test_calendar_query_errors(case):
    calendar = fleetpath.Calendar.load(SCHEDULES["calendar"])
    with pytest.raises(ValueError) as excinfo:
        calendar.is_open(case["site"], case.get("line", "press-1"), case["stage"], "2026-11-23T11:00:00Z")
    assert_error(excinfo, case["code"], case["message"], case.get("fields"))


@pytest.mark.parametrize("case", ROLLOUTS["plans"], ids=lambda c: c["name"])
def test_rollout_plans(case):
    graph = fleetpath.UpgradeGraph.load(graph_source(case["graph"], RESOLVE["graphs"]))
    fleet = fleetpath.Fleet.load(ROOT / case["fleet"]) if "fleet" in case else fleetpath.Fleet.from_csv(case["csv"])
    if "error" in case:
        with pytest.raises(fleetpath.FleetpathError) as excinfo:
            fleetpath.plan_rollout(graph, fleet, case["target"], case["rollout_id"], case.get("policy"))
        assert_error(excinfo, case["error"]["code"], case["error"]["message"], case["error"].get("fields"))
        return
    plan = fleetpath.plan_rollout(graph, fleet, case["target"], case["rollout_id"], case.get("policy"))
    got = [{"name": s.name, "size": len(s.devices), "lines": s.lines.to_dict()} for s in plan.stages]
    assert [{"name": s["name"], "size": s["size"], "lines": s["lines"]} for s in case["stages"]] == got
    if "up_to_date" in case:
        assert list(plan.up_to_date) == case["up_to_date"]
    if "excluded" in case:
        assert [{"id": e.id, "code": e.code} for e in plan.excluded] == case["excluded"]


@pytest.mark.parametrize("case", ROLLOUTS["policy_errors"], ids=lambda c: c["name"])
def test_rollout_policy_errors(case):
    graph = fleetpath.UpgradeGraph.load(ROOT / "examples/data/seed-ip-module.json")
    fleet = fleetpath.Fleet.load(ROOT / "examples/data/plant-340.csv")
    with pytest.raises(ValueError) as excinfo:
        fleetpath.plan_rollout(graph, fleet, "6.15.008", "r", case["policy"])
    assert_error(excinfo, case["code"], case["message"], case.get("fields"))


RETRIES = vectors("retries")


@pytest.mark.parametrize("case", RETRIES["delays"], ids=lambda c: json.dumps(c["policy"]))
def test_retry_delays_are_the_pinned_ones(case):
    policy = fleetpath.RetryPolicy(case["policy"])
    previous, delays = 0, []
    for attempt in range(1, 9):
        previous = policy.delay_ms(case["device"], attempt, previous)
        delays.append(previous)
    assert delays == case["delays_ms"]


@pytest.mark.parametrize("case", RETRIES["sequences"], ids=lambda c: c["name"])
def test_retry_sequences(case):
    policy = fleetpath.RetryPolicy(case["policy"])
    state, decisions = None, []
    for failure in case["failures"]:
        state, decision = policy.after_failure(case["device"], failure, state)
        decisions.append(decision.to_dict())
    assert decisions == case["decisions"]


@pytest.mark.parametrize("scenario", vectors("rollout_events")["scenarios"], ids=lambda s: s["name"])
def test_rollout_event_scenarios(scenario):
    graph = fleetpath.UpgradeGraph.load(graph_source(scenario["graph"]))
    fleet = fleetpath.Fleet.from_csv(scenario["csv"])
    plan_fleet = fleetpath.Fleet.from_csv(scenario["plan_csv"]) if "plan_csv" in scenario else fleet
    plan = fleetpath.plan_rollout(graph, plan_fleet, scenario["target"], scenario["rollout_id"])
    if "new_error" in scenario:
        with pytest.raises(fleetpath.FleetpathError) as excinfo:
            fleetpath.Rollout.new(plan, fleet, graph)
        assert_error(excinfo, scenario["new_error"]["code"], scenario["new_error"]["message"])
        return
    state = fleetpath.Rollout.new(plan, fleet, graph)
    if "tamper" in scenario:
        # A state as a host might read it back from storage, edited.
        stored = state.to_dict()
        stored.update(scenario["tamper"])
        if "load_error" in scenario:
            with pytest.raises(fleetpath.FleetpathError) as excinfo:
                fleetpath.Rollout.from_json(json.dumps(stored))
            assert_error(excinfo, scenario["load_error"]["code"], scenario["load_error"]["message"])
            return
        state = fleetpath.Rollout.from_json(json.dumps(stored))
    def fill(text):
        # Placeholders for planned devices: {canary.0}, {early.0}...
        for stage in plan.stages:
            for i, device in enumerate(stage.devices):
                text = text.replace(f"{{{stage.name}.{i}}}", device.id)
        return text

    for k, step in enumerate(scenario["steps"]):
        event = json.loads(fill(json.dumps(step["event"])))
        if "error" in step:
            with pytest.raises(fleetpath.FleetpathError) as excinfo:
                state.apply(event)
            assert_error(excinfo, step["error"]["code"], fill(step["error"]["message"]))
            continue
        state, actions = state.apply(event)
        assert [a.type for a in actions] == step["actions"], (scenario["name"], k)
        data = state.to_dict()
        assert data["status"]["state"] == step["status"], (scenario["name"], k)
        if "phases" in step:
            assert [s["phase"] for s in data["stages"]] == step["phases"], (scenario["name"], k)


@pytest.mark.parametrize("case", DECISIONS["rollbacks"], ids=lambda c: c["name"])
def test_rollback_routes(case):
    graph = fleetpath.UpgradeGraph.load(graph_source(case["graph"]))
    if case.get("hops") is None:
        with pytest.raises(fleetpath.FleetpathError) as excinfo:
            graph.rollback_route(case["from"], case["to"], model=case.get("model"))
        assert_error(excinfo, case["code"], case["message"], case.get("fields"))
        return
    route = graph.rollback_route(case["from"], case["to"], model=case.get("model"))
    assert [[h.from_, h.to] for h in route.hops] == case["hops"]


DOCUMENTS = vectors("documents")


def read_document(name, source):
    """Each interchange document through its public entry point (text or value form)."""
    graph = fleetpath.UpgradeGraph.load(ROOT / "examples/data/seed-ip-module.json")
    fleet = lambda: fleetpath.Fleet.load(ROOT / "examples/data/plant-340.csv")  # noqa: E731
    if name == "decision policy":
        return fleetpath.Decider(graph, policy=source)
    if name == "device request":
        return fleetpath.Decider(graph).decide(source)
    if name == "device requests":
        return fleetpath.Decider(graph).decide_all(source)
    if name == "rollout event":
        f = fleet()
        return fleetpath.Rollout.new(fleetpath.plan_rollout(graph, f, "6.15.008", "r"), f, graph).apply(source)
    if name == "rollout state":
        return fleetpath.Rollout.from_json(source)
    if name == "rollout policy":
        return fleetpath.plan_rollout(graph, fleet(), "6.15.008", "r", source)
    if name == "availability":
        return fleetpath.Decider(graph, availability=source)
    if name == "retry policy":
        return fleetpath.RetryPolicy(source)
    if name == "manifest":
        return fleetpath.UpgradeGraph.load(source)
    if name == "fleet":
        return fleetpath.Fleet.load(source)
    if name == "calendar":
        return fleetpath.Calendar.load(source)
    if name == "health policy":
        return fleetpath.HealthPolicy(source)
    raise AssertionError(f"no document named {name!r}")


@pytest.mark.parametrize("case", DOCUMENTS["documents"], ids=lambda c: c["name"])
def test_documents_give_the_core_error_with_line_column_and_path(case):
    with pytest.raises(fleetpath.FleetpathError) as excinfo:
        read_document(case["document"], case["json"] if "json" in case else case["value"])
    assert_error(excinfo, case["code"], case["message"], case.get("fields"))


@pytest.mark.parametrize("case", DOCUMENTS["times"], ids=lambda c: c["name"])
def test_times_in_every_accepted_form(case):
    policy = fleetpath.RetryPolicy({"jitter": "none"})
    at = case["text"] if "text" in case else case["unix"]
    if "utc" in case:
        state, _ = policy.after_failure("d", at)
        assert state["first_failure_at"] == case["utc"]
    else:
        with pytest.raises(fleetpath.FleetpathError) as excinfo:
            policy.after_failure("d", at)
        assert_error(excinfo, case["code"], case["message"])


@pytest.mark.parametrize("case", DOCUMENTS["binding_inputs"], ids=lambda c: c["name"])
def test_a_value_of_the_wrong_type_is_a_typed_error(case):
    calls = {"version": fleetpath.Version, "graph": fleetpath.UpgradeGraph.load, "fleet": fleetpath.Fleet.load}
    with pytest.raises(fleetpath.FleetpathError) as excinfo:
        calls[case["call"]](case["arg"])
    assert_error(excinfo, case["code"], case.get("message", str(excinfo.value)), case.get("fields"))


CINCINNATI = vectors("cincinnati")


def cincinnati_graph(ref):
    if ref in CINCINNATI["graphs"]:
        return fleetpath.UpgradeGraph.from_cincinnati(CINCINNATI["graphs"][ref])
    return fleetpath.UpgradeGraph.load(graph_source(ref))


@pytest.mark.parametrize("case", CINCINNATI["imports"], ids=lambda c: c["name"])
def test_cincinnati_import(case):
    graph = cincinnati_graph(case["graph"])
    assert [[e.from_, e.to] for e in graph.edges()] == case["edges"]
    for model, want in case["latest"].items():
        assert str(graph.latest_for(model)) == want
    conditional = [
        [e["from"], e["to"], [r["name"] for r in e["risks"]]]
        for e in json.loads(graph.to_json())["edges"]
        if e.get("risks")
    ]
    assert conditional == case["conditional"]
    for p in case["paths"]:
        kwargs = {"model": p["model"]} if "model" in p else {}
        kwargs["accepted_risks"] = p.get("accepted_risks", [])
        if "error" in p:
            with pytest.raises(fleetpath.FleetpathError) as excinfo:
                graph.resolve(p["from"], p["to"], **kwargs)
            assert excinfo.value.code == p["error"]
        else:
            assert list(graph.resolve(p["from"], p["to"], **kwargs).versions()) == p["path"]


@pytest.mark.parametrize("case", CINCINNATI["exports"], ids=lambda c: f'{c["graph"]} {c["model"]}')
def test_cincinnati_export(case):
    served = cincinnati_graph(case["graph"]).to_cincinnati(case["model"])
    assert [n["version"] for n in served["nodes"]] == case["nodes"]
    assert [list(e) for e in served["edges"]] == case["edges"]
    assert served.get("conditionalEdges", []) == case["conditional_edges"]
    again = fleetpath.UpgradeGraph.from_cincinnati(json.dumps(served))
    assert again.to_cincinnati() == served


@pytest.mark.parametrize("case", CINCINNATI["errors"], ids=lambda c: c["name"])
def test_cincinnati_errors(case):
    with pytest.raises(fleetpath.FleetpathError) as excinfo:
        fleetpath.UpgradeGraph.from_cincinnati(case["json"])
    assert_error(excinfo, case["code"], case["message"], case.get("fields"))
