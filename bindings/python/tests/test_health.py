"""Health summaries and verdicts: the shared vectors (testdata/health.json), every input form
(lists, numpy arrays, array.array, memoryview, JSON) giving identical summaries, datetimes,
in-place reads of buffers, and the errors."""

import array
import datetime as dt
import json
import math
import pickle
import subprocess
import sys

import pytest

import fleetpath
from conftest import vectors

try:
    import numpy as np
except ImportError:  # the package must work without it; the array tests then skip
    np = None

HEALTH = vectors("health")
needs_numpy = pytest.mark.skipif(np is None, reason="numpy not installed")


def text_of(value):
    return value if isinstance(value, str) else json.dumps(value)


def state_for(case, policy):
    state = fleetpath.HealthState(policy)
    state.add_devices(case.get("devices", []))
    return state


def batch_forms(batch):
    """The vector's batch in every input form the package accepts, all the same rows."""
    yield "dict of lists", batch
    yield "JSON text", json.dumps(batch)
    yield "JSON bytes", json.dumps(batch).encode()
    metrics_nan = {k: [math.nan if v is None else v for v in col] for k, col in batch["metrics"].items()}
    yield "array.array", {
        "devices": batch["devices"],
        "device": array.array("I", batch["device"]),
        "time": array.array("q", batch["time"]),
        "metrics": {k: array.array("d", col) for k, col in metrics_nan.items()},
    }
    yield "memoryview", {
        "devices": batch["devices"],
        "device": memoryview(array.array("I", batch["device"])),
        "time": memoryview(array.array("q", batch["time"])),
        "metrics": {k: memoryview(array.array("d", col)) for k, col in metrics_nan.items()},
    }
    yield "tuples and generators", {
        "devices": tuple(batch["devices"]),
        "device": tuple(batch["device"]),
        "time": (t for t in batch["time"]),
        "metrics": {k: tuple(col) for k, col in batch["metrics"].items()},
    }
    if np is not None:
        yield "numpy native dtypes", {
            "devices": batch["devices"],
            "device": np.array(batch["device"], dtype=np.uint32),
            "time": np.array(batch["time"], dtype=np.int64),
            "metrics": {k: np.array(col, dtype=np.float64) for k, col in metrics_nan.items()},
        }
        yield "numpy other dtypes and datetime64", {
            "devices": batch["devices"],
            "device": np.array(batch["device"], dtype=np.int64),
            "time": np.array(batch["time"], dtype="datetime64[s]").astype("datetime64[ms]"),
            "metrics": {k: np.array(col, dtype=np.float64)[::-1].copy()[::-1] for k, col in metrics_nan.items()},
        }


def check_report(name, report, ingest, expect):
    got = report.to_dict()
    assert got["status"] == expect["status"], (name, str(report))
    if "summary" in expect:
        assert got["summary"] == expect["summary"], name
    if "ingest" in expect:
        assert ingest.to_dict() == expect["ingest"], name
    for want in expect.get("findings", []):
        found = [f for f in got["findings"] if f["rule"] == want["rule"] and f["scope"] == want["scope"]]
        assert found, (name, want, str(report))
        for key, value in want.items():
            if isinstance(value, float):
                assert abs(found[0][key] - value) <= 1e-9, (name, key)
            else:
                assert found[0].get(key) == value, (name, key, found[0].get(key))


@pytest.mark.parametrize("case", HEALTH["cases"], ids=lambda c: c["name"])
def test_health_vectors_in_every_input_form(case):
    policy = fleetpath.HealthPolicy(text_of(case["policy"]))
    now = case["now"]
    states = {}
    for form, batch in batch_forms(case["batch"]):
        state = state_for(case, policy)
        ingest = state.ingest(batch)
        report = state.evaluate(policy, now=now)
        check_report(f'{case["name"]} ({form})', report, ingest, case["expect"])
        states[form] = state.to_json()
        # The report survives JSON and pickling; its event feeds the rollout machine.
        assert fleetpath.HealthReport(json.loads(report.to_json()), str(report)) == report
        assert pickle.loads(pickle.dumps(report)) == report
        event = report.event("canary")
        assert (event["type"], event["stage"], event["verdict"]["verdict"]) == (
            "health_verdict", "canary", {"healthy": "healthy", "breach": "breach", "inconclusive": "inconclusive"}[report.status])
        assert report.verdict() == event["verdict"]
        assert str(report).splitlines()[0] == report.summary
    # Identical summaries, bit for bit, whatever the input form.
    first = next(iter(states.values()))
    assert all(s == first for s in states.values()), [k for k, s in states.items() if s != first]
    # A stored state reads back and evaluates the same.
    back = fleetpath.HealthState.from_json(first)
    assert back.to_json() == first
    assert back.evaluate(policy, now=now) == report


