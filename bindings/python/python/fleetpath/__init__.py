"""fleetpath: the decision engine for firmware over-the-air updates of IoT and industrial
fleets, in Python (the Rust core, through pyo3).

>>> import fleetpath
>>> graph = fleetpath.UpgradeGraph.load({"format_version": 1, "releases": [
...     {"version": "5.6.14"}, {"version": "5.6.30", "barrier": True}, {"version": "6.15.008"}],
...     "edges": [{"from": "5.6.14", "to": "5.6.30"}, {"from": "5.6.30", "to": "6.15.008"},
...               {"from": "5.6.14", "to": "6.15.008", "blocked": "bricks TURN modules"}]})
>>> graph.route_table("6.15.008").next_hop("v5.6.14").to
'5.6.30'
>>> fleetpath.Version("6.15.008") == fleetpath.Version("6.15.8") < fleetpath.Version("6.15.10")
True
"""

from typing import List, Tuple

from . import _native
from ._native import BUFFER_PROTOCOL, Version, VersionRange, __version__

ERROR_CODES: List[Tuple[str, List[str]]] = _native.error_codes()
DECISION_REASONS: List[str] = _native.decision_reasons()
from ._records import (
    Action,
    Decision,
    Device,
    Hop,
    LintFinding,
    Path,
    PrefetchItem,
    PrefetchPlan,
    Record,
    Release,
    RolloutPlan,
    RouteEntry,
    Window,
)
from .decision import Decider, DecisionTable, check_report
from .errors import *  # noqa: F401,F403  (one class per error code)
from .errors import ERROR_CLASSES, FleetpathError, InputError, error_class
from .fleet import Fleet
from .graph import RouteTable, UpgradeGraph
from .health import Finding, HealthPolicy, HealthReport, HealthState, IngestReport
from .retry import RetryDecision, RetryPolicy
from .rollout import Calendar, Rollout, default_rollout_policy, plan_prefetch, plan_rollout
from . import examples, s3, trust  # noqa: E402  (submodules: fleetpath.s3, .examples, .trust)

__all__ = [
    "__version__",
    "ERROR_CODES",
    "ERROR_CLASSES",
    "DECISION_REASONS",
    "FleetpathError",
    "InputError",
    "error_class",
    "Version",
    "VersionRange",
    "UpgradeGraph",
    "RouteTable",
    "Fleet",
    "Calendar",
    "Rollout",
    "plan_rollout",
    "default_rollout_policy",
    "plan_prefetch",
    "HealthPolicy",
    "HealthState",
    "HealthReport",
    "Finding",
    "IngestReport",
    "BUFFER_PROTOCOL",
    "Decider",
    "DecisionTable",
    "check_report",
    "RetryPolicy",
    "RetryDecision",
    "Record",
    "Path",
    "Hop",
    "Release",
    "LintFinding",
    "RouteEntry",
    "Device",
    "RolloutPlan",
    "PrefetchPlan",
    "PrefetchItem",
    "Window",
    "Action",
    "Decision",
]
