"""The seed's Lambda orchestrator, with fleetpath deciding and boto3 doing the I/O.

Two handlers:

- ``update_check`` (API Gateway HTTP API, payload format 2.0):
  ``POST /v1/update-check`` — a device sends what it runs (``{"model", "version"}``) and gets
  the next hop with a presigned URL, ``retry_after`` (503 with a ``Retry-After`` header while
  its artifact is restored from Glacier), ``wait``, ``up_to_date``, ``roll_back``,
  ``give_up`` or ``blocked``.
  ``POST /v1/report`` — a device reports an update's outcome (``{"result": "succeeded" |
  "failed" | "timed_out", "version" | "reason"}``), applied to the rollout.
- ``health_gate`` (EventBridge schedule, every 5 minutes): ticks the rollout state machine,
  ingests the current stage's new health samples, evaluates them against each device's
  7-day baseline and applies the verdict (a breach halts the rollout and rolls devices back),
  then carries out the actions (restores from Glacier ahead of the stage's windows).

Who asks comes only from API Gateway: a JWT authorizer's ``sub`` claim, a Lambda authorizer's
``device`` context field, or the CN of the mTLS client certificate. A ``device`` field in a
body must name that same device. What a device claims is checked against the device registry
(DynamoDB, ``pk = device#<id>``, seeded from the fleet document on first sight): its model,
its version (the one on record, or the target of the hop it was handed) and its reports (only
of a hop it was handed). Its retry state stays in the registry.

The manifest is a signed envelope (``fleetpath.trust``) verified against the keys in
``FLEETPATH_TRUSTED_KEYS`` at the event's time; the highest version accepted is kept in
DynamoDB (``pk = trust#manifest``), so neither a warm nor a cold container accepts an older
one. A manifest that does not verify is never served: update-checks answer 503
``manifest_untrusted``.

Rollout state lives in DynamoDB, one item per rollout: the rollout's JSON and its
``revision``; every write is conditional on the revision read, so two Lambdas never overwrite
each other's step (a loser reloads and re-applies). Health summaries, too large for an item,
are S3 objects named by revision; the item points at the current one. The time of every
decision is the event's own (``requestContext.timeEpoch``, the schedule's ``time``):
fleetpath never reads a clock.

Configuration (environment): ``FLEETPATH_BUCKET``, ``FLEETPATH_TABLE``, ``FLEETPATH_ROLLOUT``
(the active rollout id), ``FLEETPATH_TRUSTED_KEYS`` (the JSON of
``fleetpath.trust.trusted_keys``), optional ``FLEETPATH_PREFIX`` (documents, default
``fleetpath/``).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
import logging
import os
import time
import uuid
from typing import Any, Dict, List, Mapping, Optional, Tuple, cast

import boto3
from botocore.exceptions import ClientError

import fleetpath
import fleetpath.s3
import fleetpath.trust

log = logging.getLogger("fleetpath.lambda")

# Per container: clients, documents by ETag (revalidated every 30 s), the verified manifest
# (revalidated as often), availability observations (60 s).
_CLIENTS: Dict[str, Any] = {}
_DOCUMENTS: Dict[str, Tuple[str, Any, float]] = {}
_MANIFESTS: Dict[str, "_Manifest"] = {}
_OBSERVED: Dict[str, Tuple[float, Dict[str, Any]]] = {}
OBSERVATION_TTL_SECONDS = 60.0
DOCUMENT_TTL_SECONDS = 30.0  # documents are revalidated (If-None-Match) at most this often
CONFLICT_RETRIES = 5
UNTRUSTED_RETRY_AFTER_SECONDS = 300  # what a device is told to wait while the manifest is refused


class Config:
    def __init__(self, env: Mapping[str, str]) -> None:
        try:
            self.bucket = env["FLEETPATH_BUCKET"]
            self.table = env["FLEETPATH_TABLE"]
            self.rollout_id = env["FLEETPATH_ROLLOUT"]
        except KeyError as e:
            raise RuntimeError(f"missing environment variable {e.args[0]}") from None
        self.prefix = env.get("FLEETPATH_PREFIX", "fleetpath/")
        self.trusted = _trusted_keys(env.get("FLEETPATH_TRUSTED_KEYS"))

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"


def _trusted_keys(text: Optional[str]) -> Dict[str, Any]:
    """The manifest signers' key set (`fleetpath.trust.trusted_keys` JSON), checked: every key
    valid and filed under its own id, a threshold of at least one. There is no unsigned mode."""
    if not text:
        raise RuntimeError("missing environment variable FLEETPATH_TRUSTED_KEYS (the JSON of "
                           "fleetpath.trust.trusted_keys: the manifest signers' public keys)")
    try:
        given = json.loads(text)
        keys, threshold = given["keys"], given["threshold"]
        if not isinstance(keys, dict) or not keys or not isinstance(threshold, int) or threshold < 1:
            raise ValueError("expected {\"keys\": {keyid: public key, ...}, \"threshold\": n >= 1}")
        rebuilt = fleetpath.trust.trusted_keys(list(keys.values()), threshold)
    except (ValueError, KeyError, TypeError, fleetpath.FleetpathError) as e:
        raise RuntimeError(f"FLEETPATH_TRUSTED_KEYS is invalid: {e}") from None
    if set(rebuilt["keys"]) != set(keys):
        raise RuntimeError("FLEETPATH_TRUSTED_KEYS is invalid: a key is filed under another key's id")
    return rebuilt


def _s3() -> Any:
    if "s3" not in _CLIENTS:
        _CLIENTS["s3"] = boto3.client("s3")
    return _CLIENTS["s3"]


def _table(cfg: Config) -> Any:
    name = f"table:{cfg.table}"
    if name not in _CLIENTS:
        _CLIENTS[name] = boto3.resource("dynamodb").Table(cfg.table)
    return _CLIENTS[name]


# --- documents (manifest, fleet, calendar, policies) -------------------------------------


def _document(cfg: Config, name: str, parse: Any, optional: bool = False) -> Any:
    """An S3 document, parsed once per ETag (a 304 reuses the parsed value)."""
    key = cfg.key(name)
    cached = _DOCUMENTS.get(key)
    if cached and time.monotonic() - cached[2] < DOCUMENT_TTL_SECONDS:
        return cached[1]  # checked moments ago: no request at all
    args: Dict[str, Any] = {"Bucket": cfg.bucket, "Key": key}
    if cached and cached[0]:
        args["IfNoneMatch"] = cached[0]
    try:
        obj = _s3().get_object(**args)
    except ClientError as e:
        code = e.response.get("Error", {}).get("Code")
        if cached and code in ("304", "NotModified"):
            _DOCUMENTS[key] = (cached[0], cached[1], time.monotonic())
            return cached[1]
        if optional and code in ("NoSuchKey", "404"):
            _DOCUMENTS[key] = ("", None, time.monotonic())  # absent: checked again after the TTL
            return None
        raise
    value = parse(obj["Body"].read())
    _DOCUMENTS[key] = (obj["ETag"], value, time.monotonic())
    return value


class ManifestUntrusted(Exception):
    """The manifest in S3 cannot be served: `code` is the trust error (`rolled_back`,
    `expired`, `bad_signature`, `unknown_key`, …) or the manifest's own error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclasses.dataclass
