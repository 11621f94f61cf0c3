"""Staged rollouts: stage planning per production line, calendars, and the state machine."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, Mapping, Optional, Tuple, Union

from . import _native
from ._convert import parse_timestamp
from ._records import Action, PrefetchPlan, RolloutPlan, Window
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
    stage, up to date, or excluded with its reason.

    >>> from fleetpath import examples
    >>> plan = plan_rollout(examples.seed_graph(), examples.seed_fleet(), "6.15.008", "r-1")
    >>> [(s.name, [d.id for d in s.devices]) for s in plan.stages]
    [('canary', ['press-1-03', 'press-2-02']), ('early', ['press-1-02']), ('production', ['press-1-01', 'press-2-01'])]
    >>> plan.up_to_date
    ('press-2-03',)
    """
    return RolloutPlan(
        _native.plan_rollout(graph, fleet, target, rollout_id, policy)
    )


def default_rollout_policy() -> Dict[str, Any]:
    """The policy `plan_rollout` uses when given none, as its document: stages canary (5%,
    at least one per line), early (20%) and production (the rest), each watched 24 hours; a
    start for a policy of one's own.

    >>> [(s["name"], s.get("share"), s.get("min_per_line", 0)) for s in default_rollout_policy()["stages"]]
    [('canary', 0.05, 1), ('early', 0.2, 0), ('production', None, 0)]
    """
    policy: Dict[str, Any] = _native.default_rollout_policy()
    return policy


def plan_prefetch(
    rollout: "Rollout",
    graph: UpgradeGraph,
    availability: Mapping[str, Any],
    at: When,
    *,
    calendar: Optional["Calendar"] = None,
    policy: Optional[Mapping[str, Any]] = None,
) -> PrefetchPlan:
    """Which archived firmware the rollout's coming stages (and their rollbacks) need, and
    when to request each restore, at which tier, so it is ready before the stage's window
    opens. `availability` maps object keys to what a `HEAD` showed (`fleetpath.s3`); run it
    every few minutes and request the `due()` items' restores.

    >>> from fleetpath import Rollout, examples, plan_rollout
    >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
    >>> r, _ = Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g).apply(
    ...     {"type": "start", "at": "2026-11-23T08:00:00Z"}, examples.seed_calendar())
    >>> archived = {"state": "archived", "class": "glacier_flexible_retrieval"}
    >>> seen = {r.artifact.key: archived for r in g.releases()}
    >>> plan = plan_prefetch(r, g, seen, "2026-11-23T08:00:00Z", calendar=examples.seed_calendar())
    >>> [(i.artifact.key, i.purpose, i.tier, i.request_by) for i in plan.items]  # Expedited: the window is close
    [('firmware/ip-module/5.6.30.bin', 'rollback', 'expedited', '2026-11-23T11:55:00Z'), \
('firmware/ip-module/6.15.008.bin', 'upgrade', 'expedited', '2026-11-23T11:55:00Z')]
    >>> plan.due()  # nothing to request before 11:55
    ()
    """
    return PrefetchPlan(
        _native.plan_prefetch(rollout, graph, availability, at, calendar, policy)
    )


class Calendar:
    """Shifts, maintenance windows and exclusions per site, in their IANA time zones
    (`Europe/Berlin`); queries take and give aware datetimes, answered in UTC.

    >>> import datetime as dt, zoneinfo
    >>> from fleetpath import examples
    >>> cal = examples.seed_calendar()
    >>> berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    >>> cal.is_open("plant-a", "line-1", "canary", dt.datetime(2026, 11, 23, 15, 0, tzinfo=berlin))
    True
    """

    __slots__ = ("_native",)

    def __init__(self, native: _native.Calendar) -> None:
        self._native = native

    @classmethod
    def load(cls, source: Any) -> "Calendar":
        """From a path, JSON text, bytes or a dict.

        >>> from fleetpath import examples
        >>> Calendar.load(examples.SEED_CALENDAR).is_open("plant-a", "l", "early", "2026-11-23T23:00:00Z")
        True
        """
        return cls(_native.Calendar.load(source))

    def is_open(self, site: str, line: str, stage: str, at: When) -> bool:
        """Whether `line` at `site` is open for `stage` at `at` (an aware datetime).

        >>> import datetime as dt
        >>> from fleetpath import examples
        >>> cal = examples.seed_calendar()
        >>> cal.is_open("plant-a", "line-1", "canary", dt.datetime(2026, 11, 23, 8, tzinfo=dt.timezone.utc))
        False
        >>> cal.is_open("plant-a", "line-1", "canary", dt.datetime(2026, 11, 23, 8))
        Traceback (most recent call last):
        fleetpath.errors.NaiveDatetimeError: at: "2026-11-23T08:00:00" has no time zone (give an offset, `Z`, or an aware datetime)
        """
        return self._native.is_open(site, line, stage, at)

    def next_window(self, site: str, line: str, stage: str, after: When) -> Optional[Tuple[_dt.datetime, _dt.datetime]]:
        """The open window containing `after`, or the next one: `(start, end)` aware UTC
        datetimes, or `None`.

        >>> from fleetpath import examples
        >>> start, end = examples.seed_calendar().next_window("plant-a", "line-1", "canary", "2026-11-23T08:00:00Z")
        >>> start.isoformat(), end.isoformat()
        ('2026-11-23T13:00:00+00:00', '2026-11-23T21:00:00+00:00')
        """
        found = self._native.next_window(site, line, stage, after)
        if found is None:
            return None
        window = Window(found)
        return parse_timestamp(window.start), parse_timestamp(window.end)

    def to_json(self) -> str:
        """The calendar document.

        >>> import json
        >>> from fleetpath import examples
        >>> json.loads(examples.seed_calendar().to_json())["sites"][0]["time_zone"]
        'Europe/Berlin'
        """
        return self._native.to_json()


