"""Frozen result objects over the core's JSON form.

Every result the core returns (a path, a decision, a plan…) arrives as the Python objects of
its serde JSON. `Record` wraps such a dict: attributes read its fields (nested dicts become
records, lists become tuples), nothing can be assigned, `repr()` shows the fields, and
`to_dict()` gives back exactly the JSON the Rust core serializes.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, Iterator, Tuple


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
        """The JSON object, as the Rust core serializes it (a deep copy)."""
        return copy.deepcopy(object.__getattribute__(self, "_data"))

    def to_json(self) -> str:
        """`to_dict()` as JSON text."""
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


class Path(Record):
    """A resolved upgrade path: `from`, `to`, `hops` (each with `from`, `to`, `artifact`, …)."""

    __slots__ = ()

    def versions(self) -> Tuple[str, ...]:
        """Every version on the path, the start included, as the manifest spells them."""
        hops = object.__getattribute__(self, "_data")["hops"]
        data = object.__getattribute__(self, "_data")
        return (data["from"], *(h["to"] for h in hops))


class Hop(Record):
    """One hop: `from`, `to`, `artifact` (key, sha256, size) and the edge it takes."""

    __slots__ = ()


class Release(Record):
    """A release of the manifest: `version`, `artifact`, `models`, `labels`, `status`, …"""

    __slots__ = ()


class LintFinding(Record):
    """A lint finding: `code`, `severity`, `subject`, `message`."""

    __slots__ = ()


class RouteEntry(Record):
    """A row of a route table: `from`, `next`, `hops`."""

    __slots__ = ()


class Device(Record):
    """A device: `id`, `model`, `line`, `site`, `version`, `labels`."""

    __slots__ = ()


class RolloutPlan(Record):
    """A rollout plan: its stages with their devices, up-to-date and excluded devices."""

    __slots__ = ()


class Window(Record):
    """An open period of a calendar: `start`, `end` (UTC, RFC 3339 text)."""

    __slots__ = ()


class Action(Record):
    """What a host must do after a rollout event: `type` and its fields."""

    __slots__ = ()


class Decision(Record):
    """What a device should do: `kind` (`download`, `wait`, `retry_after`, …), `reason` (the
    core's stable reason code) and the fields of that decision (`step`, `until`, `at`, …)."""

    __slots__ = ("_reason",)

    def __init__(self, data: Dict[str, Any], reason: str) -> None:
        super().__init__(data)
        object.__setattr__(self, "_reason", reason)

    @property
    def reason(self) -> str:
        """The stable reason code (`next_hop`, `artifact_archived`, `outside_window`, …)."""
        return str(object.__getattribute__(self, "_reason"))

    def __reduce__(self) -> Any:
        return (type(self), (self.to_dict(), self.reason))

    @property
    def kind(self) -> str:
        """`up_to_date`, `wait`, `download`, `retry_after`, `give_up`, `roll_back`, `blocked`."""
        return str(object.__getattribute__(self, "_data")["decision"])
