"""Adversarial arguments for every public callable of `fleetpath`.

Each public function, method and constructor gets otherwise-valid arguments with ONE argument
(or one field of a dict argument) replaced by a hostile value. The only exception allowed out
is a `FleetpathError` subclass with a known `code` and a `fields` dict (never TypeError,
OverflowError, UnicodeEncodeError, KeyError, AttributeError, RecursionError, MemoryError or
pyo3's PanicException), and the last test does real work: the interpreter survived.

Out of scope: the result records (`Record`, `Path`, `Decision`…: views the library builds over
the core's output; `Record(non_dict)` raising TypeError is their documented contract), the
exception classes' constructors, zero-argument methods and rich comparisons.
"""

import datetime as dt
import functools
import gc
import json
import reprlib
import types

import pytest

import fleetpath
import fleetpath.s3 as s3
from fleetpath import examples, trust

try:
    import numpy as np
except ImportError:  # numpy is optional: its values join the barrage only when it is installed
    np = None

CODES = {code for _module, codes in fleetpath.ERROR_CODES for code in codes}
AT, LATER = "2026-11-23T08:00:00Z", "2026-11-23T09:00:00Z"
UPDATED, NOW = "2026-11-18T11:06:40Z", "2026-11-18T13:06:40Z"
KEY = "firmware/ip-module/5.6.30.bin"
ARCHIVED = {"state": "archived", "class": "glacier_flexible_retrieval"}
REQUEST = {"device": "press-1-01", "model": "IPM-1", "version": "5.6.14", "at": AT, "labels": {"region": "eu"}}
DEVICE = {"id": "d1", "model": "IPM-1", "line": "L1", "version": "5.6.14"}
HEAD = {"StorageClass": "GLACIER", "Restore": 'ongoing-request="true"', "ContentLength": 10}
ARTIFACT = {"key": "fw/5.6.30.bin", "size": 10, "sha256": "a" * 64}
ROUTING = {"model": "IPM-1", "allow_blocked": False, "max_hops": 5, "labels": {"region": "eu"}, "accepted_risks": ["R"]}


class CallerError(RuntimeError):
    """Raised by the caller's own objects (an iterator, a `__str__`). Design choice: such an
    exception propagates unchanged (as `list()`, `json.dumps` and every Python API let it),
    so `check` allows exactly this type; wrapping it in a FleetpathError (chained with
    `from`) is fine too. A sentinel class, so RecursionError (also a RuntimeError) is not
    excused."""


class HugeLen:
    """Claims 2**40 items; iterating gives three, then the caller's own error."""

    def __len__(self):
        return 2**40

    def __iter__(self):
        yield from (0, 1, 2)
        raise CallerError("HugeLen.__iter__ gave up")


class StrRaises:
    def __str__(self):
        raise CallerError("StrRaises.__str__")


def failing_iterator():
    yield from (0, 1)
    raise CallerError("the caller's iterator failed midway")


def deep_list(depth=10_000):
    value = []
    for _ in range(depth):  # built iteratively: building it must not recurse
        value = [value]
    return value


def cyclic_dict():
    d = {"a": 1}
    d["self"] = d
    return d


