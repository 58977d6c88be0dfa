/**
 * FedAvg (McMahan et al. 2017) and the base of every weighted-mean strategy. Aggregation is two
 * steps: the example-weighted mean of the clients' parameters, then the server update
 * `fromWeightedMean`. Subclasses change only the second step (FedAvgM, FedAdam, ...), which is
 * why each of them also works under secure aggregation: there the mean comes from SecAgg.
 */
import type { SecAggOptions } from '../../secagg/params.js';
import { weightedMean } from '../arithmetic.js';
import { unflatten, type Parameters } from '../parameters.js';
import { BaseStrategy, type StrategyOptions } from './base.js';
import type { FitAggregate, FitResult } from './strategy.js';

export type FedAvgOptions = StrategyOptions;

export class FedAvg extends BaseStrategy {
  readonly name: string = 'FedAvg';
  readonly secureAggregation?: SecAggOptions;

  constructor(options: FedAvgOptions = {}) {
    super(options);
    if (options.secureAggregation !== undefined) this.secureAggregation = options.secureAggregation;
  }

  aggregateFit(round: number, results: readonly FitResult[], current: Parameters): FitAggregate {
    const mean = weightedMean(
      results.map(({ res }) => ({ parameters: res.parameters, weight: res.numExamples })),
    );
    if (mean === undefined) return { aborted: 'the clients reported no training examples' };
    return {
      parameters: this.fromWeightedMean(
        round,
        unflatten(mean.values, current),
        mean.totalWeight,
        current,
      ),
      metrics: this.fitMetrics(results),
    };
  }

  /** FedAvg's server update: the mean is the new model. */
  fromWeightedMean(
    _round: number,
    mean: Parameters,
    _totalWeight: number,
    _current: Parameters,
  ): Parameters {
    return mean;
  }
}
