// An update-check service on fleetpath and the AWS SDK v3, as a Node Lambda handler behind an
// API Gateway HTTP API with an authorizer (JWT or Lambda authorizer):
//
//   POST /v1/update-check  {model, version}   -> the decision; a presigned URL for a download;
//                                                503 + Retry-After while an archived binary is
//                                                restored (the restore is requested here)
//   POST /v1/report        {version}          -> accepted only for the hop that was issued
//
// Trust: the device is who the authorizer says (never the body); what it claims (model,
// version) is checked against the registry and the hop last issued to it; retry state stays
// here; the manifest is a signed envelope, verified before use and never replaced by an older
// version. The registry is an interface (an in-memory one here; the Python Lambda example keeps
// it in DynamoDB under conditional writes).
'use strict';
const { GetObjectCommand, HeadObjectCommand, RestoreObjectCommand } = require('@aws-sdk/client-s3');
const { getSignedUrl } = require('@aws-sdk/s3-request-presigner');
const fp = require('fleetpath');

const UNTRUSTED_RETRY_AFTER_SECONDS = 300;

/** What the host knows of each device: the record fleetpath checks claims against. */
class MemoryRegistry {
  constructor(devices = {}) {
    this.devices = new Map(Object.entries(devices).map(([id, r]) => [id, { ...r }]));
  }

  /** `{model, version, issued?, retry?}` or undefined. */
  get(device) {
    const r = this.devices.get(device);
    return r && { ...r };
  }

  put(device, record) {
    this.devices.set(device, { ...record });
  }
}

const response = (statusCode, body, headers = {}) => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const refuse = (status, code, message, extra = {}, headers = {}) => response(status, { error: code, message, ...extra }, headers);

/** The authenticated device: the authorizer's JWT `sub`, or a Lambda authorizer's `device`. */
function identity(event) {
  const authorizer = (event.requestContext && event.requestContext.authorizer) || {};
  const id = (authorizer.jwt && authorizer.jwt.claims && authorizer.jwt.claims.sub) || (authorizer.lambda && authorizer.lambda.device);
  return typeof id === 'string' && id ? id : null;
}

class UpdateService {
  /**
   * @param {object} o
   * @param {import('@aws-sdk/client-s3').S3Client} o.s3
   * @param {string} o.bucket
   * @param {string} o.manifestKey  the signed manifest envelope (kind `manifest`)
   * @param {object} o.trusted      fleetpath.trustedKeys(...)
   * @param {MemoryRegistry} o.registry
   * @param {object} [o.policy]     the decision policy document
   * @param {() => Date} [o.clock]
   */
  constructor({ s3, bucket, manifestKey, trusted, registry, policy = null, clock = () => new Date() }) {
    Object.assign(this, { s3, bucket, manifestKey, trusted, registry, policy, clock });
    this.manifest = null; // {etag, version, graph}
    this.lastAccepted = null; // persist this in production: a cold start must not accept older
    this.restores = new Map(); // key -> when its restore was requested
  }

