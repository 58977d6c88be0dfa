// Node start-up in confidential mode: manifest first, then attester and RA-TLS identity; any
// failure stops it before a connection could be made.
import * as assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  createManifest,
  generateSigningKey,
  ManifestMismatchError,
  NotInEnclaveError,
  parsePolicy,
  serializeManifest,
  signingPublicKey,
  signManifest,
  startConfidentialNode,
  verifyRaTlsCertificate,
} from '../../src/confidential/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'sepal-node-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('confidential node start-up', () => {
  const key = generateSigningKey();
  const root = join(scratch, 'job');
  const path = join(scratch, 'manifest.json');
  const manifest = { path, trustedKey: signingPublicKey(key), root };

  it('verifies the manifest and reports its measurement in its RA-TLS certificate', async () => {
    mkdirSync(join(root, 'dist'), { recursive: true });
    writeFileSync(join(root, 'dist', 'main.js'), 'run();\n');
    writeFileSync(join(root, 'package.json'), '{}');
    writeFileSync(join(root, 'package-lock.json'), '{}');
    writeFileSync(path, serializeManifest(signManifest(await createManifest({ root }), key)));
    const policy = parsePolicy({ allowInsecure: true });
    const node = await startConfidentialNode({ manifest, attest: 'software', policy });
    assert.ok(node.manifest);
    const pinned = parsePolicy({
      allowInsecure: true,
      software: { measurements: [node.manifest.measurement] },
    });
    const { claims } = verifyRaTlsCertificate(node.tls.identity.certificate, { policy: pinned });
    assert.equal(claims.type === 'insecure' && claims.measurement, node.manifest.measurement);
  });

  it('refuses to start when a code file changed', async () => {
    appendFileSync(join(root, 'dist', 'main.js'), 'steal();\n');
    await assert.rejects(
      startConfidentialNode({ manifest, attest: 'software', policy: parsePolicy({}) }),
      ManifestMismatchError,
    );
  });

  it('needs a manifest in software mode, and an enclave in SGX mode', async () => {
    await assert.rejects(
      startConfidentialNode({ attest: 'software', policy: parsePolicy({}) }),
      /needs --manifest/,
    );
    await assert.rejects(
      startConfidentialNode({
        attest: 'sgx',
        policy: parsePolicy({}),
        gramineDir: join(scratch, 'no-dev-attestation'),
      }),
      NotInEnclaveError,
    );
  });
});
