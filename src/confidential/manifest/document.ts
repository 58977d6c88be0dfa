// The integrity manifest: which files make up the code bundle and the data, with their sizes and
// SHA-256 digests, as a JSON document. Signatures and the measurement cover its canonical JSON
// (canonical-json.ts), so the file on disk may be pretty-printed without changing either.
import { sha256 } from '../attestation/crypto.js';
import { JsonObject, parseJson } from '../attestation/json-fields.js';
import { canonicalBytes, type CanonicalValue } from '../canonical-json.js';
import { ManifestFormatError } from './errors.js';
import { isSafeRelativePath, isUnder } from '../relative-path.js';

export const MANIFEST_FORMAT = 'sepal-manifest/v1';

export type FileRole = 'code' | 'data';

export interface ManifestEntry {
  /** Relative to the root, '/'-separated, no '.' or '..' segments. */
  readonly path: string;
  readonly role: FileRole;
  readonly size: number;
  /** Lower-case hex. */
  readonly sha256: string;
}

export interface Manifest {
  readonly format: typeof MANIFEST_FORMAT;
  /**
   * The paths (files or directories) the manifest covers, per role. Every regular file under
   * them must be listed: a file that appears there later is refused as "extra".
   */
  readonly code: readonly string[];
  readonly data: readonly string[];
  /** Sorted by path; each path appears once and lies under an include path of its role. */
  readonly files: readonly ManifestEntry[];
}

export interface ManifestSignature {
  readonly algorithm: 'Ed25519';
  /** The signer's raw public key, hex; informative only: verifiers use their trusted key. */
  readonly publicKey: string;
  readonly value: string;
}

export interface ManifestDocument {
  readonly manifest: Manifest;
  readonly signature?: ManifestSignature;
}

const fail = (field: string, detail: string) => new ManifestFormatError(field, detail);

/** The bytes a manifest signature covers. */
export const signedBytes = (manifest: Manifest): Uint8Array =>
  canonicalBytes(manifest as unknown as CanonicalValue);

/** SHA-256 of the canonical signed document: what a software attester reports. */
export const manifestMeasurement = (document: ManifestDocument): Uint8Array =>
  sha256(canonicalBytes(document as unknown as CanonicalValue));

export function serializeManifest(document: ManifestDocument): string {
  const canonical = new TextDecoder().decode(canonicalBytes(document as unknown as CanonicalValue));
  return `${JSON.stringify(JSON.parse(canonical), null, 2)}\n`;
}

/** Parses and validates a manifest file's text; unknown members are errors. */
export function parseManifest(text: string): ManifestDocument {
  const root = JsonObject.from(parseJson(text, '(document)', fail), '', fail);
  root.onlyKeys(['manifest', 'signature']);
  const manifest = readManifest(root.object('manifest'));
  if (!root.has('signature')) return { manifest };
  const signature = root.object('signature');
  signature.onlyKeys(['algorithm', 'publicKey', 'value']);
  return {
    manifest,
    signature: {
      algorithm: signature.oneOf('algorithm', ['Ed25519'] as const),
      publicKey: hexOf(signature, 'publicKey', 32),
      value: hexOf(signature, 'value', 64),
    },
  };
}

function readManifest(object: JsonObject): Manifest {
  object.onlyKeys(['format', 'code', 'data', 'files']);
  object.oneOf('format', [MANIFEST_FORMAT] as const);
  const includes = (role: FileRole) =>
    object.strings(role).map((path, i) => safePath(path, `manifest.${role}[${i}]`));
  const code = includes('code');
  const data = includes('data');
  const files = object.objects('files').map((entry, i) => {
    entry.onlyKeys(['path', 'role', 'size', 'sha256']);
    const path = safePath(entry.string('path'), `${entry.path}.path`);
    const role = entry.oneOf('role', ['code', 'data'] as const);
    if (!(role === 'code' ? code : data).some((include) => isUnder(path, include))) {
      throw fail(`manifest.files[${i}]`, `${path} is not under any ${role} include path`);
    }
    return { path, role, size: entry.integer('size'), sha256: hexOf(entry, 'sha256', 32) };
  });
  files.forEach((entry, i) => {
    const previous = files[i - 1];
    if (previous !== undefined && previous.path >= entry.path) {
      throw fail(`manifest.files[${i}]`, 'paths must be unique and sorted');
    }
  });
  return { format: MANIFEST_FORMAT, code, data, files };
}

function safePath(path: string, field: string): string {
  if (!isSafeRelativePath(path)) {
    throw fail(field, `"${path}" is not a relative '/'-separated path without . or .. segments`);
  }
  return path;
}

/** Hex of `bytes` bytes, normalised to lower case so that canonical bytes are unique. */
function hexOf(object: JsonObject, key: string, bytes: number): string {
  object.hex(key, bytes);
  return object.string(key).toLowerCase();
}