  /** The verified manifest's graph; throws FleetpathError when the object is not trustworthy. */
  async graph(now) {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.manifestKey }));
    if (this.manifest && object.ETag === this.manifest.etag) {
      // Unchanged: still check expiry.
      fp.verify(this.manifest.envelope, 'manifest', this.trusted, now, this.lastAccepted);
      return this.manifest.graph;
    }
    const envelope = await object.Body.transformToString();
    const verified = fp.verify(envelope, 'manifest', this.trusted, now, this.lastAccepted);
    this.lastAccepted = verified.version;
    this.manifest = { etag: object.ETag, envelope, graph: fp.UpgradeGraph.load(verified.document) };
    return this.manifest.graph;
  }

  async observe(key, artifact, now) {
    let head;
    try {
      head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (err.$metadata && err.$metadata.httpStatusCode === 404) return fp.missing();
      throw err;
    }
    return fp.observeHead(head, now, { artifact, restoreSince: this.restores.get(key) }).availability;
  }

  async handle(event) {
    const device = identity(event); // first: an unauthenticated caller learns nothing
    if (!device) return refuse(401, 'unauthenticated', 'no device identity from the authorizer');
    let body;
    try {
      body = JSON.parse(event.body || '{}');
    } catch (err) {
      return refuse(400, 'bad_request', err.message);
    }
    if (body.device !== undefined && body.device !== device) {
      return refuse(403, 'identity_mismatch', "the body's device is not the authenticated device");
    }
    const record = this.registry.get(device);
    if (!record) return refuse(403, 'unknown_device', 'this device is not in the registry');
    const now = this.clock();
    try {
      if (event.routeKey === 'POST /v1/update-check') return await this.check(device, record, body, now);
      if (event.routeKey === 'POST /v1/report') return this.report(device, record, body);
      return refuse(404, 'no_route', `no route ${event.routeKey}`);
    } catch (err) {
      if (err instanceof fp.InputError) return refuse(400, err.code, err.message, { fields: err.fields });
      if (err instanceof fp.FleetpathError && err.constructor.name in TRUST_ERRORS) {
        return refuse(503, 'manifest_untrusted', err.message, { code: err.code }, { 'retry-after': String(UNTRUSTED_RETRY_AFTER_SECONDS) });
      }
      if (err instanceof fp.FleetpathError) return refuse(409, err.code, err.message, { fields: err.fields });
      throw err;
    }
  }

  async check(device, record, body, now) {
    if (typeof body.model !== 'string' || typeof body.version !== 'string') {
      return refuse(400, 'bad_request', 'model and version must be strings');
    }
    const graph = await this.graph(now);
    const artifacts = new Map(graph.releases().filter((r) => r.artifact).map((r) => [r.artifact.key, r.artifact]));
    // A `retry` in the body is ignored: attempts are counted here, not by the device.
    const request = { device, model: body.model, version: body.version, at: now, retry: record.retry || undefined };
    const claims = { model: record.model, version: record.version, issued: record.issued || undefined };
    const availability = {};
    let decision;
    for (let i = 0; i < 4; i++) { // observe only what the decision needs
      decision = new fp.Decider(graph, { policy: this.policy, availability }).decide(request, claims);
      const action = decision.host_action;
      if (!action || action.type !== 'check_availability') break;
      availability[action.key] = await this.observe(action.key, artifacts.get(action.key), now);
    }
    if (decision.kind === 'refused') return refuse(403, decision.reason, decision.detail || '');
    const action = decision.host_action;
    if (action && action.type === 'request_restore' && !this.restores.has(action.key)) {
      const RestoreRequest = fp.restoreRequest(action.class, action.tier, action.days);
      await this.s3.send(new RestoreObjectCommand({ Bucket: this.bucket, Key: action.key, RestoreRequest }));
      this.restores.set(action.key, now);
    }
    const updated = { ...record };
    if (decision.retry) updated.retry = decision.retry;
    if (decision.kind === 'download' || decision.kind === 'roll_back') {
      updated.issued = { from: decision.step.from, to: decision.step.to };
      delete updated.retry;
    }
    this.registry.put(device, updated); // the hop is on record before its URL leaves
    if (decision.kind === 'retry_after') {
      const seconds = Math.max(1, Math.ceil((Date.parse(decision.at) - now.getTime()) / 1000));
      return response(503, decision, { 'retry-after': String(seconds) });
    }
    if (decision.kind === 'download' || decision.kind === 'roll_back') {
      const command = new GetObjectCommand({ Bucket: this.bucket, Key: decision.step.artifact.key });
      const url = await getSignedUrl(this.s3, command, { expiresIn: decision.url_lifetime_seconds });
      return response(200, { ...decision, url });
    }
    return response(200, decision);
  }

  report(device, record, body) {
    if (typeof body.version !== 'string') return refuse(400, 'bad_request', 'version must be a string');
    const claims = { model: record.model, version: record.version, issued: record.issued || undefined };
    const refused = fp.checkReport(claims, body.version);
    if (refused) return refuse(403, refused.reason, refused.detail || '');
    if (record.issued && new fp.Version(body.version).equals(record.issued.to)) {
      this.registry.put(device, { model: record.model, version: record.issued.to });
    }
    return response(200, { accepted: true });
  }
}

// Errors that mean "the manifest cannot be trusted now": serve nothing until it can.
const TRUST_ERRORS = Object.fromEntries(
  fp.ERROR_CODES.filter((m) => m.module === 'trust').flatMap((m) => m.codes).map((c) => [fp.errorClass(c).name, true]),
);

module.exports = { UpdateService, MemoryRegistry, identity };
