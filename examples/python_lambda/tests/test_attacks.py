"""The attacker review's findings, each refused with its reason (moto S3 and DynamoDB).

Forged claims and models, requests without or with someone else's identity, forged reports,
a retry state reset by the device, replayed, expired and foreign manifests; and a device id
with dots, spaces and unicode that goes through a whole update."""

import datetime as dt
import json

import boto3
import pytest
import requests

import orchestrator
from fleetpath import trust
from test_orchestrator import (  # noqa: F401  (aws is the fixture)
    BUCKET, CFG, DATA, ENV, HERE, MANIFEST_EXPIRES, SIGNER, START, TABLE, api, at, aws, cold_start, gate,
    later, put_manifest, revalidate, rollout_state, stage, stand_in,
)

OPEN = at("2026-11-23T13:00:00Z")  # the canary's window opens


def start_canary():
    """The rollout started and the canary's window open; its devices."""
    orchestrator.create_rollout(CFG, "6.15.008", START)
    gate(OPEN)
    return stage("canary")["devices"]


def on(version, devices):
    return [d for d in devices if d["version"] == version]


def ask(who, version, when, **body):
    """An update-check by `who` (the authenticated device) claiming `version`."""
    return api("update-check", {"model": "IPM-1", "version": version, **body}, when, device=who)


def download(device, version, clock):
    """Asks until the answer is a download (503 while the artifact is restored): (body, clock)."""
    for _ in range(8):
        later()
        status, body, _ = ask(device, version, clock)
        if status != 503:
            break
        clock += dt.timedelta(seconds=30)
    assert (status, body["action"]) == (200, "download"), body
    return body, clock


def registry(device):
    return orchestrator.load_device(CFG, device)


