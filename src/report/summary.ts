/** The run in a few figures: what the report's summary table shows. */
import type { History } from '../fl/history.js';
import {
  abortReason,
  evaluationPoints,
  secAggMs,
  type EvaluationField,
  type EvaluationKind,
} from './history-series.js';

export interface AtRound {
  readonly value: number;
  readonly round: number;
}

export interface EvaluationSummary {
  /** The last round's finite value. */
  readonly final?: AtRound;
  /** The highest accuracy or the lowest loss, the earliest round on a tie. */
  readonly best?: AtRound;
}

export interface RunSummary {
  readonly rounds: number;
  readonly firstRound?: number;
  readonly lastRound?: number;
  /** Fewest and most clients asked to fit in a round. */
  readonly sampled?: { readonly min: number; readonly max: number };
  readonly aggregatedTotal: number;
  /** Dropouts over all rounds, and how many distinct clients they were. */
  readonly droppedTotal: number;
  readonly droppedClients: number;
  readonly abortedRounds: number;
  /** Sum of the rounds' durations. */
  readonly totalMs: number;
  readonly secAggRounds: number;
  readonly secAggMs: number;
  readonly evaluation: Readonly<
    Record<EvaluationKind, Readonly<Record<EvaluationField, EvaluationSummary>>>
  >;
}

function summarizeEvaluation(
  history: History,
  kind: EvaluationKind,
  field: EvaluationField,
): EvaluationSummary {
  const points = evaluationPoints(history, kind, field).filter((p) => Number.isFinite(p.y));
  const at = (p: { x: number; y: number | undefined }): AtRound => ({
    value: p.y as number,
    round: p.x,
  });
  const last = points[points.length - 1];
  if (last === undefined) return {};
  const better = (a: number, b: number) => (field === 'accuracy' ? a > b : a < b);
  const best = points.reduce((b, p) => (better(p.y as number, b.y as number) ? p : b));
  return { final: at(last), best: at(best) };
}

const both = (history: History, kind: EvaluationKind) => ({
  loss: summarizeEvaluation(history, kind, 'loss'),
  accuracy: summarizeEvaluation(history, kind, 'accuracy'),
});

export function summarize(history: History): RunSummary {
  const rounds = history.rounds;
  const sampled = rounds.map((r) => r.sampled);
  const secure = rounds.filter((r) => r.secAgg !== undefined);
  return {
    rounds: rounds.length,
    ...(rounds.length > 0 && {
      firstRound: Math.min(...rounds.map((r) => r.round)),
      lastRound: Math.max(...rounds.map((r) => r.round)),
      sampled: { min: Math.min(...sampled), max: Math.max(...sampled) },
    }),
    aggregatedTotal: rounds.reduce((sum, r) => sum + r.aggregated, 0),
    droppedTotal: rounds.reduce((sum, r) => sum + r.dropped.length, 0),
    droppedClients: new Set(rounds.flatMap((r) => r.dropped)).size,
    abortedRounds: rounds.filter((r) => abortReason(r) !== undefined).length,
    totalMs: rounds.reduce((sum, r) => sum + r.durationMs, 0),
    secAggRounds: secure.length,
    secAggMs: secure.reduce((sum, r) => sum + (secAggMs(r) ?? 0), 0),
    evaluation: {
      distributed: both(history, 'distributed'),
      centralized: both(history, 'centralized'),
    },
  };
}