ABSENT = object()  # in a dict argument's field: the key is left out
# Factories, not values: generators are one-shot and every test gets fresh objects.
VALUES = [
    ("lone_surrogate", lambda: "\ud800"), ("version_with_surrogate", lambda: "5.6.\udcff"),
    ("empty_str", lambda: ""), ("str_1MB", lambda: "9" * (1 << 20)), ("nul_byte", lambda: "5.6\x0014"),
    ("None", lambda: None), ("True", lambda: True), ("zero", lambda: 0), ("minus_one", lambda: -1),
    ("two_pow_70", lambda: 2**70), ("nan", lambda: float("nan")), ("inf", lambda: float("inf")),
    ("minus_zero", lambda: -0.0), ("1e308", lambda: 1e308),
    ("bytes_not_utf8", lambda: b"\xff\xfe"), ("bytes_json", lambda: b"{}"),
    ("bytearray", lambda: bytearray(b"5.6.14")), ("memoryview", lambda: memoryview(b"5.6.14")),
    ("junk_list", lambda: [1, "a", None, 2.5]), ("int_key_dict", lambda: {1: 2}),
    ("object_value_dict", lambda: {"a": object()}), ("surrogate_key_dict", lambda: {"\ud800": 1}),
    ("list_10000_deep", deep_list), ("cyclic_dict", cyclic_dict),
    ("len_2_pow_40", HugeLen), ("range_2_pow_40", lambda: range(2**40)), ("failing_iterator", failing_iterator),
    ("naive_datetime", lambda: dt.datetime(2026, 1, 1)),
    ("aware_datetime_max", lambda: dt.datetime.max.replace(tzinfo=dt.timezone.utc)),
    ("aware_datetime_min_plus14", lambda: dt.datetime.min.replace(tzinfo=dt.timezone(dt.timedelta(hours=14)))),
    ("object", object), ("str_raises", StrRaises),
]
if np is not None:
    VALUES += [
        ("np_2d", lambda: np.zeros((2, 3))),
        ("np_object", lambda: np.array([object(), None, "5.6.14"], dtype=object)),
        ("np_complex", lambda: np.array([1 + 2j, 3j])),
        ("np_datetime64_nat", lambda: np.array(["NaT", "2026-01-01T00:00:00"], dtype="datetime64[s]")),
        ("np_huge_int64", lambda: np.array([2**63 - 1, -(2**63)], dtype=np.int64)),
    ]


SIGNER = trust.SigningKey.from_seed(bytes(range(32)))
RETRY = {"attempts": 1, "first_failure_at": "2026-11-23T08:00:00Z", "last_delay_ms": 30000}
RECORD = {"model": "IPM-1", "version": "5.6.14", "issued": {"from": "5.6.14", "to": "5.6.30"}}


@functools.lru_cache(maxsize=None)
def _shared():
    """The immutable API objects (graphs, fleets, rollouts… never change), built once."""
    graph, fleet, calendar = examples.seed_graph(), examples.seed_fleet(), examples.seed_calendar()
    plan = fleetpath.plan_rollout(graph, fleet, "6.15.008", "r-1")
    rollout = fleetpath.Rollout.new(plan, fleet, graph)
    started, _ = rollout.apply({"type": "start", "at": AT}, calendar)
    policy, state, batch = examples.cycle_time_story()
    state.ingest(batch)
    return dict(
        graph=graph, fleet=fleet, calendar=calendar, plan=plan, started=started, rollout_json=rollout.to_json(),
        fleet_json=fleet.to_json(), path=graph.resolve("5.6.14", "6.15.008"), table=graph.route_table("6.15.008"),
        range=fleetpath.VersionRange("<5.6.30"), decider=fleetpath.Decider(graph), health_policy=policy,
        retry=fleetpath.RetryPolicy({"jitter": "none"}), state_json=state.to_json(),
        report=state.evaluate(policy, now=NOW), availability={r.artifact.key: ARCHIVED for r in graph.releases()},
        key=SIGNER, key_file=SIGNER.to_dict(), trusted=trust.trusted_keys([SIGNER.public_key()]),
        envelope=trust.sign("manifest", 1, "2027-01-01T00:00:00Z", examples.SEED_MANIFEST, [SIGNER]),
        sealed=trust.seal_retry(RETRY, "press-1-01", b"host secret"),
    )


def env():
    """The shared objects, and fresh health states (the one mutable API object)."""
    policy, state, batch = examples.cycle_time_story()
    other = fleetpath.HealthState(policy)
    other.add_device("d2", "L1", UPDATED)
    return types.SimpleNamespace(**_shared(), state=state, batch=batch, other=other)


