/** Synthetic run histories for the report's tests: deterministic, shaped like real runs. */
import type { History, RoundRecord } from '../../src/fl/history.js';

export interface SyntheticOptions {
  readonly rounds?: number;
  readonly sampled?: number;
  readonly secAgg?: boolean;
  readonly centralized?: boolean;
  /** Round numbers whose secure aggregation aborted. */
  readonly aborted?: readonly number[];
  /** Client ids dropped, by round. */
  readonly dropped?: Readonly<Record<number, readonly string[]>>;
}

/** A small linear congruential generator: the same history on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Accuracy climbing towards 0.9 and loss falling, with noise; realistic secagg figures. */
export function syntheticHistory(options: SyntheticOptions = {}): History {
  const {
    rounds = 20,
    sampled = 50,
    secAgg = true,
    centralized = true,
    aborted = [],
    dropped = {
      4: ['client-17', 'client-32'],
      11: ['client-05'],
      15: ['client-41', 'client-08', 'client-23'],
    },
  } = options;
  const next = random(7);
  const records: RoundRecord[] = [];
  for (let round = 1; round <= rounds; round++) {
    const progress = 1 - Math.exp(-round / 5);
    const gone = dropped[round] ?? [];
    const failed = aborted.includes(round);
    const evaluation = (shift: number) => ({
      loss: 2.3 - 1.9 * progress + shift + next() * 0.05,
      accuracy: 0.1 + 0.8 * progress - shift / 4 + next() * 0.01,
      metrics: {},
    });
    records.push({
      round,
      sampled,
      aggregated: failed ? 0 : sampled - gone.length,
      dropped: gone,
      fitMetrics: { trainLoss: 2 - 1.8 * progress },
      distributed: { ...evaluation(0.04), numExamples: 5000 },
      ...(centralized && { centralized: evaluation(0) }),
      ...(secAgg && {
        secAgg: {
          stageMs: {
            setup: 4 + next() * 2,
            'ask-keys': 18 + next() * 6,
            'share-keys': 160 + next() * 40,
            'ask-vectors': 420 + next() * 80,
            ...(failed ? {} : { unmask: 260 + next() * 50 }),
          },
          bytesUpPerClient: 409_648 + Math.round(next() * 60),
          bytesDownPerClient: 10_591 + Math.round(next() * 30),
          survivors: sampled - gone.length,
          ...(failed && { aborted: 'fewer than threshold (26) survivors after ask-vectors' }),
        },
      }),
      durationMs: 2400 + next() * 600,
    });
  }
  return {
    rounds: records,
    ...(centralized && { initial: { loss: 2.31, accuracy: 0.1, metrics: {} } }),
  };
}
