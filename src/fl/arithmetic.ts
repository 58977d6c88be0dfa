/**
 * Arithmetic on parameter lists of one layout (checked by the caller with `checkLayout` or
 * `checkCompatible`),
 * walking the tensors in order so no client's update is copied into a flat vector first. Sums are
 * accumulated in float64 and rounded to float32 once, at the end.
 */
import { ParametersError } from './errors.js';
import { totalSize, unflatten, type Parameters } from './parameters.js';

export interface WeightedParameters {
  readonly parameters: Parameters;
  readonly weight: number;
}

export interface WeightedMean {
  /** Σ wᵢ·xᵢ / Σ wᵢ, flat in parameter order. */
  readonly values: Float32Array;
  readonly totalWeight: number;
}

/** The weighted mean of `items` (non-empty, same layout); undefined when the weights sum to 0. */
export function weightedMean(items: readonly WeightedParameters[]): WeightedMean | undefined {
  const totalWeight = items.reduce((sum, item) => sum + item.weight, 0);
  if (!(totalWeight > 0) || items.length === 0) return undefined;
  const sum = new Float64Array(totalSize((items[0] as WeightedParameters).parameters));
  for (const { parameters, weight } of items) {
    let offset = 0;
    for (const { values } of parameters) {
      for (let i = 0; i < values.length; i++)
        sum[offset + i] = (sum[offset + i] as number) + weight * (values[i] as number);
      offset += values.length;
    }
  }
  const values = new Float32Array(sum.length);
  for (let i = 0; i < sum.length; i++) values[i] = (sum[i] as number) / totalWeight;
  return { values, totalWeight };
}

/**
 * a − b, flat in parameter order. Throws a ParametersError naming the tensor and the index of the
 * first entry of `a` that is NaN or infinite (checked in the same pass: a client's update).
 */
export function difference(a: Parameters, b: Parameters): Float32Array {
  const out = new Float32Array(totalSize(a));
  let offset = 0;
  for (let t = 0; t < a.length; t++) {
    const { name, values } = a[t] as Parameters[number];
    const other = (b[t] as Parameters[number]).values;
    for (let i = 0; i < values.length; i++) {
      const value = values[i] as number;
      if (!Number.isFinite(value)) throw new ParametersError(name, `value ${i} is ${value}`);
      out[offset + i] = value - (other[i] as number);
    }
    offset += values.length;
  }
  return out;
}

/** base + delta, in the layout of `base`. */
export function offsetBy(base: Parameters, delta: Float32Array): Parameters {
  const out = new Float32Array(delta.length);
  let offset = 0;
  for (const { values } of base) {
    for (let i = 0; i < values.length; i++)
      out[offset + i] = (values[i] as number) + (delta[offset + i] as number);
    offset += values.length;
  }
  return unflatten(out, base);
}

/** ‖a − b‖², in float64. */
export function squaredDistance(a: Parameters, b: Parameters): number {
  let sum = 0;
  a.forEach(({ values }, t) => {
    const other = (b[t] as Parameters[number]).values;
    for (let i = 0; i < values.length; i++) {
      const d = (values[i] as number) - (other[i] as number);
      sum += d * d;
    }
  });
  return sum;
}
