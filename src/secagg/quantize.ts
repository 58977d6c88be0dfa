/**
 * Quantization of model updates into the integers SecAgg masks, and back. Pluggable: a client
 * and the server of one round must use the same {@link Quantizer}.
 */
import { backend } from '../crypto/backend.js';
import type { RandomSource } from '../crypto/random.js';
import { InputError } from './errors.js';
import type { RoundParams } from './params.js';

export interface Quantizer {
  /**
   * Writes the level of each of `values`, an integer in [0, targetRange - 1], to `out` (as long
   * as `values`): the client passes the slice of the vector it masks, so nothing is copied.
   * `values` are finite (the caller checked).
   */
  quantize(values: Float32Array, params: RoundParams, random: RandomSource, out: Uint32Array): void;
  /**
   * Maps the modular sum of weighted quantized vectors back to the weighted mean, given the sum
   * of the weights. `sums[i]` is the exact integer sum (it cannot have overflowed modRange).
   */
  dequantize(sums: Uint32Array, totalWeight: number, params: RoundParams): Float32Array;
}

/**
 * The stochastic quantizer's loop (native/secagg_kernels.c has the same one, used when built).
 * On entry out[i] holds entry i's coin, a uniform 32-bit integer; on exit weight × level.
 * Returns the index of the first non-finite value, or -1.
 */
export function weightedLevels(
  values: Float32Array,
  out: Uint32Array,
  c: number,
  scale: number,
  top: number,
  weight: number,
): number {
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (!Number.isFinite(value)) return i;
    const clipped = value > c ? c : value < -c ? -c : value;
    const level = Math.floor((clipped + c) * scale + (out[i] as number) * 2 ** -32);
    // At the top level the largest coins round the float sum up to targetRange itself.
    // weight × level < 2^32 (the caller's contract), so the 32-bit product is exact.
    out[i] = Math.imul(weight, level < top ? level : top) >>> 0;
  }
  return -1;
}

/**
 * The stochastic quantizer in one pass, for clients: writes weight × level to `out` (as long as
 * `values`), checking on the way that each entry is finite, and returns the index of the first
 * entry that is not (the contents of `out` are then unspecified) or -1. `weight` is an integer
 * with weight × (targetRange - 1) < 2^32. A client masks a whole model every round; one pass
 * instead of three (check, quantize, weigh) is most of its own cost outside masking.
 */
export function quantizeWeighted(
  values: Float32Array,
  weight: number,
  params: RoundParams,
  random: RandomSource,
  out: Uint32Array,
): number {
  if (out.length !== values.length) {
    throw new RangeError(`out has ${out.length} entries, values ${values.length}`);
  }
  const c = params.clippingRange;
  const top = params.targetRange - 1;
  // The coins are drawn into `out` and each is replaced by its entry's weighted level: one pass,
  // no scratch array.
  random.fill(new Uint8Array(out.buffer, out.byteOffset, 4 * values.length));
  return (backend.weightedLevels ?? weightedLevels)(values, out, c, top / (2 * c), top, weight);
}

/**
 * Clips to [-c, c] and maps linearly onto [0, targetRange - 1] with unbiased stochastic
 * rounding: level ℓ becomes floor(ℓ + u) for u uniform in [0, 1), which is ⌈ℓ⌉ with probability
 * equal to ℓ's fractional part, so the expectation of the quantized value is the clipped value
 * (u has 2^-32 granularity). Where ℓ is a whole number the float sum ℓ + u rounds up to ℓ + 1 for
 * the few largest coins (about 2^-31 of them at ℓ near 2^22): a bias far below a quantization
 * step, except at the top level, where it would leave the range; there the level is clamped.
 */
export const stochasticQuantizer: Quantizer = {
  quantize(values, params, random, out) {
    const bad = quantizeWeighted(values, 1, params, random, out);
    if (bad >= 0) throw new InputError(nonFinite(values, bad));
  },

  dequantize(sums, totalWeight, params) {
    const c = params.clippingRange;
    const step = (2 * c) / (params.targetRange - 1);
    const out = new Float32Array(sums.length);
    for (let i = 0; i < sums.length; i++) out[i] = ((sums[i] as number) / totalWeight) * step - c;
    return out;
  },
};

/** The largest error quantization can add to one entry of the mean: one quantization step. */
export const quantizationStep = (params: RoundParams): number =>
  (2 * params.clippingRange) / (params.targetRange - 1);

/** Maps a client's example count to its integer weight in [0, maxWeight]. Pluggable. */
export type WeightRule = (numExamples: number, params: RoundParams) => number;

/** The seed paper's rule: weight = number of training examples, capped at maxWeight. */
export const cappedExampleCount: WeightRule = (numExamples, params) =>
  Math.min(Math.floor(numExamples), params.maxWeight);

/** Why entry `index` of an update cannot be aggregated. */
export const nonFinite = (values: Float32Array, index: number): string =>
  `update entry ${index} is ${values[index]}; every entry must be finite`;

/** The index of the first entry of `values` that is NaN or infinite, or -1. */
export function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return i;
  return -1;
}

/**
 * Checks a client's input before anything is masked: its length and example count here, the
 * finiteness of its entries as they are quantized. Nothing invalid ever enters the sum.
 */
export function checkInput(values: Float32Array, numExamples: number, params: RoundParams): void {
  if (values.length !== params.dim) {
    throw new InputError(
      `update has ${values.length} entries, the round expects dim = ${params.dim}`,
    );
  }
  if (!(Number.isFinite(numExamples) && numExamples >= 0)) {
    throw new InputError(`numExamples must be a non-negative number, got ${numExamples}`);
  }
}
