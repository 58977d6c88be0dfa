// Integrity manifests: every kind of change to the code, the data or the manifest itself is
// refused at start-up, naming the file; an untouched tree verifies.
import * as assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import {
  createManifest,
  ManifestError,
  ManifestFormatError,
  ManifestMismatchError,
  manifestMeasurement,
  ManifestSignatureError,
  parseManifest,
  serializeManifest,
  signManifest,
  verifyManifest,
  type MismatchKind,
} from '../../src/confidential/manifest/index.js';
import { generateSigningKey, signingPublicKey } from '../../src/confidential/signing.js';
import { bytesToHex as toHex } from '../../src/crypto/bytes.js';

const scratch = mkdtempSync(join(tmpdir(), 'sepal-manifest-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const secretKey = generateSigningKey();
const publicKey = signingPublicKey(secretKey);
let root = '';
let manifestPath = '';
let counter = 0;

/** A small package: dist/ with two files, package.json, package-lock.json and one data file. */
async function makeTree(): Promise<void> {
  root = join(scratch, `tree-${counter++}`);
  mkdirSync(join(root, 'dist', 'lib'), { recursive: true });
  mkdirSync(join(root, 'data'));
  writeFileSync(join(root, 'dist', 'main.js'), 'console.log("train");\n');
  writeFileSync(join(root, 'dist', 'lib', 'model.js'), 'export const layers = 3;\n');
  writeFileSync(join(root, 'package.json'), '{"name":"job"}\n');
  writeFileSync(join(root, 'package-lock.json'), '{}\n');
  writeFileSync(join(root, 'data', 'train.csv'), 'x,y\n1,2\n');
  const manifest = await createManifest({ root, data: ['data/train.csv'] });
  manifestPath = join(scratch, `manifest-${counter}.json`);
  writeFileSync(manifestPath, serializeManifest(signManifest(manifest, secretKey)));
}

async function mismatch(): Promise<{ path: string; kind: MismatchKind }[]> {
  const error = await verifyManifest(manifestPath, publicKey, root).then(
    () => assert.fail('verification should fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof ManifestMismatchError, String(error));
  return error.mismatches.map(({ path, kind }) => ({ path, kind }));
}

describe('integrity manifest', () => {
  beforeEach(makeTree);

  it('lists the default code bundle and the data files with sizes and digests', async () => {
    const { manifest, measurement } = await verifyManifest(manifestPath, publicKey, root);
    assert.deepEqual(manifest.code, ['dist', 'package-lock.json', 'package.json']);
    assert.deepEqual(manifest.data, ['data/train.csv']);
    assert.deepEqual(
      manifest.files.map((f) => [f.path, f.role, f.size]),
      [
        ['data/train.csv', 'data', 8],
        ['dist/lib/model.js', 'code', 25],
        ['dist/main.js', 'code', 22],
        ['package-lock.json', 'code', 3],
        ['package.json', 'code', 15],
      ],
    );
    assert.match(measurement, /^[0-9a-f]{64}$/);
  });

  it('measures the canonical document, not the file layout', async () => {
    const document = parseManifest(
      serializeManifest(signManifest(await createManifest({ root }), secretKey)),
    );
    const compact = parseManifest(JSON.stringify(document));
    assert.equal(toHex(manifestMeasurement(document)), toHex(manifestMeasurement(compact)));
  });

  it('refuses a modified code file, naming it', async () => {
    appendFileSync(join(root, 'dist', 'lib', 'model.js'), '// backdoor\n');
    assert.deepEqual(await mismatch(), [{ path: 'dist/lib/model.js', kind: 'modified' }]);
  });

  it('refuses a same-size modification of a data file (digest, not just size)', async () => {
    writeFileSync(join(root, 'data', 'train.csv'), 'x,y\n1,3\n');
    assert.deepEqual(await mismatch(), [{ path: 'data/train.csv', kind: 'modified' }]);
  });

  it('refuses a missing file and an extra file under a covered directory', async () => {
    unlinkSync(join(root, 'dist', 'main.js'));
    writeFileSync(join(root, 'dist', 'inject.js'), 'evil();\n');
    assert.deepEqual(await mismatch(), [
      { path: 'dist/inject.js', kind: 'extra' },
      { path: 'dist/main.js', kind: 'missing' },
    ]);
  });

  it('refuses a symbolic link where a file was', async () => {
    unlinkSync(join(root, 'package.json'));
    symlinkSync(join(root, 'package-lock.json'), join(root, 'package.json'));
    assert.deepEqual(await mismatch(), [{ path: 'package.json', kind: 'not-a-regular-file' }]);
  });

  it('names the file in the error message', async () => {
    writeFileSync(join(root, 'data', 'train.csv'), 'poisoned');
    await assert.rejects(
      verifyManifest(manifestPath, publicKey, root),
      /modified: data\/train\.csv/,
    );
  });

  it('refuses a manifest edited after signing (a file digest replaced)', async () => {
    const document = parseManifest(readText(manifestPath));
    const files = document.manifest.files.map((f) =>
      f.path === 'data/train.csv' ? { ...f, sha256: '00'.repeat(32) } : f,
    );
    writeFileSync(
      manifestPath,
      serializeManifest({ ...document, manifest: { ...document.manifest, files } }),
    );
    await assert.rejects(verifyManifest(manifestPath, publicKey, root), ManifestSignatureError);
  });

  it('refuses a manifest re-signed by another key, and an unsigned one', async () => {
    const manifest = parseManifest(readText(manifestPath)).manifest;
    writeFileSync(manifestPath, serializeManifest(signManifest(manifest, generateSigningKey())));
    await assert.rejects(verifyManifest(manifestPath, publicKey, root), /not by the trusted key/);
    writeFileSync(manifestPath, serializeManifest({ manifest }));
    await assert.rejects(verifyManifest(manifestPath, publicKey, root), /not signed/);
  });

  it('refuses a flipped signature byte', async () => {
    const { manifest, signature } = parseManifest(readText(manifestPath));
    assert.ok(signature);
    const value = signature.value;
    const flipped =
      (parseInt(value.slice(0, 2), 16) ^ 1).toString(16).padStart(2, '0') + value.slice(2);
    writeFileSync(
      manifestPath,
      serializeManifest({ manifest, signature: { ...signature, value: flipped } }),
    );
    await assert.rejects(verifyManifest(manifestPath, publicKey, root), ManifestSignatureError);
  });

  it('rejects malformed documents by field, and paths that escape the root', () => {
    const base = JSON.parse(readText(manifestPath)) as { manifest: { files: { path: string }[] } };
    const withPath = (path: string) => {
      const copy = structuredClone(base);
      (copy.manifest.files[0] as { path: string }).path = path;
      return JSON.stringify(copy);
    };
    assert.throws(() => parseManifest(withPath('../etc/passwd')), ManifestFormatError);
    assert.throws(() => parseManifest(withPath('/etc/passwd')), ManifestFormatError);
    assert.throws(
      () => parseManifest('{"manifest":{},"extra":1}'),
      /manifest extra: unknown member/,
    );
    assert.throws(() => parseManifest('not json'), ManifestFormatError);
  });

  it('fails closed when the manifest cannot be read', async () => {
    await assert.rejects(
      verifyManifest(join(scratch, 'absent.json'), publicKey, root),
      ManifestError,
    );
  });

  it('refuses to create a manifest over paths outside the root or that do not exist', async () => {
    await assert.rejects(createManifest({ root, code: ['../elsewhere'] }), /not inside the root/);
    await assert.rejects(createManifest({ root, code: ['nope'] }), /cannot read nope/);
  });
});

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
