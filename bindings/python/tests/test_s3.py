"""fleetpath.s3: availability and integrity from HEAD responses (boto3's form and raw headers),
with the rules of the Rust fleetpath-aws crate."""

import base64
import hashlib

import pytest

import fleetpath
import fleetpath.s3 as s3

NOW = "2026-11-23T08:00:00Z"
BODY = b"firmware 6.15.008"
ARTIFACT = {"key": "firmware/ip-module/6.15.008.bin", "size": len(BODY), "sha256": hashlib.sha256(BODY).hexdigest()}


@pytest.mark.parametrize(
    "head, expected",
    [
        ({}, {"state": "available", "class": "standard"}),
        ({"StorageClass": "STANDARD_IA"}, {"state": "available", "class": "infrequent_access"}),
        ({"StorageClass": "GLACIER_IR"}, {"state": "available", "class": "glacier_instant_retrieval"}),
        ({"StorageClass": "GLACIER"}, {"state": "archived", "class": "glacier_flexible_retrieval"}),
        ({"StorageClass": "DEEP_ARCHIVE"}, {"state": "archived", "class": "deep_archive"}),
        ({"StorageClass": "INTELLIGENT_TIERING"}, {"state": "available", "class": "intelligent_tiering"}),
        ({"StorageClass": "INTELLIGENT_TIERING", "ArchiveStatus": "DEEP_ARCHIVE_ACCESS"},
         {"state": "archived", "class": "intelligent_tiering_deep_archive"}),
        ({"StorageClass": "GLACIER", "Restore": 'ongoing-request="true"'},
         {"state": "restoring", "class": "glacier_flexible_retrieval", "since": NOW, "ready_by": "2026-11-23T13:00:00Z"}),
        ({"StorageClass": "DEEP_ARCHIVE", "Restore": 'ongoing-request="false", expiry-date="Fri, 27 Nov 2026 00:00:00 GMT"'},
         {"state": "restored", "class": "deep_archive", "until": "2026-11-27T00:00:00Z"}),
        # Raw HTTP headers, any case.
        ({"X-Amz-Storage-Class": "GLACIER", "x-amz-restore": 'ongoing-request="true"'},
         {"state": "restoring", "class": "glacier_flexible_retrieval", "since": NOW, "ready_by": "2026-11-23T13:00:00Z"}),
        ({"ResponseMetadata": {"HTTPHeaders": {"x-amz-storage-class": "DEEP_ARCHIVE"}}},
         {"state": "archived", "class": "deep_archive"}),
    ],
)
def test_availability_from_head(head, expected):
    assert s3.observe_head(head, now=NOW).availability.to_dict() == expected


def test_restores_are_dated_from_the_hosts_record_and_its_tier():
    head = {"StorageClass": "DEEP_ARCHIVE", "Restore": 'ongoing-request="true"'}
    obs = s3.observe_head(head, now=NOW, restore_since="2026-11-23T02:00:00Z", tier="bulk")
    assert (obs.availability.since, obs.availability.ready_by) == ("2026-11-23T02:00:00Z", "2026-11-25T02:00:00Z")
    # Deep Archive has no Expedited tier: Standard's bound (12 h) applies.
    obs = s3.observe_head(head, now=NOW, tier="expedited")
    assert obs.availability.ready_by == "2026-11-23T20:00:00Z"
    obs = s3.observe_head(head, now=NOW, restore_times={"deep_standard_minutes": 60, "flexible_expedited_minutes": 5,
                                                         "flexible_standard_minutes": 300, "flexible_bulk_minutes": 720,
                                                         "deep_bulk_minutes": 2880})
    assert obs.availability.ready_by == "2026-11-23T09:00:00Z"


def test_integrity_against_the_manifest():
    checksum = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    ok = s3.observe_head({"ContentLength": len(BODY), "ChecksumSHA256": checksum}, ARTIFACT, now=NOW)
    assert ok.integrity.to_dict() == {"size": True, "sha256": "checksum"}
    meta = s3.observe_head({"ContentLength": len(BODY), "Metadata": {"sha256": ARTIFACT["sha256"]}}, ARTIFACT, now=NOW)
    assert meta.integrity.sha256 == "metadata"
    assert s3.observe_head({}, ARTIFACT, now=NOW).integrity.to_dict() == {"size": False, "sha256": "not_reported"}
    assert s3.observe_head({}, now=NOW).integrity is None

    with pytest.raises(fleetpath.IntegrityMismatchError) as excinfo:
        s3.observe_head({"ContentLength": 3}, ARTIFACT, now=NOW)
    err = excinfo.value
    assert err.code == "integrity_mismatch"
    assert err.fields == {"key": ARTIFACT["key"], "field": "size", "manifest": str(len(BODY)), "s3": "3"}
    assert str(err) == f'object "{ARTIFACT["key"]}": size is 3 in S3 but {len(BODY)} in the manifest'
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    with pytest.raises(fleetpath.IntegrityMismatchError, match="sha256"):
        s3.observe_head({"ChecksumSHA256": wrong}, ARTIFACT, now=NOW)


def test_unknown_headers_are_errors_not_guesses():
    with pytest.raises(fleetpath.BadHeaderError, match='unknown storage class "GLACIER_XL"'):
        s3.observe_head({"StorageClass": "GLACIER_XL"}, now=NOW)
    with pytest.raises(fleetpath.BadHeaderError, match="x-amz-restore"):
        s3.observe_head({"StorageClass": "GLACIER", "Restore": "maybe"}, now=NOW)
    with pytest.raises(fleetpath.InvalidJsonError, match="tier"):
        s3.observe_head({}, now=NOW, tier="instant")
    assert s3.missing() == {"state": "missing"}


def test_observations_feed_the_decider():
    graph = fleetpath.UpgradeGraph.load(fleetpath_root() / "examples/data/seed-ip-module.json")
    keys = sorted({r.artifact.key for r in graph.releases() if "artifact" in r and r.artifact is not None})
    availability = {k: s3.observe_head({"StorageClass": "GLACIER"}, now=NOW).availability.to_dict() for k in keys}
    d = fleetpath.Decider(graph, availability=availability).decide(
        {"device": "d1", "model": "IPM-1", "version": "5.6.14", "at": NOW})
    assert (d.kind, d.reason) == ("retry_after", "artifact_archived")


def fleetpath_root():
    from conftest import ROOT

    return ROOT