class _Manifest:
    """The manifest object last read: its bytes and, when they verified, the graph."""

    etag: str
    raw: bytes
    checked: float  # time.monotonic() of the last revalidation
    version: int = 0
    expires: Optional[dt.datetime] = None
    graph: Optional[fleetpath.UpgradeGraph] = None
    error: Optional[Tuple[str, str]] = None  # (code, message) when it did not verify


TRUST_PK = {"pk": "trust#manifest"}


def accepted_manifest_version(cfg: Config) -> Optional[int]:
    """The highest manifest version any container accepted (None before the first)."""
    item = _table(cfg).get_item(Key=TRUST_PK, ConsistentRead=True).get("Item")
    return None if item is None or "version" not in item else int(item["version"])


def accept_manifest_version(cfg: Config, version: int, last: Optional[int], at: dt.datetime) -> None:
    """Persists `version` as accepted; the number never goes down. `ManifestUntrusted`
    (`rolled_back`) if another container accepted a newer one meanwhile."""
    if last is not None and version <= last:
        return
    try:
        _table(cfg).update_item(
            Key=TRUST_PK,
            UpdateExpression="SET #version = :version, #at = :at",
            ConditionExpression="attribute_not_exists(#version) OR #version < :version",
            ExpressionAttributeNames={"#version": "version", "#at": "accepted_at"},
            ExpressionAttributeValues={":version": version, ":at": fleetpath_time(at)},
        )
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        current = accepted_manifest_version(cfg)
        if current is not None and current > version:
            raise ManifestUntrusted("rolled_back", f"signed document version {version} is older than version "
                                                   f"{current}, already accepted") from None


def _load_manifest(cfg: Config, key: str, cached: Optional[_Manifest], now: dt.datetime) -> _Manifest:
    """Reads the manifest (a 304 reuses the bytes) and verifies it at `now` against the trusted
    keys and the persisted version, every time: an unchanged object can expire, or be
    superseded by a newer version another container accepted."""
    last = accepted_manifest_version(cfg)
    args: Dict[str, Any] = {"Bucket": cfg.bucket, "Key": key}
    if cached is not None:
        args["IfNoneMatch"] = cached.etag
    try:
        obj = _s3().get_object(**args)
        etag, raw = str(obj["ETag"]), bytes(obj["Body"].read())
    except ClientError as e:
        if cached is None or e.response.get("Error", {}).get("Code") not in ("304", "NotModified"):
            raise
        etag, raw = cached.etag, cached.raw
    try:
        verified = fleetpath.trust.verify(raw, "manifest", cfg.trusted, now=now, last_accepted=last)
        unchanged = cached is not None and cached.etag == etag and cached.graph is not None
        g = cached.graph if cached is not None and unchanged else fleetpath.UpgradeGraph.load(verified.document)
        accept_manifest_version(cfg, verified.version, last, now)
    except (fleetpath.FleetpathError, ManifestUntrusted) as e:
        log.error("manifest s3://%s/%s refused: [%s] %s", cfg.bucket, key, e.code, e)
        return _Manifest(etag, raw, time.monotonic(), error=(e.code, str(e)))
    assert g is not None
    return _Manifest(etag, raw, time.monotonic(), verified.version, parse_time(verified.expires), g)


