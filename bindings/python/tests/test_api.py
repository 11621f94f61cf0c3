"""The Python surface: errors, conversions, frozen results, JSON equal to Rust's."""

import datetime as dt
import json
import pathlib
import pickle
import sys
import threading
import time
from zoneinfo import ZoneInfo

import pytest

import fleetpath
from conftest import ROOT

SEED = ROOT / "examples/data/seed-ip-module.json"
PLANT = ROOT / "examples/data/plant-340.csv"


def test_every_core_error_code_has_its_class():
    for module, codes in fleetpath.ERROR_CODES:
        for code in codes:
            cls = fleetpath.ERROR_CLASSES[code]
            assert cls.code == code
            assert issubclass(cls, fleetpath.FleetpathError) and issubclass(cls, Exception)
            assert getattr(fleetpath, cls.__name__) is cls, "exported from the package"
    assert issubclass(fleetpath.InputError, ValueError)
    assert issubclass(fleetpath.UnknownReleaseError, ValueError), "manifest errors are input errors"
    assert not issubclass(fleetpath.NoPathError, ValueError), "no path is an answer, not bad input"
    assert fleetpath.error_class("no_such_code_yet") is fleetpath.FleetpathError


def test_errors_carry_code_and_message():
    with pytest.raises(fleetpath.UnknownReleaseError) as excinfo:
        fleetpath.UpgradeGraph.load(
            {"format_version": 1, "releases": [{"version": "1.0"}], "edges": [{"from": "1.0", "to": "5.6.99"}]}
        )
    assert excinfo.value.code == "unknown_release"
    assert str(excinfo.value) == 'unknown release "5.6.99" in edges[0].to'
    graph = fleetpath.UpgradeGraph.load(SEED)
    with pytest.raises(fleetpath.TooManyHopsError) as excinfo:
        graph.resolve("5.6.14", "6.15.008", max_hops=1)
    assert excinfo.value.code == "too_many_hops"


def test_a_panic_becomes_an_internal_error_not_a_crash():
    with pytest.raises(fleetpath.FleetpathError) as excinfo:
        fleetpath._native._panic_for_tests()
    assert type(excinfo.value) is fleetpath.InternalError
    assert excinfo.value.code == "internal"
    assert "deliberate test panic" in str(excinfo.value)


def test_manifest_sources_path_text_bytes_dict():
    text = SEED.read_text()
    graphs = [
        fleetpath.UpgradeGraph.load(SEED),
        fleetpath.UpgradeGraph.load(text),
        fleetpath.UpgradeGraph.load(text.encode()),  # read in place
        fleetpath.UpgradeGraph.load(bytearray(text.encode())),  # copied (it could change)
        fleetpath.UpgradeGraph.load(memoryview(text.encode())),
        fleetpath.UpgradeGraph.load(json.loads(text)),
    ]
    assert {g.to_json() for g in graphs} == {graphs[0].to_json()}
    with pytest.raises(fleetpath.InvalidInputError):
        fleetpath.UpgradeGraph.load(object())
    for not_utf8 in (b"\xff\xfe", bytearray(b"\xff\xfe")):
        with pytest.raises(fleetpath.InvalidInputError, match="not UTF-8"):
            fleetpath.UpgradeGraph.load(not_utf8)


def test_loading_text_and_batches_let_other_threads_run():
    # A big manifest and fleet (CSV or an Arrow stream) are read, and a fleet's columns decided,
    # without the GIL: a thread ticking meanwhile is never held up for long (holding the GIL,
    # the call would stop it throughout). The switch interval (0.1 ms) is far below every call's time.
    releases = [{"version": f"{i // 1000}.{i // 10 % 100}.{i % 10}"} for i in range(20_000)]
    edges = [{"from": a["version"], "to": b["version"]} for a, b in zip(releases, releases[1:])]
    manifest = json.dumps({"format_version": 1, "releases": releases, "edges": edges})
    rows = [f"d{i},m,l{i % 17},{releases[i % 20_000]['version']}" for i in range(200_000)]
    csv = "id,model,line,version\n" + "\n".join(rows)
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    try:
        graph, fleet = fleetpath.UpgradeGraph.load(manifest), fleetpath.Fleet.load(csv)

        def decide_fleet_table(at):
            return fleetpath.Decider(graph).decide_fleet_table(fleet, at)

        at = "2026-11-23T08:00:00Z"
        loads = [
            (fleetpath.UpgradeGraph.load, manifest),
            (fleetpath.Fleet.load, csv),
            (fleetpath.Fleet.from_csv, csv),
            (decide_fleet_table, at),
        ]
        try:
            import pyarrow

            columns = list(zip(*(row.split(",") for row in rows)))
            table = pyarrow.table(dict(zip(["id", "model", "line", "version"], columns)))
            # A stream (a pyarrow reader of the table's batches), read without the GIL.
            loads.append((fleetpath.Fleet.from_arrow, pyarrow.RecordBatchReader.from_stream(table)))
        except ImportError:
            pass
        for load, text in loads:
            ticks, stop = [], threading.Event()

            def tick():
                while not stop.is_set():
                    ticks.append(time.perf_counter())

            thread = threading.Thread(target=tick)
            thread.start()
            time.sleep(0.01)
            start = time.perf_counter()
            load(text)
            end = time.perf_counter()
            stop.set()
            thread.join()
            during = [start] + [t for t in ticks if start < t < end] + [end]
            longest = max(b - a for a, b in zip(during, during[1:]))
            assert end - start > 0.004, f"{load.__qualname__} too quick to tell: {end - start:.4f} s"
            assert longest < (end - start) / 2, f"{load.__qualname__}: ticks stopped {longest:.4f} s of {end - start:.4f} s"
    finally:
        sys.setswitchinterval(before)


