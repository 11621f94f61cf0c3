"""The per-device update decision, single and batch."""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping, Optional, Tuple

from . import _native
from ._convert import gc_paused
from ._records import Decision
from .fleet import Fleet
from .graph import UpgradeGraph, VersionLike
from .rollout import Calendar, Rollout, When


class Decider:
    """Answers device requests ("I run this; what now?") from the graph, the target (or the
    newest release per model), a rollout with its calendar, and the observed availability of
    artifacts (`{key: {"state": "archived", "class": "glacier_flexible_retrieval"}, …}`).

    >>> from fleetpath import UpgradeGraph
    >>> g = UpgradeGraph.load({"format_version": 1, "releases": [{"version": "1.0"},
    ...   {"version": "2.0", "artifact": {"key": "fw/2.0.bin", "size": 10, "sha256": "a" * 64}}],
    ...   "edges": [{"from": "1.0", "to": "2.0"}]})
    >>> d = Decider(g).decide({"device": "d1", "model": "m", "version": "1.0", "at": "2026-11-23T08:00:00Z"})
    >>> d.kind, d.reason, d.step.artifact.key
    ('download', 'next_hop', 'fw/2.0.bin')
    """

    __slots__ = ("_native",)

    def __init__(
        self,
        graph: UpgradeGraph,
        *,
        policy: Optional[Mapping[str, Any]] = None,
        target: Optional[VersionLike] = None,
        rollout: Optional[Rollout] = None,
        calendar: Optional[Calendar] = None,
        availability: Optional[Mapping[str, Any]] = None,
    ) -> None:
        self._native = _native.Decider(graph, policy, target, rollout, calendar, availability)

    def decide(self, request: Mapping[str, Any], record: Optional[Mapping[str, Any]] = None) -> Decision:
        """One request: `{"device", "model", "version", "at"[, "retry"]}` (`at` an aware
        datetime or RFC 3339 text). With the host's `record` of the device (`{"model",
        "version"[, "issued": {"from", "to"}]}`, from the host's registry, never from the
        device), its claims are checked first: a model or version that disagrees gets
        `refused` (`model_mismatch`, `claim_mismatch`), never a download.

        >>> from fleetpath import examples
        >>> archived = {"state": "archived", "class": "glacier_flexible_retrieval"}
        >>> d = Decider(examples.seed_graph(), availability={"firmware/ip-module/5.6.30.bin": archived})
        >>> answer = d.decide({"device": "press-1-01", "model": "IPM-1", "version": "5.6.14",
        ...                    "at": "2026-11-23T08:00:00Z"})
        >>> answer.kind, answer.reason, answer.host_action.type, answer.at
        ('retry_after', 'artifact_archived', 'request_restore', '2026-11-23T13:00:00Z')
        >>> d.decide({"device": "press-1-01", "model": "IPM-1", "version": "6.15.008",
        ...           "at": "2026-11-23T08:00:00Z"}, record={"model": "IPM-1", "version": "5.6.14"}).reason
        'claim_mismatch'
        """
        reason, data = self._native.decide(request, record)
        return Decision(data, reason)

    def decide_all(self, requests: Iterable[Mapping[str, Any]]) -> Tuple[Decision, ...]:
        """Many requests, answered exactly as one `decide` each, in one native call.

        >>> from fleetpath import examples
        >>> d = Decider(examples.seed_graph())
        >>> [(a.kind, a.reason) for a in d.decide_all([
        ...     {"device": "a", "model": "IPM-1", "version": "6.15.008", "at": "2026-11-23T08:00:00Z"},
        ...     {"device": "b", "model": "IPM-1", "version": "5.6.99", "at": "2026-11-23T08:00:00Z"}])]
        [('up_to_date', 'at_target'), ('blocked', 'unknown_version')]
        """
        return _decisions(self._native.decide_all(requests))

    def decide_fleet(self, fleet: Fleet, at: When) -> Tuple[Decision, ...]:
        """Every device of `fleet` asking at `at`, in fleet order.

        >>> import datetime as dt
        >>> from fleetpath import examples
        >>> answers = Decider(examples.seed_graph()).decide_fleet(
        ...     examples.seed_fleet(), dt.datetime(2026, 11, 23, 8, tzinfo=dt.timezone.utc))
        >>> [a.step.to if a.kind == "download" else a.kind for a in answers]
        ['5.6.30', '5.6.30', '6.15.008', '5.6.30', '6.15.008', 'up_to_date']
        """
        distinct, indices = self._native.decide_fleet(fleet, at)
        # One record per distinct decision (records are immutable), shared by its devices.
        records = _decisions(distinct)
        return tuple(map(records.__getitem__, memoryview(indices).cast("I")))

    def decide_fleet_table(self, fleet: Fleet, at: When) -> "DecisionTable":
        """`decide_fleet` as one Arrow record batch, for fleets of many thousands: no Python
        object per device. pyarrow, polars and pandas read it through the Arrow PyCapsule
        interface (`pyarrow.table(t)`, `polars.DataFrame(t)`); `t.row(i)` is device `i`'s
        decision as a record. The `device` column is built once per fleet and kept by it
        (a copy of the ids, shared by every later table of that fleet).

        >>> from fleetpath import examples
        >>> t = Decider(examples.seed_graph()).decide_fleet_table(examples.seed_fleet(), "2026-11-23T08:00:00Z")
        >>> len(t), t.row(0).kind, t.row(0).step.to
        (6, 'download', '5.6.30')
        """
        return DecisionTable(self._native.decide_fleet_table(fleet, at))