def graph(cfg: Config, now: dt.datetime) -> fleetpath.UpgradeGraph:
    """The verified upgrade graph at `now` (the event's time), or `ManifestUntrusted`."""
    key = cfg.key("manifest.json")
    entry = _MANIFESTS.get(key)
    if entry is None or time.monotonic() - entry.checked >= DOCUMENT_TTL_SECONDS:
        entry = _MANIFESTS[key] = _load_manifest(cfg, key, entry, now)
    if entry.error is not None:
        raise ManifestUntrusted(*entry.error)
    assert entry.graph is not None and entry.expires is not None
    if now >= entry.expires:  # verified earlier, expired since
        raise ManifestUntrusted("expired", f"signed document version {entry.version} expired at "
                                           f"{fleetpath_time(entry.expires)} (now {fleetpath_time(now)})")
    return entry.graph


def fleet(cfg: Config) -> fleetpath.Fleet:
    return cast(fleetpath.Fleet, _document(cfg, "fleet.csv", fleetpath.Fleet.load))


def calendar(cfg: Config) -> Optional[fleetpath.Calendar]:
    return cast(Optional[fleetpath.Calendar], _document(cfg, "calendar.json", fleetpath.Calendar.load, optional=True))


def health_policy(cfg: Config) -> fleetpath.HealthPolicy:
    policy = _document(cfg, "health-policy.json", fleetpath.HealthPolicy, optional=True)
    return policy if policy is not None else fleetpath.HealthPolicy()


def decision_policy(cfg: Config) -> Optional[Dict[str, Any]]:
    return cast(Optional[Dict[str, Any]], _document(cfg, "decision-policy.json", json.loads, optional=True))


# --- rollout state in DynamoDB ----------------------------------------------------------


class Conflict(Exception):
    """Another writer advanced the rollout first."""


def _pk(rollout_id: str) -> Dict[str, str]:
    return {"pk": f"rollout#{rollout_id}"}


def load_item(cfg: Config) -> Dict[str, Any]:
    item = _table(cfg).get_item(Key=_pk(cfg.rollout_id), ConsistentRead=True).get("Item")
    if item is None:
        raise LookupError(f"rollout {cfg.rollout_id!r} does not exist")
    return cast(Dict[str, Any], item)


AttrPath = Tuple[str, ...]  # an attribute path: ("updated_at", device) is the map entry updated_at[device]