def test_versions_compare_hash_and_pickle():
    a, b = fleetpath.Version("v6.15.008"), fleetpath.Version("6.15.8")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert str(a) == "v6.15.008" and repr(a) == "Version('v6.15.008')"
    assert a < fleetpath.Version("6.15.10")
    assert sorted(map(fleetpath.Version, ["1.10", "1.9", "1.9.1"])) == list(
        map(fleetpath.Version, ["1.9", "1.9.1", "1.10"])
    )
    assert pickle.loads(pickle.dumps(a)) == a
    assert (a == "6.15.8") is False, "a Version never equals a str"
    r = fleetpath.VersionRange("<5.6.30")
    assert "5.6.14" in r and fleetpath.Version("5.6.30") not in r
    assert r == fleetpath.VersionRange("<5.6.30") and hash(r) == hash(fleetpath.VersionRange("<5.6.30"))


def test_results_are_frozen_with_readable_repr_and_rust_json():
    graph = fleetpath.UpgradeGraph.load(SEED)
    path = graph.resolve("5.6.14", "6.15.008", model="IPM-1")
    assert isinstance(path, fleetpath.Path)
    with pytest.raises(AttributeError):
        path.hops = ()
    with pytest.raises(AttributeError):
        path.no_such_field
    hop = path.hops[0]
    assert hop.from_ == "5.6.14" and hop.to == "5.6.30" and hop.artifact.size == 1871872
    assert repr(hop).startswith("Record(from='5.6.14', to='5.6.30', artifact=Record(key=")
    # to_dict is the core's serde JSON: the DOT export reads it back into a Rust Path.
    assert "5.6.30" in graph.to_dot(path) and graph.to_dot(path) != graph.to_dot()
    assert pickle.loads(pickle.dumps(path)) == path
    d = path.to_dict()
    d["hops"].clear()
    assert len(path.hops) == 2, "to_dict is a copy"


