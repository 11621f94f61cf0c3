"""Staged rollouts: stage planning per production line, calendars, and the state machine."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from . import _native
from ._convert import document_text, json_text, parse_timestamp, timestamp
from ._records import Action, RolloutPlan, Window
from .fleet import Fleet
from .graph import UpgradeGraph, VersionLike

When = Union[_dt.datetime, str]


def plan_rollout(
    graph: UpgradeGraph,
    fleet: Fleet,
    target: VersionLike,
    rollout_id: str,
    policy: Optional[Mapping[str, Any]] = None,
) -> RolloutPlan:
    """Stages (canary 5% with at least one per line, early 20% of each line, production the
    rest, or `policy`'s), with sticky selection seeded by `rollout_id`; every device is in a
    stage, up to date, or excluded with its reason."""
    return RolloutPlan(
        _native.plan_rollout(graph._native, fleet._native, target, rollout_id, json_text(policy, "policy"))
    )


class Calendar:
    """Shifts, maintenance windows and exclusions per site, in their IANA time zones
    (`Europe/Berlin`); queries take and give aware datetimes, answered in UTC."""

    __slots__ = ("_native",)

    def __init__(self, native: _native.Calendar) -> None:
        self._native = native

    @classmethod
    def load(cls, source: Any) -> "Calendar":
        """From a path, JSON text, bytes or a dict."""
        return cls(_native.Calendar.from_json(document_text(source, "calendar")))

    def is_open(self, site: str, line: str, stage: str, at: When) -> bool:
        """Whether `line` at `site` is open for `stage` at `at` (an aware datetime)."""
        return self._native.is_open(site, line, stage, timestamp(at, "at"))

    def next_window(self, site: str, line: str, stage: str, after: When) -> Optional[Tuple[_dt.datetime, _dt.datetime]]:
        """The open window containing `after`, or the next one: `(start, end)` aware UTC
        datetimes, or `None`."""
        found = self._native.next_window(site, line, stage, timestamp(after, "after"))
        if found is None:
            return None
        window = Window(found)
        return parse_timestamp(window.start), parse_timestamp(window.end)

    def to_json(self) -> str:
        return self._native.to_json()


class Rollout:
    """A rollout's state: JSON in and out (store it, with its `revision` for conditional
    writes), events in, actions out. `apply` never changes this object."""

    __slots__ = ("_native",)

    def __init__(self, native: _native.Rollout) -> None:
        self._native = native

    @classmethod
    def new(
        cls, plan: RolloutPlan, fleet: Fleet, graph: UpgradeGraph, policy: Optional[Mapping[str, Any]] = None
    ) -> "Rollout":
        """A new rollout (revision 0) from a plan."""
        return cls(_native.Rollout.new(plan.to_json(), fleet._native, graph._native, json_text(policy, "policy")))

    @classmethod
    def from_json(cls, text: Union[str, bytes]) -> "Rollout":
        """A stored state."""
        return cls(_native.Rollout.from_json(document_text(text, "rollout state")))

    def to_json(self) -> str:
        return self._native.to_json()

    def to_dict(self) -> Dict[str, Any]:
        return self._native.to_dict()

    @property
    def revision(self) -> int:
        return self._native.revision

    @property
    def id(self) -> str:
        return self._native.id

    def apply(
        self, event: Mapping[str, Any], calendar: Optional[Calendar] = None
    ) -> Tuple["Rollout", Tuple[Action, ...]]:
        """Applies `event` (`{"type": "tick", "at": datetime}`, …): the new state and actions."""
        state, actions = self._native.apply(json_text(event, "event"), None if calendar is None else calendar._native)
        return Rollout(state), tuple(Action(a) for a in actions)

    def __repr__(self) -> str:
        data = self.to_dict()
        return f"Rollout(id={self.id!r}, revision={self.revision}, status={data.get('status')!r})"
