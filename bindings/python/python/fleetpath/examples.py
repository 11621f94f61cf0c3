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
from typing import Any, Dict, Tuple

from .fleet import Fleet
from .graph import UpgradeGraph
from .health import HealthPolicy, HealthState
from .rollout import Calendar

SEED_MANIFEST: Dict[str, Any] = {
    "format_version": 1,
    "name": "ip-alarm-module",
    "releases": [
        {"version": "5.6.14", "models": ["IPM-1"], "labels": {"protocol": "turn"},
         "artifact": {"key": "firmware/ip-module/5.6.14.bin", "sha256": "1" * 64, "size": 1835008}},
        {"version": "5.6.30", "models": ["IPM-1"], "labels": {"protocol": "turn+mqtt"}, "barrier": True,
         "artifact": {"key": "firmware/ip-module/5.6.30.bin", "sha256": "5" * 64, "size": 1871872}},
        {"version": "6.15.008", "models": ["IPM-1"], "labels": {"protocol": "mqtt"},
         "artifact": {"key": "firmware/ip-module/6.15.008.bin", "sha256": "6" * 64, "size": 2097152}},
    ],
    "edges": [
        {"from_range": "<5.6.30", "to": "5.6.30"},
        {"from": "5.6.30", "to": "6.15.008"},
        {"from": "5.6.14", "to": "6.15.008", "blocked": "the direct jump from TURN firmware bricks the module"},
    ],
    "downgrades": [{"from": "6.15.008", "to": "5.6.30"}],
}

SEED_FLEET_CSV = """id,model,line,site,version
press-1-01,IPM-1,line-1,plant-a,5.6.14
press-1-02,IPM-1,line-1,plant-a,5.6.14
press-1-03,IPM-1,line-1,plant-a,5.6.30
press-2-01,IPM-1,line-2,plant-a,5.6.14
press-2-02,IPM-1,line-2,plant-a,5.6.30
press-2-03,IPM-1,line-2,plant-a,6.15.008
"""

_WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
SEED_CALENDAR: Dict[str, Any] = {
    "sites": [
        {
            "name": "plant-a",
            "time_zone": "Europe/Berlin",
            "shifts": [
                {"name": "1st", "start": "06:00", "end": "14:00", "days": _WEEKDAYS},
                {"name": "2nd", "start": "14:00", "end": "22:00", "days": _WEEKDAYS},
                {"name": "3rd", "start": "22:00", "end": "06:00", "days": ["sun", "mon", "tue", "wed", "thu"]},
            ],
            "maintenance": [{"name": "saturday-maintenance", "day": "sat", "start": "06:00", "end": "18:00"}],
            "stages": {"canary": ["2nd"], "early": ["3rd"], "production": ["saturday-maintenance"]},
        }
    ],
}


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


CYCLE_TIME_POLICY: Dict[str, Any] = {
    "baseline_hours": 1,
    "monitoring_hours": 1,
    "min_samples": 3,
    "rules": [{"check": "compare", "name": "cycle_time", "metric": "cycle_time_ms", "statistic": "mean",
               "change": "relative", "threshold": 0.1}],
}


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
