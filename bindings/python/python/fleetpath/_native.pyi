"""
The native half of the `fleetpath` package.
"""

from typing import Any, Final, SupportsIndex, final

__all__ = ["BUFFER_PROTOCOL", "__version__", "Calendar", "Decider", "DecisionTable", "Fleet", "HealthPolicy", "HealthState", "RetryPolicy", "Rollout", "RouteTable", "UpgradeGraph", "Version", "VersionRange", "_column_address", "_panic_for_tests", "check_report", "decision_reasons", "default_rollout_policy", "error_codes", "head_fields", "health_event", "key_from_seed", "missing", "observe_head", "open_retry", "plan_prefetch", "plan_rollout", "public_key", "restore_request", "seal_retry", "sign", "trusted_keys", "verify", "verify_signatures"]

BUFFER_PROTOCOL: Final[bool]
"""
Whether columns can be read in place through the buffer protocol (stable ABI ≥ 3.11).
"""

__version__: Final[str]
"""
The package's version.
"""

@final
class Calendar:
    """
    Shift and maintenance calendars per site (native half of `fleetpath.Calendar`).
    """
    def is_open(self, /, site: Any, line: Any, stage: Any, at: Any) -> bool:
        """
        Whether `line` at `site` is open for `stage` at `at`.
        """
    @staticmethod
    def load(source: Any) -> Calendar:
        """
        A calendar document: JSON text, bytes, a path or the objects.
        """
    def next_window(self, /, site: Any, line: Any, stage: Any, after: Any) -> Any | None:
        """
        The window containing `after`, or the next one: `{"start", "end"}` in UTC, or `None`.
        """
    def to_json(self, /) -> str:
        """
        The calendar document as JSON.
        """

@final
class Decider:
    """
    The update decision over a graph and, optionally, a target, a rollout with its calendar
    and observed availability (native half of `fleetpath.Decider`). Built once.
    """
    def __new__(cls, /, graph: Any, policy: Any | None = None, target: Any | None = None, rollout: Any | None = None, calendar: Any | None = None, availability: Any | None = None) -> Decider: ...
    def decide(self, /, request: Any, record: Any | None = None) -> tuple[str, Any]:
        """
        One request's decision: `(reason, dict)`. With the host's `record` of the device, its
        claims are checked first (`refused` when they disagree).
        """
    def decide_all(self, /, requests: Any) -> str:
        """
        Many requests (a list): the same answers as one `decide` each, as [`batch_json`].
        """
    def decide_fleet(self, /, fleet: Any, at: Any) -> tuple[str, bytes]:
        """
        Every device of `fleet` asking at `at`, in fleet order: the decisions the rows point
        to as [`batch_json`], and per device the index of its own among them (`u32` in the
        machine's byte order, as `memoryview.cast("I")` reads it in the same process), so the
        package builds one record per entry.
        """
    def decide_fleet_table(self, /, fleet: Any, at: Any) -> DecisionTable:
        """
        Every device of `fleet` asking at `at`, in fleet order, as one Arrow record batch.
        """

@final
class DecisionTable:
    """
    A fleet's decisions as an Arrow record batch (native half of `fleetpath.DecisionTable`).
    """
    def __arrow_c_array__(self, /, requested_schema: Any | None = None) -> tuple[Any, Any]:
        """
        The batch as a struct array: `(arrow_schema, arrow_array)` capsules.
        """
    def __arrow_c_schema__(self, /) -> Any:
        """
        The batch's schema, as an `arrow_schema` capsule.
        """
    def __arrow_c_stream__(self, /, requested_schema: Any | None = None) -> Any:
        """
        The batch as a one-batch stream: an `arrow_array_stream` capsule.
        """
    def __len__(self, /) -> int: ...
    def row(self, /, i: SupportsIndex) -> tuple[str, Any]:
        """
        Device `i`'s decision: `(reason, the core's JSON form)`.
        """

@final
class Fleet:
    """
    Devices, their models, lines, sites and versions (native half of `fleetpath.Fleet`).
    """
    def __len__(self, /) -> int: ...
    def check_against(self, /, graph: Any) -> None: ...
    def devices(self, /) -> Any: ...
    @staticmethod
    def from_arrow(table: Any) -> Fleet:
        """
        Arrow tabular data: a pyarrow `Table`, `RecordBatch` or `RecordBatchReader`, a polars or
        pandas `DataFrame`, any object with `__arrow_c_stream__` or `__arrow_c_array__`.
        """
    @staticmethod
    def from_csv(csv: Any) -> Fleet:
        """
        A plant's CSV export (text, bytes or a path).
        """
    def get(self, /, id: Any) -> Any | None: ...
    def ids(self, /) -> list[str]:
        """
        The device ids, in the order stated.
        """
    def lines(self, /) -> list[tuple[str, int]]: ...
    @staticmethod
    def load(source_: Any) -> Fleet:
        """
        A fleet: CSV or JSON text (`{"devices": […]}`), bytes, a path, the JSON's objects, a
        list of device dicts or Arrow tabular data.
        """
    def origin(self, /, id: Any) -> str | None: ...
    def to_csv(self, /) -> str: ...
    def to_json(self, /) -> str: ...