# (name, the callable from env(), valid positional args, valid keyword args, fields of dict
# arguments to attack as well). "@x" stands for env().x.
API = [
    ("Version", lambda e: fleetpath.Version, ["6.15.008"], {}, []),
    ("VersionRange", lambda e: fleetpath.VersionRange, [">=5.0, <5.6.30"], {}, []),
    ("VersionRange.matches", lambda e: e.range.matches, ["5.6.14"], {}, []),
    ("VersionRange.__contains__", lambda e: e.range.__contains__, ["5.6.14"], {}, []),
    ("error_class", lambda e: fleetpath.error_class, ["no_path"], {}, []),
    ("UpgradeGraph.load", lambda e: fleetpath.UpgradeGraph.load, [examples.SEED_MANIFEST], {},
     [(0, "format_version"), (0, "releases", 0, "version"), (0, "edges", 0, "from_range")]),
    ("UpgradeGraph.from_json", lambda e: fleetpath.UpgradeGraph.from_json, [json.dumps(examples.SEED_MANIFEST)], {},
     []),
    ("UpgradeGraph.release", lambda e: e.graph.release, ["5.6.30"], {}, []),
    ("UpgradeGraph.latest_for", lambda e: e.graph.latest_for, ["IPM-1"], {}, []),
    ("UpgradeGraph.from_cincinnati", lambda e: fleetpath.UpgradeGraph.from_cincinnati,
     [{"nodes": [{"version": "4.8.0"}, {"version": "4.8.1"}], "edges": [[0, 1]]}], {},
     [(0, "nodes", 0, "version"), (0, "edges")]),
    ("UpgradeGraph.to_cincinnati", lambda e: e.graph.to_cincinnati, ["IPM-1"], {}, []),
    ("UpgradeGraph.resolve", lambda e: e.graph.resolve, ["5.6.14", "6.15.008"], ROUTING, []),
    ("UpgradeGraph.next_hop", lambda e: e.graph.next_hop, ["5.6.14", "6.15.008"], ROUTING, []),
    ("UpgradeGraph.rollback_route", lambda e: e.graph.rollback_route, ["6.15.008", "5.6.30"], {"model": "IPM-1"}, []),
    ("UpgradeGraph.route_table", lambda e: e.graph.route_table, ["6.15.008"], ROUTING, []),
    ("UpgradeGraph.lint_fleet", lambda e: e.graph.lint_fleet, ["@fleet"], {}, []),
    ("UpgradeGraph.to_dot", lambda e: e.graph.to_dot, ["@path"], {}, []),
    ("UpgradeGraph.to_mermaid", lambda e: e.graph.to_mermaid, ["@path"], {}, []),
    ("RouteTable.next_hop", lambda e: e.table.next_hop, ["5.6.14"], {}, []),
    ("RouteTable.resolve", lambda e: e.table.resolve, ["5.6.14"], {}, []),
    ("RouteTable.hops", lambda e: e.table.hops, ["5.6.14"], {}, []),
    ("Fleet.load", lambda e: fleetpath.Fleet.load, [examples.SEED_FLEET_CSV], {}, []),
    ("Fleet.from_csv", lambda e: fleetpath.Fleet.from_csv, [examples.SEED_FLEET_CSV], {}, []),
    ("Fleet.from_json", lambda e: fleetpath.Fleet.from_json, ["@fleet_json"], {}, []),
    ("Fleet.from_records", lambda e: fleetpath.Fleet.from_records, [[DEVICE]], {}, [(0, 0, "id"), (0, 0, "version")]),
    ("Fleet.get", lambda e: e.fleet.get, ["press-1-01"], {}, []),
    ("Fleet.origin", lambda e: e.fleet.origin, ["press-1-01"], {}, []),
    ("Fleet.check_against", lambda e: e.fleet.check_against, ["@graph"], {}, []),
    ("Calendar.load", lambda e: fleetpath.Calendar.load, [examples.SEED_CALENDAR], {}, [(0, "sites", 0, "time_zone")]),
    ("Calendar.is_open", lambda e: e.calendar.is_open, ["plant-a", "line-1", "canary", AT], {}, []),
    ("Calendar.next_window", lambda e: e.calendar.next_window, ["plant-a", "line-1", "canary", AT], {}, []),
    ("plan_rollout", lambda e: fleetpath.plan_rollout, ["@graph", "@fleet", "6.15.008", "r-1"], {"policy": None}, []),
    ("plan_prefetch", lambda e: fleetpath.plan_prefetch, ["@started", "@graph", "@availability", AT],
     {"calendar": "@calendar", "policy": None}, [(2, KEY, "state")]),
    ("Rollout.new", lambda e: fleetpath.Rollout.new, ["@plan", "@fleet", "@graph"], {"policy": None}, []),
    ("Rollout.from_json", lambda e: fleetpath.Rollout.from_json, ["@rollout_json"], {}, []),
    ("Rollout.apply", lambda e: e.started.apply, [{"type": "tick", "at": LATER}], {"calendar": "@calendar"},
     [(0, "type"), (0, "at")]),
    ("Decider", lambda e: fleetpath.Decider, ["@graph"], {"policy": None, "target": "6.15.008", "rollout": "@started",
     "calendar": "@calendar", "availability": "@availability"}, [("availability", KEY, "state")]),
    ("Decider.decide", lambda e: e.decider.decide, [REQUEST], {},
     [(0, "device"), (0, "model"), (0, "version"), (0, "at"), (0, "retry"), (0, "labels")]),
    ("Decider.decide_all", lambda e: e.decider.decide_all, [[REQUEST]], {}, [(0, 0, "version"), (0, 0, "at")]),
    ("Decider.decide_fleet", lambda e: e.decider.decide_fleet, ["@fleet", AT], {}, []),
    ("RetryPolicy", lambda e: fleetpath.RetryPolicy, [{"jitter": "none"}], {}, [(0, "jitter")]),
    ("RetryPolicy.delay_ms", lambda e: e.retry.delay_ms, ["press-1-07", 1, 0], {}, []),
    ("RetryPolicy.after_failure", lambda e: e.retry.after_failure, ["press-1-07", AT], {"state": None}, []),
    ("HealthPolicy", lambda e: fleetpath.HealthPolicy, [examples.CYCLE_TIME_POLICY], {},
     [(0, "min_samples"), (0, "rules", 0, "threshold")]),
    ("HealthPolicy.load", lambda e: fleetpath.HealthPolicy.load, [examples.CYCLE_TIME_POLICY], {}, []),
    ("HealthState", lambda e: fleetpath.HealthState, ["@health_policy"], {}, []),
    ("HealthState.from_json", lambda e: fleetpath.HealthState.from_json, ["@state_json"], {}, []),
    ("HealthState.add_device", lambda e: e.state.add_device, ["d2", "L1", UPDATED], {}, []),
    ("HealthState.add_devices", lambda e: e.state.add_devices, [[{"id": "d2", "line": "L1", "updated_at": UPDATED}]],
     {}, [(0, 0, "id"), (0, 0, "updated_at")]),
    ("HealthState.ingest", lambda e: e.state.ingest, ["@batch"], {},
     [(0, "devices"), (0, "device"), (0, "time"), (0, "metrics"), (0, "metrics", "cycle_time_ms")]),
    ("HealthState.merge", lambda e: e.state.merge, ["@other"], {}, []),
    ("HealthState.evaluate", lambda e: e.state.evaluate, ["@health_policy"], {"now": NOW}, []),
    ("HealthReport.event", lambda e: e.report.event, ["canary"], {}, []),
    ("s3.observe_head", lambda e: s3.observe_head, [HEAD, ARTIFACT],
     {"now": AT, "restore_since": "2026-11-23T07:00:00Z", "tier": "standard", "restore_times": None},
     [(0, "StorageClass"), (0, "Restore"), (0, "ContentLength"), (1, "size"), (1, "sha256")]),
    ("s3.head_fields", lambda e: s3.head_fields, [{"StorageClass": "GLACIER", "ContentLength": 42,
     "Metadata": {"sha256": "ab"}}], {}, [(0, "ContentLength"), (0, "Metadata")]),
    ("s3.restore_request", lambda e: s3.restore_request, ["deep_archive", "bulk", 7], {}, []),
    ("Decider.decide+record", lambda e: e.decider.decide, [REQUEST], {"record": RECORD},
     [("record", "model"), ("record", "version"), ("record", "issued")]),
    ("trust.SigningKey", lambda e: trust.SigningKey, ["@key_file"], {}, [(0, "keyval")]),
    ("trust.SigningKey.from_seed", lambda e: trust.SigningKey.from_seed, [bytes(32)], {}, []),
    ("trust.trusted_keys", lambda e: trust.trusted_keys, [[SIGNER.public_key()]], {"threshold": 1}, [(0, 0, "keyval")]),
    ("trust.sign", lambda e: trust.sign, ["manifest", 1, "2027-01-01T00:00:00Z", {"format_version": 1}, [SIGNER]],
     {}, []),
    ("trust.verify", lambda e: trust.verify, ["@envelope", "manifest", "@trusted"],
     {"now": AT, "last_accepted": 0}, [(0, "signed"), (0, "signatures"), (2, "threshold")]),
    ("trust.verify_signatures", lambda e: trust.verify_signatures, ["@envelope", "@trusted"], {}, [(0, "signatures")]),
    ("trust.seal_retry", lambda e: trust.seal_retry, [RETRY, "press-1-01", b"host secret"], {}, [(0, "attempts")]),
    ("trust.open_retry", lambda e: trust.open_retry, ["@sealed", "press-1-01", b"host secret"], {}, [(0, "mac")]),
]

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80


