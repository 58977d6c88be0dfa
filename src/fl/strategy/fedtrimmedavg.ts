/**
 * FedTrimmedAvg (Yin et al. 2018): per coordinate, drop the floor(β·n) smallest and the
 * floor(β·n) largest client values and average the rest, unweighted (Flower's trim_mean).
 */
import type { StrategyOptions } from './base.js';
import { numberIn } from './options.js';
import { coordinateWise, RobustStrategy } from './robust.js';
import type { FitResult } from './strategy.js';

export interface FedTrimmedAvgOptions extends StrategyOptions {
  /** β, the fraction cut from each end, in [0, 0.5). Default 0.2. */
  readonly beta?: number;
}

export class FedTrimmedAvg extends RobustStrategy {
  readonly name: string = 'FedTrimmedAvg';
  readonly beta: number;

  constructor(options: FedTrimmedAvgOptions = {}) {
    super(
      'FedTrimmedAvg',
      "each client's update to trim the extremes of every coordinate",
      options,
    );
    // β < 0.5 leaves at least one value: 2·floor(β·n) ≤ 2β·n < n.
    this.beta = numberIn('beta', options.beta, 0.2, 0, 0.5, true);
  }

  protected combine(results: readonly FitResult[]): Float32Array {
    const cut = Math.floor(this.beta * results.length);
    return coordinateWise(results, (column) => {
      column.sort();
      let sum = 0;
      for (let k = cut; k < column.length - cut; k++) sum += column[k] as number;
      return sum / (column.length - 2 * cut);
    });
  }
}