@final
class HealthPolicy:
    """
    A health policy (native half of `fleetpath.HealthPolicy`).
    """
    @staticmethod
    def default() -> HealthPolicy:
        """
        The seed's defaults.
        """
    @staticmethod
    def load(source: Any) -> HealthPolicy:
        """
        A policy document (JSON text, bytes, a path or the objects), validated.
        """
    def to_dict(self, /) -> Any: ...
    def to_json(self, /) -> str:
        """
        The policy with every default filled in, as JSON.
        """

@final
class HealthState:
    """
    Followed devices' summaries (native half of `fleetpath.HealthState`).
    """
    def __len__(self, /) -> int: ...
    def __new__(cls, /, policy: Any | None = None) -> HealthState: ...
    def add_device(self, /, id: Any, line: Any, updated_at: Any) -> None:
        """
        Starts following a device updated at `updated_at`.
        """
    def add_devices(self, /, devices: Any) -> None:
        """
        [`add_device`](Self::add_device) for each `{"id", "line", "updated_at"}`.
        """
    def devices(self, /) -> Any:
        """
        The followed devices' summaries, by id (the JSON form).
        """
    def evaluate(self, /, policy: Any | None = None, now: Any | None = None) -> tuple[Any, str]:
        """
        Evaluates under `policy` at `now`: `(report dict, report text)`.
        """
    def ingest(self, /, batch: Any) -> Any:
        """
        Ingests a batch: a dict of columns (lists, numpy arrays, buffers), or the JSON form
        (text, bytes, a path).
        """
    @staticmethod
    def load(source: Any) -> HealthState:
        """
        A stored state (its JSON: text, bytes, a path or the objects).
        """
    def merge(self, /, other: Any) -> None:
        """
        Merges another state's summaries into this one.
        """
    def metrics(self, /) -> Any:
        """
        The metrics it summarises, built-in and the policy's.
        """
    def to_dict(self, /) -> Any: ...
    def to_json(self, /) -> str: ...

@final
class RetryPolicy:
    """
    A retry policy (native half of `fleetpath.RetryPolicy`).
    """
    def __new__(cls, /, policy: Any | None = None) -> RetryPolicy: ...
    def after_failure(self, /, device: Any, at: Any, state: Any | None = None) -> tuple[Any, Any]:
        """
        After a failed attempt at `at`: the next state and the decision (retry at, or give up).
        """
    def delay_ms(self, /, device: Any, attempt: Any, previous_ms: Any) -> int:
        """
        The delay before attempt `attempt` (from 1) of `device`, in milliseconds.
        """
    def to_json(self, /) -> str: ...

@final
class Rollout:
    """
    A rollout's state (native half of `fleetpath.Rollout`).
    """
    def apply(self, /, event: Any, calendar: Any | None = None) -> tuple[Rollout, Any]:
        """
        Applies an event: the new state and the actions, as dicts.
        """
    @property
    def id(self, /) -> str: ...
    @staticmethod
    def load(state: Any) -> Rollout:
        """
        A stored state: JSON text, bytes or the objects.
        """
    @staticmethod
    def new(plan: Any, fleet: Any, graph: Any, policy: Any | None = None) -> Rollout:
        """
        A new rollout (revision 0) from a plan.
        """
    @property
    def revision(self, /) -> int: ...
    def to_dict(self, /) -> Any:
        """
        The state as Python objects (the JSON form).
        """
    def to_json(self, /) -> str: ...

@final
class RouteTable:
    """
    The next hop from every release toward one target (native half of `fleetpath.RouteTable`).
    """
    def entries(self, /) -> Any:
        """
        Every release that reaches the target: `from`, `next`, `hops`.
        """
    def hops(self, /, from_: Any) -> int | None:
        """
        Hops from `from_` to the target, or `None` when it cannot get there.
        """
    def next_hop(self, /, from_: Any) -> Any | None:
        """
        The next hop from `from_`, or `None` at the target.
        """
    def resolve(self, /, from_: Any) -> Any:
        """
        The whole path from `from_`.
        """
    @property
    def target(self, /) -> Version: ...

