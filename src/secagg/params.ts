/**
 * Secure-aggregation options as a user gives them, and the fully resolved parameters of a round.
 *
 * Names follow the seed paper (shareNum, threshold, minNum/minFrac, clippingRange, targetRange,
 * maxWeight, modRange). Every check names the offending option.
 */
import { ParameterError } from './errors.js';

export interface SecAggOptions {
  /**
   * Neighbours per client, itself included. At least the number of sampled clients means SecAgg
   * (everyone is everyone's neighbour); fewer means SecAgg+, which needs it odd (the ring graph is
   * symmetric: (shareNum - 1) / 2 neighbours on each side). Default: min(sampled clients, 51).
   */
  readonly shareNum?: number;
  /** Shares needed to reconstruct a secret. Default: floor(shareNum / 2) + 1. */
  readonly threshold?: number;
  /**
   * Permit threshold <= shareNum / 2. Off by default: with a lower threshold, the holders of one
   * client's shares could split into two groups that each reconstruct a different secret of it.
   */
  readonly allowLowThreshold?: boolean;
  /** Minimum surviving clients at every stage, as a count. */
  readonly minNum?: number;
  /** Minimum surviving clients as a fraction of those sampled. */
  readonly minFrac?: number;
  /** Updates are clipped to [-clippingRange, clippingRange]. Default 8. */
  readonly clippingRange?: number;
  /**
   * Quantization levels: a clipped value maps to an integer in [0, targetRange - 1]. Default:
   * the largest power of two, at most 2^22, that satisfies modRange >= maxWeight x targetRange x
   * sampled clients.
   */
  readonly targetRange?: number;
  /** Client weights (by default, example counts) are capped at this integer. Default 1000. */
  readonly maxWeight?: number;
  /** Masked arithmetic is modulo this power of two, at most 2^32. Default 2^32. */
  readonly modRange?: number;
}

/** Everything both sides must agree on for one round; sent to clients at setup. */
export interface RoundParams {
  readonly sampledClients: number;
  readonly dim: number;
  readonly shareNum: number;
  readonly threshold: number;
  readonly minClients: number;
  readonly clippingRange: number;
  readonly targetRange: number;
  readonly maxWeight: number;
  readonly modBits: number;
}

export const DEFAULT_SHARE_NUM = 51;
export const DEFAULT_CLIPPING_RANGE = 8;
export const DEFAULT_MAX_WEIGHT = 1000;
export const DEFAULT_MOD_RANGE = 2 ** 32;
const MAX_DEFAULT_TARGET_RANGE = 2 ** 22;

export const modRangeOf = (params: RoundParams): number => 2 ** params.modBits;

