/**
 * FedMedian (Yin et al. 2018): the coordinate-wise median of the clients' parameters, unweighted;
 * with an even number of clients, the mean of the two middle values (as numpy's median).
 */
import type { StrategyOptions } from './base.js';
import { coordinateWise, RobustStrategy } from './robust.js';
import type { FitResult } from './strategy.js';

export class FedMedian extends RobustStrategy {
  readonly name: string = 'FedMedian';

  constructor(options: StrategyOptions = {}) {
    super('FedMedian', "each client's update to take coordinate-wise medians", options);
  }

  protected combine(results: readonly FitResult[]): Float32Array {
    return coordinateWise(results, (column) => {
      column.sort();
      const mid = column.length >> 1;
      return column.length % 2 === 1
        ? (column[mid] as number)
        : ((column[mid - 1] as number) + (column[mid] as number)) / 2;
    });
  }
}