@final
class UpgradeGraph:
    """
    The upgrade graph of a manifest (native half of `fleetpath.UpgradeGraph`).
    """
    def __len__(self, /) -> int: ...
    def edges(self, /) -> Any:
        """
        Every upgrade edge (from, to, edge, generated), by source then target.
        """
    @staticmethod
    def from_cincinnati(source: Any) -> UpgradeGraph:
        """
        Reads a Cincinnati graph (JSON text, bytes, a path or the objects) as a manifest.
        """
    def latest_for(self, /, model: Any) -> Version:
        """
        The newest active, non-pre-release release for `model`.
        """
    def lint(self, /) -> Any:
        """
        Lint findings (code, severity, subject, message), in a stable order.
        """
    def lint_fleet(self, /, fleet: Any) -> Any:
        """
        `lint`, and the edge risks checked against the devices of `fleet`.
        """
    @staticmethod
    def load(source: Any) -> UpgradeGraph:
        """
        Loads and validates a manifest: JSON text, bytes, a path or the document's objects.
        """
    def models(self, /) -> list[str]:
        """
        Every hardware model the graph names, sorted.
        """
    @property
    def name(self, /) -> str | None: ...
    def next_hop(self, /, from_: Any, to: Any, constraints: Any | None = None) -> Any | None:
        """
        The first hop of `resolve`'s path, or `None` when `from_` is `to`.
        """
    def release(self, /, version_: Any) -> Any | None:
        """
        The release of `version`, or `None`.
        """
    def releases(self, /) -> Any:
        """
        Every release, oldest first, as dicts (the manifest's fields, `version` as written).
        """
    def resolve(self, /, from_: Any, to: Any, constraints: Any | None = None) -> Any:
        """
        The fewest-hop path as a dict (`hops`, each with its release and artifact).
        """
    def rollback_route(self, /, from_: Any, to: Any, model: Any | None = None) -> Any:
        """
        The route back from `from_` to `to` over declared downgrades (a rollback).
        """
    def route_table(self, /, to: Any, constraints: Any | None = None) -> RouteTable:
        """
        The next hop toward `to` from every release, in one search.
        """
    def to_cincinnati(self, /, model: Any | None = None) -> Any:
        """
        The graph as a Cincinnati client of `model` sees it (`None`: any model).
        """
    def to_dot(self, /, path: Any | None = None) -> str:
        """
        Graphviz DOT, with `path` highlighted.
        """
    def to_json(self, /) -> str:
        """
        The manifest document as JSON.
        """
    def to_mermaid(self, /, path: Any | None = None) -> str:
        """
        Mermaid, with `path` highlighted.
        """

@final
class Version:
    """
    A vendor firmware version: `6.15.008`, `V1.04`, `0.48.0.34`, `7.6.0-build3401`.
    Compared numerically (`6.15.008 == 6.15.8 < 6.15.10`); `str()` keeps the spelling.

    >>> from fleetpath import Version
    >>> Version("v6.15.008") == Version("6.15.8") < Version("6.15.10"), str(Version("v6.15.008"))
    (True, 'v6.15.008')
    >>> Version("6.15.0-rc.1") < Version("6.15.0")
    True
    """
    def __eq__(self, other: object, /) -> Any: ...
    def __ge__(self, other: object, /) -> Any: ...
    def __gt__(self, other: object, /) -> Any: ...
    def __hash__(self, /) -> int: ...
    def __le__(self, other: object, /) -> Any: ...
    def __lt__(self, other: object, /) -> Any: ...
    def __ne__(self, other: object, /) -> Any: ...
    def __new__(cls, /, text: Any) -> Version: ...
    def __reduce__(self, /) -> tuple[Any, tuple[str]]: ...
    def __repr__(self, /) -> str: ...
    def __str__(self, /) -> str: ...
    @property
    def build(self, /) -> str:
        """
        The build metadata (`"b42"`), or `""`.

        >>> Version("6.15.0+b42").build
        'b42'
        """
    @property
    def components(self, /) -> list[int]:
        """
        The numeric components (`[6, 15, 8]`).

        >>> Version("0.48.0.34").components
        [0, 48, 0, 34]
        """
    @property
    def is_prerelease(self, /) -> bool:
        """
        Whether it is a pre-release.

        >>> Version("6.15.0-rc.1").is_prerelease
        True
        """
    def normalized(self, /) -> str:
        """
        The canonical spelling (no prefix, no leading zeros).

        >>> Version("V01.04").normalized()
        '1.4'
        """
    @property
    def prerelease(self, /) -> str:
        """
        The pre-release part (`"rc.1"`), or `""`.

        >>> Version("6.15.0-rc.1").prerelease, Version("6.15.0").prerelease
        ('rc.1', '')
        """
    def to_semver(self, /) -> str:
        """
        The `semver` form, where one exists (three components at most).

        >>> Version("v5.6").to_semver()
        '5.6.0'
        >>> Version("0.48.0.34").to_semver()
        Traceback (most recent call last):
        fleetpath.errors.NotSemverError: version "0.48.0.34" has more than three significant components and is not semver
        """

