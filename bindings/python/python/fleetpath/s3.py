"""Firmware artifacts in S3, read from `HEAD` responses: availability (including Glacier
and Deep Archive restores, Intelligent-Tiering archive tiers) and integrity against the
manifest. No AWS SDK here: pass what boto3's `head_object` returned (or the raw HTTP
headers), and the rules are those of the Rust `fleetpath-aws` crate.

>>> import fleetpath.s3 as s3
>>> head = {"StorageClass": "GLACIER", "Restore": 'ongoing-request="true"', "ContentLength": 10}
>>> obs = s3.observe_head(head, now="2026-11-23T08:00:00Z", restore_since="2026-11-23T07:00:00Z")
>>> obs.availability.state, obs.availability.ready_by
('restoring', '2026-11-23T12:00:00Z')
>>> s3.observe_head({}, now="2026-11-23T08:00:00Z").availability.to_dict()
{'state': 'available', 'class': 'standard'}
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional

from . import _native
from ._records import Field, Record
from .rollout import When

class Observation(Record):
    """`availability` (`{"state": "available" | "archived" | "restoring" | "restored" |
    "missing", "class", …}`, the form `Decider(availability=…)` takes) and `integrity`
    (`{"size": bool, "sha256": "checksum" | "metadata" | "not_reported"}`, or None when no
    artifact was given).

    >>> import fleetpath.s3 as s3
    >>> s3.observe_head({"StorageClass": "DEEP_ARCHIVE"}, now="2026-11-23T08:00:00Z")
    Observation(availability=Record(state='archived', class='deep_archive'), integrity=None)
    """

    __slots__ = ()
    availability: "Field[Record]" = Field("availability")
    integrity: "Field[Optional[Record]]" = Field("integrity", default=None)


def head_fields(response: Mapping[str, Any]) -> Dict[str, Any]:
    """The fields the rules read, from a boto3 `head_object` response or a dict of raw HTTP
    headers (any case).

    >>> import fleetpath.s3 as s3
    >>> s3.head_fields({"StorageClass": "GLACIER", "ContentLength": 42, "Metadata": {"sha256": "ab"}})
    {'storage_class': 'GLACIER', 'content_length': 42, 'metadata_sha256': 'ab'}
    >>> s3.head_fields({"x-amz-restore": 'ongoing-request="true"'})
    {'restore': 'ongoing-request="true"'}
    """
    return dict(_native.head_fields(response))


def observe_head(
    response: Mapping[str, Any],
    artifact: Any = None,
    *,
    now: When,
    restore_since: Optional[When] = None,
    tier: str = "standard",
    restore_times: Optional[Mapping[str, int]] = None,
) -> Observation:
    """What a `HEAD` says about an object. With the manifest's `artifact` (a dict or record
    with key, size, sha256) its size and SHA-256 are checked where S3 reports them: a
    mismatch raises `IntegrityMismatchError` (never serve that object). A running restore
    is dated from `restore_since` (when the host requested it; else `now`), and expected
    done by the longest time AWS documents for `tier`. An unknown storage class raises
    `BadHeaderError` rather than guessing.

    >>> import fleetpath.s3 as s3
    >>> s3.observe_head({"StorageClass": "GLACIER_XL"}, now="2026-11-23T08:00:00Z")
    Traceback (most recent call last):
    fleetpath.errors.BadHeaderError: HeadObject object: unknown storage class "GLACIER_XL"
    >>> s3.observe_head({"ContentLength": 9}, {"key": "fw.bin", "size": 10, "sha256": "0" * 64},
    ...                 now="2026-11-23T08:00:00Z")
    Traceback (most recent call last):
    fleetpath.errors.IntegrityMismatchError: object "fw.bin": size is 9 in S3 but 10 in the manifest
    """
    return Observation(_native.observe_head(response, now, artifact, restore_since, tier, restore_times))


def restore_request(klass: str, tier: str = "standard", days: int = 7) -> Dict[str, Any]:
    """boto3's `RestoreRequest` for `restore_object` on an object of storage class `klass`
    (fleetpath's name: `glacier_flexible_retrieval`, `deep_archive`, …) at `tier`: no `Days`
    for Intelligent-Tiering's archive tiers, and `TierUnavailableError` for a tier the class
    lacks.

    >>> import fleetpath.s3 as s3
    >>> s3.restore_request("deep_archive", "bulk", 7)
    {'Days': 7, 'GlacierJobParameters': {'Tier': 'Bulk'}}
    >>> s3.restore_request("intelligent_tiering_archive", "standard")
    {'GlacierJobParameters': {'Tier': 'Standard'}}
    >>> s3.restore_request("deep_archive", "expedited")
    Traceback (most recent call last):
    fleetpath.errors.TierUnavailableError: RestoreObject object: DeepArchive has no Expedited restore
    """
    return dict(_native.restore_request(klass, tier, days))


def missing() -> Dict[str, Any]:
    """The availability of an object S3 answered 404 for.

    >>> import fleetpath.s3 as s3
    >>> s3.missing()
    {'state': 'missing'}
    """
    return dict(_native.missing())


__all__ = ["Observation", "observe_head", "head_fields", "restore_request", "missing"]
