"""Frozen result objects over the core's JSON form.

Every result the core returns (a path, a decision, a plan…) arrives as the Python objects of
its serde JSON. `Record` wraps such a dict: attributes read its fields (nested dicts become
records, lists become tuples), nothing can be assigned, `repr()` shows the fields, and
`to_dict()` gives back exactly the JSON the Rust core serializes.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, Generic, Iterator, Optional, Tuple, TypeVar, overload

T = TypeVar("T")
_ABSENT = object()


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return Record(value)
    if isinstance(value, list):
        return tuple(_wrap(v) for v in value)
    return value


class Record:
    """A frozen view of one JSON object of the core's results.

    >>> r = Record({"from": "5.6.14", "to": "5.6.30", "artifact": {"key": "fw.bin"}})
    >>> r.to, r.from_, r.artifact.key
    ('5.6.30', '5.6.14', 'fw.bin')
    >>> r.to_dict()["from"]
    '5.6.14'
    """

    __slots__ = ("_data",)

    def __init__(self, data: Dict[str, Any]) -> None:
        if not isinstance(data, dict):
            raise TypeError(f"{type(self).__name__} wraps a dict, not {type(data).__name__}")
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str) -> Any:
        data = object.__getattribute__(self, "_data")
        if name not in data and name.endswith("_") and name[:-1] in data:
            name = name[:-1]  # `from_` reads the field `from` (a Python keyword)
        try:
            return _wrap(data[name])
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}") from None

    def __getitem__(self, name: str) -> Any:
        return _wrap(object.__getattribute__(self, "_data")[name])

    def __contains__(self, name: object) -> bool:
        return name in object.__getattribute__(self, "_data")

    def __iter__(self) -> Iterator[Tuple[str, Any]]:
        for key, value in object.__getattribute__(self, "_data").items():
            yield key, _wrap(value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def to_dict(self) -> Dict[str, Any]:
        """The JSON object, as the Rust core serializes it (a deep copy).

        >>> Record({"from": "5.6.14", "to": "5.6.30"}).to_dict()
        {'from': '5.6.14', 'to': '5.6.30'}
        """
        return copy.deepcopy(object.__getattribute__(self, "_data"))

    def to_json(self) -> str:
        """`to_dict()` as JSON text.

        >>> Record({"to": "5.6.30", "hops": 1}).to_json()
        '{"to": "5.6.30", "hops": 1}'
        """
        return json.dumps(object.__getattribute__(self, "_data"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((type(self).__name__, json.dumps(object.__getattribute__(self, "_data"), sort_keys=True)))

    def __repr__(self) -> str:
        data = object.__getattribute__(self, "_data")
        fields = ", ".join(f"{k}={_wrap(v)!r}" for k, v in data.items())
        return f"{type(self).__name__}({fields})"

    def __dir__(self) -> list[str]:
        return sorted(set(object.__getattribute__(self, "_data")) | {"to_dict", "to_json"})

    def __reduce__(self) -> Any:
        return (type(self), (self.to_dict(),))


class Field(Generic[T]):
    """A typed, read-only field of a record's JSON, for editors and type checkers
    (`Hop.to: Field[str]` reads `to`). A field the JSON leaves out reads as `default`, or
    raises `AttributeError` when there is none. The record's docstring documents its fields.

    >>> class Edge(Record):
    ...     __slots__ = ()
    ...     to: Field[str] = Field("to")
    ...     note: "Field[str | None]" = Field("note", default=None)
    >>> Edge({"to": "5.6.30"}).to, Edge({"to": "5.6.30"}).note
    ('5.6.30', None)
    """

    __slots__ = ("key", "default", "name")

    def __init__(self, key: str, default: Any = _ABSENT) -> None:
        self.key = key
        self.default = default
        self.name = key

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> "Field[T]": ...

    @overload
    def __get__(self, obj: Record, owner: type) -> T: ...

    def __get__(self, obj: Any, owner: type) -> Any:
        if obj is None:
            return self
        data = object.__getattribute__(obj, "_data")
        if self.key in data:
            return _wrap(data[self.key])
        if self.default is _ABSENT:
            raise AttributeError(f"{type(obj).__name__} has no field {self.key!r}")
        return self.default


class Path(Record):
    """A resolved upgrade path: `from`, `to`, `hops` (each with `from`, `to`, `artifact`, …).

    >>> from fleetpath import examples
    >>> path = examples.seed_graph().resolve("5.6.14", "6.15.008")
    >>> path.from_, path.to, len(path.hops)
    ('5.6.14', '6.15.008', 2)
    """

    __slots__ = ()
    from_: "Field[str]" = Field("from")
    to: "Field[str]" = Field("to")
    hops: "Field[Tuple[Hop, ...]]" = Field("hops")

    def versions(self) -> Tuple[str, ...]:
        """Every version on the path, the start included, as the manifest spells them.

        >>> from fleetpath import examples
        >>> examples.seed_graph().resolve("v5.6.14", "6.15.8").versions()
        ('5.6.14', '5.6.30', '6.15.008')
        """
        return tuple(object.__getattribute__(self, "_data")["versions"])


class Hop(Record):
    """One hop: `from`, `to`, `artifact` (key, sha256, size) and the edge it takes.

    >>> from fleetpath import examples
    >>> hop = examples.seed_graph().next_hop("5.6.14", "6.15.008")
    >>> hop.from_, hop.to, hop.artifact.size
    ('5.6.14', '5.6.30', 1871872)
    """

    __slots__ = ()
    from_: "Field[str]" = Field("from")
    to: "Field[str]" = Field("to")
    artifact: "Field[Optional[Record]]" = Field("artifact", default=None)
    edge: "Field[int]" = Field("edge")
    generated: "Field[bool]" = Field("generated")


class Edge(Record):
    """An upgrade edge: `from`, `to`, the declaring entry's index `edge`, `generated`."""

    __slots__ = ()
    from_: "Field[str]" = Field("from")
    to: "Field[str]" = Field("to")
    edge: "Field[int]" = Field("edge")
    generated: "Field[bool]" = Field("generated")


