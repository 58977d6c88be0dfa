/**
 * The Strategy interface (Flower's split): configure a round, aggregate its results, evaluate.
 * The server loop owns the I/O; a strategy only decides who takes part, with which instructions,
 * and what the results mean. Swapping algorithms never touches the loop.
 */
import type { SecAggOptions } from '../../secagg/params.js';
import type { ClientProxy, EvaluateIns, EvaluateRes, FitIns, FitRes } from '../client.js';
import type { EvaluationRecord, Metrics } from '../history.js';
import type { Parameters } from '../parameters.js';

export interface Instruction<I> {
  readonly client: ClientProxy;
  readonly ins: I;
}

export interface Result<R> {
  readonly client: ClientProxy;
  readonly res: R;
}

export type FitResult = Result<FitRes>;
export type EvaluateResult = Result<EvaluateRes>;

export type Phase = 'fit' | 'evaluate';

/** The new global parameters, or why the round keeps the previous ones. */
export type FitAggregate =
  { readonly parameters: Parameters; readonly metrics: Metrics } | { readonly aborted: string };

export interface Strategy {
  /** Names the strategy in checkpoints (a run resumes only under the strategy that wrote it). */
  readonly name: string;
  /**
   * When set, the server aggregates fit updates by secure aggregation with these options: it
   * never sees an individual update, and hands the securely computed weighted mean to
   * {@link fromWeightedMean}. Only weighted-mean strategies accept it.
   */
  readonly secureAggregation?: SecAggOptions;

  /** The initial global parameters; undefined asks one client for its own. */
  initializeParameters(): Promise<Parameters | undefined>;

  /** Which of the available clients fit in this round, and with which instructions. */
  configureFit(
    round: number,
    parameters: Parameters,
    clients: readonly ClientProxy[],
  ): readonly Instruction<FitIns>[];

  /**
   * Why a phase's results may not be used (fewer than the strategy's minimum succeeded, or any
   * failed while failures are not accepted), or undefined when they may. The server asks before
   * aggregating, and in a secure round both before and after secure aggregation.
   */
  checkOutcome(phase: Phase, succeeded: number, failed: number): string | undefined;

  /** Turns the round's individual updates into new global parameters. */
  aggregateFit(round: number, results: readonly FitResult[], current: Parameters): FitAggregate;

  /**
   * The server update of a weighted-mean strategy: new global parameters from the weighted mean
   * of the clients' parameters (`totalWeight` is the sum of their weights). `aggregateFit` of
   * such a strategy is "weighted mean, then this"; secure rounds call it with the mean that
   * secure aggregation produced. Required when `secureAggregation` is set.
   */
  fromWeightedMean?(
    round: number,
    mean: Parameters,
    totalWeight: number,
    current: Parameters,
  ): Parameters;

  /** Which clients evaluate the global parameters, with which instructions (may be none). */
  configureEvaluate(
    round: number,
    parameters: Parameters,
    clients: readonly ClientProxy[],
  ): readonly Instruction<EvaluateIns>[];

  /** Combines the clients' evaluations (Flower's distributed evaluation). */
  aggregateEvaluate(round: number, results: readonly EvaluateResult[]): EvaluationRecord;

  /** Evaluates global parameters on the server (centralized evaluation); round 0 is the start. */
  evaluate?(round: number, parameters: Parameters): Promise<EvaluationRecord | undefined>;

  /** Server-side optimizer state (e.g. momentum) as named tensors, saved with each checkpoint. */
  saveState?(): Parameters;
  /** Restores what `saveState` returned, when a run resumes from a checkpoint. */
  loadState?(state: Parameters): void;
}
