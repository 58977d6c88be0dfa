// Sealed storage: files encrypted and authenticated in chunks, one key per mount.
export { SealedFileError } from './errors.js';
export { DEFAULT_CHUNK_SIZE, looksSealed } from './format.js';
export {
  GRAMINE_KEYS_DIR,
  type GramineSealingKey,
  MountKeyError,
  readGramineSealingKey,
  readMountKeyFile,
  writeMountKeyFile,
} from './keys.js';
export { SealedMount, type SealedMountOptions } from './mount.js';