def short(value, limit=80):
    try:
        text = _REPR.repr(value)
    except BaseException:  # a repr that raises is part of the barrage, not of the report
        text = f"<{type(value).__name__}>"
    return text[:limit]


def check(fn, *args, _label=None, **kwargs):
    """Calls `fn`; returns normally, or asserts that what it raised is a proper FleetpathError."""
    where = _label or getattr(fn, "__qualname__", short(fn))
    try:
        fn(*args, **kwargs)
    except KeyboardInterrupt:
        raise
    except CallerError:
        return  # the caller's own exception, propagated unchanged (see CallerError)
    except BaseException as err:  # BaseException: pyo3's PanicException is not an Exception
        what = f"{where} raised {type(err).__name__}: {short(err, 200)}"
        assert isinstance(err, fleetpath.FleetpathError), what
        code = getattr(err, "code", None)
        assert isinstance(code, str) and code and code in CODES, f"{what} (code {code!r} not in ERROR_CODES)"
        assert isinstance(getattr(err, "fields", None), dict), f"{what} (fields is not a dict)"


def _slots(entry):
    _name, _target, args, kwargs, fields = entry
    return [(i,) for i in range(len(args))] + [(k,) for k in kwargs] + [tuple(f) for f in fields]


def _call_args(e, args, kwargs, slot=None, value=None):
    """The entry's valid arguments (placeholders resolved), with `value` at `slot`."""
    def resolve(v):
        return getattr(e, v[1:]) if isinstance(v, str) and v.startswith("@") else v

    args, kwargs = [resolve(a) for a in args], {k: resolve(v) for k, v in kwargs.items()}
    if slot is None:
        return args, kwargs
    holder, key = (args, slot[0]) if isinstance(slot[0], int) else (kwargs, slot[0])
    for step in slot[1:]:
        holder[key] = type(holder[key])(holder[key])  # copy along the path: the tables stay intact
        holder, key = holder[key], step
    if value is ABSENT:
        holder.pop(key, None)  # a field the valid document may lack ("retry")
    else:
        holder[key] = value
    return args, kwargs