class Rollout:
    """A rollout's state: JSON in and out (store it, with its `revision` for conditional
    writes), events in, actions out. `apply` never changes this object.

    >>> from fleetpath import examples, plan_rollout
    >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
    >>> rollout = Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g)
    >>> started, actions = rollout.apply({"type": "start", "at": "2026-11-23T08:00:00Z"}, examples.seed_calendar())
    >>> started, [a.type for a in actions]
    (Rollout(id='r-1', revision=1, status='running'), ['prefetch', 'wait_until'])
    """

    __slots__ = ("_native",)

    def __init__(self, native: _native.Rollout) -> None:
        self._native = native

    @classmethod
    def new(
        cls, plan: RolloutPlan, fleet: Fleet, graph: UpgradeGraph, policy: Optional[Mapping[str, Any]] = None
    ) -> "Rollout":
        """A new rollout (revision 0) from a plan.

        >>> from fleetpath import examples, plan_rollout
        >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
        >>> Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g)
        Rollout(id='r-1', revision=0, status='not_started')
        """
        return cls(_native.Rollout.new(plan, fleet, graph, policy))

    @classmethod
    def from_json(cls, text: Union[str, bytes]) -> "Rollout":
        """A stored state (what `to_json` gave).

        >>> from fleetpath import examples, plan_rollout
        >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
        >>> stored = Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g).to_json()
        >>> Rollout.from_json(stored).revision
        0
        """
        return cls(_native.Rollout.load(text))

    def to_json(self) -> str:
        """The state to store (DynamoDB, a file): `from_json` reads it back.

        >>> import json
        >>> from fleetpath import examples, plan_rollout
        >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
        >>> json.loads(Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g).to_json())["target"]
        '6.15.008'
        """
        return self._native.to_json()

    def to_dict(self) -> Dict[str, Any]:
        """The state as the Rust core serializes it.

        >>> from fleetpath import examples, plan_rollout
        >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
        >>> state = Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g).to_dict()
        >>> [(s["name"], s["phase"]) for s in state["stages"]]
        [('canary', 'waiting'), ('early', 'waiting'), ('production', 'waiting')]
        """
        return dict(self._native.to_dict())

    @property
    def revision(self) -> int:
        """Incremented by every applied event: write the new state only if the stored one still
        has the revision you read (a conditional write).

        >>> from fleetpath import examples, plan_rollout
        >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
        >>> r = Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g)
        >>> r.revision, r.apply({"type": "start", "at": "2026-11-23T08:00:00Z"})[0].revision
        (0, 1)
        """
        return self._native.revision

    @property
    def id(self) -> str:
        """The rollout id.

        >>> from fleetpath import examples, plan_rollout
        >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
        >>> Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-7"), fleet, g).id
        'r-7'
        """
        return self._native.id

    def apply(
        self, event: Mapping[str, Any], calendar: Optional[Calendar] = None
    ) -> Tuple["Rollout", Tuple[Action, ...]]:
        """Applies `event` (`{"type": "tick", "at": datetime}`, …): the new state and actions.
        An event that does not apply raises its error and changes nothing.

        >>> from fleetpath import examples, plan_rollout
        >>> g, fleet = examples.seed_graph(), examples.seed_fleet()
        >>> r = Rollout.new(plan_rollout(g, fleet, "6.15.008", "r-1"), fleet, g)
        >>> r.apply({"type": "tick", "at": "2026-11-23T08:00:00Z"})
        Traceback (most recent call last):
        fleetpath.errors.NotStartedError: rollout "r-1" has not started
        >>> state, actions = r.apply({"type": "start", "at": "2026-11-23T08:00:00Z"}, examples.seed_calendar())
        >>> actions[-1]
        Action(type='wait_until', at='2026-11-23T13:00:00Z', reason='canary window opens')
        """
        state, actions = self._native.apply(event, calendar)
        return Rollout(state), tuple(Action(a) for a in actions)

    def __repr__(self) -> str:
        data = self.to_dict()
        status = data.get("status")
        state = status.get("state") if isinstance(status, dict) else status
        return f"Rollout(id={self.id!r}, revision={self.revision}, status={state!r})"
