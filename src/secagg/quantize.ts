/**
 * Quantization of model updates into the integers SecAgg masks, and back. Pluggable: a client
 * and the server of one round must use the same {@link Quantizer}.
 */
import type { RandomSource } from '../crypto/random.js';
import { InputError } from './errors.js';
import type { RoundParams } from './params.js';

export interface Quantizer {
  /** Maps `values` to integers in [0, targetRange - 1]. */
  quantize(values: Float32Array, params: RoundParams, random: RandomSource): Uint32Array;
  /**
   * Maps the modular sum of weighted quantized vectors back to the weighted mean, given the sum
   * of the weights. `sums[i]` is the exact integer sum (it cannot have overflowed modRange).
   */
  dequantize(sums: Uint32Array, totalWeight: number, params: RoundParams): Float32Array;
}

/**
 * Clips to [-c, c] and maps linearly onto [0, targetRange - 1] with unbiased stochastic
 * rounding: a value between levels k and k + 1 becomes k + 1 with probability equal to its
 * fractional part, so the expectation of the quantized value is exactly the clipped value.
 */
export const stochasticQuantizer: Quantizer = {
  quantize(values, params, random) {
    const c = params.clippingRange;
    const scale = (params.targetRange - 1) / (2 * c);
    const out = new Uint32Array(values.length);
    const coins = new Uint32Array(values.length);
    random.fill(new Uint8Array(coins.buffer));
    for (let i = 0; i < values.length; i++) {
      const clipped = Math.min(c, Math.max(-c, values[i] as number));
      const level = (clipped + c) * scale;
      const floor = Math.floor(level);
      // coins[i] / 2^32 is uniform in [0, 1); round up with probability level - floor.
      out[i] = floor + ((coins[i] as number) < (level - floor) * 4294967296 ? 1 : 0);
    }
    return out;
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

/** Checks a client's input before anything is masked: nothing invalid ever enters the sum. */
export function checkInput(values: Float32Array, numExamples: number, params: RoundParams): void {
  if (values.length !== params.dim) {
    throw new InputError(
      `update has ${values.length} entries, the round expects dim = ${params.dim}`,
    );
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new InputError(`update entry ${i} is ${values[i]}; every entry must be finite`);
    }
  }
  if (!(Number.isFinite(numExamples) && numExamples >= 0)) {
    throw new InputError(`numExamples must be a non-negative number, got ${numExamples}`);
  }
}
