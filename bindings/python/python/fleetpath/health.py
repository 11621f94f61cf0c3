"""Health gates: per-device summaries before and after an update, compared under a policy.

The seed's plant samples every device every minute (MQTT connection, crashes, cycle time,
errors, CPU, memory, units, quality) and compares each stage with its own 7 days before the
update. `HealthState` keeps the summaries between runs (store its JSON), `ingest` adds
samples, `evaluate` gives a `HealthReport` whose `event(stage)` feeds `Rollout.apply`.

Sample columns may be lists, numpy arrays (numpy stays optional) or any object with the
buffer protocol (`array.array`, `memoryview`). Columns whose type is already the native one
(float64 values, int64 unix seconds, uint32 device indices), one-dimensional and contiguous,
are read in place by the Python 3.11+ build (`fleetpath.BUFFER_PROTOCOL`); the Python 3.9
build copies them once, in C. Others are converted. The summaries are the same either way.

>>> import fleetpath, datetime as dt
>>> policy = fleetpath.HealthPolicy({"baseline_hours": 1, "monitoring_hours": 1, "min_samples": 3,
...     "rules": [{"check": "compare", "name": "cycle_time", "metric": "cycle_time_ms",
...                "statistic": "mean", "change": "relative", "threshold": 0.1}]})
>>> state = fleetpath.HealthState(policy)
>>> updated = dt.datetime(2026, 11, 23, 14, 0, tzinfo=dt.timezone.utc)
>>> state.add_device("press-1-01", line="L1", updated_at=updated)
>>> t0 = int(updated.timestamp())
>>> minutes = range(-60, 65)
>>> state.ingest({"devices": ["press-1-01"], "device": [0] * len(minutes),
...               "time": [t0 + 60 * m for m in minutes],
...               "metrics": {"cycle_time_ms": [800.0 + m % 3 if m < 0 else 905.0 + m % 3 for m in minutes]}}).observation
65
>>> report = state.evaluate(policy, now=updated + dt.timedelta(hours=1, minutes=5))
>>> report.status, report.summary.split(" (")[0]
('breach', 'breach: cycle_time on stage: mean cycle_time_ms 801 -> 906')
>>> report.event("canary")["verdict"]["verdict"]
'breach'
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Union

from . import _native
from ._records import Field, Record

When = Union[_dt.datetime, str]


class HealthPolicy:
    """Health rules, scopes, windows and statistical settings. `HealthPolicy()` is the seed's
    (7-day baseline, 24 h monitoring; connection failures > 2 points, cycle time > 10 %
    worse, errors > 5 % up, any crash, memory leaks); pass a document (path, JSON text,
    bytes or dict) for another. Unknown fields are refused.

    >>> import fleetpath
    >>> fleetpath.HealthPolicy().to_dict()["baseline_hours"]
    168
    >>> [r["name"] for r in fleetpath.HealthPolicy().to_dict()["rules"]]
    ['connection_failures', 'cycle_time', 'error_rate', 'component_crash', 'memory_leak']
    """

    __slots__ = ("_native",)

    def __init__(self, source: Any = None) -> None:
        if isinstance(source, _native.HealthPolicy):
            self._native = source
        elif source is None:
            self._native = _native.HealthPolicy.default()
        else:
            self._native = _native.HealthPolicy.load(source)

    @classmethod
    def load(cls, source: Any) -> "HealthPolicy":
        """From a path, JSON text, bytes or a dict.

        >>> import fleetpath
        >>> fleetpath.HealthPolicy.load('{"monitoring_hours": 12}').to_dict()["monitoring_hours"]
        12
        """
        return cls(source)

    def to_json(self) -> str:
        """The policy with every default filled in.

        >>> import fleetpath, json
        >>> json.loads(fleetpath.HealthPolicy({"min_samples": 5}).to_json())["z_critical"]
        3.0
        """
        return self._native.to_json()

    def to_dict(self) -> Dict[str, Any]:
        """The policy as the Rust core serializes it.

        >>> import fleetpath
        >>> fleetpath.HealthPolicy().to_dict()["scopes"]
        ['stage', 'line']
        """
        return dict(self._native.to_dict())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HealthPolicy) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        rules = [r["name"] for r in self.to_dict()["rules"]]
        return f"HealthPolicy(rules={rules!r})"


class IngestReport(Record):
    """What `ingest` did with each row: `rows`, `baseline`, `observation`, `before_baseline`,
    `unknown_device`, `duplicates` (every row counted once) and `unknown_devices`.

    >>> import fleetpath
    >>> policy, state, batch = fleetpath.examples.cycle_time_story()
    >>> state.ingest({"devices": ["d1", "d9"], "device": [0, 1], "time": [1795000000, 1795000000],
    ...               "metrics": {"cycle_time_ms": [100.0, 90.0]}})
    IngestReport(rows=2, baseline=0, observation=1, before_baseline=0, unknown_device=1, duplicates=0, unknown_devices=('d9',))
    """

    __slots__ = ()
    rows: "Field[int]" = Field("rows")
    baseline: "Field[int]" = Field("baseline")
    observation: "Field[int]" = Field("observation")
    before_baseline: "Field[int]" = Field("before_baseline")
    unknown_device: "Field[int]" = Field("unknown_device")
    duplicates: "Field[int]" = Field("duplicates")
    unknown_devices: "Field[Tuple[str, ...]]" = Field("unknown_devices")


class Finding(Record):
    """One rule in one scope: `rule`, `scope`, `outcome`, `reason`, `statistic`, `baseline`,
    `observed`, `change`, `threshold`, sample counts, `z`, contributing devices, `message`.

    >>> import fleetpath
    >>> policy, state, batch = fleetpath.examples.cycle_time_story()
    >>> _ = state.ingest(batch)
    >>> finding = state.evaluate(policy, now="2026-11-18T13:06:40Z").findings[0]
    >>> finding.rule, finding.scope, finding.outcome, finding.baseline, finding.observed
    ('cycle_time', 'stage', 'breach', 100.0, 112.0)
    """

    __slots__ = ()
    rule: "Field[str]" = Field("rule")
    metric: "Field[str]" = Field("metric")
    scope: "Field[Any]" = Field("scope")
    outcome: "Field[str]" = Field("outcome")
    baseline: "Field[Optional[float]]" = Field("baseline", default=None)
    observed: "Field[Optional[float]]" = Field("observed", default=None)
    change: "Field[Optional[float]]" = Field("change", default=None)
    threshold: "Field[Optional[float]]" = Field("threshold", default=None)
    z: "Field[Optional[float]]" = Field("z", default=None)
    message: "Field[str]" = Field("message")


class HealthReport(Record):
    """The result of `HealthState.evaluate`: `status` (`healthy`, `breach`, `inconclusive`;
    never healthy for lack of data), `summary`, `evaluated_at`, `observed_hours`, `devices`
    and `findings`. `str(report)` is the readable report.

    >>> import fleetpath
    >>> policy, state, batch = fleetpath.examples.cycle_time_story()
    >>> _ = state.ingest(batch)
    >>> report = state.evaluate(policy, now="2026-11-18T13:06:40Z")
    >>> report.status, report.devices, str(report).splitlines()[0][:46]
    ('breach', 1, 'breach: cycle_time on stage: mean cycle_time_m')
    """

    __slots__ = ("_text",)
    status: "Field[str]" = Field("status")
    summary: "Field[str]" = Field("summary")
    evaluated_at: "Field[str]" = Field("evaluated_at")
    observed_hours: "Field[float]" = Field("observed_hours")
    devices: "Field[int]" = Field("devices")

    def __init__(self, data: Dict[str, Any], text: str = "") -> None:
        super().__init__(data)
        object.__setattr__(self, "_text", text)

    @property
    def findings(self) -> Tuple[Finding, ...]:
        """Every finding, rule by rule in policy order: the stage, then lines, then devices.

        >>> import fleetpath
        >>> policy, state, batch = fleetpath.examples.cycle_time_story()
        >>> report = state.evaluate(policy, now="2026-11-18T13:06:40Z")
        >>> sorted({(f.rule, f.outcome) for f in report.findings})[:2]
        [('cycle_time', 'inconclusive')]
        """
        return tuple(Finding(f) for f in object.__getattribute__(self, "_data")["findings"])

    def problems(self) -> Tuple[Finding, ...]:
        """The findings that are not a pass.

        >>> import fleetpath
        >>> policy, state, batch = fleetpath.examples.cycle_time_story()
        >>> _ = state.ingest(batch)
        >>> [(f.rule, f.scope) for f in state.evaluate(policy, now="2026-11-18T13:06:40Z").problems()][:2]
        [('cycle_time', 'stage'), ('cycle_time', Record(line='L1'))]
        """
        findings = self.findings
        return tuple(findings[i] for i in object.__getattribute__(self, "_data")["problems"])

    def verdict(self) -> Dict[str, Any]:
        """The verdict for the rollout state machine (`{"verdict": "breach", "detail": …}`).

        >>> import fleetpath
        >>> policy, state, batch = fleetpath.examples.cycle_time_story()
        >>> state.evaluate(policy, now="2026-11-18T13:06:40Z").verdict()["verdict"]
        'inconclusive'
        """
        return dict(self.event("_")["verdict"])

    def event(self, stage: str) -> Dict[str, Any]:
        """The `health_verdict` event for `stage`, covering the observation so far: pass it
        to `Rollout.apply`.

        >>> import fleetpath
        >>> policy, state, batch = fleetpath.examples.cycle_time_story()
        >>> event = state.evaluate(policy, now="2026-11-18T13:06:40Z").event("canary")
        >>> event["type"], event["stage"], event["from"], event["to"]
        ('health_verdict', 'canary', '2026-11-18T11:06:40Z', '2026-11-18T13:06:40Z')
        """
        return dict(_native.health_event(self, stage))

    def __str__(self) -> str:
        return str(object.__getattribute__(self, "_text"))

    def __reduce__(self) -> Any:
        return (type(self), (self.to_dict(), str(self)))


class HealthState:
    """Per device and metric, mergeable summaries of the baseline (the `baseline_hours`
    before the device's update) and the observation (since it). Store `to_json()` between
    runs; states of different devices or consecutive time ranges `merge` into the state one
    run would have built. `ingest` and `merge` change the state only when they succeed.

    >>> import fleetpath
    >>> policy, state, batch = fleetpath.examples.cycle_time_story()
    >>> state, len(state)
    (HealthState(devices=1), 1)
    """

    __slots__ = ("_native",)

    def __init__(self, policy: Optional[HealthPolicy] = None) -> None:
        self._native = _native.HealthState(policy)

    @classmethod
    def from_json(cls, text: Union[str, bytes]) -> "HealthState":
        """A stored state (what `to_json` gave).

        >>> import fleetpath
        >>> policy, state, batch = fleetpath.examples.cycle_time_story()
        >>> fleetpath.HealthState.from_json(state.to_json()) == state
        True
        """
        state = cls.__new__(cls)
        state._native = _native.HealthState.load(text)
        return state

    def to_json(self) -> str:
        """The state to store between runs (floats round-trip exactly).

        >>> import fleetpath
        >>> policy, state, batch = fleetpath.examples.cycle_time_story()
        >>> import json
        >>> list(json.loads(state.to_json())["devices"])
        ['d1']
        """
        return self._native.to_json()

    def to_dict(self) -> Dict[str, Any]:
        """The state as the Rust core serializes it.

        >>> import fleetpath
        >>> policy, state, batch = fleetpath.examples.cycle_time_story()
        >>> state.to_dict()["devices"]["d1"]["line"]
        'L1'
        """
        return dict(self._native.to_dict())

    def add_device(self, id: str, line: str, updated_at: When) -> None:
        """Starts following a device updated at `updated_at` (an aware datetime). Adding it
        again with the same line and time does nothing; another line or time is refused.

        >>> import fleetpath
        >>> policy, state, batch = fleetpath.examples.cycle_time_story()
        >>> state.add_device("d1", "L2", "2026-11-18T11:06:40Z")
        Traceback (most recent call last):
        fleetpath.errors.ConflictingDeviceError: device "d1": line "L2" differs from "L1"
        """
        self._native.add_device(id, line, updated_at)

    def add_devices(self, devices: Iterable[Mapping[str, Any]]) -> None:
        """`add_device` for each `{"id", "line", "updated_at"}`.

        >>> import fleetpath
        >>> state = fleetpath.HealthState()
        >>> state.add_devices([{"id": "d1", "line": "L1", "updated_at": "2026-11-18T11:06:40Z"},
        ...                    {"id": "d2", "line": "L2", "updated_at": "2026-11-18T11:10:00Z"}])
        >>> len(state)
        2
        """
        self._native.add_devices(devices)

    @property
    def devices(self) -> Dict[str, Record]:
        """Each followed device's summaries, by id: `line`, `updated_at`, `baseline` and
        `observation` (per metric: moments, sketch, counter, trend).

        >>> import fleetpath
        >>> policy, state, batch = fleetpath.examples.cycle_time_story()
        >>> _ = state.ingest(batch)
        >>> state.devices["d1"].observation["cycle_time_ms"]["moments"]["mean"]
        112.0
        """
        return {k: Record(v) for k, v in self._native.devices().items()}

    @property
    def metrics(self) -> Tuple[Record, ...]:
        """The metrics it summarises: `name`, `kind`, `direction`.

        >>> import fleetpath
        >>> [(m.name, m.kind) for m in fleetpath.HealthState().metrics][:2]
        [('mqtt_connected', 'ratio'), ('component_crashes', 'counter')]
        """
        return tuple(Record(m) for m in self._native.metrics())

    def __len__(self) -> int:
        return len(self._native)

    def ingest(self, batch: Any) -> IngestReport:
        """Adds samples: a dict of columns `{"devices": [ids], "device": [index per row],
        "time": [unix seconds per row], "metrics": {name: [value per row]}}` (lists, numpy
        arrays or buffers; `None`/NaN is a missing value; `time` may also hold aware
        datetimes or numpy datetime64), or the same document as JSON text, bytes or a path.
        Row order does not matter.

        >>> import fleetpath
        >>> policy, state, batch = fleetpath.examples.cycle_time_story()
        >>> state.ingest(batch).observation
        8
        >>> import array  # any buffer: numpy arrays, array.array, memoryview
        >>> state.ingest({"devices": ["d1"], "device": array.array("I", [0]), "time": array.array("q", [1795003600]),
        ...               "metrics": {"cycle_time_ms": array.array("d", [111.0])}}).observation
        1
        """
        return IngestReport(self._native.ingest(batch))

    def merge(self, other: "HealthState") -> None:
        """Adds another state's summaries (other devices, or other times of the same ones).

        >>> import fleetpath
        >>> a, b = fleetpath.HealthState(), fleetpath.HealthState()
        >>> a.add_device("d1", "L1", "2026-11-18T11:06:40Z")
        >>> b.add_device("d2", "L1", "2026-11-18T11:06:40Z")
        >>> a.merge(b)
        >>> sorted(a.devices)
        ['d1', 'd2']
        """
        self._native.merge(other)

    def evaluate(self, policy: Optional[HealthPolicy] = None, *, now: When) -> HealthReport:
        """Compares each scope's observation with its baseline under `policy` at `now`.

        >>> import fleetpath
        >>> policy, state, batch = fleetpath.examples.cycle_time_story()
        >>> _ = state.ingest(batch)
        >>> state.evaluate(policy, now="2026-11-18T13:06:40Z").status
        'breach'
        """
        data, text = self._native.evaluate(policy, now)
        return HealthReport(data, text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HealthState) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"HealthState(devices={len(self)})"


__all__ = ["HealthPolicy", "HealthState", "HealthReport", "Finding", "IngestReport"]
