/**
 * What the report reads out of a History, in one place, so that the charts, the tables and the
 * summary agree on every figure: which evaluation a point comes from, when a round counts as
 * aborted, which rounds have secure-aggregation data.
 */
import type { EvaluationRecord, History, RoundRecord } from '../fl/history.js';
import type { Point } from './line-chart.js';

export type EvaluationKind = 'distributed' | 'centralized';
export type EvaluationField = 'loss' | 'accuracy';

export const EVALUATION_LABELS: Readonly<Record<EvaluationKind, string>> = {
  distributed: 'Distributed',
  centralized: 'Centralized',
};

/**
 * One point per round that has the value, finite or not (a diverged loss is a gap in a chart,
 * and NaN in a table). The centralized series starts at round 0 with the evaluation of the
 * initial parameters when the history has one.
 */
export function evaluationPoints(
  history: History,
  kind: EvaluationKind,
  field: EvaluationField,
): Point[] {
  const value = (e: EvaluationRecord | undefined) => e?.[field];
  const points = history.rounds
    .map((r) => ({ x: r.round, y: value(r[kind]) }))
    .filter((p) => p.y !== undefined);
  const initial = kind === 'centralized' ? value(history.initial) : undefined;
  return initial === undefined ? points : [{ x: 0, y: initial }, ...points];
}

/** Why the round kept the previous parameters, or undefined when it completed. */
export function abortReason(record: RoundRecord): string | undefined {
  return record.aborted ?? record.secAgg?.aborted;
}

/**
 * Wall-clock milliseconds secure aggregation added to the round. Its key stages run while the
 * clients train, so that is the time from the end of the fit phase to the end of the round's
 * secure aggregation (`afterFitMs`); older records, which lack it, ran every stage after
 * training, so there it is the sum of the stage times.
 */
export function secAggMs(record: RoundRecord): number | undefined {
  if (record.secAgg === undefined) return undefined;
  return (
    record.secAgg.afterFitMs ??
    Object.values(record.secAgg.stageMs).reduce((sum, ms) => sum + (ms ?? 0), 0)
  );
}

/** "c1, c2, c3 and 4 more": a bounded list of client ids for a cell or a tooltip. */
export function clientList(ids: readonly string[], shown: number): string {
  if (ids.length <= shown) return ids.join(', ');
  return `${ids.slice(0, shown).join(', ')} and ${ids.length - shown} more`;
}
