/**
 * Randomness, injectable so that simulations can be replayed from a seed while deployments use
 * the platform's CSPRNG.
 */
import { backend } from './backend.js';
import { utf8 } from './bytes.js';

export interface RandomSource {
  /**
   * Fills `bytes` with the source's next bytes. A source is a byte stream: filling n bytes and
   * then m gives the same bytes as filling n + m at once (shuffle relies on it).
   */
  fill(bytes: Uint8Array): void;
}

// WebCrypto's getRandomValues refuses more than 65,536 bytes per call.
const MAX_GET_RANDOM_VALUES = 65_536;

/** The platform CSPRNG (WebCrypto's getRandomValues, present in Node.js and browsers). */
export const systemRandom: RandomSource = {
  fill(bytes) {
    for (let offset = 0; offset < bytes.length; offset += MAX_GET_RANDOM_VALUES) {
      globalThis.crypto.getRandomValues(
        bytes.subarray(offset, Math.min(bytes.length, offset + MAX_GET_RANDOM_VALUES)),
      );
    }
  },
};

/**
 * A deterministic stream of pseudo-random bytes: AES-256-CTR keyed by HKDF-SHA256 of the seed
 * and a label. Cryptographically strong, but anyone who knows the seed can replay it: use it for
 * simulations and tests only, never for keys that protect real data.
 */
export function seededRandom(seed: string | number, label: string): RandomSource {
  const key = backend.hkdfSha256(
    utf8(String(seed)),
    utf8('sepal/seeded-random/v1'),
    utf8(label),
    32,
  );
  const next = backend.aes256CtrKeystream(key, new Uint8Array(16));
  return {
    fill(bytes) {
      bytes.set(next(bytes.length));
    },
  };
}

export function randomBytes(length: number, random: RandomSource = systemRandom): Uint8Array {
  const out = new Uint8Array(length);
  random.fill(out);
  return out;
}

/**
 * The word below `bound` that a uniformly random 32-bit `word` gives by rejection sampling (no
 * modulo bias), or undefined when the word is rejected and another must be drawn.
 */
function wordBelow(word: number, bound: number): number | undefined {
  return word < 2 ** 32 - (2 ** 32 % bound) ? word % bound : undefined;
}

/** A uniform integer in [0, bound) by rejection sampling (no modulo bias); bound <= 2^32. */
export function randomBelow(bound: number, random: RandomSource = systemRandom): number {
  if (!Number.isInteger(bound) || bound < 1 || bound > 2 ** 32) {
    throw new RangeError(`bound must be an integer in [1, 2^32], got ${bound}`);
  }
  const word = new Uint32Array(1);
  const bytes = new Uint8Array(word.buffer);
  for (;;) {
    random.fill(bytes);
    const value = wordBelow(word[0] as number, bound);
    if (value !== undefined) return value;
  }
}

/** Most random words a shuffle draws per call to its source. */
const SHUFFLE_BLOCK = 4096;

/**
 * A uniformly random permutation of `items` (Fisher–Yates), with randomBelow's rejection
 * sampling. The words are drawn in blocks (a call to the source per element cost more than the
 * rest of a 100,000-element shuffle), but never more words than iterations remain, so a shuffle
 * takes exactly the bytes that one randomBelow per element would. Sources are byte streams (a
 * fill of n bytes then m gives the bytes one fill of n + m would), so a seeded source gives the
 * same permutation either way and is left at the same point of its stream.
 */
export function shuffle<T>(items: readonly T[], random: RandomSource = systemRandom): T[] {
  const out = items.slice();
  let words = new Uint32Array(0);
  let next = 0;
  for (let i = out.length - 1; i > 0; i--) {
    let j: number | undefined;
    do {
      if (next === words.length) {
        // i iterations remain, and every word is used by one (or rejected): none is wasted.
        words = new Uint32Array(Math.min(i, SHUFFLE_BLOCK));
        random.fill(new Uint8Array(words.buffer));
        next = 0;
      }
      j = wordBelow(words[next++] as number, i + 1);
    } while (j === undefined);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
