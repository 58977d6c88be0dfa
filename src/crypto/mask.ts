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
import { backend, maskThreads } from './backend.js';
import { concatBytes, utf8 } from './bytes.js';
import { createAccumulator } from './vector-add.js';

const SALT = utf8('sepal/mask/v1');
/** Words per AES block: CTR streams can be entered only at block boundaries. */
const WORDS_PER_BLOCK = 4;
// Vectors are masked a chunk at a time; a chunk and one keystream block of the same size (64 KiB
// each) stay in the L2 cache while every mask is added to the chunk.
const CHUNK_WORDS = 1 << 14;
// Safe to share: applyMaskRange is synchronous and never re-entered while it holds the accumulator.
const accumulator = createAccumulator(CHUNK_WORDS);
/**
 * Below this many keystream words (streams × vector length) masks are applied on the calling
 * thread: handing a job to threads costs about a millisecond, and a client's own masking (its
 * neighbours' streams over one vector) is well under this size.
 */
const THREADED_MIN_WORDS = 1 << 23;

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

/** The CTR initial counter block of the stream position `block` (128-bit big-endian). */
function counterBlock(block: number): Uint8Array {
  const iv = new Uint8Array(16);
  new DataView(iv.buffer).setBigUint64(8, BigInt(block));
  return iv;
}

/**
 * Adds (sign 1) or subtracts (sign -1) the mask stream of every key to `target`, modulo 2^32.
 * Large jobs (a server removing hundreds of streams) run on worker threads where the platform has
 * them; the result is the same word for word.
 */
export function applyMasks(target: Uint32Array, masks: readonly Mask[]): void {
  if (maskThreads !== undefined && masks.length * target.length >= THREADED_MIN_WORDS) {
    maskThreads.apply(target, masks);
  } else {
    applyMaskRange(target, masks, 0);
  }
}

/**
 * Applies words `firstWord ..` of every mask stream to `target` (a window of the masked vector
 * that starts at word `firstWord`, a multiple of WORDS_PER_BLOCK): the building block of
 * applyMasks and of the mask threads, which each take one window.
 *
 * Where the backend has a native path for this (Node with the addon built), it does the work.
 * Otherwise all streams are open at once and the window is walked chunk by chunk: each chunk is
 * loaded into the accumulator once, receives the next block of every stream, and is written back
 * once. The result equals applying the masks one after another, since addition modulo 2^32
 * commutes.
 */
export function applyMaskRange(
  target: Uint32Array,
  masks: readonly Mask[],
  firstWord: number,
): void {
  if (firstWord % WORDS_PER_BLOCK !== 0) {
    throw new RangeError(`a mask window must start at a block boundary, got word ${firstWord}`);
  }
  const firstBlock = firstWord / WORDS_PER_BLOCK;
  if (backend.applyAes256CtrStreams !== undefined) {
    const keys = new Uint8Array(32 * masks.length);
    masks.forEach(({ key }, i) => keys.set(key, 32 * i));
    try {
      backend.applyAes256CtrStreams(
        target,
        keys,
        Int8Array.from(masks, (m) => m.sign),
        firstBlock,
      );
    } finally {
      keys.fill(0);
    }
    return;
  }
  const iv = counterBlock(firstBlock);
  const streams = masks.map(({ key, sign }) => ({
    next: backend.aes256CtrKeystream(key, iv),
    sign,
  }));
  for (let start = 0; start < target.length; start += CHUNK_WORDS) {
    const chunk = target.subarray(start, Math.min(target.length, start + CHUNK_WORDS));
    accumulator.load(chunk);
    for (const { next, sign } of streams) accumulator.add(next(4 * chunk.length), sign);
    accumulator.store();
  }
}

/**
 * Starts the mask threads now rather than at the first large job, so a server pays their start-up
 * when it starts. A no-op where there are none.
 */
export function startMaskThreads(): void {
  maskThreads?.start();
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
