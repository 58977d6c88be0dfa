/** Validation of strategy options: each failure is a ConfigError naming the option. */
import { ConfigError } from '../errors.js';

/** A number in [min, max] (or [min, max) when `maxExclusive`); `fallback` when undefined. */
export function numberIn(
  parameter: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max = Number.POSITIVE_INFINITY,
  maxExclusive = false,
): number {
  const v = value ?? fallback;
  const below = maxExclusive ? v < max : v <= max;
  if (!(Number.isFinite(v) && v >= min && below)) {
    const range = `[${min}, ${max === Number.POSITIVE_INFINITY ? '∞' : max}${maxExclusive ? ')' : ']'}`;
    throw new ConfigError(parameter, `must be a finite number in ${range}, got ${v}`);
  }
  return v;
}

/** An integer of at least `min`; `fallback` when undefined. */
export function integerAtLeast(
  parameter: string,
  value: number | undefined,
  fallback: number,
  min: number,
): number {
  const v = value ?? fallback;
  if (!(Number.isInteger(v) && v >= min)) {
    throw new ConfigError(parameter, `must be an integer of at least ${min}, got ${v}`);
  }
  return v;
}

/** A finite number above 0; `fallback` when undefined. */
export function positive(parameter: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(Number.isFinite(v) && v > 0)) {
    throw new ConfigError(parameter, `must be a positive finite number, got ${v}`);
  }
  return v;
}
