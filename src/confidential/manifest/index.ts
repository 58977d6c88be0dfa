// Integrity manifests: create, sign, verify at start-up.
export {
  MANIFEST_FORMAT,
  manifestMeasurement,
  parseManifest,
  serializeManifest,
  type FileRole,
  type Manifest,
  type ManifestDocument,
  type ManifestEntry,
  type ManifestSignature,
} from './document.js';
export { createManifest, DEFAULT_CODE_PATHS, type CreateManifestOptions } from './create.js';
export { checkManifestSignature, signManifest } from './signature.js';
export { verifyManifest, type VerifiedManifest } from './verify.js';
export {
  ManifestError,
  ManifestFormatError,
  ManifestMismatchError,
  ManifestSignatureError,
  type Mismatch,
  type MismatchKind,
} from './errors.js';
