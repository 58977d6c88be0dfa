// `sepal server` / `sepal client` with --manifest: the job starts only when every listed file and
// the signature check out; otherwise the command stops before anything runs, naming the file.
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createManifest } from '../../src/confidential/manifest/create.js';
import { serializeManifest } from '../../src/confidential/manifest/document.js';
import { signManifest } from '../../src/confidential/manifest/signature.js';
import { generateSigningKey, signingPublicKey } from '../../src/confidential/signing.js';
import { bytesToHex as toHex } from '../../src/crypto/bytes.js';
import { loadJob } from '../../src/cli/client-server-flags.js';
import { UsageError } from '../../src/cli/usage.js';

async function signedSetup() {
  const root = await mkdtemp(join(tmpdir(), 'sepal-manifest-start-'));
  await writeFile(join(root, 'job.json'), JSON.stringify({ clients: 4, rounds: 1 }));
  await writeFile(join(root, 'weights.bin'), new Uint8Array([1, 2, 3]));
  const key = generateSigningKey();
  const manifest = await createManifest({ root, code: ['job.json'], data: ['weights.bin'] });
  const manifestPath = join(root, 'manifest.json');
  await writeFile(manifestPath, serializeManifest(signManifest(manifest, key)));
  const flags = {
    config: join(root, 'job.json'),
    'synthetic-dim': '8',
    manifest: manifestPath,
    'trusted-key': toHex(signingPublicKey(key)),
    'manifest-root': root,
  };
  return { root, flags };
}

describe('start-up integrity check', () => {
  it('loads the job when the signed manifest matches', async () => {
    const { flags } = await signedSetup();
    const { config } = await loadJob(flags);
    assert.equal(config.clients, 4);
  });

  it('refuses a changed data file, naming it, and a key that did not sign', async () => {
    const { root, flags } = await signedSetup();
    await writeFile(join(root, 'weights.bin'), new Uint8Array([1, 2, 4]));
    await assert.rejects(
      loadJob(flags),
      (error: unknown) => error instanceof UsageError && /weights\.bin/.test(error.message),
    );
    const other = toHex(signingPublicKey(generateSigningKey()));
    await assert.rejects(
      loadJob({ ...flags, 'trusted-key': other }),
      (error: unknown) =>
        error instanceof UsageError && /integrity check failed/.test(error.message),
    );
    await assert.rejects(
      loadJob({ ...flags, 'trusted-key': undefined }),
      /--trusted-key is required/,
    );
  });
});