def spy(monkeypatch, *names):
    """Records calls of the orchestrator's functions `names` (still carried out)."""
    calls = []
    for name in names:
        real = getattr(orchestrator, name)

        def wrapped(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(orchestrator, name, wrapped)
    return calls


def event(name, body, when):
    e = json.loads((HERE / "events" / f"{name}.json").read_text())
    e["body"] = json.dumps(body)
    e["requestContext"]["timeEpoch"] = int(when.timestamp() * 1000)
    return e


def call(e):
    response = orchestrator.update_check(e, None, ENV)
    return response["statusCode"], json.loads(response["body"])


# --- claims ------------------------------------------------------------------------------


def test_a_forged_version_gets_no_url_and_no_restore(aws, monkeypatch):
    device = on("5.6.14", start_canary())[0]["id"]
    restores = orchestrator.load_item(CFG)["restores"]
    calls = spy(monkeypatch, "presign", "request_restore", "observe")
    when = OPEN + dt.timedelta(minutes=5)
    # Recorded on 5.6.14, it claims the bridge to be handed 6.15.008 (the jump that bricks it).
    for claim in ("5.6.30", "6.15.008", "v5.6.30"):
        status, body, _ = ask(device, claim, when)
        assert (status, body["error"]) == (403, "claim_mismatch"), body
        assert "url" not in body and "the record says \"5.6.14\"" in body["message"]
    assert calls == []  # no URL signed, no artifact looked at, no restore requested
    assert orchestrator.load_item(CFG)["restores"] == restores
    assert boto3.resource("dynamodb").Table(TABLE).get_item(Key={"pk": f"device#{device}"}).get("Item") is None


def test_a_forged_model_is_refused(aws, monkeypatch):
    device = on("5.6.14", start_canary())[0]["id"]
    calls = spy(monkeypatch, "presign", "request_restore")
    status, body, _ = ask(device, "5.6.14", OPEN, model="IPM-2")
    assert (status, body["error"]) == (403, "model_mismatch") and calls == []


def test_a_device_claiming_the_hop_it_was_handed_finishes_it(aws):
    device = on("5.6.14", start_canary())[0]["id"]
    body, clock = download(device, "5.6.14", OPEN + dt.timedelta(minutes=5))
    assert registry(device).issued == {"from": "5.6.14", "to": "5.6.30"}
    # It installs the bridge and asks again before reporting: the hop is finished, the next issued.
    body, clock = download(device, "5.6.30", clock + dt.timedelta(minutes=1))
    record = registry(device)
    assert (record.version, record.issued, record.unreported) == (
        "5.6.30", {"from": "5.6.30", "to": "6.15.008"}, {"from": "5.6.14", "to": "5.6.30"})
    # Its late report of the bridge is still accepted, once.
    revision = rollout_state()["revision"]
    status, out, _ = api("report", {"result": "succeeded", "version": "5.6.30"}, clock, device=device)
    assert status == 200 and out["revision"] == revision + 1, out
    status, out, _ = api("report", {"result": "succeeded", "version": "5.6.30"}, clock, device=device)
    assert (status, out["error"]) == (403, "report_mismatch")
    assert registry(device).unreported is None and registry(device).issued == {"from": "5.6.30", "to": "6.15.008"}
    # Claiming the bridge again is still fine (it runs it); claiming 5.6.14 no longer is.
    assert ask(device, "5.6.30", clock)[0] == 200
    assert ask(device, "5.6.14", clock)[1]["error"] == "claim_mismatch"


# --- identity ----------------------------------------------------------------------------


def test_a_request_without_identity_is_unauthenticated(aws):
    device = on("5.6.14", start_canary())[0]["id"]
    revision = rollout_state()["revision"]
    for name, body in (("update-check", {"device": device, "model": "IPM-1", "version": "5.6.14"}),
                       ("report", {"device": device, "result": "failed", "reason": "x"})):
        e = event(name, body, OPEN)
        del e["requestContext"]["authorizer"]
        assert call(e) == (401, {"error": "unauthenticated", "fields": {},
                                 "message": "no authenticated device identity (authorizer or client certificate)"})
        e["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": ""}, "scopes": None}}
        assert call(e)[0] == 401
    assert rollout_state()["revision"] == revision
    assert boto3.resource("dynamodb").Table(TABLE).get_item(Key={"pk": f"device#{device}"}).get("Item") is None


