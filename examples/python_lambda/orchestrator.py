"""The seed's Lambda orchestrator, with fleetpath deciding and boto3 doing the I/O.

Two handlers:

- ``update_check`` (API Gateway HTTP API, payload format 2.0):
  ``POST /v1/update-check`` — a device sends what it runs (``{"device", "model", "version"[,
  "retry"]}``) and gets the next hop with a presigned URL, ``retry_after`` (503 with a
  ``Retry-After`` header while its artifact is restored from Glacier), ``wait``, ``up_to_date``,
  ``roll_back``, ``give_up`` or ``blocked``.
  ``POST /v1/report`` — a device reports an update's outcome (``{"device", "result":
  "succeeded" | "failed" | "timed_out", "version" | "reason"}``), applied to the rollout.
- ``health_gate`` (EventBridge schedule, every 5 minutes): ticks the rollout state machine,
  ingests the current stage's new health samples, evaluates them against each device's
  7-day baseline and applies the verdict (a breach halts the rollout and rolls devices back),
  then carries out the actions (restores from Glacier ahead of the stage's windows).

State lives in DynamoDB, one item per rollout: the rollout's JSON and its ``revision``; every
write is conditional on the revision read, so two Lambdas never overwrite each other's step
(a loser reloads and re-applies). Health summaries, too large for an item, are S3 objects
named by revision; the item points at the current one. The time of every decision is the
event's own (``requestContext.timeEpoch``, the schedule's ``time``): fleetpath never reads a
clock.

Configuration (environment): ``FLEETPATH_BUCKET``, ``FLEETPATH_TABLE``, ``FLEETPATH_ROLLOUT``
(the active rollout id), optional ``FLEETPATH_PREFIX`` (documents, default ``fleetpath/``).
"""

from __future__ import annotations

import base64
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

log = logging.getLogger("fleetpath.lambda")

# Per container: clients, documents by ETag (revalidated every 30 s), availability
# observations (60 s).
_CLIENTS: Dict[str, Any] = {}
_DOCUMENTS: Dict[str, Tuple[str, Any, float]] = {}
_OBSERVED: Dict[str, Tuple[float, Dict[str, Any]]] = {}
OBSERVATION_TTL_SECONDS = 60.0
DOCUMENT_TTL_SECONDS = 30.0  # documents are revalidated (If-None-Match) at most this often
CONFLICT_RETRIES = 5


class Config:
    def __init__(self, env: Mapping[str, str]) -> None:
        try:
            self.bucket = env["FLEETPATH_BUCKET"]
            self.table = env["FLEETPATH_TABLE"]
            self.rollout_id = env["FLEETPATH_ROLLOUT"]
        except KeyError as e:
            raise RuntimeError(f"missing environment variable {e.args[0]}") from None
        self.prefix = env.get("FLEETPATH_PREFIX", "fleetpath/")

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"


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


def graph(cfg: Config) -> fleetpath.UpgradeGraph:
    return cast(fleetpath.UpgradeGraph, _document(cfg, "manifest.json", fleetpath.UpgradeGraph.load))


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


def save_item(cfg: Config, expected_revision: int, rollout: fleetpath.Rollout, extra: Mapping[str, Any]) -> None:
    """Writes the new state if the item still has `expected_revision` (else `Conflict`)."""
    names = {"#state": "state", "#revision": "revision"}
    values: Dict[str, Any] = {":state": rollout.to_json(), ":next": rollout.revision, ":expected": expected_revision}
    sets = ["#state = :state", "#revision = :next"]
    for i, (path, value) in enumerate(extra.items()):
        parts = path.split(".")
        for j, part in enumerate(parts):
            names[f"#x{i}_{j}"] = part
        sets.append(".".join(f"#x{i}_{j}" for j in range(len(parts))) + f" = :x{i}")
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
    second call for the same id fails). Returns the start's actions."""
    g, f, cal = graph(cfg), fleet(cfg), calendar(cfg)
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
    g, cal = graph(cfg), calendar(cfg)
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


# --- API Gateway: /v1/update-check and /v1/report --------------------------------------


def _response(status: int, body: Mapping[str, Any], headers: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json", **(headers or {})},
            "body": json.dumps(body)}


