"""The upgrade graph: load a manifest, resolve paths, route tables, lint, DOT / Mermaid."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from . import _native
from ._records import Edge, Hop, LintFinding, Path, Release, RouteEntry
from ._native import Version

if TYPE_CHECKING:
    from .fleet import Fleet

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

        Raises a `FleetpathError` subclass naming the entry (`UnknownReleaseError`, …).

        >>> from fleetpath import examples
        >>> UpgradeGraph.load(examples.SEED_MANIFEST)
        UpgradeGraph(name='ip-alarm-module', releases=3)
        >>> UpgradeGraph.load({"format_version": 1, "releases": [{"version": "1.0"}],
        ...                    "edges": [{"from": "1.0", "to": "2.0"}]})
        Traceback (most recent call last):
        fleetpath.errors.UnknownReleaseError: unknown release "2.0" in edges[0].to
        """
        return cls(_native.UpgradeGraph.load(source))

    @classmethod
    def from_cincinnati(cls, source: Any) -> "UpgradeGraph":
        """From a Cincinnati graph (`nodes`, `edges`, `conditionalEdges`): path, text, bytes
        or a dict. Channels become models; a conditional edge a blocked hop naming its risks.

        >>> g = UpgradeGraph.from_cincinnati({"nodes": [{"version": "4.8.0"}, {"version": "4.8.1"}],
        ...                                   "edges": [[0, 1]]})
        >>> g.resolve("4.8.0", "4.8.1").versions()
        ('4.8.0', '4.8.1')
        """
        return cls(_native.UpgradeGraph.from_cincinnati(source))

    def to_cincinnati(self, model: Optional[str] = None) -> Dict[str, Any]:
        """The graph as a Cincinnati client of `model` (a channel) sees it: `nodes`, `edges`.

        >>> from fleetpath import examples
        >>> examples.seed_graph().to_cincinnati("IPM-1")["edges"]
        [(0, 1), (1, 2)]
        """
        return dict(self._native.to_cincinnati(model))

    @classmethod
    def from_json(cls, text: str) -> "UpgradeGraph":
        """From JSON text.

        >>> import json
        >>> from fleetpath import examples
        >>> UpgradeGraph.from_json(json.dumps(examples.SEED_MANIFEST)).name
        'ip-alarm-module'
        """
        return cls(_native.UpgradeGraph.load(text))

    @property
    def name(self) -> Optional[str]:
        """The manifest's `name`.

        >>> from fleetpath import examples
        >>> examples.seed_graph().name
        'ip-alarm-module'
        """
        return self._native.name

    def releases(self) -> Tuple[Release, ...]:
        """Every release, oldest first.

        >>> from fleetpath import examples
        >>> [(str(r.version), r.labels.protocol) for r in examples.seed_graph().releases()]
        [('5.6.14', 'turn'), ('5.6.30', 'turn+mqtt'), ('6.15.008', 'mqtt')]
        """
        return tuple(Release(r) for r in self._native.releases())

    def release(self, version: VersionLike) -> Optional[Release]:
        """The release of `version` (any spelling), or `None`.

        >>> from fleetpath import examples
        >>> g = examples.seed_graph()
        >>> g.release("v5.6.30").barrier, g.release("5.6.30").artifact.key, g.release("9.9")
        (True, 'firmware/ip-module/5.6.30.bin', None)
        """
        found = self._native.release(version)
        return None if found is None else Release(found)

    def models(self) -> List[str]:
        """Every hardware model the graph names, sorted.

        >>> from fleetpath import examples
        >>> examples.seed_graph().models()
        ['IPM-1']
        """
        return self._native.models()

    def latest_for(self, model: str) -> Version:
        """The newest active, non-pre-release release for `model`
        (`NoReleaseForModelError` says whether the graph names the model; `EmptyModelError`).

        >>> from fleetpath import examples
        >>> examples.seed_graph().latest_for("IPM-1")
        Version('6.15.008')
        >>> examples.seed_graph().latest_for("IPM-2")
        Traceback (most recent call last):
        fleetpath.errors.NoReleaseForModelError: no active release installs on model "IPM-2" (no release or edge of the graph names it)
        """
        return self._native.latest_for(model)

    def edges(self) -> Tuple[Edge, ...]:
        """Every upgrade edge, by source then target: the hops paths may take (range edges
        expanded, blocked hops left out); `edge` is the declaring entry's index.

        >>> from fleetpath import examples
        >>> [(e.from_, e.to, e.generated) for e in examples.seed_graph().edges()]
        [('5.6.14', '5.6.30', True), ('5.6.30', '6.15.008', False)]
        """
        return tuple(Edge(e) for e in self._native.edges())

    def resolve(
        self,
        from_: VersionLike,
        to: VersionLike,
        *,
        model: Optional[str] = None,
        allow_blocked: bool = False,
        max_hops: Optional[int] = None,
        labels: Optional[Mapping[str, str]] = None,
        accepted_risks: Iterable[str] = (),
    ) -> Path:
        """The fewest-hop path (`NoPathError`, `TooManyHopsError`, … explain why there is none).

        >>> from fleetpath import examples
        >>> g = examples.seed_graph()
        >>> path = g.resolve("v5.6.14", "6.15.008", model="IPM-1")
        >>> path.versions(), path.hops[0].artifact.key
        (('5.6.14', '5.6.30', '6.15.008'), 'firmware/ip-module/5.6.30.bin')
        >>> g.resolve("5.6.14", "6.15.008", max_hops=1)
        Traceback (most recent call last):
        fleetpath.errors.TooManyHopsError: the shortest path from "5.6.14" to "6.15.008" takes 2 hops, more than the maximum of 1

        A hop with `risks` is withheld from a device they apply to (by its `labels`, from
        the host's record) unless the host lists them in `accepted_risks`:

        >>> risky = UpgradeGraph.load({"format_version": 1, "releases": [{"version": "1.0"}, {"version": "2.0"}],
        ...     "edges": [{"from": "1.0", "to": "2.0", "risks": [{"name": "OldBoot",
        ...         "when": {"label": {"name": "bootloader", "in": ["1"]}}}]}]})
        >>> risky.resolve("1.0", "2.0", labels={"bootloader": "2"}).versions()
        ('1.0', '2.0')
        >>> risky.resolve("1.0", "2.0", labels={"bootloader": "1"})
        Traceback (most recent call last):
        fleetpath.errors.NoPathError: no upgrade path from "1.0" to "2.0": every route takes hop "1.0" -> "2.0", withheld by risk "OldBoot" unless the risk is accepted; the newest release it reaches at or below the target is "1.0"
        >>> risky.resolve("1.0", "2.0", labels={"bootloader": "1"}, accepted_risks=["OldBoot"]).versions()
        ('1.0', '2.0')
        """
        return Path(self._native.resolve(from_, to, _constraints(model, allow_blocked, max_hops, labels, accepted_risks)))

    def next_hop(
        self,
        from_: VersionLike,
        to: VersionLike,
        *,
        model: Optional[str] = None,
        allow_blocked: bool = False,
        max_hops: Optional[int] = None,
        labels: Optional[Mapping[str, str]] = None,
        accepted_risks: Iterable[str] = (),
    ) -> Optional[Hop]:
        """The first hop of `resolve`'s path, or `None` when `from_` is `to`.

        >>> from fleetpath import examples
        >>> g = examples.seed_graph()
        >>> g.next_hop("5.6.14", "6.15.008").to, g.next_hop("6.15.008", "6.15.008")
        ('5.6.30', None)
        """
        hop = self._native.next_hop(from_, to, _constraints(model, allow_blocked, max_hops, labels, accepted_risks))
        return None if hop is None else Hop(hop)

    def rollback_route(self, from_: VersionLike, to: VersionLike, *, model: Optional[str] = None) -> Path:
        """The way back from `from_` to `to` over declared downgrades only (never an upgrade
        edge run backwards). `NoDowngradePathError`, `NotOlderError`, `BreakingChangeError`
        (a schema change without a migration), … explain why there is none.

        >>> from fleetpath import examples
        >>> route = examples.seed_graph().rollback_route("6.15.008", "5.6.30", model="IPM-1")
        >>> route.versions()
        ('6.15.008', '5.6.30')
        >>> examples.seed_graph().rollback_route("6.15.008", "5.6.14")
        Traceback (most recent call last):
        fleetpath.errors.NoDowngradePathError: ...
        """
        return Path(self._native.rollback_route(from_, to, model))

    def route_table(
        self,
        to: VersionLike,
        *,
        model: Optional[str] = None,
        allow_blocked: bool = False,
        max_hops: Optional[int] = None,
        labels: Optional[Mapping[str, str]] = None,
        accepted_risks: Iterable[str] = (),
    ) -> "RouteTable":
        """The next hop toward `to` from every release, in one O(V+E) search.

        >>> from fleetpath import examples
        >>> table = examples.seed_graph().route_table("6.15.008", model="IPM-1")
        >>> table.next_hop("v5.6.14").to, table.hops("5.6.14")
        ('5.6.30', 2)
        """
        return RouteTable(self._native.route_table(to, _constraints(model, allow_blocked, max_hops, labels, accepted_risks)))

    def lint(self) -> Tuple[LintFinding, ...]:
        """What is legal but suspicious (stranded models, dead ends, unreachable releases…).

        >>> g = UpgradeGraph.load({"format_version": 1, "releases": [{"version": "1.0"},
        ...     {"version": "2.0"}, {"version": "3.0"}], "edges": [{"from": "1.0", "to": "3.0"}]})
        >>> [(f.code, f.subject.version) for f in g.lint() if f.subject.kind == "release"][:3]
        [('dead_end', '2.0'), ('unreachable_release', '2.0'), ('missing_artifact', '1.0')]
        """
        return tuple(LintFinding(f) for f in self._native.lint())

    def lint_fleet(self, fleet: "Fleet") -> Tuple[LintFinding, ...]:
        """`lint`, and the edge risks checked against the devices of `fleet`: a risk that
        applies to none of them (`risk_never_applies`), a condition reading a label none of
        them carries (`unknown_label`, usually a misspelt name).

        >>> from fleetpath import Fleet
        >>> g = UpgradeGraph.load({"format_version": 1, "releases": [{"version": "1.0"}, {"version": "2.0"}],
        ...     "edges": [{"from": "1.0", "to": "2.0", "risks": [{"name": "OldBoot",
        ...         "when": {"label": {"name": "bootlaoder", "in": ["1"]}}}]}]})
        >>> fleet = Fleet.from_csv("id,model,line,version,label:bootloader\\nd1,m,l,1.0,2\\n")
        >>> sorted(f.code for f in g.lint_fleet(fleet) if f.subject.kind == "edge")
        ['risk_never_applies', 'unknown_label']
        """
        return tuple(LintFinding(f) for f in self._native.lint_fleet(fleet))

    def to_dot(self, path: Optional[Path] = None) -> str:
        """Graphviz DOT, with `path` highlighted.

        >>> from fleetpath import examples
        >>> g = examples.seed_graph()
        >>> g.to_dot(g.resolve("5.6.14", "6.15.008")).splitlines()[0]
        'digraph "ip-alarm-module" {'
        """
        return self._native.to_dot(path)

    def to_mermaid(self, path: Optional[Path] = None) -> str:
        """Mermaid, with `path` highlighted.

        >>> from fleetpath import examples
        >>> examples.seed_graph().to_mermaid().splitlines()[:2]
        ['flowchart LR', '  r0["5.6.14<br/>protocol: turn"]']
        """
        return self._native.to_mermaid(path)

    def to_json(self) -> str:
        """The manifest document.

        >>> import json
        >>> from fleetpath import examples
        >>> json.loads(examples.seed_graph().to_json())["format_version"]
        1
        """
        return self._native.to_json()

    def __repr__(self) -> str:
        return f"UpgradeGraph(name={self.name!r}, releases={len(self._native)})"


