"""Retries: capped exponential backoff with jitter, and when to give up. The jitter is seeded
per device, so every binding (and every run) gives the same delays."""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Tuple

from . import _native
from ._records import Field, Record
from .rollout import When


class RetryDecision(Record):
    """`decision`: `retry_at` (with `at` and `attempt`) or `give_up` (with `attempts`,
    `since` and `reason`: `max_attempts` or `give_up_after`).

    >>> import fleetpath
    >>> _, d = fleetpath.RetryPolicy({"jitter": "none"}).after_failure("press-1-07", "2026-11-23T08:00:00Z")
    >>> d
    RetryDecision(decision='retry_at', at='2026-11-23T08:00:30Z', attempt=1)
    """

    __slots__ = ()
    decision: "Field[str]" = Field("decision")


class RetryPolicy:
    """When and how often a device retries: `base_seconds` (30), `cap_seconds` (3600),
    `jitter` (`full`, `decorrelated` or `none`), `max_attempts` (12),
    `give_up_after_seconds` (a day) and `seed`.

    >>> import fleetpath
    >>> policy = fleetpath.RetryPolicy({"jitter": "none"})
    >>> [policy.delay_ms("press-1-07", attempt) for attempt in (1, 2, 3)]
    [30000, 60000, 120000]
    """

    __slots__ = ("_native",)

    def __init__(self, policy: Optional[Mapping[str, Any]] = None) -> None:
        self._native = _native.RetryPolicy(policy)

    def delay_ms(self, device: str, attempt: int, previous_ms: int = 0) -> int:
        """The delay before retry `attempt` (from 1) of `device`, in milliseconds;
        decorrelated jitter builds on `previous_ms`.

        >>> import fleetpath
        >>> fleetpath.RetryPolicy({"jitter": "full", "seed": 0}).delay_ms("press-1-07", 1)
        8971
        """
        return self._native.delay_ms(device, attempt, previous_ms)

    def after_failure(
        self, device: str, at: When, state: Optional[Mapping[str, Any]] = None
    ) -> Tuple[Dict[str, Any], RetryDecision]:
        """After a failed attempt at `at`: the device's new retry state (keep it for its next
        failure) and what to tell it.

        >>> import fleetpath
        >>> policy = fleetpath.RetryPolicy({"max_attempts": 2, "jitter": "none", "base_seconds": 10})
        >>> state, first = policy.after_failure("d", "2026-11-23T08:00:00Z")
        >>> state, second = policy.after_failure("d", "2026-11-23T08:00:10Z", state)
        >>> first.decision, second.to_dict()
        ('retry_at', {'decision': 'give_up', 'attempts': 2, 'since': '2026-11-23T08:00:00Z', 'reason': 'max_attempts'})
        """
        next_state, decision = self._native.after_failure(device, at, state)
        return next_state, RetryDecision(decision)

    def to_dict(self) -> Dict[str, Any]:
        """The policy with every default filled in.

        >>> import fleetpath
        >>> fleetpath.RetryPolicy().to_dict()["max_attempts"]
        12
        """
        import json

        return dict(json.loads(self._native.to_json()))

    def __repr__(self) -> str:
        return f"RetryPolicy({self.to_dict()!r})"


__all__ = ["RetryPolicy", "RetryDecision"]
