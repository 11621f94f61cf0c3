"""The upgrade graph: load a manifest, resolve paths, route tables, lint, DOT / Mermaid."""

from __future__ import annotations

from typing import Any, List, Optional, Tuple, Union

from . import _native
from ._convert import document_text
from ._records import Hop, LintFinding, Path, Release, RouteEntry
from ._native import Version

VersionLike = Union[Version, str]


class UpgradeGraph:
    """A validated upgrade graph manifest.

    >>> g = UpgradeGraph.load({"format_version": 1, "releases": [
    ...     {"version": "5.6.14"}, {"version": "5.6.30", "barrier": True}, {"version": "6.15.008"}],
    ...     "edges": [{"from": "5.6.14", "to": "5.6.30"}, {"from": "5.6.30", "to": "6.15.008"}]})
    >>> g.resolve("v5.6.14", "6.15.008").versions()
    ('5.6.14', '5.6.30', '6.15.008')
    """

    __slots__ = ("_native",)

    def __init__(self, native: _native.UpgradeGraph) -> None:
        self._native = native

    @classmethod
    def load(cls, source: Any) -> "UpgradeGraph":
        """From a path (`pathlib.Path`), JSON text, bytes or a dict.

        Raises a `FleetpathError` subclass naming the entry (`UnknownReleaseError`, …)."""
        return cls(_native.UpgradeGraph.from_json(document_text(source, "manifest")))

    @classmethod
    def from_json(cls, text: str) -> "UpgradeGraph":
        """From JSON text."""
        return cls(_native.UpgradeGraph.from_json(text))

    @property
    def name(self) -> Optional[str]:
        """The manifest's `name`."""
        return self._native.name

    def releases(self) -> Tuple[Release, ...]:
        """Every release, oldest first."""
        return tuple(Release(r) for r in self._native.releases())

    def release(self, version: VersionLike) -> Optional[Release]:
        """The release of `version` (any spelling), or `None`."""
        found = self._native.release(version)
        return None if found is None else Release(found)

    def models(self) -> List[str]:
        """Every hardware model the graph names, sorted."""
        return self._native.models()

    def latest_for(self, model: str) -> Optional[Version]:
        """The newest active, non-pre-release release for `model`."""
        return self._native.latest_for(model)

    def resolve(
        self,
        from_: VersionLike,
        to: VersionLike,
        *,
        model: Optional[str] = None,
        allow_blocked: bool = False,
        max_hops: Optional[int] = None,
    ) -> Path:
        """The fewest-hop path (`NoPathError`, `TooManyHopsError`, … explain why there is none)."""
        return Path(self._native.resolve(from_, to, model, allow_blocked, max_hops))

    def next_hop(
        self,
        from_: VersionLike,
        to: VersionLike,
        *,
        model: Optional[str] = None,
        allow_blocked: bool = False,
        max_hops: Optional[int] = None,
    ) -> Optional[Hop]:
        """The first hop of `resolve`'s path, or `None` when `from_` is `to`."""
        hop = self._native.next_hop(from_, to, model, allow_blocked, max_hops)
        return None if hop is None else Hop(hop)

    def route_table(
        self,
        to: VersionLike,
        *,
        model: Optional[str] = None,
        allow_blocked: bool = False,
        max_hops: Optional[int] = None,
    ) -> "RouteTable":
        """The next hop toward `to` from every release, in one O(V+E) search."""
        return RouteTable(self._native.route_table(to, model, allow_blocked, max_hops))

    def lint(self) -> Tuple[LintFinding, ...]:
        """What is legal but suspicious (stranded models, dead ends, unreachable releases…)."""
        return tuple(LintFinding(f) for f in self._native.lint())

    def to_dot(self, path: Optional[Path] = None) -> str:
        """Graphviz DOT, with `path` highlighted."""
        return self._native.to_dot(None if path is None else path.to_json())

    def to_mermaid(self, path: Optional[Path] = None) -> str:
        """Mermaid, with `path` highlighted."""
        return self._native.to_mermaid(None if path is None else path.to_json())

    def to_json(self) -> str:
        """The manifest document."""
        return self._native.to_json()

    def __repr__(self) -> str:
        return f"UpgradeGraph(name={self.name!r}, releases={len(self._native.releases())})"


class RouteTable:
    """The next hop from every release toward one target (answer a fleet with one search)."""

    __slots__ = ("_native",)

    def __init__(self, native: _native.RouteTable) -> None:
        self._native = native

    @property
    def target(self) -> Version:
        return self._native.target

    def next_hop(self, from_: VersionLike) -> Optional[Hop]:
        """The next hop from `from_`, or `None` at the target."""
        hop = self._native.next_hop(from_)
        return None if hop is None else Hop(hop)

    def resolve(self, from_: VersionLike) -> Path:
        """The whole path from `from_`."""
        return Path(self._native.resolve(from_))

    def hops(self, from_: VersionLike) -> Optional[int]:
        """Hops to the target, or `None` when it cannot get there."""
        return self._native.hops(from_)

    def entries(self) -> Tuple[RouteEntry, ...]:
        """Every release that reaches the target."""
        return tuple(RouteEntry(e) for e in self._native.entries())

    def __repr__(self) -> str:
        return f"RouteTable(target={str(self.target)!r})"