class Release(Record):
    """A release of the manifest: `version`, `artifact`, `models`, `labels`, `status`, …

    >>> from fleetpath import examples
    >>> r = examples.seed_graph().release("5.6.30")
    >>> r.version, r.models, r.barrier
    ('5.6.30', ('IPM-1',), True)
    """

    __slots__ = ()
    version: "Field[str]" = Field("version")
    models: "Field[Optional[Tuple[str, ...]]]" = Field("models", default=None)
    labels: "Field[Optional[Record]]" = Field("labels", default=None)
    status: "Field[str]" = Field("status", default="active")
    barrier: "Field[bool]" = Field("barrier", default=False)
    artifact: "Field[Optional[Record]]" = Field("artifact", default=None)


class LintFinding(Record):
    """A lint finding: `code`, `severity`, `subject`, `message`.

    >>> from fleetpath import UpgradeGraph
    >>> g = UpgradeGraph.load({"format_version": 1, "releases": [{"version": "1.0"}, {"version": "2.0"}],
    ...                        "edges": [{"from": "1.0", "to": "2.0"}]})
    >>> finding = g.lint()[0]
    >>> finding.code, finding.severity
    ('missing_artifact', 'warning')
    """

    __slots__ = ()
    code: "Field[str]" = Field("code")
    severity: "Field[str]" = Field("severity")
    subject: "Field[Record]" = Field("subject")
    message: "Field[str]" = Field("message")


class RouteEntry(Record):
    """A row of a route table: `from`, `next`, `hops`.

    >>> from fleetpath import examples
    >>> examples.seed_graph().route_table("6.15.008").entries()[0]
    RouteEntry(from='5.6.14', next='5.6.30', hops=2)
    """

    __slots__ = ()
    from_: "Field[str]" = Field("from")
    next: "Field[Optional[str]]" = Field("next", default=None)
    hops: "Field[int]" = Field("hops")


class Device(Record):
    """A device: `id`, `model`, `line`, `site`, `version`, `labels`.

    >>> from fleetpath import examples
    >>> d = examples.seed_fleet().get("press-2-01")
    >>> d.line, d.version
    ('line-2', '5.6.14')
    """

    __slots__ = ()
    id: "Field[str]" = Field("id")
    model: "Field[str]" = Field("model")
    line: "Field[str]" = Field("line")
    site: "Field[Optional[str]]" = Field("site", default=None)
    version: "Field[str]" = Field("version")
    labels: "Field[Optional[Record]]" = Field("labels", default=None)


