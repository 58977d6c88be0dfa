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
import { createAccumulator } from './vector-add.js';

const SALT = utf8('sepal/mask/v1');
const ZERO_IV = new Uint8Array(16);
// Vectors are masked a chunk at a time; a chunk and one keystream block of the same size (64 KiB
// each) stay in the L2 cache while every mask is added to the chunk.
const CHUNK_WORDS = 1 << 14;
// Safe to share: applyMasks is synchronous and never re-entered while it holds the accumulator.
const accumulator = createAccumulator(CHUNK_WORDS);

export type MaskSign = 1 | -1;

/** One mask stream and the sign it is applied with. */
export interface Mask {
  readonly key: Uint8Array;
  readonly sign: MaskSign;
}

/** The AES-256 key of the mask stream for (seed, purpose, context). */
export function maskKey(seed: Uint8Array, purpose: string, context: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new RangeError(`mask seed must be 32 bytes, got ${seed.length}`);
  return backend.hkdfSha256(seed, SALT, concatBytes(utf8(purpose), context), 32);
}

/**
 * Adds (sign 1) or subtracts (sign -1) the mask stream of every key to `target`, modulo 2^32.
 *
 * All streams are open at once and the vector is walked chunk by chunk: each chunk is loaded into
 * the accumulator once, receives the next block of every stream, and is written back once. The
 * result equals applying the masks one after another, since addition modulo 2^32 commutes.
 */
export function applyMasks(target: Uint32Array, masks: readonly Mask[]): void {
  const streams = masks.map(({ key, sign }) => ({
    next: backend.aes256CtrKeystream(key, ZERO_IV),
    sign,
  }));
  for (let start = 0; start < target.length; start += CHUNK_WORDS) {
    const chunk = target.subarray(start, Math.min(target.length, start + CHUNK_WORDS));
    accumulator.load(chunk);
    for (const { next, sign } of streams) accumulator.add(next(4 * chunk.length), sign);
    accumulator.store();
  }
}

/** Adds (sign 1) or subtracts (sign -1) the mask stream of `key` to `target`, modulo 2^32. */
export function applyMask(target: Uint32Array, key: Uint8Array, sign: MaskSign): void {
  applyMasks(target, [{ key, sign }]);
}

/** The first `length` words of the mask stream of `key` (for tests and audits). */
export function maskWords(key: Uint8Array, length: number): Uint32Array {
  const out = new Uint32Array(length);
  applyMask(out, key, 1);
  return out;
}
