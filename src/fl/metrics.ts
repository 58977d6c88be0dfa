/** Combining what clients report into the run's record. */
import type { EvaluationRecord, Metrics } from './history.js';

/** The weighted mean of `[value, weight]` pairs; equal weights when the weights sum to zero. */
export function weightedAverage(pairs: readonly (readonly [number, number])[]): number {
  const weight = pairs.reduce((sum, [, w]) => sum + w, 0);
  return weight > 0
    ? pairs.reduce((sum, [v, w]) => sum + v * w, 0) / weight
    : pairs.reduce((sum, [v]) => sum + v, 0) / pairs.length;
}

export interface Weighted {
  readonly numExamples: number;
  readonly metrics: Metrics;
}

/**
 * Each metric's mean over the clients that report it, weighted by their example counts.
 * Non-finite values are left out rather than poisoning the mean.
 */
export function weightedMetrics(entries: readonly Weighted[]): Metrics {
  const byKey = new Map<string, [number, number][]>();
  for (const { numExamples, metrics } of entries) {
    for (const [key, value] of Object.entries(metrics)) {
      if (!Number.isFinite(value)) continue;
      const pairs = byKey.get(key) ?? [];
      pairs.push([value, numExamples]);
      byKey.set(key, pairs);
    }
  }
  return Object.fromEntries([...byKey].map(([key, pairs]) => [key, weightedAverage(pairs)]));
}

/** An evaluation as History records it: `accuracy` lifted out of the metrics when present. */
export function evaluationRecord(
  loss: number,
  metrics: Metrics,
  numExamples?: number,
): EvaluationRecord {
  const accuracy = metrics['accuracy'];
  return {
    loss,
    ...(accuracy !== undefined ? { accuracy } : {}),
    ...(numExamples !== undefined ? { numExamples } : {}),
    metrics,
  };
}