class RolloutPlan(Record):
    """A rollout plan: its stages with their devices, up-to-date and excluded devices.

    >>> from fleetpath import examples, plan_rollout
    >>> plan = plan_rollout(examples.seed_graph(), examples.seed_fleet(), "6.15.008", "r-1")
    >>> plan.stages[0].name, plan.stages[0].lines.to_dict(), plan.excluded
    ('canary', {'line-1': 1, 'line-2': 1}, ())
    """

    __slots__ = ()
    rollout_id: "Field[str]" = Field("rollout_id")
    target: "Field[str]" = Field("target")
    stages: "Field[Tuple[Record, ...]]" = Field("stages")
    up_to_date: "Field[Tuple[str, ...]]" = Field("up_to_date")
    excluded: "Field[Tuple[Record, ...]]" = Field("excluded")


class PrefetchItem(Record):
    """One artifact a coming stage needs: `artifact`, `version`, `purpose` (`upgrade` or
    `rollback`), `stage`, `needed_at`, and `action`: `restore` (with `class`, `tier`,
    `request_by`, `due`, `days`), `late` (even the fastest tier misses: restore now),
    `restoring` (`ready_by`, `late`), `missing` or `check` (not observed).

    >>> from fleetpath import Rollout, examples, plan_prefetch, plan_rollout
    >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
    >>> r, _ = Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g).apply(
    ...     {"type": "start", "at": "2026-11-23T08:00:00Z"})
    >>> seen = {rel.artifact.key: {"state": "archived", "class": "deep_archive"} for rel in g.releases()}
    >>> plan = plan_prefetch(r, g, seen, "2026-11-23T08:00:00Z")
    >>> item = plan.items[0]
    >>> item.action, item.tier, item.days, item.stage  # Deep Archive cannot make a window 5 h away
    ('late', 'standard', 7, 'canary')
    """

    __slots__ = ()
    artifact: "Field[Record]" = Field("artifact")
    stage: "Field[str]" = Field("stage")
    action: "Field[str]" = Field("action")
    tier: "Field[Optional[str]]" = Field("tier", default=None)
    days: "Field[Optional[int]]" = Field("days", default=None)

    @property
    def is_due(self) -> bool:
        """Whether the host must act now: a due restore, a late one, a missing or unobserved
        object.

        >>> from fleetpath import Rollout, examples, plan_prefetch, plan_rollout
        >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
        >>> r, _ = Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g).apply(
        ...     {"type": "start", "at": "2026-11-23T08:00:00Z"})
        >>> seen = {rel.artifact.key: {"state": "archived", "class": "deep_archive"} for rel in g.releases()}
        >>> plan = plan_prefetch(r, g, seen, "2026-11-23T08:00:00Z")
        >>> [i.is_due for i in plan.items]
        [True, True]
        """
        return bool(object.__getattribute__(self, "_data")["due"])


class PrefetchPlan(Record):
    """A prefetch plan: `at`, `stages` (each stage's earliest start), `items` (by deadline,
    then key) and `ready` (artifacts already downloadable).

    >>> from fleetpath import Rollout, examples, plan_prefetch, plan_rollout
    >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
    >>> r, _ = Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g).apply(
    ...     {"type": "start", "at": "2026-11-23T08:00:00Z"})
    >>> seen = {rel.artifact.key: {"state": "archived", "class": "deep_archive"} for rel in g.releases()}
    >>> plan = plan_prefetch(r, g, seen, "2026-11-23T08:00:00Z")
    >>> plan.ready, [stage for stage, _ in plan.stages]
    (0, ['canary', 'early', 'production'])
    """

    __slots__ = ()
    ready: "Field[int]" = Field("ready")

    @property
    def items(self) -> Tuple[PrefetchItem, ...]:
        """Every item, by deadline, then key.

        >>> from fleetpath import Rollout, examples, plan_prefetch, plan_rollout
        >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
        >>> r, _ = Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g).apply(
        ...     {"type": "start", "at": "2026-11-23T08:00:00Z"})
        >>> seen = {rel.artifact.key: {"state": "archived", "class": "deep_archive"} for rel in g.releases()}
        >>> plan = plan_prefetch(r, g, seen, "2026-11-23T08:00:00Z")
        >>> [i.artifact.key for i in plan.items]
        ['firmware/ip-module/5.6.30.bin', 'firmware/ip-module/6.15.008.bin']
        """
        return tuple(PrefetchItem(i) for i in object.__getattribute__(self, "_data")["items"])

    def due(self) -> Tuple[PrefetchItem, ...]:
        """The items to act on now, in the plan's order.

        >>> from fleetpath import Rollout, examples, plan_prefetch, plan_rollout
        >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
        >>> r, _ = Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g).apply(
        ...     {"type": "start", "at": "2026-11-23T08:00:00Z"})
        >>> seen = {rel.artifact.key: {"state": "archived", "class": "deep_archive"} for rel in g.releases()}
        >>> plan = plan_prefetch(r, g, seen, "2026-11-23T08:00:00Z")
        >>> [(i.artifact.key, i.action) for i in plan.due()]
        [('firmware/ip-module/5.6.30.bin', 'late'), ('firmware/ip-module/6.15.008.bin', 'late')]
        """
        return tuple(i for i in self.items if i.is_due)


