// The development PKI: chains, names, identity keys, and reruns that only add what is missing.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { certPaths, createDevelopmentPki } from '../../src/deploy/certs.js';
import { keyId } from '../../src/deploy/identity.js';
import { parseAllowList } from '../../src/deploy/server/allow-list.js';

test('sepal certs: CA-signed server and node certificates; node keys are the allow-listed ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sepal-certs-'));
  const paths = certPaths(dir);
  const first = await createDevelopmentPki(dir, ['node-0', 'node-1']);
  const ca = new X509Certificate(readFileSync(paths.ca));
  const server = new X509Certificate(readFileSync(paths.serverCert));
  assert.ok(server.verify(ca.publicKey));
  assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(server.checkHost('localhost'), 'localhost');
  const allowed = parseAllowList(readFileSync(paths.allowList, 'utf8'), paths.allowList);
  for (const { name, key } of first) {
    const cert = new X509Certificate(readFileSync(paths.node(name).cert));
    assert.ok(cert.verify(ca.publicKey));
    assert.equal(keyId(cert.publicKey), key);
    assert.equal(allowed.get(key), name);
    assert.equal(statSync(paths.node(name).key).mode & 0o777, 0o600);
  }
  // A rerun keeps the CA and existing nodes, adds the new one; --not-allowed stays off the list.
  const again = await createDevelopmentPki(dir, ['node-1', 'node-2']);
  assert.deepEqual(
    again.map((n) => n.name),
    ['node-2'],
  );
  await createDevelopmentPki(dir, ['stranger'], false);
  assert.equal(new X509Certificate(readFileSync(paths.ca)).fingerprint256, ca.fingerprint256);
  const names = [
    ...parseAllowList(readFileSync(paths.allowList, 'utf8'), paths.allowList).values(),
  ];
  assert.deepEqual(names, ['node-0', 'node-1', 'node-2']);
});