@final
class VersionRange:
    """
    A version range: `>=5.0, <5.6.30`, `5.6.*`, `^6`, `~5.6`, `5.6.* || ^6`.

    >>> from fleetpath import VersionRange
    >>> r = VersionRange(">=5.0, <5.6.30")
    >>> r.matches("5.6.14"), "5.6.30" in r, "v5.06.029" in r
    (True, False, True)
    """
    def __contains__(self, version: Any, /) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self, /) -> int: ...
    def __new__(cls, /, text: Any) -> VersionRange: ...
    def __repr__(self, /) -> str: ...
    def __str__(self, /) -> str: ...
    def matches(self, /, version: Any) -> bool:
        """
        Whether `version` (a `Version` or a string) is in the range.

        >>> VersionRange("5.6.*").matches(Version("5.6.30")), VersionRange("^6").matches("5.6.30")
        (True, False)
        """

def _column_address(column: Any) -> int:
    """
    Where a values column would be read from (tests: proves buffers are read in place).
    """

def _panic_for_tests() -> None:
    """
    Panics on purpose, to test that a panic reaches Python as `FleetpathError` (`internal`).
    """

def check_report(record: Any, version_: Any) -> tuple[str, Any] | None:
    """
    Checks a device's report of a finished update against the host's record: `None` when it
    names the hop issued, else the refusal `(reason, dict)`.
    """

def decision_reasons() -> list[str]:
    """
    Every reason a decision can give.
    """

def default_rollout_policy() -> Any:
    """
    The rollout policy `plan_rollout` uses when given none (a dict of the policy document).
    """

def error_codes() -> list[tuple[str, list[str]]]:
    """
    Every error code, by module: the core's, then `fleetpath-aws`'s (`s3`).
    """

def head_fields(head: Any) -> Any:
    """
    The fields the rules read, from a `HEAD` response.
    """

def health_event(report: Any, stage: Any) -> Any:
    """
    The rollout event (`health_verdict`) of a report for `stage`, as a dict.
    """

def key_from_seed(seed: Any) -> Any:
    """
    The key file (securesystemslib's Ed25519 key dict) of a 32-byte seed.
    """

def missing() -> Any:
    """
    The availability of an object S3 answered 404 for.
    """

def observe_head(head: Any, now: Any, artifact: Any | None = None, restore_since: Any | None = None, tier: Any | None = None, restore_times: Any | None = None) -> Any:
    """
    Availability (and, given the manifest's artifact, integrity) from a `HEAD` response:
    `{"availability": …, "integrity": … | None}`. A running restore began at `restore_since`
    (the host's record of its request), else at `now`.
    """

def open_retry(sealed: Any, device: Any, key: Any) -> Any:
    """
    The retry state a sealed one carries, if its MAC is the host's for `device`.
    """

def plan_prefetch(rollout: Any, graph: Any, availability: Any, at: Any, calendar: Any | None = None, policy: Any | None = None) -> Any:
    """
    The prefetch plan of a rollout: which archived artifacts to restore, at which tier and by
    when, so each is ready when its stage's window opens (a dict of the plan).
    """

def plan_rollout(graph: Any, fleet: Any, target: Any, rollout_id: Any, policy: Any | None = None) -> Any:
    """
    Plans the stages of a rollout of `target` over `fleet` (a dict of the plan).
    """

def public_key(key: Any) -> tuple[str, Any]:
    """
    A key file's public key and its id: `(keyid, public key dict)`.
    """

def restore_request(storage_class: Any, tier: Any | None = None, days: Any | None = None) -> Any:
    """
    boto3's `RestoreRequest` for an object of `storage_class` at `tier`.
    """

def seal_retry(state: Any, device: Any, key: Any) -> Any:
    """
    Seals a retry state of `device` with the host's secret `key` (bytes).
    """

def sign(kind: Any, version: Any, expires: Any, document_: Any, keys: Any) -> Any:
    """
    The envelope signing `document` as version `version` of a `kind`, expiring at `expires`.
    """

def trusted_keys(keys: Any, threshold: Any) -> Any:
    """
    The trusted key set of these public keys (dicts) and threshold.
    """

def verify(envelope: Any, kind: Any, trusted: Any, now: Any, last_accepted: Any | None = None) -> Any:
    """
    Verifies an envelope holding a `kind` against `trusted` at `now`: `{kind, version,
    expires, document, signed_by}`.
    """

def verify_signatures(envelope: Any, trusted: Any) -> list[str]:
    """
    Checks an envelope's signatures only (TUF's check, whatever it holds, TUF metadata
    included): the ids of the trusted keys that signed.
    """
