/**
 * What every built-in strategy shares, after Flower's FedAvg: client sampling by fraction with
 * minimums, fit and evaluate configs per round, failure policy, distributed evaluation as the
 * example-weighted mean, and centralized evaluation through a user function.
 */
import { seededRandom, shuffle, systemRandom, type RandomSource } from '../../crypto/random.js';
import type { SecAggOptions } from '../../secagg/params.js';
import type { ClientProxy, Config, EvaluateIns, FitIns } from '../client.js';
import type { EvaluationRecord, Metrics } from '../history.js';
import { evaluationRecord, weightedAverage, weightedMetrics } from '../metrics.js';
import { validateParameters, type Parameters } from '../parameters.js';
import { integerAtLeast, numberIn } from './options.js';
import type {
  EvaluateResult,
  FitAggregate,
  FitResult,
  Instruction,
  Phase,
  Strategy,
} from './strategy.js';

/** A centralized evaluation as the user's function reports it. */
export interface CentralizedEvaluation {
  readonly loss: number;
  readonly metrics?: Metrics;
}

export interface StrategyOptions {
  /** Fraction of the available clients asked to fit each round. Default 1. */
  readonly fractionFit?: number;
  /** Fraction of the available clients asked to evaluate each round; 0 skips. Default 1. */
  readonly fractionEvaluate?: number;
  /** Never fewer clients fit; a round with fewer successful updates keeps its parameters. Default 2. */
  readonly minFitClients?: number;
  /** Never fewer clients evaluate. Default 2. */
  readonly minEvaluateClients?: number;
  /** No round starts with fewer clients available. Default 2. */
  readonly minAvailableClients?: number;
  /** Aggregate a round in which some clients failed. Default true. */
  readonly acceptFailures?: boolean;
  /** The initial global parameters; without them the server asks one client. */
  readonly initialParameters?: Parameters;
  /** Centralized evaluation of the global parameters, called after every round and for round 0. */
  readonly evaluateFn?: (
    round: number,
    parameters: Parameters,
  ) => Promise<CentralizedEvaluation | undefined>;
  /** The fit config of a round (e.g. epochs, learning rate). */
  readonly onFitConfig?: (round: number) => Config;
  /** The evaluate config of a round. */
  readonly onEvaluateConfig?: (round: number) => Config;
  /**
   * Makes client sampling reproducible. Each round and phase draws from its own stream, so a run
   * resumed from a checkpoint samples what the uninterrupted run would have. Default: the
   * platform CSPRNG.
   */
  readonly seed?: string | number;
  /** Secure aggregation of fit updates (weighted-mean strategies only); `{}` means defaults. */
  readonly secureAggregation?: SecAggOptions;
}

export abstract class BaseStrategy implements Strategy {
  abstract readonly name: string;
  readonly fractionFit: number;
  readonly fractionEvaluate: number;
  readonly minFitClients: number;
  readonly minEvaluateClients: number;
  readonly minAvailableClients: number;
  readonly acceptFailures: boolean;
  readonly #options: StrategyOptions;

  constructor(options: StrategyOptions) {
    this.fractionFit = numberIn('fractionFit', options.fractionFit, 1, 0, 1);
    this.fractionEvaluate = numberIn('fractionEvaluate', options.fractionEvaluate, 1, 0, 1);
    this.minFitClients = integerAtLeast('minFitClients', options.minFitClients, 2, 1);
    this.minEvaluateClients = integerAtLeast(
      'minEvaluateClients',
      options.minEvaluateClients,
      2,
      0,
    );
    this.minAvailableClients = integerAtLeast(
      'minAvailableClients',
      options.minAvailableClients,
      2,
      0,
    );
    this.acceptFailures = options.acceptFailures ?? true;
    if (options.initialParameters !== undefined) validateParameters(options.initialParameters);
    this.#options = options;
  }

  async initializeParameters(): Promise<Parameters | undefined> {
    return this.#options.initialParameters;
  }

  configureFit(
    round: number,
    parameters: Parameters,
    clients: readonly ClientProxy[],
  ): readonly Instruction<FitIns>[] {
    const config = this.fitConfig(round);
    return this.#sample(round, 'fit', clients, this.fractionFit, this.minFitClients).map(
      (client) => ({ client, ins: { parameters, config } }),
    );
  }

  configureEvaluate(
    round: number,
    parameters: Parameters,
    clients: readonly ClientProxy[],
  ): readonly Instruction<EvaluateIns>[] {
    if (this.fractionEvaluate === 0) return [];
    const config = this.#options.onEvaluateConfig?.(round) ?? {};
    return this.#sample(
      round,
      'evaluate',
      clients,
      this.fractionEvaluate,
      this.minEvaluateClients,
    ).map((client) => ({ client, ins: { parameters, config } }));
  }

  /** The config sent with every fit instruction of a round; subclasses add their own keys. */
  protected fitConfig(round: number): Config {
    return this.#options.onFitConfig?.(round) ?? {};
  }

  /**
   * Flower's rule: max(floor(available x fraction), minimum) clients, and none at all when fewer
   * than that or than minAvailableClients are available.
   */
  #sample(
    round: number,
    phase: Phase,
    clients: readonly ClientProxy[],
    fraction: number,
    minimum: number,
  ): ClientProxy[] {
    const count = Math.max(Math.floor(clients.length * fraction), minimum);
    if (clients.length < this.minAvailableClients || count > clients.length) return [];
    return shuffle(clients, this.#random(`${phase}-${round}`)).slice(0, count);
  }

  #random(label: string): RandomSource {
    const seed = this.#options.seed;
    return seed === undefined ? systemRandom : seededRandom(seed, `sepal/fl/sample/${label}`);
  }

  checkOutcome(phase: Phase, succeeded: number, failed: number): string | undefined {
    if (failed > 0 && !this.acceptFailures) {
      return `${failed} client(s) failed during ${phase} and acceptFailures is off`;
    }
    // Flower evaluates with whatever arrived; fit needs minFitClients updates.
    const minimum = phase === 'fit' ? this.minFitClients : 1;
    if (succeeded < minimum) {
      return `${succeeded} client(s) completed ${phase}, fewer than the minimum of ${minimum}`;
    }
    return undefined;
  }

  abstract aggregateFit(
    round: number,
    results: readonly FitResult[],
    current: Parameters,
  ): FitAggregate;

  /** The example-weighted mean of the clients' fit metrics. */
  protected fitMetrics(results: readonly FitResult[]): Metrics {
    return weightedMetrics(results.map((r) => r.res));
  }

  aggregateEvaluate(_round: number, results: readonly EvaluateResult[]): EvaluationRecord {
    const loss = weightedAverage(results.map((r) => [r.res.loss, r.res.numExamples] as const));
    const total = results.reduce((sum, r) => sum + r.res.numExamples, 0);
    return evaluationRecord(loss, weightedMetrics(results.map((r) => r.res)), total);
  }

  async evaluate(round: number, parameters: Parameters): Promise<EvaluationRecord | undefined> {
    const result = await this.#options.evaluateFn?.(round, parameters);
    return result === undefined ? undefined : evaluationRecord(result.loss, result.metrics ?? {});
  }
}