class Window(Record):
    """An open period of a calendar: `start`, `end` (UTC, RFC 3339 text).

    >>> Window({"start": "2026-11-23T13:00:00Z", "end": "2026-11-23T21:00:00Z"}).start
    '2026-11-23T13:00:00Z'
    """

    __slots__ = ()
    start: "Field[str]" = Field("start")
    end: "Field[str]" = Field("end")


class Action(Record):
    """What a host must do after a rollout event: `type` and its fields.

    >>> from fleetpath import Rollout, examples, plan_rollout
    >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
    >>> r = Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g)
    >>> prefetch = r.apply({"type": "start", "at": "2026-11-23T08:00:00Z"})[1][0]
    >>> prefetch.type, prefetch.stage, [a.key for a in prefetch.artifacts]
    ('prefetch', 'canary', ['firmware/ip-module/6.15.008.bin'])
    """

    __slots__ = ()
    type: "Field[str]" = Field("type")


class Decision(Record):
    """What a device should do: `kind` (`download`, `wait`, `retry_after`, …), `reason` (the
    core's stable reason code) and the fields of that decision (`step`, `until`, `at`, …).

    >>> from fleetpath import Decider, examples
    >>> d = Decider(examples.seed_graph()).decide(
    ...     {"device": "d1", "model": "IPM-1", "version": "5.6.30", "at": "2026-11-23T08:00:00Z"})
    >>> d.kind, d.reason, d.step.to, d.url_lifetime_seconds
    ('download', 'next_hop', '6.15.008', 900)
    """

    __slots__ = ("_reason",)

    def __init__(self, data: Dict[str, Any], reason: str) -> None:
        super().__init__(data)
        object.__setattr__(self, "_reason", reason)

    @classmethod
    def _many(cls, rows: Any) -> Tuple["Decision", ...]:
        """Records for `(reason, data)` rows without running `__init__` per row (half the
        cost, for batches of many thousands)."""
        new, set_data, set_reason = cls.__new__, _DATA.__set__, _REASON.__set__
        out = []
        for reason, data in rows:
            d = new(cls)
            set_data(d, data)
            set_reason(d, reason)
            out.append(d)
        return tuple(out)

    @property
    def reason(self) -> str:
        """The stable reason code (`next_hop`, `artifact_archived`, `outside_window`, …).

        >>> from fleetpath import Decider, examples
        >>> Decider(examples.seed_graph()).decide(
        ...     {"device": "d1", "model": "IPM-1", "version": "6.15.008", "at": "2026-11-23T08:00:00Z"}).reason
        'at_target'
        """
        return str(object.__getattribute__(self, "_reason"))

    def __reduce__(self) -> Any:
        return (type(self), (self.to_dict(), self.reason))

    @property
    def kind(self) -> str:
        """`up_to_date`, `wait`, `download`, `retry_after`, `give_up`, `roll_back`, `blocked`.

        >>> from fleetpath import Decider, examples
        >>> Decider(examples.seed_graph()).decide(
        ...     {"device": "d1", "model": "XR-7", "version": "5.6.14", "at": "2026-11-23T08:00:00Z"}).kind
        'blocked'
        """
        return str(object.__getattribute__(self, "_data")["decision"])


_DATA = Record.__dict__["_data"]
_REASON = Decision.__dict__["_reason"]
