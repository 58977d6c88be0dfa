// The sealed file format, version 1. A file is a header followed by records:
//
//   header  = magic "SEPALSLD" (8) | version 1 (1) | 3 zero bytes | chunk size, u32 BE |
//             file id, 32 random bytes | key check, 32 bytes                      (80 bytes)
//   record i = AES-256-GCM(file key, nonce i, chunk i, aad i) = ciphertext | 16-byte tag
//
// Every chunk but the last holds exactly `chunk size` plaintext bytes; the last holds 0..chunk
// size (an empty file is one empty final chunk). Per file, file key || key check =
// HKDF-SHA256(mount key, salt = file id, info = "sepal sealed file v1", 64 bytes), so nonces
// only need to be unique within one file: nonce i = 4 zero bytes | i as u64 BE.
//
//   aad i = header | path length, u32 BE | path (UTF-8, relative to the mount) | i, u64 BE |
//           1 if chunk i is the last else 0
//
// What each binding stops: the header (chunk size, file id) in every tag stops header edits;
// the path stops renaming a file or moving it between paths; the index stops reordering; the
// final flag stops truncation at a chunk boundary and appending; the per-file key stops swapping
// chunks between files; the key check names a wrong mount key instead of calling it tampering.
import { backend } from '../../crypto/backend.js';
import { concatBytes, equalBytes, u32be, utf8 } from '../../crypto/bytes.js';
import { SealedFileError } from './errors.js';

const MAGIC = utf8('SEPALSLD');
const VERSION = 1;
export const HEADER_BYTES = 80;
export const TAG_BYTES = 16;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
const MIN_CHUNK_SIZE = 16;
const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
const FILE_ID_BYTES = 32;
const FILE_KEY_INFO = utf8('sepal sealed file v1');

/** Whether `bytes` start like a sealed file (its magic); says nothing about authenticity. */
export const looksSealed = (bytes: Uint8Array): boolean =>
  bytes.length >= MAGIC.length && equalBytes(bytes.subarray(0, MAGIC.length), MAGIC);

export interface Header {
  /** The 80 header bytes as stored (every tag covers them). */
  readonly bytes: Uint8Array;
  readonly chunkSize: number;
  readonly fileId: Uint8Array;
  readonly keyCheck: Uint8Array;
}

/** The per-file AES key and the key check, derived from the mount key and the file id. */
function fileKeys(
  mountKey: Uint8Array,
  fileId: Uint8Array,
): { key: Uint8Array; check: Uint8Array } {
  const okm = backend.hkdfSha256(mountKey, fileId, FILE_KEY_INFO, 64);
  return { key: okm.slice(0, 32), check: okm.slice(32) };
}

export function newHeader(
  mountKey: Uint8Array,
  chunkSize: number,
  fileId: Uint8Array,
): { header: Header; key: Uint8Array } {
  if (!Number.isInteger(chunkSize) || chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new RangeError(`chunk size must be an integer in ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE}`);
  }
  if (fileId.length !== FILE_ID_BYTES) throw new RangeError('file id must be 32 bytes');
  const { key, check } = fileKeys(mountKey, fileId);
  const bytes = concatBytes(
    MAGIC,
    Uint8Array.of(VERSION, 0, 0, 0),
    u32be(chunkSize),
    fileId,
    check,
  );
  return { header: { bytes, chunkSize, fileId, keyCheck: check }, key };
}

/** Parses and checks a header, and derives the file key; throws SealedFileError. */
export function openHeader(
  bytes: Uint8Array,
  mountKey: Uint8Array,
  path: string,
): { header: Header; key: Uint8Array } {
  if (bytes.length < HEADER_BYTES || !equalBytes(bytes.subarray(0, 8), MAGIC)) {
    throw new SealedFileError(path, 'format', 'not a sealed file (no SEPALSLD header)');
  }
  if (bytes[8] !== VERSION || bytes[9] !== 0 || bytes[10] !== 0 || bytes[11] !== 0) {
    throw new SealedFileError(path, 'format', `unsupported format version ${bytes[8]}`);
  }
  const chunkSize = new DataView(bytes.buffer, bytes.byteOffset + 12, 4).getUint32(0);
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new SealedFileError(path, 'format', `chunk size ${chunkSize} out of range`);
  }
  const header: Header = {
    bytes: bytes.slice(0, HEADER_BYTES),
    chunkSize,
    fileId: bytes.slice(16, 48),
    keyCheck: bytes.slice(48, 80),
  };
  const { key, check } = fileKeys(mountKey, header.fileId);
  if (!equalBytes(check, header.keyCheck)) {
    key.fill(0);
    throw new SealedFileError(
      path,
      'wrong-key',
      'sealed with a different mount key (or its header was altered)',
    );
  }
  return { header, key };
}

function nonce(index: number): Uint8Array {
  const out = new Uint8Array(12);
  new DataView(out.buffer).setBigUint64(4, BigInt(index));
  return out;
}

function aad(header: Header, path: string, index: number, final: boolean): Uint8Array {
  const name = utf8(path);
  const position = new Uint8Array(9);
  new DataView(position.buffer).setBigUint64(0, BigInt(index));
  position[8] = final ? 1 : 0;
  return concatBytes(header.bytes, u32be(name.length), name, position);
}

export function sealChunk(
  key: Uint8Array,
  header: Header,
  path: string,
  index: number,
  final: boolean,
  chunk: Uint8Array,
): Uint8Array {
  return backend.aes256GcmSeal(key, nonce(index), chunk, aad(header, path, index, final));
}

/** Decrypts record `index`; undefined when it does not authenticate in that position. */
export function openChunk(
  key: Uint8Array,
  header: Header,
  path: string,
  index: number,
  final: boolean,
  record: Uint8Array,
): Uint8Array | undefined {
  try {
    return backend.aes256GcmOpen(key, nonce(index), record, aad(header, path, index, final));
  } catch {
    return undefined;
  }
}
