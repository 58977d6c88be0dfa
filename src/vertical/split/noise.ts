/**
 * Gaussian noise for the cut layer (the seed's differential-privacy complement). Samples come
 * from a RandomSource by the Box–Muller transform, so deployments draw them from the platform
 * CSPRNG and simulations replay them from a seed.
 *
 * What this is not: a differential-privacy guarantee. DP would need each example's contribution
 * bounded (clipping embeddings and gradients per row) and the privacy loss accounted over steps;
 * neither is done here. The noise makes embeddings and gradients harder to invert, at a cost in
 * accuracy that `sepal vfl` measures.
 */
import { type RandomSource, systemRandom } from '../../crypto/random.js';

const TWO_POW_32 = 2 ** 32;

/** `length` independent N(0, std²) samples. */
export function gaussian(length: number, std: number, random: RandomSource): Float32Array {
  const words = new Uint32Array(length + (length % 2));
  random.fill(new Uint8Array(words.buffer));
  const out = new Float32Array(length);
  for (let i = 0; i < length; i += 2) {
    const u1 = ((words[i] as number) + 1) / (TWO_POW_32 + 1); // in (0, 1): log(u1) is finite
    const u2 = (words[i + 1] as number) / TWO_POW_32;
    const radius = std * Math.sqrt(-2 * Math.log(u1));
    out[i] = radius * Math.cos(2 * Math.PI * u2);
    if (i + 1 < length) out[i + 1] = radius * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** Adds N(0, std²) noise to `values` in place; a std of 0 leaves them untouched. */
export function addNoise(values: Float32Array, std: number, random: RandomSource = systemRandom) {
  if (std === 0) return;
  const noise = gaussian(values.length, std, random);
  for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) + (noise[i] as number);
}

export function checkNoise(std: number): void {
  if (!(Number.isFinite(std) && std >= 0)) {
    throw new RangeError(`noise standard deviation must be finite and >= 0, got ${std}`);
  }
}
