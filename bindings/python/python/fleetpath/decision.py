"""The per-device update decision, single and batch."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple

from . import _native
from ._convert import gc_paused, json_text, plain, timestamp
from ._native import Version
from ._records import Decision
from .errors import InvalidInputError, InvalidJsonError
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
        self._native = _native.Decider(
            graph._native,
            json_text(policy, "policy"),
            target,
            None if rollout is None else rollout._native,
            None if calendar is None else calendar._native,
            json_text(availability, "availability"),
        )

    def decide(self, request: Mapping[str, Any]) -> Decision:
        """One request: `{"device", "model", "version", "at"[, "retry"]}` (`at` an aware
        datetime or RFC 3339 text).

        >>> from fleetpath import examples
        >>> archived = {"state": "archived", "class": "glacier_flexible_retrieval"}
        >>> d = Decider(examples.seed_graph(), availability={"firmware/ip-module/5.6.30.bin": archived})
        >>> answer = d.decide({"device": "press-1-01", "model": "IPM-1", "version": "5.6.14",
        ...                    "at": "2026-11-23T08:00:00Z"})
        >>> answer.kind, answer.reason, answer.host_action.type, answer.at
        ('retry_after', 'artifact_archived', 'request_restore', '2026-11-23T13:00:00Z')
        """
        request = _request(request)
        try:
            reason, data = self._native.decide(request)
        except InvalidJsonError:
            _explain(request)
            raise
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
        batch = [_request(r) for r in requests]
        try:
            answers = self._native.decide_all(batch)
        except InvalidJsonError:
            for r in batch:
                _explain(r)
            raise
        return _decisions(answers)

    def decide_fleet(self, fleet: Fleet, at: When) -> Tuple[Decision, ...]:
        """Every device of `fleet` asking at `at`, in fleet order.

        >>> import datetime as dt
        >>> from fleetpath import examples
        >>> answers = Decider(examples.seed_graph()).decide_fleet(
        ...     examples.seed_fleet(), dt.datetime(2026, 11, 23, 8, tzinfo=dt.timezone.utc))
        >>> [a.step.to if a.kind == "download" else a.kind for a in answers]
        ['5.6.30', '5.6.30', '6.15.008', '5.6.30', '6.15.008', 'up_to_date']
        """
        return _decisions(self._native.decide_fleet(fleet._native, timestamp(at, "at")))


def _decisions(text: str) -> Tuple[Decision, ...]:
    """A batch's `[[reason, decision], …]` JSON as records. The objects are built with the
    cyclic garbage collector paused: a batch makes hundreds of thousands of small acyclic
    dicts, and collecting during the build doubled its cost."""
    with gc_paused():
        return Decision._many(json.loads(text))


def _explain(request: Mapping[str, Any]) -> None:
    """After the core refused a request's JSON: raise the version's own error (its code and
    fields, `EmptyComponentError` for `5..6`) when the version is what was wrong."""
    version = request.get("version") if isinstance(request, Mapping) else None
    if isinstance(version, str):
        Version(version)


def _request(request: Mapping[str, Any]) -> Dict[str, Any]:
    """A request as plain Python objects of its JSON form (datetimes as RFC 3339 text,
    versions and records as their JSON)."""
    if not isinstance(request, Mapping):
        raise InvalidInputError(f"request: expected a dict, not {type(request).__name__}")
    if (
        type(request) is dict
        and isinstance(request.get("at"), str)
        and isinstance(request.get("version"), str)
        and request.get("retry") is None
    ):
        return request  # already plain: the common case, no copy
    return {k: plain(v, f"request.{k}") for k, v in request.items()}
