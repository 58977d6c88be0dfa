/**
 * What a federated run records, round by round. This is the run's public record: `--json` prints
 * it, the HTML report draws it, and the deployment persists it. Fields are added, never renamed.
 */
import type { Stage } from '../secagg/stages.js';

export type Metrics = Readonly<Record<string, number>>;

export interface EvaluationRecord {
  readonly loss: number;
  /** Present when the task reports it (classification). */
  readonly accuracy?: number;
  /** Examples behind a distributed evaluation; absent for a centralized one. */
  readonly numExamples?: number;
  readonly metrics: Metrics;
}

export interface SecAggRoundRecord {
  /**
   * Wall-clock milliseconds spent in each stage, as the server saw it. The key stages (setup,
   * ask-keys, share-keys) run while the clients train; a stage still open when the fit phase
   * ends is timed from then, so the time clients spent training is never counted as a stage's.
   */
  readonly stageMs: Readonly<Partial<Record<Stage, number>>>;
  /**
   * Wall-clock milliseconds from the end of the fit phase to the end of secure aggregation: what
   * it added to the round beyond training. Absent in records written before it was measured.
   */
  readonly afterFitMs?: number;
  /** Encoded protocol bytes per participating client (median over clients), both directions. */
  readonly bytesUpPerClient: number;
  readonly bytesDownPerClient: number;
  /** Clients whose masked vectors were summed. */
  readonly survivors: number;
  /** Set when the secure aggregation aborted; the round then kept the previous parameters. */
  readonly aborted?: string;
}

export interface RoundRecord {
  readonly round: number;
  /** Clients asked to fit. */
  readonly sampled: number;
  /** Clients whose updates are in the aggregate. */
  readonly aggregated: number;
  /** Clients that failed, timed out or vanished during fit or secure aggregation, by id. */
  readonly dropped: readonly string[];
  readonly fitMetrics: Metrics;
  /** Weighted mean over the clients that evaluated (Flower's "distributed" evaluation). */
  readonly distributed?: EvaluationRecord;
  /** The strategy's server-side evaluation of the new global parameters. */
  readonly centralized?: EvaluationRecord;
  readonly secAgg?: SecAggRoundRecord;
  readonly durationMs: number;
  /**
   * Set when the round kept the previous global parameters, saying why: too few clients
   * available or successful, failures while the strategy does not accept them, or an aborted
   * secure aggregation.
   */
  readonly aborted?: string;
}

export interface History {
  readonly rounds: readonly RoundRecord[];
  /** Centralized evaluation of the initial parameters (round 0), when the strategy has one. */
  readonly initial?: EvaluationRecord;
}
