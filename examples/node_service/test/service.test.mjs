// The update-check service against the project's local S3 server (moto; scripts/s3-servers.sh
// exports FLEETPATH_S3_ENDPOINT): each attack refused with its reason, the archived bridge
// restored while devices are told to retry, presigned downloads that verify.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';

const require = createRequire(import.meta.url);
const { CreateBucketCommand, PutObjectCommand, HeadObjectCommand, S3Client } = require('@aws-sdk/client-s3');
const fp = require('fleetpath');
const { UpdateService, MemoryRegistry } = require('../service.js');

const ROOT = new URL('../../../', import.meta.url);
const endpoint = process.env.FLEETPATH_S3_ENDPOINT;
const s3 = new S3Client({
  endpoint,
  region: 'us-east-1',
  forcePathStyle: true,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
const trustData = JSON.parse(readFileSync(new URL('testdata/trust.json', ROOT), 'utf8'));
const key = fp.keyFromSeed(Buffer.from(trustData.keys.a.seed, 'hex'));
const trusted = fp.trustedKeys([fp.publicKey(key).key], 1);
const NOW = new Date('2026-11-23T08:00:00Z');

// The seed manifest, its artifacts replaced by small binaries this test uploads.
const binaries = { '5.6.30': Buffer.from('bridge firmware'), '6.15.008': Buffer.from('mqtt firmware') };
const manifest = JSON.parse(readFileSync(new URL('examples/data/seed-ip-module.json', ROOT), 'utf8'));
for (const r of manifest.releases) {
  if (r.artifact && binaries[r.version]) {
    r.artifact.sha256 = createHash('sha256').update(binaries[r.version]).digest('hex');
    r.artifact.size = binaries[r.version].length;
  }
}
const keyOf = (v) => manifest.releases.find((r) => r.version === v).artifact.key;

// moto completes a restore after a set number of HEADs of the object: two here, whatever
// another test configured before (the Rust S3 tests set their own).
async function restoreAfterTwoLooks() {
  const r = await fetch(`${endpoint}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    body: JSON.stringify({ model_name: 's3::keyrestore', transition: { progression: 'manual', times: 2 } }),
  });
  assert.ok(r.ok, `moto set-transition: ${r.status}`);
}

async function setup() {
  const bucket = `fleetpath-node-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const [version, body] of Object.entries(binaries)) {
    await s3.send(new PutObjectCommand({
      Bucket: bucket,
      Key: keyOf(version),
      Body: body,
      StorageClass: version === '5.6.30' ? 'GLACIER' : 'STANDARD',
      Metadata: { sha256: createHash('sha256').update(body).digest('hex') },
    }));
  }
  await putManifest(bucket, 5);
  const registry = new MemoryRegistry({
    'press-1-01': { model: 'IPM-1', version: '5.6.14' },
    'press-1-02': { model: 'IPM-1', version: '5.6.30' },
  });
  const service = new UpdateService({ s3, bucket, manifestKey: 'manifests/ip-module.json', trusted, registry, clock: () => NOW });
  return { bucket, registry, service };
}

async function putManifest(bucket, version, text = JSON.stringify(manifest)) {
  const envelope = fp.sign('manifest', version, '2027-01-01T00:00:00Z', text, [key]);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'manifests/ip-module.json', Body: JSON.stringify(envelope) }));
}

const call = (service, device, route, body) =>
  service.handle({
    routeKey: route,
    requestContext: device ? { authorizer: { jwt: { claims: { sub: device } } } } : {},
    body: JSON.stringify(body),
  });
const json = (r) => JSON.parse(r.body);