def test_the_body_cannot_name_another_device(aws):
    devices = on("5.6.14", start_canary())
    me, other = devices[0]["id"], devices[1]["id"]
    status, body, _ = ask(me, "5.6.14", OPEN, device=other)
    assert (status, body["error"]) == (403, "identity_mismatch")
    status, body, _ = api("report", {"device": other, "result": "failed", "reason": "x"}, OPEN, device=me)
    assert (status, body["error"]) == (403, "identity_mismatch")
    status, body, _ = ask(me, "5.6.14", OPEN, device=me)  # naming itself is fine
    assert body["action"] in ("download", "retry_after"), body
    # Two sources that disagree: the JWT says one device, the client certificate another.
    e = event("update-check", {"model": "IPM-1", "version": "5.6.14"}, OPEN)
    e["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = me
    e["requestContext"]["authentication"] = {"clientCert": {"subjectDN": f"CN={other},O=Plant A"}}
    assert call(e)[1]["error"] == "identity_mismatch"


def test_lambda_authorizer_and_client_certificate_identities(aws):
    device = on("5.6.14", start_canary())[0]["id"]
    e = event("update-check", {"model": "IPM-1", "version": "5.6.14"}, OPEN)
    del e["requestContext"]["authorizer"]
    e["requestContext"]["authorizer"] = {"lambda": {"device": device}}
    assert call(e)[0] in (200, 503)
    del e["requestContext"]["authorizer"]
    e["requestContext"]["authentication"] = {"clientCert": {"subjectDN": f"CN={device},OU=Presses,O=Plant A"}}
    assert call(e)[0] in (200, 503)
    e["requestContext"]["authentication"]["clientCert"]["subjectDN"] = "O=Plant A"  # no CN
    assert call(e) == (401, {"error": "unauthenticated", "fields": {},
                             "message": "the client certificate's subject has no single CN"})
    e["requestContext"]["authentication"]["clientCert"]["subjectDN"] = "CN=nobody-here,O=Plant A"
    assert call(e)[0:2] == (403, {"error": "unknown_device", "fields": {},
                                  "message": "device 'nobody-here' is not in the fleet"})


@pytest.mark.parametrize("dn, cn", [
    ("CN=press-1-01,O=Plant A", "press-1-01"),
    ("O=Plant A, cn=press-1-01", "press-1-01"),
    (r"CN=press\,1 \2B 01,O=Plant A", "press,1 + 01"),
    (r"CN=pr\C3\BCf.stand 1,O=x", "prüf.stand 1"),
    (r"CN=\ lead and trail\ ", " lead and trail "),
    ("CN=a+UID=7,O=x", "a"),
    ("2.5.4.3=oid-form", "oid-form"),
    ("CN=a,CN=b", None),  # ambiguous
    ("O=Plant A", None),
    ("CN=", None),
    ("CN=x\\", None),
    (r"CN=\FF", None),  # not UTF-8
    ("garbage", None),
])
def test_the_certificate_cn(dn, cn):
    assert orchestrator.common_name(dn) == cn


# --- reports -----------------------------------------------------------------------------


def test_forged_failures_do_not_touch_the_rollout(aws):
    devices = start_canary()
    before = orchestrator.load_item(CFG)
    when = OPEN + dt.timedelta(minutes=10)
    # Five devices that were handed nothing "fail" (five halted the rollout before).
    for d in devices[:5]:
        for result in ("failed", "timed_out"):
            status, body, _ = api("report", {"result": result, "reason": "flash write error"}, when, device=d["id"])
            assert (status, body["error"]) == (403, "report_mismatch"), body
    after = orchestrator.load_item(CFG)
    assert after["revision"] == before["revision"] and after["state"] == before["state"]
    state = rollout_state()
    assert state["status"]["state"] == "running"
    assert {d["status"] for d in stage("canary")["devices"]} == {d["status"] for d in devices}


def test_a_device_fails_only_the_hop_it_was_handed_and_only_once(aws):
    device = on("5.6.14", start_canary())[0]["id"]
    _, clock = download(device, "5.6.14", OPEN + dt.timedelta(minutes=5))
    revision = rollout_state()["revision"]
    status, out, _ = api("report", {"result": "failed", "reason": "flash write error"}, clock, device=device)
    assert status == 200 and out["revision"] == revision + 1, out
    assert registry(device).issued is None and registry(device).version == "5.6.14"
    status, out, _ = api("report", {"result": "failed", "reason": "again"}, clock, device=device)
    assert (status, out["error"]) == (403, "report_mismatch")
    assert rollout_state()["revision"] == revision + 1


def test_forged_success_is_refused(aws):
    device = on("5.6.14", start_canary())[0]["id"]
    when = OPEN + dt.timedelta(minutes=5)
    revision = rollout_state()["revision"]
    status, body, _ = api("report", {"result": "succeeded", "version": "6.15.008"}, when, device=device)
    assert (status, body["error"]) == (403, "report_mismatch")
    assert body["message"] == 'reports "6.15.008", but no update was issued to it'
    # Handed the bridge, it cannot report the target instead.
    _, clock = download(device, "5.6.14", when)
    status, body, _ = api("report", {"result": "succeeded", "version": "6.15.008"}, clock, device=device)
    assert (status, body["error"]) == (403, "report_mismatch")
    assert body["message"] == 'reports "6.15.008", but was told to install "5.6.30"'
    assert rollout_state()["revision"] == revision
    assert registry(device).version == "5.6.14"


def test_the_retry_state_is_kept_server_side(aws):
    device = on("5.6.14", start_canary())[0]["id"]
    aws["s3"].delete_object(Bucket=BUCKET, Key="firmware/ip-module/5.6.30.bin")  # the bridge is missing
    clock = OPEN + dt.timedelta(minutes=5)
    reset = {"attempts": 0, "first_failure_at": orchestrator.fleetpath_time(clock), "last_delay_ms": 0}
    for attempt in (1, 2, 3):
        later()
        status, body, _ = ask(device, "5.6.14", clock, retry=reset)  # the device tries to reset it
        assert (status, body["reason"], body["attempts"]) == (503, "artifact_missing", attempt), body
        assert "retry" not in body
        clock += dt.timedelta(seconds=body["retry_after"])
    assert registry(device).retry["attempts"] == 3
    # Uploaded again: the download resets it.
    bridge = next(r for r in aws["manifest"]["releases"] if r["version"] == "5.6.30")
    aws["s3"].put_object(Bucket=BUCKET, Key="firmware/ip-module/5.6.30.bin", ChecksumAlgorithm="SHA256",
                         Body=stand_in("5.6.30", bridge["artifact"]["size"]))
    download(device, "5.6.14", clock)
    assert registry(device).retry is None


# --- signed manifests --------------------------------------------------------------------


def manifest_answer(device, when):
    later()
    status, body, headers = ask(device, "5.6.14", when)
    return status, body, headers


def persisted():
    return orchestrator.accepted_manifest_version(CFG)


def test_a_replayed_manifest_is_refused_even_after_a_cold_start(aws):
    device = on("5.6.14", start_canary())[0]["id"]
    when = OPEN + dt.timedelta(minutes=5)
    assert manifest_answer(device, when)[1].get("action") in ("download", "retry_after")
    assert persisted() == 2
    # The old version 1, properly signed, is uploaded again (it would unblock a recalled release).
    put_manifest(aws["s3"], aws["manifest"], version=1)
    revalidate()
    status, body, headers = manifest_answer(device, when)
    assert (status, body["error"], body["fields"]) == (503, "manifest_untrusted", {"code": "rolled_back"}), body
    assert headers["retry-after"] == "300" and "url" not in body
    cold_start()  # a new container knows nothing but what DynamoDB holds
    status, body, _ = manifest_answer(device, when)
    assert (status, body["fields"]) == (503, {"code": "rolled_back"})
    assert persisted() == 2
    # The health gate still judges and ticks; only its prefetch needs the manifest.
    result = gate(when + dt.timedelta(minutes=5))
    assert result["prefetch"] == {"error": "manifest_untrusted", "code": "rolled_back"}
    with pytest.raises(orchestrator.ManifestUntrusted, match="older than version 2"):
        orchestrator.graph(CFG, when)
    # Version 3 is accepted, and the number never goes down.
    put_manifest(aws["s3"], aws["manifest"], version=3)
    revalidate()
    assert manifest_answer(device, when)[0] in (200, 503) and persisted() == 3
    with pytest.raises(orchestrator.ManifestUntrusted, match="older than version 3"):
        orchestrator.accept_manifest_version(CFG, 2, None, when)  # a container that lost the race
    assert persisted() == 3


def test_an_expired_manifest_is_refused(aws):
    device = on("5.6.14", start_canary())[0]["id"]
    expires = OPEN + dt.timedelta(minutes=10)
    put_manifest(aws["s3"], aws["manifest"], version=3, expires=orchestrator.fleetpath_time(expires))
    revalidate()
    assert manifest_answer(device, expires - dt.timedelta(minutes=1))[0] in (200, 503)
    # Verified a minute ago and cached: expired now all the same.
    status, body, _ = manifest_answer(device, expires)
    assert (status, body["fields"]) == (503, {"code": "expired"}), body
    revalidate()
    status, body, _ = manifest_answer(device, expires + dt.timedelta(minutes=1))
    assert (status, body["fields"]) == (503, {"code": "expired"}), body


def altered(envelope, manifest):
    """The envelope with its document replaced by `manifest` (wherever the envelope carries it),
    the signatures left as they are."""
    envelope = json.loads(json.dumps(envelope))
    if "document" in envelope["signed"]:
        envelope["signed"]["document"] = manifest
    else:  # the signed part names the document's length and hash; the text travels beside it
        envelope["document"] = json.dumps(manifest, separators=(",", ":"))
    return envelope


@pytest.mark.parametrize("forge, codes", [
    ("foreign key", {"unknown_key"}),
    ("relabelled version", {"bad_signature"}),
    ("altered document", {"bad_signature", "document_mismatch"}),  # as the envelope format places it
    ("unsigned", {"malformed_envelope"}),
    ("a signed fleet", {"wrong_document"}),
])
def test_a_manifest_not_signed_by_a_trusted_key_is_refused(aws, forge, codes):
    device = on("5.6.14", start_canary())[0]["id"]
    manifest = aws["manifest"]
    if forge == "foreign key":
        envelope = trust.sign("manifest", 9, MANIFEST_EXPIRES, manifest, [trust.SigningKey.from_seed(bytes(32))])
    elif forge == "relabelled version":  # the old version 1 presented as version 9
        envelope = trust.sign("manifest", 1, MANIFEST_EXPIRES, manifest, [SIGNER])
        envelope["signed"]["version"] = 9
    elif forge == "altered document":  # e.g. the blocked direct jump dropped from the edges
        envelope = altered(trust.sign("manifest", 9, MANIFEST_EXPIRES, manifest, [SIGNER]), {**manifest, "edges": []})
    elif forge == "unsigned":
        envelope = manifest
    else:
        envelope = trust.sign("fleet", 9, MANIFEST_EXPIRES, {"devices": []}, [SIGNER])
    aws["s3"].put_object(Bucket=BUCKET, Key="fleetpath/manifest.json", Body=json.dumps(envelope).encode())
    revalidate()
    status, body, _ = manifest_answer(device, OPEN)
    assert (status, body["error"]) == (503, "manifest_untrusted"), body
    assert body["fields"]["code"] in codes, body
    assert persisted() == 2


# --- device ids --------------------------------------------------------------------------


def test_a_device_id_with_dots_spaces_and_unicode(aws):
    device = "prüf.stand 1.01 ✓"
    fleet = (DATA / "plant-340.csv").read_text() + f"{device},IPM-1,prüf.line 1,plant-a,5.6.14,x/A\n"
    aws["s3"].put_object(Bucket=BUCKET, Key="fleetpath/fleet.csv", Body=fleet.encode())
    assert device in [d["id"] for d in start_canary()]
    body, clock = download(device, "5.6.14", OPEN + dt.timedelta(minutes=5))
    assert requests.get(body["url"], timeout=10).status_code == 200
    status, out, _ = api("report", {"device": device, "result": "succeeded", "version": "5.6.30"}, clock, device=device)
    assert status == 200, out
    item = orchestrator.load_item(CFG)
    assert item["updated_at"] == {device: orchestrator.fleetpath_time(clock)}
    assert registry(device).version == "5.6.30"
    # The same device through its client certificate, its CN escaped.
    e = event("update-check", {"model": "IPM-1", "version": "5.6.30"}, clock + dt.timedelta(minutes=1))
    del e["requestContext"]["authorizer"]
    e["requestContext"]["authentication"] = {"clientCert": {"subjectDN": r"CN=pr\C3\BCf.stand 1.01 \E2\9C\93,O=Plant A"}}
    later()
    status, out = call(e)
    assert (status, out.get("action"), out.get("version")) == (200, "download", "6.15.008"), out
    assert registry(device).issued == {"from": "5.6.30", "to": "6.15.008"}