CASES = [
    pytest.param(entry, slot, make, id=f"{entry[0]}[{'.'.join(map(str, slot))}]-{vname}")
    for entry in API
    for slot in _slots(entry)
    for vname, make in VALUES + ([("absent", lambda: ABSENT)] if len(slot) > 1 else [])
]


def test_fleetpath_error_is_an_exception():
    assert issubclass(fleetpath.FleetpathError, Exception)
    assert all(issubclass(cls, fleetpath.FleetpathError) for cls in fleetpath.ERROR_CLASSES.values())
    assert CODES and all(isinstance(c, str) and c for c in CODES)


@pytest.mark.parametrize("entry", API, ids=[entry[0] for entry in API])
def test_valid_arguments_are_valid(entry):
    """The baseline each adversarial case starts from works, so a failure below is the value's."""
    e = env()
    args, kwargs = _call_args(e, entry[2], entry[3])
    entry[1](e)(*args, **kwargs)


@pytest.mark.parametrize("entry, slot, make", CASES)
def test_adversarial_argument(entry, slot, make):
    e, value = env(), make()
    args, kwargs = _call_args(e, entry[2], entry[3], slot, value)
    where = f"{entry[0]} argument {'.'.join(map(str, slot))} = {short(value)}"
    check(entry[1](e), *args, _label=where, **kwargs)


