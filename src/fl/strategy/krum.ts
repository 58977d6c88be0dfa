/**
 * Krum and Multi-Krum (Blanchard et al. 2017), as Flower. Each update's score is the sum of its
 * squared distances to its n − f − 2 nearest other updates (at least 1), f being the assumed
 * number of malicious clients. Krum returns the update with the lowest score; Multi-Krum
 * (`numToKeep` m > 0) the example-weighted mean of the m lowest-scoring updates.
 */
import { squaredDistance, weightedMean } from '../arithmetic.js';
import { flatten } from '../parameters.js';
import type { StrategyOptions } from './base.js';
import { integerAtLeast } from './options.js';
import { RobustStrategy } from './robust.js';
import type { FitResult } from './strategy.js';

export interface KrumOptions extends StrategyOptions {
  /** f, the number of malicious clients to tolerate. Default 0. */
  readonly numMalicious?: number;
  /** m: 0 is Krum; m > 0 is Multi-Krum, averaging the m best updates (at most all). Default 0. */
  readonly numToKeep?: number;
}

export class Krum extends RobustStrategy {
  readonly name: string = 'Krum';
  readonly numMalicious: number;
  readonly numToKeep: number;

  constructor(options: KrumOptions = {}) {
    super('Krum', "each client's update to measure distances between them", options);
    this.numMalicious = integerAtLeast('numMalicious', options.numMalicious, 0, 0);
    this.numToKeep = integerAtLeast('numToKeep', options.numToKeep, 0, 0);
  }

  /** Each result's score, in result order. */
  scores(results: readonly FitResult[]): number[] {
    const n = results.length;
    const distance = results.map((a) =>
      results.map((b) => squaredDistance(a.res.parameters, b.res.parameters)),
    );
    const nearest = Math.max(1, n - this.numMalicious - 2);
    return distance.map((row, i) =>
      row
        .filter((_, j) => j !== i)
        .sort((a, b) => a - b)
        .slice(0, nearest)
        .reduce((sum, d) => sum + d, 0),
    );
  }

  protected combine(results: readonly FitResult[]): Float32Array | undefined {
    const scores = this.scores(results);
    // Ties go to the earlier result, so the choice is deterministic.
    const ranked = scores
      .map((score, i) => ({ score, i }))
      .sort((a, b) => a.score - b.score || a.i - b.i);
    if (this.numToKeep === 0) {
      return flatten((results[(ranked[0] as { i: number }).i] as FitResult).res.parameters);
    }
    const kept = ranked.slice(0, this.numToKeep).map(({ i }) => (results[i] as FitResult).res);
    return weightedMean(kept.map((r) => ({ parameters: r.parameters, weight: r.numExamples })))
      ?.values;
  }
}