def _constraints(model: Any, allow_blocked: Any, max_hops: Any, labels: Any, accepted_risks: Any) -> Dict[str, Any]:
    # Collections become plain lists and dicts; anything else goes on as is, so the core names
    # it as the wrong type.
    if isinstance(accepted_risks, (tuple, set, frozenset)):
        accepted_risks = list(accepted_risks)
    if isinstance(labels, Mapping) and not isinstance(labels, dict):
        labels = dict(labels)
    return {
        "model": model,
        "allow_blocked": allow_blocked,
        "max_hops": max_hops,
        "labels": labels,
        "accepted_risks": accepted_risks,
    }


class RouteTable:
    """The next hop from every release toward one target (answer a fleet with one search).

    >>> from fleetpath import examples
    >>> table = examples.seed_graph().route_table("6.15.008")
    >>> table
    RouteTable(target='6.15.008')
    >>> [(e.from_, e.next, e.hops) for e in table.entries()]
    [('5.6.14', '5.6.30', 2), ('5.6.30', '6.15.008', 1), ('6.15.008', None, 0)]
    """

    __slots__ = ("_native",)

    def __init__(self, native: _native.RouteTable) -> None:
        self._native = native

    @property
    def target(self) -> Version:
        """The release every route leads to.

        >>> from fleetpath import examples
        >>> examples.seed_graph().route_table("6.15.008").target
        Version('6.15.008')
        """
        return self._native.target

    def next_hop(self, from_: VersionLike) -> Optional[Hop]:
        """The next hop from `from_`, or `None` at the target.

        >>> from fleetpath import examples
        >>> table = examples.seed_graph().route_table("6.15.008")
        >>> table.next_hop("5.6.30").artifact.key, table.next_hop("6.15.008")
        ('firmware/ip-module/6.15.008.bin', None)
        """
        hop = self._native.next_hop(from_)
        return None if hop is None else Hop(hop)

    def resolve(self, from_: VersionLike) -> Path:
        """The whole path from `from_`.

        >>> from fleetpath import examples
        >>> examples.seed_graph().route_table("6.15.008").resolve("5.6.14").versions()
        ('5.6.14', '5.6.30', '6.15.008')
        """
        return Path(self._native.resolve(from_))

    def hops(self, from_: VersionLike) -> Optional[int]:
        """Hops to the target, or `None` when it cannot get there.

        >>> from fleetpath import examples
        >>> table = examples.seed_graph().route_table("5.6.30")
        >>> table.hops("5.6.14"), table.hops("6.15.008")
        (1, None)
        """
        return self._native.hops(from_)

    def entries(self) -> Tuple[RouteEntry, ...]:
        """Every release that reaches the target.

        >>> from fleetpath import examples
        >>> [e.from_ for e in examples.seed_graph().route_table("5.6.30").entries()]
        ['5.6.14', '5.6.30']
        """
        return tuple(RouteEntry(e) for e in self._native.entries())

    def __repr__(self) -> str:
        return f"RouteTable(target={str(self.target)!r})"