def test_rollout_state_json_equals_rust_and_events_flow():
    graph = fleetpath.UpgradeGraph.load(SEED)
    fleet = fleetpath.Fleet.load(PLANT)
    plan = fleetpath.plan_rollout(graph, fleet, "6.15.008", "seed-2026-11")
    assert [len(s.devices) for s in plan.stages] == [17, 68, 255]
    rollout = fleetpath.Rollout.new(plan, fleet, graph)
    assert rollout.revision == 0
    assert json.loads(rollout.to_json()) == rollout.to_dict(), "pythonize gives the serde JSON"
    start = dt.datetime(2026, 11, 23, 14, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    started, actions = rollout.apply({"type": "start", "at": start})
    assert started.revision == 1 and rollout.revision == 0, "apply never mutates"
    assert actions and all(isinstance(a, fleetpath.Action) for a in actions)
    again = fleetpath.Rollout.from_json(started.to_json())
    assert again.to_json() == started.to_json()
    with pytest.raises(fleetpath.AlreadyStartedError):
        started.apply({"type": "start", "at": "2026-11-23T13:05:00Z"})


def test_naive_datetimes_are_refused():
    calendar = fleetpath.Calendar.load(json.loads((ROOT / "testdata/schedules.json").read_text())["calendar"])
    with pytest.raises(fleetpath.NaiveDatetimeError) as excinfo:
        calendar.is_open("plant-a", "press-1", "canary", dt.datetime(2026, 11, 23, 14, 0))
    assert isinstance(excinfo.value, ValueError)
    assert "has no time zone" in str(excinfo.value)
    berlin = dt.datetime(2026, 11, 23, 14, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    utc = berlin.astimezone(dt.timezone.utc)
    assert calendar.is_open("plant-a", "press-2", "canary", berlin) == calendar.is_open(
        "plant-a", "press-2", "canary", utc
    )
    start, end = calendar.next_window("plant-a", "press-2", "canary", berlin)
    assert start.tzinfo is dt.timezone.utc and end > start


def test_fleets_from_records_and_decisions_batch_equal_single():
    graph = fleetpath.UpgradeGraph.load(SEED)
    fleet = fleetpath.Fleet.from_records(
        [
            {"id": "a", "model": "IPM-1", "line": "l1", "version": "5.6.14"},
            {"id": "b", "model": "IPM-1", "line": "l1", "version": "6.15.008"},
        ]
    )
    assert len(fleet) == 2 and fleet.lines() == [("l1", 2)]
    decider = fleetpath.Decider(graph)
    at = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.timezone.utc)
    batch = decider.decide_fleet(fleet, at)
    singles = tuple(
        decider.decide({"device": d.id, "model": d.model, "version": d.version, "at": at}) for d in fleet.devices()
    )
    assert batch == singles
    assert [(d.kind, d.reason) for d in batch] == [("download", "next_hop"), ("up_to_date", "at_target")]
    assert batch[0].reason in fleetpath.DECISION_REASONS
    assert batch[0].to_dict()["decision"] == "download"
    with pytest.raises(fleetpath.InvalidDecisionPolicyError):
        fleetpath.Decider(graph, policy={"url_lifetime_seconds": 0})
    with pytest.raises(fleetpath.InvalidJsonError):
        decider.decide({"device": "a", "model": "IPM-1", "version": "5.6.14"})  # no "at"


def test_errors_carry_structured_fields_and_survive_pickling():
    graph = fleetpath.UpgradeGraph.load(
        {"format_version": 1, "releases": [{"version": "1.0"}, {"version": "1.1"}, {"version": "2.0"}],
         "edges": [{"from": "1.0", "to": "1.1"}]}
    )
    with pytest.raises(fleetpath.NoPathError) as excinfo:
        graph.resolve("1.0", "2.0")
    err = excinfo.value
    assert err.fields == {"from": "1.0", "to": "2.0", "model": None,
                          "reason": {"kind": "unreachable", "furthest": "1.1"}}
    assert err.reason["furthest"] == "1.1"
    with pytest.raises(AttributeError):
        err.no_such_field
    back = pickle.loads(pickle.dumps(err))
    assert (type(back), back.code, str(back), back.fields) == (type(err), err.code, str(err), err.fields)
    # Input errors carry fields too: which argument, and what it was.
    with pytest.raises(fleetpath.NaiveDatetimeError) as excinfo:
        fleetpath.Calendar.load({"sites": []}).is_open("s", "l", "canary", dt.datetime(2026, 1, 1))
    assert excinfo.value.fields == {"what": "at", "input": "2026-01-01T00:00:00"}


def test_decide_reports_a_bad_version_by_its_own_error():
    graph = fleetpath.UpgradeGraph.load(ROOT / "examples" / "data" / "seed-ip-module.json")
    decider = fleetpath.Decider(graph)
    good = {"device": "d1", "model": "IPM-1", "version": "5.6.14", "at": "2026-11-23T08:00:00Z"}
    bad = {**good, "device": "d2", "version": "5..6"}
    for call in (lambda: decider.decide(bad), lambda: decider.decide_all([good, bad])):
        with pytest.raises(fleetpath.EmptyComponentError) as excinfo:
            call()
        assert excinfo.value.fields == {"index": 2, "input": "5..6"}
    # Other malformed requests stay invalid_json, naming the field.
    with pytest.raises(fleetpath.InvalidJsonError, match="device"):
        decider.decide({k: v for k, v in good.items() if k != "device"})


def _public_members():
    """Every public class, function, method and property the package exports."""
    import inspect

    modules = [fleetpath, fleetpath.s3, fleetpath.examples]
    for module in modules:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj)):
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == "fleetpath.errors":
                if obj not in (fleetpath.FleetpathError, fleetpath.InputError):
                    continue  # the generated per-code classes: documented by their code
            yield f"{module.__name__}.{name}", obj
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if attr.startswith("_") or not (callable(value) or isinstance(value, (property, classmethod, staticmethod))):
                        continue
                    yield f"{module.__name__}.{name}.{attr}", getattr(obj, attr)


