"""The Lambda handlers, invoked with sample events against S3 and DynamoDB in memory (moto).

The seed's flow end to end: a rollout of 6.15.008 over the 340-device plant starts and asks for
the firmware to be restored from Glacier and Deep Archive; canary devices ask, get 503 +
Retry-After while the restore runs, then presigned URLs whose downloads match the manifest's
SHA-256, take the bridge 5.6.30 and then 6.15.008, and report; the scheduled health gate
ingests their samples against each device's 7-day baseline, and either promotes the rollout
(healthy after 24 h) or halts it and rolls the canary back (cycle time 15 % worse).

Every request carries the device's identity as a JWT authorizer's `sub` claim, and the manifest
is a signed envelope (version 2, signed with a fixed test key the handlers trust)."""

import copy
import datetime as dt
import hashlib
import json
import pathlib
import random

import boto3
import pytest
import requests
from moto import mock_aws
from moto.moto_api import state_manager

import fleetpath
import orchestrator
from fleetpath import trust

HERE = pathlib.Path(__file__).resolve().parents[1]
ROOT = HERE.parents[1]
DATA = ROOT / "examples" / "data"
BUCKET, TABLE, ROLLOUT = "fleetpath-plant-a", "fleetpath-rollouts", "r-2026-11-6.15.008"
SIGNER = trust.SigningKey.from_seed(hashlib.sha256(b"fleetpath lambda example: manifest signer").digest())
MANIFEST_VERSION, MANIFEST_EXPIRES = 2, "2027-06-01T00:00:00Z"
ENV = {"FLEETPATH_BUCKET": BUCKET, "FLEETPATH_TABLE": TABLE, "FLEETPATH_ROLLOUT": ROLLOUT,
       "FLEETPATH_TRUSTED_KEYS": json.dumps(trust.trusted_keys([SIGNER.public_key()]))}
CFG = orchestrator.Config(ENV)
START = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.timezone.utc)  # a Monday morning


def at(text):
    return orchestrator.parse_time(text)


def put_manifest(s3, manifest, version=MANIFEST_VERSION, expires=MANIFEST_EXPIRES, keys=(SIGNER,)):
    """Uploads `manifest` as the signed envelope the handlers read."""
    envelope = trust.sign("manifest", version, expires, manifest, list(keys))
    s3.put_object(Bucket=BUCKET, Key="fleetpath/manifest.json", Body=json.dumps(envelope).encode())


def revalidate():
    """30 seconds pass: the container's documents are revalidated on next use."""
    for entry in orchestrator._MANIFESTS.values():
        entry.checked = -1e9
    orchestrator._DOCUMENTS.clear()


def cold_start():
    """A new container: nothing cached but what DynamoDB and S3 hold."""
    for cache in (orchestrator._CLIENTS, orchestrator._DOCUMENTS, orchestrator._MANIFESTS, orchestrator._OBSERVED):
        cache.clear()


