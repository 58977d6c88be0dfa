/**
 * Continuous random variates drawn from a seeded byte stream, for reproducible data partitions.
 * Not security-relevant: the bytes come from `seededRandom` (src/crypto/random.ts), which is
 * strong but public given the seed, and nothing secret depends on these numbers.
 */
import type { RandomSource } from '../crypto/random.js';

/** A uniform double in (0, 1) with 53 random bits (never exactly 0, so its log is finite). */
export function uniform(random: RandomSource): number {
  const words = new Uint32Array(2);
  random.fill(new Uint8Array(words.buffer));
  const bits53 = ((words[0] as number) >>> 5) * 2 ** 26 + ((words[1] as number) >>> 6);
  return (bits53 + 0.5) / 2 ** 53;
}

/** A standard normal variate (Box–Muller; the second variate of the pair is dropped). */
export function normal(random: RandomSource): number {
  return Math.sqrt(-2 * Math.log(uniform(random))) * Math.cos(2 * Math.PI * uniform(random));
}

/**
 * The natural log of a Gamma(shape, 1) variate, by Marsaglia & Tsang (2000). Returned as a log
 * because for shape << 1 the variate itself underflows to 0 (U^(1/shape)), which would make a
 * Dirichlet sample 0/0.
 */
export function logGamma(shape: number, random: RandomSource): number {
  if (!(shape > 0) || !Number.isFinite(shape)) {
    throw new RangeError(`Gamma shape must be a positive number, got ${shape}`);
  }
  // Gamma(a) = Gamma(a + 1) * U^(1/a) lifts a < 1 into the range the method needs.
  if (shape < 1) return logGamma(shape + 1, random) + Math.log(uniform(random)) / shape;
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(random);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = uniform(random);
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return Math.log(d * v);
  }
}

/** A point of the probability simplex drawn from the symmetric Dirichlet(alpha, ..., alpha). */
export function dirichlet(alpha: number, dimensions: number, random: RandomSource): number[] {
  const logs = Array.from({ length: dimensions }, () => logGamma(alpha, random));
  const max = Math.max(...logs);
  const weights = logs.map((log) => Math.exp(log - max));
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / sum);
}