def test_every_public_member_has_a_docstring_with_an_example():
    import inspect

    missing = [name for name, obj in _public_members() if ">>>" not in (inspect.getdoc(obj) or "")]
    assert not missing, f"public members without an example: {missing}"


def test_the_native_classes_examples_run():
    """The examples in the native module's docstrings (pytest's doctest collection skips
    extension modules)."""
    import doctest

    finder, runner = doctest.DocTestFinder(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    globs = {"Version": fleetpath.Version, "VersionRange": fleetpath.VersionRange, "fleetpath": fleetpath}
    ran = 0
    for cls in (fleetpath.Version, fleetpath.VersionRange):
        for test in finder.find(cls, cls.__name__, globs=dict(globs)):
            if test.examples:
                ran += len(test.examples)
                runner.run(test)
    assert ran >= 10
    assert runner.summarize(verbose=False).failed == 0


def test_default_rollout_policy_is_what_plan_rollout_uses_without_one():
    graph = fleetpath.UpgradeGraph.load(ROOT / "examples/data/seed-ip-module.json")
    fleet = fleetpath.Fleet.load(ROOT / "examples/data/plant-340.csv")
    policy = fleetpath.default_rollout_policy()
    assert [(s["name"], s.get("share"), s.get("min_per_line", 0)) for s in policy["stages"]] == [
        ("canary", 0.05, 1), ("early", 0.2, 0), ("production", None, 0)]
    assert fleetpath.plan_rollout(graph, fleet, "6.15.008", "r", policy) == fleetpath.plan_rollout(graph, fleet, "6.15.008", "r")
    policy["stages"][0]["share"] = 0.5  # a copy: the next call's default is unchanged
    wider = fleetpath.plan_rollout(graph, fleet, "6.15.008", "r", policy)
    assert len(wider.stages[0].devices) > len(fleetpath.plan_rollout(graph, fleet, "6.15.008", "r").stages[0].devices)
    assert fleetpath.default_rollout_policy()["stages"][0]["share"] == 0.05


def test_prefetch_plans_follow_the_observed_availability():
    from fleetpath import examples

    g, fleet, cal = examples.seed_graph(), examples.seed_fleet(), examples.seed_calendar()
    plan = fleetpath.plan_rollout(g, fleet, "6.15.008", "r-1")
    started, _ = fleetpath.Rollout.new(plan, fleet, g).apply({"type": "start", "at": "2026-11-23T08:00:00Z"}, cal)
    keys = ["firmware/ip-module/5.6.30.bin", "firmware/ip-module/6.15.008.bin"]
    ready = {k: {"state": "available", "class": "standard"} for k in keys}
    assert fleetpath.plan_prefetch(started, g, ready, "2026-11-23T08:00:00Z", calendar=cal).to_dict()["ready"] == 2
    restoring = {k: {"state": "restoring", "class": "deep_archive", "since": "2026-11-23T07:00:00Z",
                     "ready_by": "2026-11-23T12:00:00Z"} for k in keys}
    plan = fleetpath.plan_prefetch(started, g, restoring, "2026-11-23T08:00:00Z", calendar=cal)
    assert [(i.action, i.is_due) for i in plan.items] == [("restoring", False), ("restoring", False)]
    unobserved = fleetpath.plan_prefetch(started, g, {}, "2026-11-23T08:00:00Z", calendar=cal)
    assert {i.action for i in unobserved.due()} == {"check"}
    with pytest.raises(fleetpath.InvalidJsonError, match="prefetch policy"):
        fleetpath.plan_prefetch(started, g, {}, "2026-11-23T08:00:00Z", policy={"tiers": ["instant"]})


def test_decide_fleet_table_is_arrow_and_equals_the_rows():
    """The columnar batch: one Arrow record batch whose every row says what `decide_fleet`
    says; read by pyarrow and polars through the PyCapsule interface."""
    pa = pytest.importorskip("pyarrow")
    pl = pytest.importorskip("polars")
    graph = fleetpath.UpgradeGraph.load(ROOT / "examples/data/seed-ip-module.json")
    fleet = fleetpath.Fleet.load(ROOT / "examples/data/plant-340.csv")
    archived = {"state": "archived", "class": "glacier_flexible_retrieval"}
    decider = fleetpath.Decider(graph, availability={"firmware/ip-module/5.6.30.bin": archived})
    at = "2026-11-23T08:00:00Z"
    rows = decider.decide_fleet(fleet, at)
    table = decider.decide_fleet_table(fleet, at)
    assert len(table) == len(rows) == 340
    assert fleet.ids() == tuple(d.id for d in fleet.devices())
    t = pa.table(table)
    assert t.column_names == ["device", "kind", "reason", "next", "at", "host_action"]
    assert str(t.schema.field("at").type) == "timestamp[ms, tz=UTC]"
    data = t.to_pylist()
    for i, (device, row) in enumerate(zip(fleet.devices(), rows)):
        got = data[i]
        assert (got["device"], got["kind"], got["reason"]) == (device.id, row.kind, row.reason)
        assert got["next"] == (row.step.to if row.kind == "download" else None)
        when = row.to_dict().get("until") or row.to_dict().get("at")
        assert got["at"] == (dt.datetime.fromisoformat(when) if when else None)
        assert got["host_action"] == (row.host_action.type if "host_action" in row else "none")
        assert table.row(i) == row
    frame = pl.DataFrame(table)
    assert frame.shape == (340, 6)
    assert frame["kind"].to_list() == [r.kind for r in rows]
    # Null slots hold the core's sentinels (u32::MAX, i64::MIN) behind a validity bitmap.
    assert frame["next"].to_list() == [r.step.to if r.kind == "download" else None for r in rows]
    assert frame["at"].to_list() == [x["at"] for x in data]
    assert pa.RecordBatchReader.from_stream(table).read_all().num_rows == 340
    with pytest.raises(fleetpath.InvalidInputError):
        table.row(340)
    # The fleet's id column is built once and shared by later tables (the same buffer).
    again = pa.table(decider.decide_fleet_table(fleet, at))
    assert again.equals(t)
    def ids(table):
        return table.column("device").chunk(0).buffers()[2].address

    assert ids(again) == ids(t)
    # The id column is the fleet's id text cut at each id's end: ids of several bytes a
    # character come out whole.
    wide = fleetpath.Fleet.from_csv("id,model,line,version\ndév-1,IPM-1,l1,5.6.14\n設備-2,IPM-1,l1,5.6.14\nd3,IPM-1,l1,5.6.14\n")
    assert pa.table(decider.decide_fleet_table(wide, at)).column("device").to_pylist() == ["dév-1", "設備-2", "d3"]
    # Columns without a null (every device downloads) and all null (no time to ask again).
    one = fleetpath.Fleet.from_csv("id,model,line,version\nd1,IPM-1,l1,5.6.14\nd2,IPM-1,l1,5.6.14\n")
    small = pa.table(fleetpath.Decider(graph).decide_fleet_table(one, at))
    assert small.column("next").to_pylist() == ["5.6.30", "5.6.30"]
    assert small.column("at").to_pylist() == [None, None]
    assert small.column("next").chunk(0).buffers()[0] is None  # no validity bitmap
    assert small.column("at").chunk(0).buffers()[0] is not None


def test_decide_fleet_records_equal_single_decisions_and_share_what_repeats():
    """`decide_fleet` builds one record per distinct decision: devices of one model and
    version share it (records are immutable), devices that retry keep their own; every record
    equals that device's single `decide`."""
    graph = fleetpath.UpgradeGraph.load(ROOT / "examples/data/seed-ip-module.json")
    fleet = fleetpath.Fleet.load(ROOT / "examples/data/plant-340.csv")
    observed = {"firmware/ip-module/5.6.30.bin": {"state": "available", "class": "standard"},
                "firmware/ip-module/6.15.008.bin": {"state": "missing"}}
    decider = fleetpath.Decider(graph, availability=observed)
    at = "2026-11-23T08:00:00Z"
    rows = decider.decide_fleet(fleet, at)
    assert len(rows) == 340
    for device, row in zip(fleet.devices(), rows):
        single = decider.decide({"device": device.id, "model": device.model, "version": device.version, "at": at})
        assert row == single and row.reason == single.reason
    downloads = [r for r in rows if r.kind == "download"]
    retries = [r for r in rows if r.kind == "retry_after"]
    assert len(downloads) > 1 and len(retries) > 1
    by_from = {}
    for r in downloads:
        assert by_from.setdefault(r.step.from_, r) is r  # one object per distinct decision
    assert len({id(r) for r in retries}) == len(retries)  # each retries at its own time
    copy = downloads[0].to_dict()
    copy["step"]["to"] = "changed"
    assert downloads[1].step.to != "changed"