def save_item(cfg: Config, expected_revision: int, rollout: fleetpath.Rollout, extra: Mapping[AttrPath, Any]) -> None:
    """Writes the new state if the item still has `expected_revision` (else `Conflict`), and
    sets each `extra` path. Every path element is a placeholder (`#x0_1`): device ids and stage
    names may hold dots, spaces or any character."""
    names = {"#state": "state", "#revision": "revision"}
    values: Dict[str, Any] = {":state": rollout.to_json(), ":next": rollout.revision, ":expected": expected_revision}
    sets = ["#state = :state", "#revision = :next"]
    for i, (path, value) in enumerate(extra.items()):
        for j, part in enumerate(path):
            names[f"#x{i}_{j}"] = part
        sets.append(".".join(f"#x{i}_{j}" for j in range(len(path))) + f" = :x{i}")
        values[f":x{i}"] = value
    try:
        _table(cfg).update_item(
            Key=_pk(cfg.rollout_id),
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression="#revision = :expected",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise Conflict(f"rollout {cfg.rollout_id} moved past revision {expected_revision}") from None
        raise


def create_rollout(cfg: Config, target: str, at: dt.datetime, policy: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """Plans the stages over the fleet, starts the rollout at `at` and stores it (once: a
    second call for the same id fails). Returns the start's actions. `ManifestUntrusted` if
    the manifest does not verify at `at`."""
    g, f, cal = graph(cfg, at), fleet(cfg), calendar(cfg)
    plan = fleetpath.plan_rollout(g, f, target, cfg.rollout_id, policy)
    rollout, actions = fleetpath.Rollout.new(plan, f, g, policy).apply({"type": "start", "at": at}, cal)
    _table(cfg).put_item(
        Item={**_pk(cfg.rollout_id), "revision": rollout.revision, "state": rollout.to_json(),
              "updated_at": {}, "health": {}, "samples_after": {}, "restores": {}},
        ConditionExpression="attribute_not_exists(pk)",
    )
    item = load_item(cfg)
    return {"rollout": cfg.rollout_id, "revision": rollout.revision, "stages": [(s.name, len(s.devices)) for s in plan.stages],
            "actions": carry_out(cfg, actions, at, item), "prefetch": prefetch(cfg, rollout, at, item)}


# --- artifacts: availability, restores, presigned URLs ----------------------------------


def observe(cfg: Config, artifact: Mapping[str, Any], now: dt.datetime, restores: Mapping[str, Any]) -> Dict[str, Any]:
    """An artifact's availability from a HEAD (size and SHA-256 checked), cached 60 s."""
    key = artifact["key"]
    hit = _OBSERVED.get(key)
    if hit and time.monotonic() - hit[0] < OBSERVATION_TTL_SECONDS:
        return hit[1]
    try:
        head = _s3().head_object(Bucket=cfg.bucket, Key=key, ChecksumMode="ENABLED")
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            availability = fleetpath.s3.missing()
            _OBSERVED[key] = (time.monotonic(), availability)
            return availability
        raise
    note = restores.get(key) or {}
    observation = fleetpath.s3.observe_head(
        head, dict(artifact), now=now, restore_since=note.get("since"), tier=note.get("tier", "standard"))
    availability = observation.availability.to_dict()
    _OBSERVED[key] = (time.monotonic(), availability)
    return availability


def request_restore(cfg: Config, key: str, tier: str, days: int, at: dt.datetime, klass: str) -> str:
    """Asks S3 to restore an archived object (idempotent) and notes when, for `ready_by`."""
    request = fleetpath.s3.restore_request(klass, tier, days)  # no Days for Intelligent-Tiering
    try:
        _s3().restore_object(Bucket=cfg.bucket, Key=key, RestoreRequest=request)
        outcome = "restore_requested"
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "RestoreAlreadyInProgress":
            raise
        outcome = "already_restoring"
    _table(cfg).update_item(
        Key=_pk(cfg.rollout_id),
        UpdateExpression="SET restores.#k = if_not_exists(restores.#k, :note)",
        ExpressionAttributeNames={"#k": key},
        ExpressionAttributeValues={":note": {"since": fleetpath_time(at), "tier": tier}},
    )
    _OBSERVED.pop(key, None)
    return outcome


def prefetch(cfg: Config, rollout: fleetpath.Rollout, now: dt.datetime, item: Mapping[str, Any]) -> Dict[str, Any]:
    """Restores what the coming stages (and their rollbacks) will install, each at the tier
    and time fleetpath's prefetch plan names, so it is ready when its window opens. Safe to
    run on every schedule tick: running restores are left alone."""
    g, cal = graph(cfg, now), calendar(cfg)
    restores = item.get("restores", {})
    seen: Dict[str, Any] = {}
    plan = fleetpath.plan_prefetch(rollout, g, seen, now, calendar=cal)
    unobserved = [i.artifact.to_dict() for i in plan.items if i.action == "check"]
    if unobserved:  # observe what the plan needs (one HEAD each), then plan again
        seen.update({a["key"]: observe(cfg, a, now, restores) for a in unobserved})
        plan = fleetpath.plan_prefetch(rollout, g, seen, now, calendar=cal)
    acted: Dict[str, str] = {}
    for i in plan.due():
        key = i.artifact.key
        if i.action in ("restore", "late") and i.tier is not None:
            acted[key] = request_restore(cfg, key, i.tier, i.days or 1, now, i["class"])
        else:
            acted[key] = i.action  # missing: an operator must upload it
            log.error("prefetch: %s is %s", key, i.action)
    planned = {i.artifact.key: {k: v for k, v in i.to_dict().items() if k in ("action", "tier", "request_by", "ready_by")}
               for i in plan.items if i.artifact.key not in acted}
    result = {"ready": plan.ready, "acted": acted, "planned": planned}
    log.info("prefetch %s", result)
    return result


def presign(cfg: Config, key: str, lifetime: int) -> str:
    return str(_s3().generate_presigned_url("get_object", Params={"Bucket": cfg.bucket, "Key": key}, ExpiresIn=lifetime))


# --- the device registry in DynamoDB ----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DeviceRecord:
    """What the host knows about a device (item `pk = device#<id>`), never what it says.

    `issued` is the last hop handed out (download or rollback URL) and not yet finished;
    `unreported` the hop a device finished by claiming its version at update-check before
    reporting it (its `succeeded` report is still accepted, once); `retry` its retry state."""

    device: str
    model: str
    version: str
    issued: Optional[Dict[str, str]] = None
    unreported: Optional[Dict[str, str]] = None
    retry: Optional[Dict[str, Any]] = None
    revision: int = 0  # 0: not stored yet

    def claims(self, hop: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
        """The record fleetpath checks claims and reports against (with `hop` as the one
        issued, if given)."""
        issued = self.issued if hop is None else hop
        record: Dict[str, Any] = {"model": self.model, "version": self.version}
        if issued is not None:
            record["issued"] = {"from": issued["from"], "to": issued["to"]}
        return record


def _device_pk(device: str) -> Dict[str, str]:
    return {"pk": f"device#{device}"}


def _hop(value: Any) -> Optional[Dict[str, str]]:
    return None if value is None else {"from": str(value["from"]), "to": str(value["to"])}


def load_device(cfg: Config, device: str) -> DeviceRecord:
    """The device's record; on first sight, its model and version from the fleet document.
    `Refusal` (403 `unknown_device`) for a device the fleet does not list."""
    item = _table(cfg).get_item(Key=_device_pk(device), ConsistentRead=True).get("Item")
    if item is not None:
        retry = item.get("retry")
        return DeviceRecord(device, str(item["model"]), str(item["version"]), _hop(item.get("issued")),
                            _hop(item.get("unreported")), None if retry is None else json.loads(retry),
                            int(item["revision"]))
    known = fleet(cfg).get(device)
    if known is None:
        raise Refusal(403, "unknown_device", f"device {device!r} is not in the fleet")
    return DeviceRecord(device, known.model, known.version)


def save_device(cfg: Config, record: DeviceRecord, expected_revision: int) -> None:
    """Writes `record` if the stored one still has `expected_revision` (0: none stored yet),
    else `Conflict`. The retry state is stored as JSON text (DynamoDB has no floats)."""
    item: Dict[str, Any] = {**_device_pk(record.device), "model": record.model, "version": record.version,
                            "revision": expected_revision + 1}
    for name in ("issued", "unreported"):
        if getattr(record, name) is not None:
            item[name] = getattr(record, name)
    if record.retry is not None:
        item["retry"] = json.dumps(record.retry, sort_keys=True)
    if expected_revision == 0:
        condition: Dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
    else:
        condition = {"ConditionExpression": "#revision = :expected", "ExpressionAttributeNames": {"#revision": "revision"},
                     "ExpressionAttributeValues": {":expected": expected_revision}}
    try:
        _table(cfg).put_item(Item=item, **condition)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise Conflict(f"device {record.device!r} moved past revision {expected_revision}") from None
        raise


# --- API Gateway: /v1/update-check and /v1/report --------------------------------------


class Refusal(Exception):
    """A request answered with an error status (401, 403) before anything is decided."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _response(status: int, body: Mapping[str, Any], headers: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json", **(headers or {})},
            "body": json.dumps(body)}


def _error(status: int, code: str, message: str, fields: Optional[Mapping[str, Any]] = None,
           headers: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    return _response(status, {"error": code, "message": message, "fields": dict(fields or {})}, headers)


def _event_time(event: Mapping[str, Any]) -> dt.datetime:
    millis = event.get("requestContext", {}).get("timeEpoch")
    if not isinstance(millis, int):
        raise ValueError("requestContext.timeEpoch is missing")
    return dt.datetime.fromtimestamp(millis // 1000, tz=dt.timezone.utc)


def _body(event: Mapping[str, Any]) -> Dict[str, Any]:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8")
    body = json.loads(raw)
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def identity(event: Mapping[str, Any]) -> str:
    """The device API Gateway authenticated: a JWT authorizer's `sub` claim, a Lambda
    authorizer's `device` context field, or the CN of the mTLS client certificate (which API
    Gateway has checked against its truststore). Never the body. `Refusal` 401 without one,
    403 when two of them disagree."""
    context = _dict(event.get("requestContext"))
    authorizer = _dict(context.get("authorizer"))
    found = {
        "jwt sub": _dict(_dict(authorizer.get("jwt")).get("claims")).get("sub"),
        "lambda authorizer device": _dict(authorizer.get("lambda")).get("device"),
    }
    subject = _dict(_dict(context.get("authentication")).get("clientCert")).get("subjectDN")
    if isinstance(subject, str):
        found["client certificate CN"] = common_name(subject)
        if found["client certificate CN"] is None:
            raise Refusal(401, "unauthenticated", "the client certificate's subject has no single CN")
    names = {v for v in found.values() if isinstance(v, str) and v}
    if not names:
        raise Refusal(401, "unauthenticated", "no authenticated device identity (authorizer or client certificate)")
    if len(names) > 1:
        raise Refusal(403, "identity_mismatch", "the authorizer and the client certificate name different devices")
    return names.pop()


def common_name(subject_dn: str) -> Optional[str]:
    """The CN of an RFC 4514 distinguished name (`CN=press-1-01,O=Plant A`, escapes such as
    `\\,` and `\\C3\\BC` decoded), or None when it has none, several, or does not parse."""
    try:
        cns = [value for kind, value in _dn_attributes(subject_dn) if kind.upper() in ("CN", "2.5.4.3", "OID.2.5.4.3")]
    except (ValueError, UnicodeDecodeError):
        return None
    return cns[0] if len(cns) == 1 and cns[0] else None


def _dn_attributes(dn: str) -> List[Tuple[str, str]]:
    """(type, value) pairs of a distinguished name, in order (multi-valued RDNs flattened)."""
    pairs: List[Tuple[str, str]] = []
    i, n = 0, len(dn)
    while i < n:
        eq = dn.find("=", i)
        if eq < 0:
            raise ValueError(f"no '=' after {dn[i:]!r}")
        kind = dn[i:eq].strip()
        i = eq + 1
        while i < n and dn[i] == " ":  # unescaped leading spaces are not part of the value
            i += 1
        value, keep = bytearray(), 0
        while i < n and dn[i] not in ",+;":
            if dn[i] == "\\":
                pair = dn[i + 1:i + 3]
                if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                    value += bytes.fromhex(pair)
                    i += 3
                elif i + 1 < n:
                    value += dn[i + 1].encode()
                    i += 2
                else:
                    raise ValueError("a trailing backslash")
                keep = len(value)
            else:
                value += dn[i].encode()
                i += 1
                if dn[i - 1] != " ":
                    keep = len(value)
        pairs.append((kind, bytes(value[:keep]).decode("utf-8")))  # unescaped trailing spaces dropped
        i += 1
    return pairs


def update_check(event: Mapping[str, Any], context: Any = None, env: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The HTTP API handler (routes ``POST /v1/update-check`` and ``POST /v1/report``)."""
    cfg = Config(os.environ if env is None else env)
    route = event.get("routeKey") or f'{event.get("requestContext", {}).get("http", {}).get("method")} {event.get("rawPath")}'
    try:
        device = identity(event)  # first: an unauthenticated caller learns nothing
        now = _event_time(event)
        body = _body(event)
        if "device" in body and body["device"] != device:
            raise Refusal(403, "identity_mismatch", "the body's device is not the authenticated device")
    except Refusal as e:
        return _error(e.status, e.code, str(e))
    except (ValueError, UnicodeDecodeError) as e:  # json.JSONDecodeError is a ValueError
        return _error(400, "bad_request", str(e))
    try:
        if route == "POST /v1/update-check":
            return _check(cfg, device, body, now)
        if route == "POST /v1/report":
            return _report(cfg, device, body, now)
        return _error(404, "no_route", f"no route {route!r}")
    except Refusal as e:
        return _error(e.status, e.code, str(e))
    except fleetpath.InputError as e:
        return _error(400, e.code, str(e), e.fields)
    except ManifestUntrusted as e:  # never served unverified, neither the old nor the new one
        return _error(503, "manifest_untrusted", str(e), {"code": e.code},
                      {"retry-after": str(UNTRUSTED_RETRY_AFTER_SECONDS)})
    except fleetpath.FleetpathError as e:
        return _error(409, e.code, str(e), e.fields)


def _check(cfg: Config, device: str, body: Mapping[str, Any], now: dt.datetime) -> Dict[str, Any]:
    missing = [k for k in ("model", "version") if not isinstance(body.get(k), str)]
    if missing:
        return _error(400, "bad_request", f"missing or non-string fields: {', '.join(missing)}")
    claim = str(body["version"])
    record = load_device(cfg, device)  # before the manifest: an unknown device learns nothing
    g, policy, cal = graph(cfg, now), decision_policy(cfg), calendar(cfg)
    artifacts = {r.artifact.key: r.artifact.to_dict() for r in g.releases() if "artifact" in r and r.artifact}
    for attempt in range(CONFLICT_RETRIES):
        if attempt:
            record = load_device(cfg, device)
        # A `retry` in the body is ignored: the attempts are counted here, not by the device.
        request: Dict[str, Any] = {"device": device, "model": body["model"], "version": claim, "at": now}
        if record.retry is not None:
            request["retry"] = record.retry
        item = load_item(cfg)
        rollout = fleetpath.Rollout.from_json(item["state"])
        restores = item.get("restores", {})
        availability: Dict[str, Any] = {}
        for _ in range(4):  # observe only what the decision needs: at most the next hop's artifact
            decider = fleetpath.Decider(g, policy=policy, rollout=rollout, calendar=cal, availability=availability)
            decision = decider.decide(request, record=record.claims())
            action = decision.to_dict().get("host_action") or {}
            if action.get("type") != "check_availability":
                break
            availability[action["key"]] = observe(cfg, artifacts.get(action["key"], {"key": action["key"]}), now, restores)
        data = decision.to_dict()
        log.info("update-check %s %s -> %s (%s)", device, claim, decision.kind, decision.reason)
        if decision.kind == "refused":  # the claim disagrees with the record: nothing issued
            return _error(403, decision.reason, str(data.get("detail", "")))
        updated = _after_check(record, claim, data)
        if updated == record and record.revision:
            break
        try:
            save_device(cfg, updated, record.revision)  # the hop is on record before its URL leaves
            break
        except Conflict:
            continue
    else:
        return _error(409, "conflict", f"device {device!r} kept changing; ask again")
    return _answer(cfg, decision, data, now)


def _after_check(record: DeviceRecord, claim: str, data: Mapping[str, Any]) -> DeviceRecord:
    """The record after answering: a claim of the issued hop's target finishes that hop; a
    download or rollback is issued (and the retry state reset); a retry state is kept."""
    updated = record
    if record.issued is not None and fleetpath.Version(claim) == fleetpath.Version(record.issued["to"]):
        updated = dataclasses.replace(updated, version=record.issued["to"], issued=None, unreported=record.issued)
    kind = data["decision"]
    if kind in ("download", "roll_back"):
        step = data["step"]
        updated = dataclasses.replace(updated, issued={"from": step["from"], "to": step["to"]}, retry=None)
    elif kind == "retry_after":
        updated = dataclasses.replace(updated, retry=data["retry"])
    return updated


def _answer(cfg: Config, decision: fleetpath.Decision, data: Mapping[str, Any], now: dt.datetime) -> Dict[str, Any]:
    kind = decision.kind
    if kind in ("download", "roll_back"):
        step = data["step"]
        artifact = step["artifact"]
        url = presign(cfg, artifact["key"], data["url_lifetime_seconds"])
        return _response(200, {"action": kind, "reason": decision.reason, "from": step["from"], "version": step["to"],
                               "url": url, "sha256": artifact["sha256"], "size": artifact["size"],
                               "expires_in": data["url_lifetime_seconds"]})
    if kind == "retry_after":
        action = data.get("host_action") or {}
        if action.get("type") == "request_restore":
            request_restore(cfg, action["key"], action["tier"], int(action["days"]), now, action["class"])
        at = parse_time(data["at"])
        seconds = max(1, int((at - now).total_seconds()))
        return _response(503, {"action": "retry_after", "reason": decision.reason, "retry_after": seconds,
                               "at": data["at"], "attempts": data["retry"]["attempts"]}, {"retry-after": str(seconds)})
    body_out = {"action": kind, "reason": decision.reason}
    for field in ("until", "detail", "key", "attempts", "since", "limit"):
        if data.get(field) is not None:
            body_out[field] = data[field]
    return _response(200, body_out)


def _reported_hop(record: DeviceRecord, result: str, version: Optional[str]) -> Tuple[str, Dict[str, str]]:
    """The hop a report is about: ("issued" | "unreported", hop). `Refusal` (403
    `report_mismatch`) when the device was not handed that hop."""
    if result == "succeeded":
        assert version is not None
        refused = fleetpath.check_report(record.claims(), version)
        if refused is None and record.issued is not None:
            return "issued", record.issued
        if record.unreported is not None and fleetpath.check_report(record.claims(record.unreported), version) is None:
            return "unreported", record.unreported
        detail = refused.to_dict().get("detail", "") if refused is not None else ""
        raise Refusal(403, "report_mismatch", str(detail))
    if record.issued is None:
        raise Refusal(403, "report_mismatch", f"reports {result}, but no update was issued to it")
    return "issued", record.issued


def _report(cfg: Config, device: str, body: Mapping[str, Any], now: dt.datetime) -> Dict[str, Any]:
    result = body.get("result")
    version = body.get("version")
    if result not in ("succeeded", "failed", "timed_out") or (result == "succeeded" and not isinstance(version, str)):
        return _error(400, "bad_request", "expected {result: succeeded (with version) | failed | timed_out}")
    result = str(result)
    reported = str(version) if result == "succeeded" else None
    _reported_hop(load_device(cfg, device), result, reported)  # refused before the rollout sees it
    outcome: Dict[str, Any] = {"result": result}
    if result == "succeeded":
        outcome["version"] = reported
    elif result == "failed":
        outcome["reason"] = str(body.get("reason", "unspecified"))
    event = {"type": "device_reported", "at": now, "device": device, "outcome": outcome}
    cal = calendar(cfg)
    for _ in range(CONFLICT_RETRIES):
        item = load_item(cfg)
        rollout = fleetpath.Rollout.from_json(item["state"])
        try:
            state, actions = rollout.apply(event, cal)
        except fleetpath.FleetpathError:  # e.g. rollout_finished: the registry still records the hop's outcome
            _close_hop(cfg, device, result, reported)
            raise
        extra: Dict[AttrPath, Any] = {("updated_at", device): fleetpath_time(now)} if result == "succeeded" else {}
        try:
            save_item(cfg, int(item["revision"]), state, extra)
        except Conflict:
            continue
        _close_hop(cfg, device, result, reported)
        done = carry_out(cfg, actions, now, item)
        return _response(200, {"revision": state.revision, "actions": done})
    return _error(409, "conflict", f"rollout {cfg.rollout_id} kept changing; report again")


def _close_hop(cfg: Config, device: str, result: str, version: Optional[str]) -> None:
    """Records the reported hop as finished (its target is the device's version) or failed:
    a hop is reported once."""
    for _ in range(CONFLICT_RETRIES):
        record = load_device(cfg, device)
        try:
            which, hop = _reported_hop(record, result, version)
        except Refusal:  # closed meanwhile (the same report, concurrently)
            return
        updated = dataclasses.replace(record, unreported=None)
        if which == "issued":
            updated = dataclasses.replace(updated, issued=None)
        if result == "succeeded":
            updated = dataclasses.replace(updated, version=hop["to"])
        try:
            save_device(cfg, updated, record.revision)
            return
        except Conflict:
            continue
    log.error("device %r kept changing; its reported hop stays open", device)


# --- the scheduled health gate ----------------------------------------------------------


def health_gate(event: Mapping[str, Any], context: Any = None, env: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """Every 5 minutes: tick, ingest the stage's new samples, judge them, apply, act."""
    cfg = Config(os.environ if env is None else env)
    now = parse_time(str(event["time"]))
    for _ in range(CONFLICT_RETRIES):
        try:
            return _gate_once(cfg, now)
        except Conflict as e:
            log.info("%s; reloading", e)
    return {"conflict": True}


def _gate_once(cfg: Config, now: dt.datetime) -> Dict[str, Any]:
    item = load_item(cfg)
    revision = int(item["revision"])
    rollout = fleetpath.Rollout.from_json(item["state"])
    cal = calendar(cfg)
    actions: List[fleetpath.Action] = []
    extra: Dict[AttrPath, Any] = {}
    report: Optional[fleetpath.HealthReport] = None
    written: Optional[str] = None
    rejected: List[Dict[str, Any]] = []
    if rollout.to_dict()["status"]["state"] in ("running", "paused"):
        rollout, acts = rollout.apply({"type": "tick", "at": now}, cal)
        actions += acts
    state = rollout.to_dict()
    stage = state["stages"][state["current"]] if state["current"] < len(state["stages"]) else None
    if stage is not None and stage["phase"] == "monitoring" and state["status"]["state"] == "running":
        health, report, last_sample, rejected = _judge(cfg, item, stage, now)
        rollout, acts = rollout.apply(report.event(stage["name"]), cal)
        actions += acts
        # The summaries go to S3 first, under a name no other attempt can use (two gates that
        # race for the same revision must not overwrite each other's object); the item points
        # at them only once its conditional write succeeds.
        key = cfg.key(f"state/{cfg.rollout_id}/health-{stage['name']}-r{rollout.revision}-{uuid.uuid4().hex}.json")
        _s3().put_object(Bucket=cfg.bucket, Key=key, Body=health.to_json().encode())
        written = key
        extra[("health", stage["name"])] = key
        if last_sample:
            extra[("samples_after", stage["name"])] = last_sample
    if rollout.revision != revision:
        try:
            save_item(cfg, revision, rollout, extra)
        except Conflict:
            if written:  # never referenced: the winner's item points at its own object
                _s3().delete_object(Bucket=cfg.bucket, Key=written)
            raise
    done = carry_out(cfg, actions, now, item)
    restored: Optional[Dict[str, Any]] = None
    if rollout.to_dict()["status"]["state"] in ("running", "paused"):
        try:
            restored = prefetch(cfg, rollout, now, item)
        except ManifestUntrusted as e:  # the verdict above never needed the manifest
            log.error("prefetch skipped, manifest refused: [%s] %s", e.code, e)
            restored = {"error": "manifest_untrusted", "code": e.code}
    final = rollout.to_dict()
    return {
        "rollout": cfg.rollout_id,
        "revision": rollout.revision,
        "status": final["status"],
        "stage": final["stages"][min(final["current"], len(final["stages"]) - 1)]["name"],
        "health": None if report is None else {"status": report.status, "summary": report.summary},
        "rejected_batches": rejected,
        "actions": done,
        "prefetch": restored,
    }


def _judge(cfg: Config, item: Mapping[str, Any], stage: Mapping[str, Any],
           now: dt.datetime) -> Tuple[fleetpath.HealthState, fleetpath.HealthReport, Optional[str], List[Dict[str, Any]]]:
    """The stage's health summaries, with its new sample batches ingested, judged at `now`;
    the last batch read, and the batches refused."""
    policy = health_policy(cfg)
    name = stage["name"]
    stored = (item.get("health") or {}).get(name)
    if stored:
        body = _s3().get_object(Bucket=cfg.bucket, Key=stored)["Body"].read()
        health = fleetpath.HealthState.from_json(body)
    else:
        health = fleetpath.HealthState(policy)
    updated = item.get("updated_at") or {}
    for d in stage["devices"]:
        if d["status"] == "succeeded":
            health.add_device(d["id"], d["line"], updated.get(d["id"]) or stage["monitoring_since"])
    prefix = f"samples/{cfg.rollout_id}/{name}/"
    after = (item.get("samples_after") or {}).get(name)
    rejected: List[Dict[str, Any]] = []
    last = None
    paginator = _s3().get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=cfg.bucket, Prefix=prefix, **({"StartAfter": after} if after else {})):
        for obj in page.get("Contents", []):
            batch = _s3().get_object(Bucket=cfg.bucket, Key=obj["Key"])["Body"].read()
            try:
                ingest = health.ingest(batch)
                log.info("ingested %s: %s", obj["Key"], ingest.to_dict())
            except fleetpath.InputError as e:
                # A refused batch changes nothing; it is skipped (and reported) so one bad file
                # cannot wedge the gate. Its data is missing, and missing data is never healthy.
                log.error("sample batch %s refused: [%s] %s", obj["Key"], e.code, e)
                rejected.append({"key": obj["Key"], "error": e.code, "message": str(e)})
            last = obj["Key"]
    report = health.evaluate(policy, now=now)
    log.info("health of %s: %s", name, report.summary)
    return health, report, last, rejected


def carry_out(cfg: Config, actions: Any, now: dt.datetime, item: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Reports what the rollout asked (an IoT job or SNS message in production; devices learn
    their part from update-check; restores are `prefetch`'s)."""
    done = []
    for action in actions:
        a = action.to_dict()
        entry: Dict[str, Any] = {"type": a["type"]}
        if a["type"] == "prefetch":  # carried out by `prefetch`, which plans tiers and times
            entry.update(stage=a["stage"], artifacts=len(a["artifacts"]))
        elif a["type"] == "update_devices":
            entry.update(stage=a["stage"], devices=len(a["devices"]))
        elif a["type"] == "roll_back":
            entry["devices"] = sorted(d["device"] for d in a["devices"])
        else:
            entry.update({k: v for k, v in a.items() if k != "type"})
        log.info("action %s", entry)
        done.append(entry)
    return done


def parse_time(text: str) -> dt.datetime:
    """RFC 3339 UTC text (fleetpath's and EventBridge's form) as an aware datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


def fleetpath_time(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
