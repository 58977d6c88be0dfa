// Start-up integrity check: a server or client given --manifest refuses to run unless the
// signature verifies with the trusted key and every covered file matches, byte for byte.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { toHex } from '../attestation/bytes.js';
import { type Manifest, manifestMeasurement, parseManifest } from './document.js';
import { ManifestError, ManifestMismatchError, type Mismatch } from './errors.js';
import { digestFile, walk } from './files.js';
import { checkManifestSignature } from './signature.js';

export interface VerifiedManifest {
  readonly manifest: Manifest;
  /** SHA-256 of the canonical signed manifest, hex: what the software attester reports. */
  readonly measurement: string;
}

/**
 * Verifies the manifest at `manifestPath` against the files under `root`. Order matters: the
 * signature is checked before the file list is trusted for anything. Fails closed: an
 * unreadable file, manifest or directory is an error, never a pass.
 */
export async function verifyManifest(
  manifestPath: string,
  trustedPublicKey: Uint8Array,
  root: string,
): Promise<VerifiedManifest> {
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (error) {
    throw new ManifestError(`cannot read manifest ${manifestPath}: ${(error as Error).message}`);
  }
  const document = parseManifest(text);
  checkManifestSignature(document, trustedPublicKey);
  const mismatches = await compareFiles(document.manifest, resolve(root));
  if (mismatches.length > 0) throw new ManifestMismatchError(mismatches);
  return {
    manifest: document.manifest,
    measurement: toHex(manifestMeasurement(document)),
  };
}

async function compareFiles(manifest: Manifest, root: string): Promise<Mismatch[]> {
  const listed = new Map(manifest.files.map((entry) => [entry.path, entry]));
  const mismatches: Mismatch[] = [];
  const seen = new Set<string>();
  for (const include of [...manifest.code, ...manifest.data]) {
    for (const found of await walkOrMissing(root, include)) {
      seen.add(found.path);
      const entry = listed.get(found.path);
      if (found.kind === 'other') {
        mismatches.push({ path: found.path, kind: 'not-a-regular-file', detail: found.detail });
      } else if (entry === undefined) {
        mismatches.push({ path: found.path, kind: 'extra', detail: 'not in the manifest' });
      } else {
        const actual = await digestFile(resolve(root, found.path)).catch((error: Error) => {
          throw new ManifestError(`cannot read ${found.path}: ${error.message}`);
        });
        if (actual.size !== entry.size || actual.sha256 !== entry.sha256) {
          const detail =
            actual.size !== entry.size
              ? `${actual.size} bytes, signed ${entry.size}`
              : `SHA-256 ${actual.sha256}, signed ${entry.sha256}`;
          mismatches.push({ path: found.path, kind: 'modified', detail });
        }
      }
    }
  }
  for (const path of listed.keys()) {
    if (!seen.has(path)) mismatches.push({ path, kind: 'missing', detail: 'no such file' });
  }
  return mismatches.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A vanished include path yields nothing (its files are then reported missing). */
async function walkOrMissing(root: string, include: string) {
  try {
    return await walk(root, include);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ManifestError(`cannot read ${include}: ${(error as Error).message}`);
  }
}