class DecisionTable:
    """A fleet's decisions as one Arrow record batch: columns `device`, `kind`, `reason`,
    `next` (the version to install next, or null), `at` (when to ask again, UTC, or null) and
    `host_action` (`none`, `request_restore`, …). Exported through the Arrow PyCapsule
    interface (`__arrow_c_stream__`, `__arrow_c_array__`, `__arrow_c_schema__`); pyarrow and
    polars are optional, the package never imports them.

    >>> from fleetpath import Decider, examples
    >>> t = Decider(examples.seed_graph()).decide_fleet_table(examples.seed_fleet(), "2026-11-23T08:00:00Z")
    >>> [t.row(i).reason for i in range(len(t))][-1]
    'at_target'
    """

    __slots__ = ("_native",)

    def __init__(self, native: Any) -> None:
        self._native = native

    def __len__(self) -> int:
        return len(self._native)

    def row(self, i: int) -> Decision:
        """Device `i`'s decision, as `decide` gives it.

        >>> from fleetpath import Decider, examples
        >>> t = Decider(examples.seed_graph()).decide_fleet_table(examples.seed_fleet(), "2026-11-23T08:00:00Z")
        >>> t.row(5).kind
        'up_to_date'
        """
        reason, data = self._native.row(i)
        return Decision(data, reason)

    def __arrow_c_schema__(self) -> Any:
        return self._native.__arrow_c_schema__()

    def __arrow_c_array__(self, requested_schema: Any = None) -> Any:
        return self._native.__arrow_c_array__(requested_schema)

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._native.__arrow_c_stream__(requested_schema)

    def __repr__(self) -> str:
        return f"DecisionTable(devices={len(self)})"


def check_report(record: Mapping[str, Any], version: VersionLike) -> Optional[Decision]:
    """Checks a device's report that it finished an update against the host's `record` of it
    (`{"model", "version", "issued": {"from", "to"}}`): `None` when it names the hop the host
    issued, else the `refused` decision (`report_mismatch`) to answer with. Reports of a
    failure are checked the same way: a device can only fail a hop it was given.

    >>> record = {"model": "IPM-1", "version": "5.6.14", "issued": {"from": "5.6.14", "to": "5.6.30"}}
    >>> check_report(record, "5.6.30") is None, check_report(record, "6.15.008").reason
    (True, 'report_mismatch')
    """
    refused = _native.check_report(record, version)
    return None if refused is None else Decision(refused[1], refused[0])


def _decisions(text: str) -> Tuple[Decision, ...]:
    """A batch's `[[reason, decision], …]` JSON as records. The objects are built with the
    cyclic garbage collector paused: a batch makes hundreds of thousands of small acyclic
    dicts, and collecting during the build doubled its cost."""
    with gc_paused():
        return Decision._many(json.loads(text))
