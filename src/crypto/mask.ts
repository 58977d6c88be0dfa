/**
 * Mask generation for secure aggregation: a cryptographic PRG keyed by the full 256-bit seed.
 *
 * The AES-256-CTR key is HKDF-SHA256(seed, salt = "sepal/mask/v1", info = purpose ‖ context), so
 * the same seed yields independent streams for different purposes and rounds; the counter starts
 * at zero because every (seed, purpose, context) key is used for exactly one stream.
 *
 * Words are read little-endian from the keystream and are uniform in [0, 2^32). Masked vectors
 * are kept modulo 2^32 and reduced modulo modRange (a power of two, so it divides 2^32) only when
 * packed, which is the same as drawing each mask word uniformly in [0, modRange).
 */
import { backend } from './backend.js';
import { concatBytes, utf8 } from './bytes.js';

const SALT = utf8('sepal/mask/v1');
const ZERO_IV = new Uint8Array(16);
// Masks are streamed in chunks that stay in the L2 cache while they are added to the vector.
const CHUNK_WORDS = 1 << 14;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export type MaskSign = 1 | -1;

/** The AES-256 key of the mask stream for (seed, purpose, context). */
export function maskKey(seed: Uint8Array, purpose: string, context: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new RangeError(`mask seed must be 32 bytes, got ${seed.length}`);
  return backend.hkdfSha256(seed, SALT, concatBytes(utf8(purpose), context), 32);
}

/** Reads little-endian 32-bit words out of keystream bytes. */
function wordsOf(bytes: Uint8Array): Uint32Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
    return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Uint32Array(bytes.length >>> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(4 * i, true);
  return out;
}

/** Adds (sign 1) or subtracts (sign -1) the mask stream of `key` to `target`, modulo 2^32. */
export function applyMask(target: Uint32Array, key: Uint8Array, sign: MaskSign): void {
  const next = backend.aes256CtrKeystream(key, ZERO_IV);
  for (let start = 0; start < target.length; start += CHUNK_WORDS) {
    const end = Math.min(target.length, start + CHUNK_WORDS);
    const mask = wordsOf(next(4 * (end - start)));
    if (sign === 1) {
      for (let i = start, j = 0; i < end; i++, j++) target[i] = (target[i] as number) + (mask[j] as number);
    } else {
      for (let i = start, j = 0; i < end; i++, j++) target[i] = (target[i] as number) - (mask[j] as number);
    }
  }
}

/** The first `length` words of the mask stream of `key` (for tests and audits). */
export function maskWords(key: Uint8Array, length: number): Uint32Array {
  const out = new Uint32Array(length);
  applyMask(out, key, 1);
  return out;
}
