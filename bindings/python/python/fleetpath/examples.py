"""Small documents from the field reports, to try the API and for the docstring examples:
the IP module's upgrade graph (5.6.14 must take the bridge 5.6.30 before 6.15.008), six
devices on two production lines, and a plant calendar with three shifts.

>>> from fleetpath import examples
>>> [str(r.version) for r in examples.seed_graph().releases()]
['5.6.14', '5.6.30', '6.15.008']
>>> len(examples.seed_fleet()), examples.seed_calendar().is_open("plant-a", "line-1", "canary", "2026-11-23T14:00:00Z")
(6, True)
"""

from __future__ import annotations

import copy
import importlib.resources
import json
from typing import Any, Dict, Tuple

from .fleet import Fleet
from .graph import UpgradeGraph
from .health import HealthPolicy, HealthState
from .rollout import Calendar


def _data(name: str) -> str:
    return (importlib.resources.files(__package__) / "data" / name).read_text(encoding="utf-8")


# The documents, as the files in `fleetpath/data/` hold them.
SEED_MANIFEST: Dict[str, Any] = json.loads(_data("seed-manifest.json"))
SEED_FLEET_CSV: str = _data("seed-fleet.csv")
SEED_CALENDAR: Dict[str, Any] = json.loads(_data("seed-calendar.json"))
CYCLE_TIME_POLICY: Dict[str, Any] = json.loads(_data("cycle-time-policy.json"))


def seed_graph() -> UpgradeGraph:
    """The IP module's upgrade graph (`SEED_MANIFEST`).

    >>> seed_graph().resolve("5.6.14", "6.15.008").versions()
    ('5.6.14', '5.6.30', '6.15.008')
    """
    return UpgradeGraph.load(copy.deepcopy(SEED_MANIFEST))


def seed_fleet() -> Fleet:
    """Six IP modules on two lines (`SEED_FLEET_CSV`).

    >>> seed_fleet().lines()
    [('line-1', 3), ('line-2', 3)]
    """
    return Fleet.load(SEED_FLEET_CSV)


def seed_calendar() -> Calendar:
    """The plant's shifts: canary in the 2nd shift, early in the 3rd, production in
    maintenance windows (`SEED_CALENDAR`).

    >>> seed_calendar().is_open("plant-a", "line-1", "production", "2026-11-28T09:00:00Z")  # Saturday
    True
    """
    return Calendar.load(copy.deepcopy(SEED_CALENDAR))


def cycle_time_story() -> Tuple[HealthPolicy, HealthState, Dict[str, Any]]:
    """A one-rule health policy (`CYCLE_TIME_POLICY`: cycle time more than 10 % worse, a
    1-hour baseline and monitoring window), a state following device `d1` of line `L1`
    (updated 2026-11-18T11:06:40Z), and a batch of its samples not yet ingested: a minute
    apart, 100 ms for the 8 minutes before the update and 112 ms for the 8 after.

    >>> policy, state, batch = cycle_time_story()
    >>> state.ingest(batch).observation, state.evaluate(policy, now="2026-11-18T13:06:40Z").status
    (8, 'breach')
    """
    policy = HealthPolicy(copy.deepcopy(CYCLE_TIME_POLICY))
    state = HealthState(policy)
    state.add_device("d1", "L1", "2026-11-18T11:06:40Z")
    batch = {"devices": ["d1"], "device": [0] * 16, "time": [1794999520 + 60 * i for i in range(16)],
             "metrics": {"cycle_time_ms": [100.0] * 8 + [112.0] * 8}}
    return policy, state, batch


__all__ = ["SEED_MANIFEST", "SEED_FLEET_CSV", "SEED_CALENDAR", "seed_graph", "seed_fleet", "seed_calendar",
           "CYCLE_TIME_POLICY", "cycle_time_story"]