def _error(status: int, code: str, message: str, fields: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    return _response(status, {"error": code, "message": message, "fields": dict(fields or {})})


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


def update_check(event: Mapping[str, Any], context: Any = None, env: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The HTTP API handler (routes ``POST /v1/update-check`` and ``POST /v1/report``)."""
    cfg = Config(os.environ if env is None else env)
    route = event.get("routeKey") or f'{event.get("requestContext", {}).get("http", {}).get("method")} {event.get("rawPath")}'
    try:
        now = _event_time(event)
        body = _body(event)
    except (ValueError, UnicodeDecodeError) as e:  # json.JSONDecodeError is a ValueError
        return _error(400, "bad_request", str(e))
    try:
        if route == "POST /v1/update-check":
            return _check(cfg, body, now)
        if route == "POST /v1/report":
            return _report(cfg, body, now)
        return _error(404, "no_route", f"no route {route!r}")
    except fleetpath.InputError as e:
        return _error(400, e.code, str(e), e.fields)
    except fleetpath.FleetpathError as e:
        return _error(409, e.code, str(e), e.fields)


def _check(cfg: Config, body: Mapping[str, Any], now: dt.datetime) -> Dict[str, Any]:
    missing = [k for k in ("device", "model", "version") if not isinstance(body.get(k), str)]
    if missing:
        return _error(400, "bad_request", f"missing or non-string fields: {', '.join(missing)}")
    request = {"device": body["device"], "model": body["model"], "version": body["version"], "at": now}
    if body.get("retry") is not None:
        request["retry"] = body["retry"]
    g, item = graph(cfg), load_item(cfg)
    rollout = fleetpath.Rollout.from_json(item["state"])
    restores = item.get("restores", {})
    availability: Dict[str, Any] = {}
    artifacts = {r.artifact.key: r.artifact.to_dict() for r in g.releases() if "artifact" in r and r.artifact}
    policy, cal = decision_policy(cfg), calendar(cfg)
    for _ in range(4):  # observe only what the decision needs: at most the next hop's artifact
        decider = fleetpath.Decider(g, policy=policy, rollout=rollout, calendar=cal, availability=availability)
        decision = decider.decide(request)
        action = decision.to_dict().get("host_action") or {}
        if action.get("type") != "check_availability":
            break
        availability[action["key"]] = observe(cfg, artifacts.get(action["key"], {"key": action["key"]}), now, restores)
    data = decision.to_dict()
    kind = decision.kind
    log.info("update-check %s %s -> %s (%s)", body["device"], body["version"], kind, decision.reason)
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
                               "at": data["at"], "retry": data["retry"]}, {"retry-after": str(seconds)})
    body_out = {"action": kind, "reason": decision.reason}
    for field in ("until", "detail", "key", "attempts", "since", "limit"):
        if data.get(field) is not None:
            body_out[field] = data[field]
    return _response(200, body_out)


def _report(cfg: Config, body: Mapping[str, Any], now: dt.datetime) -> Dict[str, Any]:
    result = body.get("result")
    if not isinstance(body.get("device"), str) or result not in ("succeeded", "failed", "timed_out"):
        return _error(400, "bad_request", "expected {device, result: succeeded | failed | timed_out}")
    outcome: Dict[str, Any] = {"result": result}
    if result == "succeeded":
        outcome["version"] = body.get("version")
    elif result == "failed":
        outcome["reason"] = str(body.get("reason", "unspecified"))
    event = {"type": "device_reported", "at": now, "device": body["device"], "outcome": outcome}
    cal = calendar(cfg)
    for _ in range(CONFLICT_RETRIES):
        item = load_item(cfg)
        rollout = fleetpath.Rollout.from_json(item["state"])
        state, actions = rollout.apply(event, cal)
        extra = {f"updated_at.{body['device']}": fleetpath_time(now)} if result == "succeeded" else {}
        try:
            save_item(cfg, int(item["revision"]), state, extra)
        except Conflict:
            continue
        done = carry_out(cfg, actions, now, item)
        return _response(200, {"revision": state.revision, "actions": done})
    return _error(409, "conflict", f"rollout {cfg.rollout_id} kept changing; report again")


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
    extra: Dict[str, Any] = {}
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
        extra[f"health.{stage['name']}"] = key
        if last_sample:
            extra[f"samples_after.{stage['name']}"] = last_sample
    if rollout.revision != revision:
        try:
            save_item(cfg, revision, rollout, extra)
        except Conflict:
            if written:  # never referenced: the winner's item points at its own object
                _s3().delete_object(Bucket=cfg.bucket, Key=written)
            raise
    done = carry_out(cfg, actions, now, item)
    restored = prefetch(cfg, rollout, now, item) if rollout.to_dict()["status"]["state"] in ("running", "paused") else None
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