function integerIn(parameter: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ParameterError(parameter, `must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

function powerOfTwoBits(parameter: string, value: number, maxBits: number): number {
  const bits = Math.log2(value);
  if (!Number.isInteger(bits) || bits < 1 || bits > maxBits) {
    throw new ParameterError(
      parameter,
      `must be a power of two between 2 and 2^${maxBits}, got ${value}`,
    );
  }
  return bits;
}

/** Resolves a user's options for a round with `sampledClients` clients and vectors of `dim`. */
export function resolveRoundParams(
  options: SecAggOptions,
  sampledClients: number,
  dim: number,
): RoundParams {
  integerIn('sampledClients', sampledClients, 1, 2 ** 22 - 4);
  integerIn('dim', dim, 1, 2 ** 31 - 2);

  const shareNum = Math.min(
    integerIn('shareNum', options.shareNum ?? DEFAULT_SHARE_NUM, 1, 2 ** 22 - 4),
    sampledClients,
  );
  const threshold = options.threshold ?? Math.floor(shareNum / 2) + 1;
  const modRange = options.modRange ?? DEFAULT_MOD_RANGE;
  const modBits = powerOfTwoBits('modRange', modRange, 32);
  const maxWeight = integerIn('maxWeight', options.maxWeight ?? DEFAULT_MAX_WEIGHT, 1, 2 ** 31);
  const clippingRange = options.clippingRange ?? DEFAULT_CLIPPING_RANGE;
  if (!(Number.isFinite(clippingRange) && clippingRange > 0)) {
    throw new ParameterError(
      'clippingRange',
      `must be a positive finite number, got ${clippingRange}`,
    );
  }
  const capacity = Math.floor(modRange / (maxWeight * sampledClients));
  const targetRange =
    options.targetRange ??
    Math.min(MAX_DEFAULT_TARGET_RANGE, 2 ** Math.floor(Math.log2(Math.max(1, capacity))));

  const params: RoundParams = {
    sampledClients,
    dim,
    shareNum,
    threshold,
    minClients: resolveMinimum(options, sampledClients, threshold),
    clippingRange,
    targetRange,
    maxWeight,
    modBits,
  };
  validateRoundParams(params, options.allowLowThreshold ?? false);
  return params;
}

/**
 * The least restrictive of minNum and minFrac when both are given; the threshold when neither is
 * (with fewer survivors than that, no neighbourhood could hold enough shares anyway).
 */
function resolveMinimum(options: SecAggOptions, sampledClients: number, threshold: number): number {
  const bounds: number[] = [];
  if (options.minNum !== undefined) {
    bounds.push(integerIn('minNum', options.minNum, 1, sampledClients));
  }
  if (options.minFrac !== undefined) {
    const frac = options.minFrac;
    if (!(frac > 0 && frac <= 1)) {
      throw new ParameterError('minFrac', `must be in (0, 1], got ${frac}`);
    }
    bounds.push(Math.max(1, Math.ceil(frac * sampledClients)));
  }
  return bounds.length === 0 ? Math.min(threshold, sampledClients) : Math.min(...bounds);
}

/**
 * Checks a complete parameter set: run by the server when it resolves options and by every
 * client on the parameters it receives, so a client never masks under parameters that overflow
 * or leak.
 */
export function validateRoundParams(params: RoundParams, allowLowThreshold = false): void {
  const n = integerIn('sampledClients', params.sampledClients, 1, 2 ** 22 - 4);
  integerIn('dim', params.dim, 1, 2 ** 31 - 2);
  const shareNum = integerIn('shareNum', params.shareNum, 1, n);
  if (shareNum < n && shareNum % 2 === 0) {
    throw new ParameterError(
      'shareNum',
      `must be odd when smaller than the number of sampled clients (${n}), got ${shareNum}: ` +
        'the SecAgg+ ring graph gives each client (shareNum - 1) / 2 neighbours on each side',
    );
  }
  const threshold = integerIn('threshold', params.threshold, 1, shareNum);
  if (!allowLowThreshold && 2 * threshold <= shareNum) {
    throw new ParameterError(
      'threshold',
      `must exceed shareNum / 2 (${shareNum / 2}), got ${threshold}; set allowLowThreshold to permit it`,
    );
  }
  integerIn('minClients', params.minClients, 1, n);
  if (!(Number.isFinite(params.clippingRange) && params.clippingRange > 0)) {
    throw new ParameterError(
      'clippingRange',
      `must be a positive finite number, got ${params.clippingRange}`,
    );
  }
  integerIn('targetRange', params.targetRange, 2, 2 ** 32);
  // The quantizer maps [-c, c] onto [0, targetRange - 1] with this slope; at the far ends of the
  // doubles it overflows to infinity or underflows to 0, and quantizing would then be meaningless.
  const slope = (params.targetRange - 1) / (2 * params.clippingRange);
  if (!(Number.isFinite(slope) && slope > 0)) {
    throw new ParameterError(
      'clippingRange',
      `${params.clippingRange} is out of range for targetRange ${params.targetRange}: ` +
        '(targetRange - 1) / (2 x clippingRange) must be a positive finite number',
    );
  }
  integerIn('maxWeight', params.maxWeight, 1, 2 ** 31);
  integerIn('modRange (bits)', params.modBits, 1, 32);
  const modRange = modRangeOf(params);
  const needed = params.maxWeight * params.targetRange * n;
  if (needed > modRange) {
    throw new ParameterError(
      'modRange',
      `must be at least maxWeight x targetRange x sampled clients = ${params.maxWeight} x ` +
        `${params.targetRange} x ${n} = ${needed} so that the sum cannot overflow, got ${modRange}; ` +
        'lower targetRange or maxWeight, or raise modRange',
    );
  }
}