# Whole sample batches that are wrong in shape (missing keys: the "absent" cases above).
BAD_BATCHES = [
    ("unknown_key", lambda b: {**b, "extra": [1]}),
    ("empty_batch", lambda b: {}),
    ("time_shorter", lambda b: {**b, "time": b["time"][:-1]}),
    ("device_longer", lambda b: {**b, "device": b["device"] + [0]}),
    ("metric_shorter", lambda b: {**b, "metrics": {"cycle_time_ms": [1.0]}}),
    ("str_in_time", lambda b: {**b, "time": [str(t) for t in b["time"]]}),
    ("float_in_time", lambda b: {**b, "time": [t + 0.5 for t in b["time"]]}),
    ("str_in_metric", lambda b: {**b, "metrics": {"cycle_time_ms": ["fast"] * 16}}),
    ("str_in_device", lambda b: {**b, "device": ["0"] * 16}),
    ("device_index_out_of_range", lambda b: {**b, "device": [7] * 16}),
    ("negative_device_index", lambda b: {**b, "device": [-1] * 16}),
    ("devices_is_str", lambda b: {**b, "devices": "d1"}),
    ("metric_column_len_2_pow_40", lambda b: {**b, "metrics": {"cycle_time_ms": HugeLen()}}),
    ("unknown_metric", lambda b: {**b, "metrics": {"no_such_metric": [1.0] * 16}}),
    ("int_metric_name", lambda b: {**b, "metrics": {3: [1.0] * 16}}),
    ("surrogate_metric_name", lambda b: {**b, "metrics": {"\ud800": [1.0] * 16}}),
]


@pytest.mark.parametrize("make", [m for _, m in BAD_BATCHES], ids=[n for n, _ in BAD_BATCHES])
def test_health_ingest_malformed_batch(make):
    e = env()
    batch = make(e.batch)
    check(e.state.ingest, batch, _label=f"HealthState.ingest argument 0 = {short(batch)}")


def test_zz_interpreter_survives_and_still_works():
    """Last in the file: after the barrage the process is alive and gives the right answers."""
    gc.collect()
    graph = examples.seed_graph()
    assert graph.resolve("v5.6.14", "6.15.008", model="IPM-1").versions() == ("5.6.14", "5.6.30", "6.15.008")
    answers = fleetpath.Decider(graph).decide_fleet(examples.seed_fleet(), AT)
    assert [a.step.to if a.kind == "download" else a.kind for a in answers] == [
        "5.6.30", "5.6.30", "6.15.008", "5.6.30", "6.15.008", "up_to_date"]
    policy, state, batch = examples.cycle_time_story()
    assert state.ingest(batch).observation == 8
    assert state.evaluate(policy, now=NOW).status == "breach"
