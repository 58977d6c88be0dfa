/**
 * Base of the Byzantine-robust strategies (FedMedian, FedTrimmedAvg, Krum). They look at every
 * client's update on its own, so they cannot run on secure aggregation, which reveals only the
 * weighted mean: asking for both is refused when the strategy is built.
 */
import { ConfigError } from '../errors.js';
import { flatten, unflatten, type Parameters } from '../parameters.js';
import { BaseStrategy, type StrategyOptions } from './base.js';
import type { FitAggregate, FitResult } from './strategy.js';

export abstract class RobustStrategy extends BaseStrategy {
  /** @param needs what the strategy needs from individual updates, for the refusal message. */
  protected constructor(name: string, needs: string, options: StrategyOptions) {
    if (options.secureAggregation !== undefined) {
      throw new ConfigError(
        'secureAggregation',
        `${name} cannot use secure aggregation: it needs ${needs}, and secure aggregation ` +
          'reveals only the weighted mean of the updates; use a weighted-mean strategy ' +
          '(FedAvg, FedProx, FedAvgM, FedAdagrad, FedAdam, FedYogi) or drop secureAggregation',
      );
    }
    super(options);
  }

  aggregateFit(_round: number, results: readonly FitResult[], current: Parameters): FitAggregate {
    const combined = this.combine(results);
    if (combined === undefined)
      return { aborted: 'the selected clients reported no training examples' };
    return { parameters: unflatten(combined, current), metrics: this.fitMetrics(results) };
  }

  /**
   * The new global parameters, flat, from the round's (non-empty) individual results; undefined
   * when the updates it would weight carry no training examples.
   */
  protected abstract combine(results: readonly FitResult[]): Float32Array | undefined;
}

/**
 * Applies `reduce` to each coordinate across clients: `column` holds that coordinate of every
 * update (in result order) and may be reordered by `reduce`.
 */
export function coordinateWise(
  results: readonly FitResult[],
  reduce: (column: Float64Array) => number,
): Float32Array {
  const updates = results.map((r) => flatten(r.res.parameters));
  const out = new Float32Array((updates[0] as Float32Array).length);
  const column = new Float64Array(updates.length);
  for (let i = 0; i < out.length; i++) {
    updates.forEach((u, k) => (column[k] = u[i] as number));
    out[i] = reduce(column);
  }
  return out;
}