def run_error(case):
    op = case["op"]
    policy = lambda: fleetpath.HealthPolicy(text_of(case["policy"]))  # noqa: E731
    if op == "policy":
        fleetpath.HealthPolicy(text_of(case["policy"]))
    elif op == "batch":
        state = fleetpath.HealthState()
        state.ingest(case["batch"])
    elif op == "add_devices":
        state_for(case, policy())
    elif op == "ingest":
        state = state_for(case, policy())
        before = state.to_json()
        try:
            state.ingest(case["batch"])
        finally:
            assert state.to_json() == before, "a refused batch leaves the state unchanged"
    elif op == "merge":
        a, b = state_for(case, policy()), state_for(case, policy())
        a.ingest(case["batches"][0])
        b.ingest(case["batches"][1])
        before = a.to_json()
        try:
            a.merge(b)
        finally:
            assert a.to_json() == before
    elif op == "evaluate":
        state = state_for(case, policy())
        state.evaluate(fleetpath.HealthPolicy(text_of(case["evaluate_policy"])), now="1970-01-01T00:00:00Z")
    else:
        raise AssertionError(op)


@pytest.mark.parametrize("case", HEALTH["errors"], ids=lambda c: f'{c["op"]}-{c["code"]}')
def test_health_errors(case):
    with pytest.raises(fleetpath.FleetpathError) as excinfo:
        run_error(case)
    err = excinfo.value
    assert type(err) is fleetpath.error_class(case["code"])
    assert isinstance(err, ValueError)
    assert (err.code, str(err)) == (case["code"], case["message"])
    for key, want in case.get("fields", {}).items():
        assert err.fields[key] == want


def test_batch_errors_are_the_same_from_columns_and_from_json():
    for case in HEALTH["errors"]:
        if case["op"] != "batch":
            continue
        for batch in (case["batch"], json.dumps(case["batch"])):
            with pytest.raises(fleetpath.FleetpathError) as excinfo:
                fleetpath.HealthState().ingest(batch)
            assert (excinfo.value.code, str(excinfo.value)) == (case["code"], case["message"])


def test_bad_columns_are_typed_errors_naming_the_column_and_row():
    state = fleetpath.HealthState()
    base = {"devices": ["d1"], "device": [0, 0], "time": [1795000000, 1795000060]}
    cases = [
        ({**base, "metrics": {"cycle_time_ms": [1.0, "fast"]}}, "metrics[\"cycle_time_ms\"][1]: expected a number, got 'fast'"),
        ({**base, "time": [1795000000, None]}, "time[1]: expected unix seconds or an aware datetime, got None"),
        ({**base, "device": [0, -1]}, "device[1]: expected a device index (0 to 4294967295), got -1"),
        ({**base, "metrics": {"cycle_time_ms": "12"}}, 'metrics["cycle_time_ms"]: expected a column of numbers, got str'),
        ({**base, "metrics": {"cycle_time_ms": 12}}, 'metrics["cycle_time_ms"]: expected a column of numbers, got int'),
        ({**base, "devices": "d1"}, "devices: expected a list of device ids, got str"),
        # Keys are checked as the JSON form's are: the same invalid_json error.
        ({**base, "rows": []}, "invalid sample batch JSON (rows): unknown field `rows`"),
        ({"devices": ["d1"], "device": [0]}, "invalid sample batch JSON: missing field `time`"),
    ]
    for batch, message in cases:
        with pytest.raises(fleetpath.InputError) as excinfo:
            state.ingest(batch)
        assert message in str(excinfo.value), (str(excinfo.value), message)
        assert isinstance(excinfo.value, ValueError)
    assert len(state) == 0


@needs_numpy
def test_bad_arrays_are_refused_not_wrapped():
    state = fleetpath.HealthState()
    state.add_device("d1", "L1", "2026-11-18T11:06:40Z")
    base = {"devices": ["d1"], "time": np.array([1795000000, 1795000060])}
    with pytest.raises(fleetpath.InvalidInputError, match=r"device\[1\]: expected a device index \(0 to 4294967295\)"):
        state.ingest({**base, "device": np.array([0, -1])})
    with pytest.raises(fleetpath.InvalidInputError, match="one-dimensional"):
        state.ingest({**base, "device": np.zeros((2, 1), dtype=np.uint32)})
    with pytest.raises(fleetpath.InvalidInputError, match="expected a number"):
        state.ingest({**base, "device": np.zeros(2, dtype=np.uint32), "metrics": {"cpu_percent": np.array(["a", "b"])}})


