// Signed documents and sealed retry states: the shared vectors (testdata/trust.json).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertError, fp, text, vectors } from './helpers.mjs';

const DATA = vectors('trust');
const keyFile = (name) => fp.keyFromSeed(Buffer.from(DATA.keys[name].seed, 'hex'));

test('keys are what their seeds give, their ids what TUF computes', () => {
  for (const [name, key] of Object.entries(DATA.keys)) {
    assert.deepEqual(fp.publicKey(keyFile(name)), { keyid: key.keyid, key: key.public });
  }
  assertError(() => fp.keyFromSeed(Buffer.alloc(31)), { code: 'invalid_input', fields: { what: 'seed' } });
});

test('envelope vectors: each outcome, code and message', () => {
  for (const c of DATA.cases) {
    const envelope = c.envelope_json !== undefined ? c.envelope_json : DATA.envelopes[c.envelope];
    const call = () => fp.verify(envelope, c.kind, DATA.trusted[c.trusted], c.now, c.last_accepted);
    if (c.ok) {
      const verified = call();
      assert.deepEqual([verified.version, verified.signed_by], [c.ok.version, c.ok.signed_by], c.name);
      fp.UpgradeGraph.load(verified.document);
    } else {
      assertError(call, c, c.name);
    }
  }
});

test('sign then verify, and a tampered document is refused', () => {
  const keys = [keyFile('a')];
  const trusted = fp.trustedKeys([fp.publicKey(keys[0]).key], 1);
  const manifest = text('examples/data/seed-ip-module.json');
  const envelope = fp.sign('manifest', 3, new Date('2027-01-01T00:00:00Z'), manifest, keys);
  const verified = fp.verify(envelope, 'manifest', trusted, '2026-12-01T00:00:00Z', 2);
  assert.equal(verified.document, manifest);
  assert.equal(fp.UpgradeGraph.load(verified.document).name, 'ip-alarm-module');
  assertError(() => fp.verify({ ...envelope, document: manifest.replace('5.6.30', '5.6.31') }, 'manifest', trusted, '2026-12-01T00:00:00Z'), {
    code: 'document_mismatch',
  });
  assertError(() => fp.verify(envelope, 'manifest', trusted, '2026-12-01T00:00:00Z', 4), { code: 'rolled_back' });
  assertError(() => fp.verify(envelope, 'fleet', trusted, '2026-12-01T00:00:00Z'), { code: 'wrong_document' });
});

test('sealed retry states', () => {
  const r = DATA.retry;
  const secret = Buffer.from(r.key_hex, 'hex');
  assert.deepEqual(fp.sealRetry(r.state, r.device, secret), r.sealed);
  assert.deepEqual(fp.openRetry(r.sealed, r.device, secret), r.state);
  assertError(() => fp.openRetry(r.sealed, r.other_device.device, secret), r.other_device);
});