def stand_in(version, size):
    """The stand-in firmware of a release: its version's bytes, repeated to its size."""
    return (version.encode() * (size // len(version) + 1))[:size]


@pytest.fixture
def aws(monkeypatch):
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "eu-central-1"}.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        # A restore runs for two HEADs before it is done.
        state_manager.set_transition(model_name="s3::keyrestore", transition={"progression": "manual", "times": 2})
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        manifest = json.loads((DATA / "seed-ip-module.json").read_text())
        classes = {"5.6.14": "STANDARD", "5.6.30": "GLACIER", "6.15.008": "DEEP_ARCHIVE"}
        for release in manifest["releases"]:
            artifact = release["artifact"]
            body = stand_in(release["version"], artifact["size"])
            artifact["sha256"] = hashlib.sha256(body).hexdigest()
            s3.put_object(Bucket=BUCKET, Key=artifact["key"], Body=body, StorageClass=classes[release["version"]],
                          ChecksumAlgorithm="SHA256")
        put_manifest(s3, manifest)
        s3.put_object(Bucket=BUCKET, Key="fleetpath/fleet.csv", Body=(DATA / "plant-340.csv").read_bytes())
        s3.put_object(Bucket=BUCKET, Key="fleetpath/calendar.json", Body=(DATA / "plant-calendar.json").read_bytes())
        boto3.client("dynamodb").create_table(
            TableName=TABLE, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        cold_start()
        yield {"s3": s3, "manifest": manifest}
        state_manager.unset_transition("s3::keyrestore")


def later():
    """Time passes: the container's 60-second observations expire."""
    orchestrator._OBSERVED.clear()


def api(name, body, when, device=None):
    """Calls the API as `device` (by default the body's `device`, else the sample event's)."""
    event = json.loads((HERE / "events" / f"{name}.json").read_text())
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    event["requestContext"]["timeEpoch"] = int(when.timestamp() * 1000)
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    claims["sub"] = device or (body.get("device") if isinstance(body, dict) else None) or claims["sub"]
    response = orchestrator.update_check(event, None, ENV)
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def gate(when):
    event = json.loads((HERE / "events" / "schedule.json").read_text())
    event["time"] = orchestrator.fleetpath_time(when)
    return orchestrator.health_gate(event, None, ENV)


def rollout_state():
    return json.loads(orchestrator.load_item(CFG)["state"])


def stage(name):
    return next(s for s in rollout_state()["stages"] if s["name"] == name)


def update_canary(aws):
    """Start, open the canary window, update every canary device hop by hop; returns
    {device: reported time of its last hop}."""
    started = orchestrator.create_rollout(CFG, "6.15.008", START)
    assert started["stages"] == [("canary", 17), ("early", 68), ("production", 255)]
    # The prefetch plan: Deep Archive cannot make the 13:00 window, so 6.15.008 is restored at
    # once; the bridge (Glacier) makes it at the Expedited tier, requested by 11:55.
    assert started["prefetch"]["acted"] == {"firmware/ip-module/6.15.008.bin": "restore_requested"}
    assert started["prefetch"]["planned"]["firmware/ip-module/5.6.30.bin"] == {
        "action": "restore", "tier": "expedited", "request_by": "2026-11-23T11:55:00Z"}
    canary = stage("canary")["devices"]
    first = canary[0]
    # Before the 2nd shift (13:00 UTC here) the canary waits for its window.
    status, body, _ = api("update-check", {"device": first["id"], "model": "IPM-1", "version": first["version"]}, START)
    assert (status, body["action"], body["reason"], body["until"]) == (200, "wait", "outside_window", "2026-11-23T13:00:00Z")

    opened = gate(at("2026-11-23T13:00:00Z"))
    assert {"type": "update_devices", "stage": "canary", "devices": 17} in opened["actions"]
    # Past its request-by time: the bridge's restore is requested now (the gate runs every
    # 5 minutes in production, so it would have gone out at 11:55).
    assert opened["prefetch"]["acted"]["firmware/ip-module/5.6.30.bin"] == "restore_requested"

    sha = {r["artifact"]["key"]: r["artifact"]["sha256"] for r in aws["manifest"]["releases"]}
    reported = {}
    clock = at("2026-11-23T13:05:00Z")
    saw_retry = False
    for device in canary:
        version = device["version"]
        while version != "6.15.008":
            for _ in range(6):
                later()
                status, body, headers = api("update-check", {"device": device["id"], "model": "IPM-1", "version": version}, clock)
                if status != 503:
                    break
                # The artifact is still being restored: ask again after Retry-After.
                # (restore_overdue: requested at 08:00, it should have been done by 13:00)
                assert body["action"] == "retry_after" and body["reason"] in ("artifact_restoring", "restore_overdue"), body
                assert int(headers["retry-after"]) == body["retry_after"] > 0
                saw_retry = True
                clock += dt.timedelta(seconds=30)
            assert (status, body["action"]) == (200, "download"), body
            assert body["from"] == version and body["expires_in"] == 900
            # Only the bridge leads away from 5.6.14 (the direct jump bricks the module).
            assert body["version"] == ("5.6.30" if version.lstrip("v").startswith("5.6.14") else "6.15.008")
            download = requests.get(body["url"], timeout=10)
            assert download.status_code == 200
            assert hashlib.sha256(download.content).hexdigest() == body["sha256"] == sha[_key(body["version"])]
            clock += dt.timedelta(minutes=1)
            status, out, _ = api("report", {"device": device["id"], "result": "succeeded", "version": body["version"]}, clock)
            assert status == 200, out
            version = body["version"]
            reported[device["id"]] = clock
    assert saw_retry, "the first canary device must have waited for the Glacier restore"
    canary_stage = stage("canary")
    assert canary_stage["phase"] == "monitoring"
    assert {d["status"] for d in canary_stage["devices"]} == {"succeeded"}
    return reported


def _key(version):
    return f"firmware/ip-module/{version}.bin"


def samples(reported, start_offset, end, cycle_after, step_after=600):
    """Per device, every 10 minutes before its update (from `start_offset` before it) and
    every `step_after` seconds after it, up to `end`: cycle time, MQTT connection, an error
    counter, crashes and memory; after the update the cycle time is `cycle_after` (baseline
    800 ms)."""
    devices = sorted(reported)
    rng = random.Random(7)
    batch = {"devices": devices, "device": [], "time": [],
             "metrics": {"cycle_time_ms": [], "mqtt_connected": [], "error_count": [], "component_crashes": [], "memory_mb": []}}
    for i, d in enumerate(devices):
        updated = int(reported[d].timestamp())
        t = updated - start_offset
        while t <= int(end.timestamp()):
            after = t >= updated
            m = batch["metrics"]
            batch["device"].append(i)
            batch["time"].append(t)
            m["cycle_time_ms"].append((cycle_after if after else 800.0) + rng.gauss(0, 8))
            m["mqtt_connected"].append(1.0)
            m["error_count"].append(float((t - (updated - 8 * 86400)) // 3600))  # one error an hour
            m["component_crashes"].append(0.0)
            m["memory_mb"].append(300.0 + rng.gauss(0, 2))
            t += step_after if after else 600
    return batch


def put_samples(aws, name, batch):
    aws["s3"].put_object(Bucket=BUCKET, Key=f"samples/{ROLLOUT}/canary/{name}.json", Body=json.dumps(batch).encode())


def test_healthy_canary_is_promoted_after_24_hours(aws):
    reported = update_canary(aws)
    last = max(reported.values())
    # An hour in: the baseline week and the first hour arrive; too early to call it healthy.
    t1 = last + dt.timedelta(hours=1)
    put_samples(aws, "0001", samples(reported, 7 * 86400, t1, 800.0))
    early_look = gate(t1)
    assert early_look["health"]["status"] == "inconclusive", early_look
    assert early_look["stage"] == "canary" and not any(a["type"] == "promote" for a in early_look["actions"])
    item = orchestrator.load_item(CFG)
    assert item["samples_after"]["canary"] == f"samples/{ROLLOUT}/canary/0001.json"
    assert f"health-canary-r{early_look['revision']}-" in item["health"]["canary"]

    # A day later the rest of the observation arrives: healthy, promoted to early.
    t2 = last + dt.timedelta(hours=24, minutes=10)
    rest = samples(reported, 0, t2, 800.0)
    keep = [i for i, t in enumerate(rest["time"]) if t > int(t1.timestamp())]
    put_samples(aws, "0002", {**rest, "device": [rest["device"][i] for i in keep], "time": [rest["time"][i] for i in keep],
                              "metrics": {k: [v[i] for i in keep] for k, v in rest["metrics"].items()}})
    verdict = gate(t2)
    assert verdict["health"]["status"] == "healthy", verdict["health"]
    types = [a["type"] for a in verdict["actions"]]
    assert "promote" in types and "prefetch" in types, verdict["actions"]
    assert verdict["stage"] == "early"
    # The early stage's firmware is already restored: nothing is restored twice.
    prefetch = next(a for a in verdict["actions"] if a["type"] == "prefetch")
    assert prefetch["stage"] == "early"
    assert verdict["prefetch"]["acted"] == {} and verdict["prefetch"]["ready"] >= 1, verdict["prefetch"]
    # The stored health summaries read back as a fleetpath.HealthState.
    body = aws["s3"].get_object(Bucket=BUCKET, Key=orchestrator.load_item(CFG)["health"]["canary"])["Body"].read()
    assert len(fleetpath.HealthState.from_json(body)) == 17


def test_a_slower_canary_halts_the_rollout_and_rolls_back(aws):
    reported = update_canary(aws)
    t1 = max(reported.values()) + dt.timedelta(hours=2)
    # 15 % slower; sampled every minute since the update (a rule needs 30 samples a device).
    put_samples(aws, "0001", samples(reported, 7 * 86400, t1, 920.0, step_after=60))
    verdict = gate(t1)
    assert verdict["health"]["status"] == "breach", verdict["health"]
    assert "cycle_time" in verdict["health"]["summary"]
    assert verdict["status"]["state"] == "halted"
    rollback = next(a for a in verdict["actions"] if a["type"] == "roll_back")
    assert rollback["devices"] == sorted(reported)
    # A canary device now gets the downgrade to the bridge, with a URL.
    device = sorted(reported)[0]
    later()
    status, body, _ = api("update-check", {"device": device, "model": "IPM-1", "version": "6.15.008"}, t1 + dt.timedelta(minutes=5))
    assert (status, body["action"], body["version"]) == (200, "roll_back", "5.6.30"), body
    assert requests.get(body["url"], timeout=10).status_code == 200
    # Its report comes after the halt: the rollout is finished, the registry records the downgrade.
    status, out, _ = api("report", {"device": device, "result": "succeeded", "version": "5.6.30"},
                         t1 + dt.timedelta(minutes=15))
    assert (status, out["error"]) == (409, "rollout_finished"), out
    assert orchestrator.load_device(CFG, device).version == "5.6.30"
    status, out, _ = api("update-check", {"device": device, "model": "IPM-1", "version": "5.6.30"}, t1 + dt.timedelta(minutes=20))
    assert (status, out["action"], out["reason"]) == (200, "up_to_date", "rolled_back"), out
    # A device of a later stage does not start.
    early = stage("early")["devices"][0]
    status, body, _ = api("update-check", {"device": early["id"], "model": "IPM-1", "version": early["version"]},
                          t1 + dt.timedelta(minutes=5))
    assert body["action"] in ("wait", "blocked", "up_to_date") and body["action"] != "download", body


def test_writes_are_conditional_on_the_revision(aws, monkeypatch):
    orchestrator.create_rollout(CFG, "6.15.008", START)
    gate(at("2026-11-23T13:00:00Z"))
    device = stage("canary")["devices"][0]
    version = device["version"]
    clock = at("2026-11-23T13:05:00Z")
    for _ in range(6):  # the bridge is being restored: 503 until it is done
        later()
        status, body, _ = api("update-check", {"device": device["id"], "model": "IPM-1", "version": version}, clock)
        if status != 503:
            break
        clock += dt.timedelta(seconds=30)
    assert (status, body["action"]) == (200, "download"), body
    stale = orchestrator.load_item(CFG)
    real_load = orchestrator.load_item
    calls = {"n": 0}

    def first_stale(cfg):
        calls["n"] += 1
        if calls["n"] == 1:
            # What this Lambda read before another one wrote the current revision.
            item = copy.deepcopy(stale)
            item["revision"] = int(item["revision"]) - 1
            return item
        return real_load(cfg)

    monkeypatch.setattr(orchestrator, "load_item", first_stale)
    next_version = "5.6.30" if version.lstrip("v").startswith("5.6.14") else "6.15.008"
    assert body["version"] == next_version
    status, out, _ = api("report", {"device": device["id"], "result": "succeeded", "version": next_version},
                         at("2026-11-23T13:10:00Z"))
    assert status == 200 and calls["n"] == 2, out  # refused once by DynamoDB, re-applied on a fresh read
    assert out["revision"] == int(stale["revision"]) + 1
    with pytest.raises(orchestrator.Conflict):
        orchestrator.save_item(CFG, 0, fleetpath.Rollout.from_json(stale["state"]), {})


def test_bad_requests_get_typed_errors(aws):
    orchestrator.create_rollout(CFG, "6.15.008", START)
    when = at("2026-11-23T13:05:00Z")
    status, body, _ = api("update-check", "{not json", when)
    assert (status, body["error"]) == (400, "bad_request")
    status, body, _ = api("update-check", {"device": "d1", "model": "IPM-1"}, when)
    assert (status, body["error"], body["message"]) == (400, "bad_request", "missing or non-string fields: version")
    status, body, _ = api("update-check", {"device": "assembly-1-12", "model": "IPM-1", "version": "5..6"}, when)
    assert (status, body["error"], body["fields"]) == (400, "empty_component", {"index": 2, "input": "5..6"})
    # A version the graph does not know is not the one on record either.
    status, body, _ = api("update-check", {"device": "assembly-1-12", "model": "IPM-1", "version": "5.6.20"}, when)
    assert (status, body["error"]) == (403, "claim_mismatch")
    status, body, _ = api("report", {"device": "nobody", "result": "succeeded", "version": "5.6.30"}, when)
    assert (status, body["error"]) == (403, "unknown_device")
    status, body, _ = api("report", {"device": "assembly-1-12", "result": "succeeded"}, when)
    assert (status, body["error"]) == (400, "bad_request")
    event = json.loads((HERE / "events" / "update-check.json").read_text())
    event["routeKey"] = "GET /v1/nothing"
    assert orchestrator.update_check(event, None, ENV)["statusCode"] == 404
    with pytest.raises(RuntimeError, match="FLEETPATH_TABLE"):
        orchestrator.update_check(event, None, {"FLEETPATH_BUCKET": BUCKET})
    # No unsigned mode: without trusted keys the handlers do not start.
    unsigned = {k: v for k, v in ENV.items() if k != "FLEETPATH_TRUSTED_KEYS"}
    with pytest.raises(RuntimeError, match="FLEETPATH_TRUSTED_KEYS"):
        orchestrator.update_check(event, None, unsigned)
    with pytest.raises(RuntimeError, match="FLEETPATH_TRUSTED_KEYS"):
        orchestrator.health_gate(json.loads((HERE / "events" / "schedule.json").read_text()), None, unsigned)
    for bad in ("{}", '{"keys": {}, "threshold": 1}', "not json",
                json.dumps({"keys": {"0" * 64: SIGNER.public_key()}, "threshold": 1})):  # filed under another id
        with pytest.raises(RuntimeError, match="FLEETPATH_TRUSTED_KEYS is invalid"):
            orchestrator.Config({**ENV, "FLEETPATH_TRUSTED_KEYS": bad})
    # The manifest is verified and parsed once per ETag: within 30 s no request at all, then a 304.
    first = orchestrator.graph(CFG, when)
    assert orchestrator.graph(CFG, when) is first
    orchestrator._MANIFESTS["fleetpath/manifest.json"].checked = -1e9  # the TTL has passed
    assert orchestrator.graph(CFG, when) is first


def test_the_bundled_sample_events_run_as_they_are(aws):
    orchestrator.create_rollout(CFG, "6.15.008", START)
    for name in ("update-check", "report"):
        event = json.loads((HERE / "events" / f"{name}.json").read_text())
        response = orchestrator.update_check(event, None, ENV)
        assert response["headers"]["content-type"] == "application/json"
        json.loads(response["body"])
        # assembly-1-12 (JWT sub) is on 5.6.14, before its window at 08:00; at 13:20 it has
        # been handed nothing, so its report of 5.6.30 is refused.
        assert response["statusCode"] == {"update-check": 200, "report": 403}[name], response
    result = orchestrator.health_gate(json.loads((HERE / "events" / "schedule.json").read_text()), None, ENV)
    assert result["rollout"] == ROLLOUT and result["stage"] == "canary"


def test_a_gate_that_loses_the_race_leaves_no_summaries_behind(aws, monkeypatch):
    reported = update_canary(aws)
    t1 = max(reported.values()) + dt.timedelta(hours=1)
    put_samples(aws, "0001", samples(reported, 7 * 86400, t1, 800.0))
    real_save, calls = orchestrator.save_item, {"n": 0}

    def lose_once(cfg, expected, rollout, extra):
        calls["n"] += 1
        if calls["n"] == 1:
            raise orchestrator.Conflict("another gate wrote first")
        return real_save(cfg, expected, rollout, extra)

    monkeypatch.setattr(orchestrator, "save_item", lose_once)
    result = gate(t1)
    assert calls["n"] == 2 and result["health"]["status"] == "inconclusive"
    listed = aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix=f"fleetpath/state/{ROLLOUT}/")["Contents"]
    assert [o["Key"] for o in listed] == [orchestrator.load_item(CFG)["health"]["canary"]]


def test_a_refused_sample_batch_is_skipped_and_reported(aws):
    reported = update_canary(aws)
    t1 = max(reported.values()) + dt.timedelta(hours=1)
    device = sorted(reported)[0]
    bad = {"devices": [device], "device": [0], "time": [int(t1.timestamp())], "metrics": {"mqtt_connected": [1.5]}}
    put_samples(aws, "0000-bad", bad)
    put_samples(aws, "0001", samples(reported, 7 * 86400, t1, 800.0))
    result = gate(t1)
    assert result["rejected_batches"] == [{
        "key": f"samples/{ROLLOUT}/canary/0000-bad.json", "error": "invalid_value",
        "message": 'sample row 0, metric "mqtt_connected": 1.5 is outside [0, 1]'}]
    assert result["health"]["status"] == "inconclusive"  # the good batch was ingested
    assert orchestrator.load_item(CFG)["samples_after"]["canary"] == f"samples/{ROLLOUT}/canary/0001.json"
    assert gate(t1 + dt.timedelta(minutes=5))["rejected_batches"] == []  # each batch is read once