def test_buffers_are_read_in_place_by_the_311_build():
    values = array.array("d", [1.0, 2.0, 3.0])
    address = values.buffer_info()[0]
    read_at = fleetpath._native._column_address(values)
    if fleetpath.BUFFER_PROTOCOL:
        assert read_at == address
        if np is not None:
            arr = np.arange(1000, dtype=np.float64)
            assert fleetpath._native._column_address(arr) == arr.__array_interface__["data"][0]
    else:
        assert read_at != address  # copied once
    # A buffer of another item type is converted, not misread.
    half = array.array("f", [1.5])
    assert fleetpath._native._column_address(half) != half.buffer_info()[0]


def test_datetimes_as_times_and_naive_ones_refused():
    updated = dt.datetime(2026, 11, 18, 11, 6, 40, tzinfo=dt.timezone.utc)
    policy = fleetpath.HealthPolicy({"baseline_hours": 1, "min_samples": 2})
    a, b = fleetpath.HealthState(policy), fleetpath.HealthState(policy)
    for s in (a, b):
        s.add_device("d1", "L1", updated)
    minutes = list(range(-10, 10))
    a.ingest({"devices": ["d1"], "device": [0] * 20, "time": [updated + dt.timedelta(minutes=m) for m in minutes],
              "metrics": {"cpu_percent": [float(m) for m in minutes]}})
    b.ingest({"devices": ["d1"], "device": [0] * 20, "time": [int(updated.timestamp()) + 60 * m for m in minutes],
              "metrics": {"cpu_percent": [float(m) for m in minutes]}})
    assert a == b
    with pytest.raises(fleetpath.NaiveDatetimeError):
        a.ingest({"devices": ["d1"], "device": [0], "time": [dt.datetime(2026, 11, 18)], "metrics": {}})
    with pytest.raises(fleetpath.NaiveDatetimeError):
        a.add_device("d2", "L1", dt.datetime(2026, 11, 18))
    with pytest.raises(fleetpath.NaiveDatetimeError):
        a.evaluate(policy, now=dt.datetime(2026, 11, 18))
    report = a.evaluate(policy, now=updated + dt.timedelta(hours=2))
    assert report.evaluated_at == "2026-11-18T13:06:40Z"


def test_states_merge_by_device_and_store_as_json():
    policy = fleetpath.HealthPolicy({"baseline_hours": 1, "min_samples": 2})
    t0 = 1795000000
    rows = {"d1": "L1", "d2": "L2"}

    def batch(ids):
        devices = list(ids)
        return {"devices": devices, "device": [i for i in range(len(devices)) for _ in range(20)],
                "time": [t0 + 60 * m for _ in devices for m in range(-10, 10)],
                "metrics": {"cycle_time_ms": [800.0 + m for _ in devices for m in range(-10, 10)]}}

    whole = fleetpath.HealthState(policy)
    parts = [fleetpath.HealthState(policy), fleetpath.HealthState(policy)]
    for d, line in rows.items():
        whole.add_device(d, line, "2026-11-18T11:06:40Z")
    for part, d in zip(parts, rows):
        part.add_device(d, rows[d], "2026-11-18T11:06:40Z")
        part.ingest(batch([d]))
    whole.ingest(batch(rows))
    parts[0].merge(parts[1])
    assert parts[0] == whole and len(whole) == 2
    assert set(whole.devices) == {"d1", "d2"}
    assert whole.devices["d2"].line == "L2"
    assert whole.devices["d1"].observation["cycle_time_ms"]["moments"]["count"] == 10
    assert {m.name for m in whole.metrics} >= {"cycle_time_ms", "mqtt_connected", "component_crashes"}
    assert fleetpath.HealthState.from_json(whole.to_json()) == whole
    assert repr(whole) == "HealthState(devices=2)"
    other = fleetpath.HealthState(fleetpath.HealthPolicy({"baseline_hours": 2}))
    with pytest.raises(fleetpath.PolicyMismatchError):
        whole.merge(other)


def test_policy_forms_and_defaults():
    seed = fleetpath.HealthPolicy()
    assert seed == fleetpath.HealthPolicy(seed.to_json()) == fleetpath.HealthPolicy.load(seed.to_dict())
    assert seed.to_dict()["monitoring_hours"] == 24
    assert "component_crash" in repr(seed)
    with pytest.raises(fleetpath.InvalidJsonError, match="z_critcal"):
        fleetpath.HealthPolicy({"z_critcal": 3})
    with pytest.raises(fleetpath.InvalidInputError):
        fleetpath.HealthState("not a policy")


def test_the_package_works_without_numpy():
    code = (
        "import sys; sys.modules['numpy'] = None\n"  # importing numpy now fails
        "import fleetpath\n"
        "s = fleetpath.HealthState(); s.add_device('d1', 'L1', '2026-11-18T11:06:40Z')\n"
        "r = s.ingest({'devices': ['d1'], 'device': [0], 'time': [1795000000], 'metrics': {'cpu_percent': [3.0]}})\n"
        "assert r.observation == 1, r\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok", out.stderr