test('S3 test server is there', { skip: !endpoint && 'FLEETPATH_S3_ENDPOINT is not set (scripts/s3-servers.sh)' }, async (t) => {
  await t.test('unauthenticated, unknown and impersonating callers learn nothing', async () => {
    const { service } = await setup();
    const body = { model: 'IPM-1', version: '5.6.14' };
    assert.equal((await call(service, null, 'POST /v1/update-check', body)).statusCode, 401);
    assert.equal(json(await call(service, 'press-9-99', 'POST /v1/update-check', body)).error, 'unknown_device');
    const r = await call(service, 'press-1-01', 'POST /v1/update-check', { ...body, device: 'press-1-02' });
    assert.deepEqual([r.statusCode, json(r).error], [403, 'identity_mismatch']);
  });

  await t.test('a forged claim (5.6.14 on record, 5.6.30 claimed) is refused: no URL for the bricking jump', async () => {
    const { service } = await setup();
    const r = await call(service, 'press-1-01', 'POST /v1/update-check', { model: 'IPM-1', version: '5.6.30' });
    assert.deepEqual([r.statusCode, json(r).error], [403, 'claim_mismatch']);
    assert.ok(!('url' in json(r)));
  });

  await t.test('the archived bridge: restore requested, 503 + Retry-After, then a presigned download that verifies', async () => {
    await restoreAfterTwoLooks();
    const { bucket, registry, service } = await setup();
    const first = await call(service, 'press-1-01', 'POST /v1/update-check', { model: 'IPM-1', version: '5.6.14' });
    assert.equal(first.statusCode, 503, first.body);
    assert.deepEqual([json(first).kind, json(first).reason], ['retry_after', 'artifact_archived']);
    assert.ok(Number(first.headers['retry-after']) > 0);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: keyOf('5.6.30') }));
    assert.ok(head.Restore, 'a restore was requested');
    assert.equal(registry.get('press-1-01').retry.attempts, 1, 'retry state stays on the server');

    // Asked again while the restore runs: still 503, now "restoring"; then the download.
    let second;
    const waits = [];
    for (let i = 0; i < 6; i++) {
      second = await call(service, 'press-1-01', 'POST /v1/update-check', { model: 'IPM-1', version: '5.6.14' });
      if (second.statusCode !== 503) break;
      waits.push(json(second).reason);
    }
    assert.ok(waits.every((r) => r === 'artifact_restoring'), JSON.stringify(waits));
    assert.equal(second.statusCode, 200, second.body);
    const d = json(second);
    assert.deepEqual([d.kind, d.step.from, d.step.to], ['download', '5.6.14', '5.6.30']);
    assert.match(d.url, /X-Amz-Expires=900/);
    const body = Buffer.from(await (await fetch(d.url)).arrayBuffer());
    assert.equal(createHash('sha256').update(body).digest('hex'), d.step.artifact.sha256);
    assert.deepEqual(registry.get('press-1-01').issued, { from: '5.6.14', to: '5.6.30' });

    // Reports: only the hop issued.
    const forged = await call(service, 'press-1-01', 'POST /v1/report', { version: '6.15.008' });
    assert.equal(forged.statusCode, 403, forged.body);
    const ok = await call(service, 'press-1-01', 'POST /v1/report', { version: '5.6.30' });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(registry.get('press-1-01').version, '5.6.30');
    const next = json(await call(service, 'press-1-01', 'POST /v1/update-check', { model: 'IPM-1', version: '5.6.30' }));
    assert.deepEqual([next.kind, next.step.to], ['download', '6.15.008']);
  });

  await t.test('a replayed older manifest and a tampered one are never served', async () => {
    const { bucket, service } = await setup();
    const body = { model: 'IPM-1', version: '5.6.30' };
    assert.equal((await call(service, 'press-1-02', 'POST /v1/update-check', body)).statusCode, 200);
    await putManifest(bucket, 4);
    const replay = await call(service, 'press-1-02', 'POST /v1/update-check', body);
    assert.deepEqual([replay.statusCode, json(replay).code], [503, 'rolled_back']);
    assert.equal(replay.headers['retry-after'], '300');
    const envelope = fp.sign('manifest', 6, '2027-01-01T00:00:00Z', JSON.stringify(manifest), [key]);
    envelope.document += ' ';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'manifests/ip-module.json', Body: JSON.stringify(envelope) }));
    const tampered = await call(service, 'press-1-02', 'POST /v1/update-check', body);
    assert.deepEqual([tampered.statusCode, json(tampered).code], [503, 'document_mismatch']);
  });
});
