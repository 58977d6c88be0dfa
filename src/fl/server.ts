/**
 * The server loop: rounds of fit then evaluate, after Flower's Server.fit.
 *
 * Per round: the strategy samples and instructs clients; their fit calls run concurrently under
 * the round deadline; the strategy aggregates the successful updates (or, with secure
 * aggregation, a SecAgg round among the sampled clients runs alongside their training, its key
 * stages overlapping the fits, and hands the strategy the securely computed mean of those whose
 * fit succeeded); the new parameters are evaluated centrally and by sampled clients; the round
 * is appended to History and checkpointed. A client that fails, times out or misbehaves is a
 * failure of that round, never of the run; a round with too few successes keeps the previous
 * parameters and says why in `RoundRecord.aborted`.
 */
import type { RandomSource } from '../crypto/random.js';
import type { SecAggOptions } from '../secagg/params.js';
import { offsetBy } from './arithmetic.js';
import { callAll, type Outcome } from './calls.js';
import type { Checkpoint, CheckpointStore } from './checkpoint.js';
import type { ClientProxy, EvaluateRes, FitRes } from './client.js';
import { ConfigError, ReplyError } from './errors.js';
import { FitTracker, type Training } from './fit-tracker.js';
import type { ServerEvent } from './events.js';
import type {
  EvaluationRecord,
  History,
  Metrics,
  RoundRecord,
  SecAggRoundRecord,
} from './history.js';
import { checkCompatible, totalSize, validateParameters, type Parameters } from './parameters.js';
import { runSecureRound, type SecureRoundOutcome } from './secure-round.js';
import { integerAtLeast, numberIn } from './strategy/options.js';
import type { Result, Strategy } from './strategy/strategy.js';

export interface ServerOptions {
  readonly strategy: Strategy;
  /** The clients, or a function listing those available now (a deployment's live connections). */
  readonly clients: readonly ClientProxy[] | (() => readonly ClientProxy[]);
  /** Rounds to reach; a resumed run continues up to this round. */
  readonly numRounds: number;
  /**
   * Ends the run early after a round whose record satisfies it (e.g. a target accuracy). Checked
   * after the round is checkpointed, so a resumed run that had already stopped stays stopped.
   */
  readonly stopWhen?: (record: RoundRecord) => boolean;
  /** Deadline in ms of each phase's client calls (fit, evaluate); late clients fail. Default: none. */
  readonly roundTimeoutMs?: number;
  /** Deadline in ms of each SecAgg stage. Default: roundTimeoutMs. */
  readonly secAggStageTimeoutMs?: number;
  /** Where to checkpoint after every round, and to resume from when it holds a checkpoint. */
  readonly checkpoint?: CheckpointStore;
  readonly onEvent?: (event: ServerEvent) => void;
  /**
   * Randomness of secure aggregation's server side (round ids, SecAgg+ neighbour graphs).
   * Default: the platform CSPRNG; seed it in simulations only.
   */
  readonly random?: RandomSource;
}

export interface RunResult {
  readonly parameters: Parameters;
  readonly history: History;
}

/** The fit half of a round: the new global parameters and what the round's record says of it. */
interface FitOutcome {
  readonly parameters: Parameters;
  readonly record: Pick<
    RoundRecord,
    'sampled' | 'aggregated' | 'dropped' | 'fitMetrics' | 'secAgg' | 'aborted'
  >;
}

/** What aggregation made of a round's fit results: new parameters, or why there are none. */
type Aggregation =
  | {
      readonly parameters: Parameters;
      readonly metrics: Metrics;
      /** Clients whose updates are in the aggregate. */
      readonly aggregated: number;
    }
  | { readonly aborted: string };

/** How a secure strategy is run: its SecAgg options and its server update. */
interface Secure {
  readonly options: SecAggOptions;
  readonly fromWeightedMean: NonNullable<Strategy['fromWeightedMean']>;
}

function checkNumExamples(numExamples: number): void {
  if (!(Number.isFinite(numExamples) && numExamples >= 0)) {
    throw new ReplyError('numExamples', `must be a non-negative number, got ${numExamples}`);
  }
}

function checkFitRes(global: Parameters, res: FitRes): FitRes {
  checkCompatible(global, res.parameters);
  checkNumExamples(res.numExamples);
  return res;
}

function checkEvaluateRes(res: EvaluateRes): EvaluateRes {
  if (!Number.isFinite(res.loss)) throw new ReplyError('loss', `must be finite, got ${res.loss}`);
  checkNumExamples(res.numExamples);
  return res;
}

/** Splits call outcomes into results and failures, keeping their order. */
function partition<T>(outcomes: readonly Outcome<T>[]) {
  const results: Result<T>[] = [];
  const failures: ClientProxy[] = [];
  for (const outcome of outcomes) {
    if ('error' in outcome) failures.push(outcome.client);
    else results.push({ client: outcome.client, res: outcome.value });
  }
  return { results, failures };
}

class ServerRun {
  readonly #options: ServerOptions;
  readonly #strategy: Strategy;
  readonly #timeoutMs: number | undefined;
  readonly #stageTimeoutMs: number | undefined;
  readonly #secure: Secure | undefined;

  constructor(options: ServerOptions) {
    this.#options = options;
    this.#strategy = options.strategy;
    integerAtLeast('numRounds', options.numRounds, Number.NaN, 0);
    const positive = (name: string, value: number | undefined) =>
      value === undefined ? undefined : numberIn(name, value, value, 1);
    this.#timeoutMs = positive('roundTimeoutMs', options.roundTimeoutMs);
    this.#stageTimeoutMs =
      positive('secAggStageTimeoutMs', options.secAggStageTimeoutMs) ?? this.#timeoutMs;
    const { secureAggregation, fromWeightedMean } = this.#strategy;
    if (secureAggregation === undefined) {
      this.#secure = undefined;
    } else if (fromWeightedMean === undefined) {
      throw new ConfigError(
        'secureAggregation',
        `strategy ${this.#strategy.name} has no fromWeightedMean, so it cannot take its ` +
          'aggregate from secure aggregation',
      );
    } else {
      this.#secure = {
        options: secureAggregation,
        fromWeightedMean: fromWeightedMean.bind(this.#strategy),
      };
    }
  }

  #emit(event: ServerEvent): void {
    this.#options.onEvent?.(event);
  }

  #available(): readonly ClientProxy[] {
    const { clients } = this.#options;
    return typeof clients === 'function' ? clients() : clients;
  }

  async run(): Promise<RunResult> {
    let { round, parameters, history } = await this.#start();
    this.#emit({ type: 'run-started', firstRound: round + 1, numRounds: this.#options.numRounds });
    const { stopWhen } = this.#options;
    const last = history.rounds.at(-1);
    let stopped = last !== undefined && stopWhen?.(last) === true;
    while (round < this.#options.numRounds && !stopped) {
      round += 1;
      const startedAt = performance.now();
      const fit = await this.#fit(round, parameters);
      parameters = fit.parameters;
      const centralized = await this.#strategy.evaluate?.(round, parameters);
      const distributed = await this.#evaluate(round, parameters);
      const record: RoundRecord = {
        round,
        ...fit.record,
        ...(distributed !== undefined ? { distributed } : {}),
        ...(centralized !== undefined ? { centralized } : {}),
        durationMs: performance.now() - startedAt,
      };
      history = { ...history, rounds: [...history.rounds, record] };
      await this.#save({ round, parameters, history });
      this.#emit({ type: 'round-finished', round, record });
      stopped = stopWhen?.(record) === true;
    }
    return { parameters, history };
  }

  async #save(state: Pick<Checkpoint, 'round' | 'parameters' | 'history'>): Promise<void> {
    await this.#options.checkpoint?.save({
      ...state,
      strategy: this.#strategy.name,
      strategyState: this.#strategy.saveState?.() ?? [],
    });
  }

  /** The state after the last completed round: from the checkpoint, or round 0 of a new run. */
  async #start(): Promise<Pick<Checkpoint, 'round' | 'parameters' | 'history'>> {
    const saved = await this.#options.checkpoint?.loadLatest();
    if (saved !== undefined) {
      if (saved.strategy !== this.#strategy.name) {
        throw new ConfigError(
          'checkpoint',
          `was written by a ${saved.strategy} run; this run uses ${this.#strategy.name}`,
        );
      }
      this.#strategy.loadState?.(saved.strategyState);
      return saved;
    }
    const parameters = await this.#initialParameters();
    const initial = await this.#strategy.evaluate?.(0, parameters);
    const state = {
      round: 0,
      parameters,
      history: initial === undefined ? { rounds: [] } : { rounds: [], initial },
    };
    await this.#save(state);
    return state;
  }

  /** The strategy's initial parameters, else those of the first available client (as Flower). */
  async #initialParameters(): Promise<Parameters> {
    const parameters =
      (await this.#strategy.initializeParameters()) ?? (await this.#askFirstClient());
    validateParameters(parameters);
    return parameters;
  }

  async #askFirstClient(): Promise<Parameters> {
    const client = this.#available()[0];
    if (client === undefined) {
      throw new ConfigError(
        'initialParameters',
        'the strategy has none and no client is available to ask for them',
      );
    }
    const [outcome] = (await callAll(
      [{ client, ins: {} }],
      (c, _ins, signal) => c.getParameters({}, signal),
      { phase: 'get-parameters', timeoutMs: this.#timeoutMs },
    )) as [Outcome<Parameters>];
    if ('error' in outcome) {
      throw new Error(`could not get the initial parameters from client ${client.id}`, {
        cause: outcome.error,
      });
    }
    return outcome.value;
  }

  async #fit(round: number, parameters: Parameters): Promise<FitOutcome> {
    const secure = this.#secure;
    const instructions = this.#strategy
      .configureFit(round, parameters, this.#available())
      .map(({ client, ins }) => ({
        client,
        ins: secure === undefined ? ins : { ...ins, secureRound: round },
      }));
    const sampled = instructions.length;
    this.#emit({ type: 'round-started', round, sampled, secure: secure !== undefined });
    const clients = instructions.map((i) => i.client);
    // Secure aggregation starts with training: its key stages run while the clients train.
    const training = secure !== undefined && sampled > 0 ? new FitTracker(clients) : undefined;
    const giveUp = new AbortController();
    const secureRound =
      secure === undefined || training === undefined
        ? undefined
        : this.#secureAggregate(round, parameters, secure, clients, training, giveUp.signal);
    // Awaited below; until then a failure must not count as unhandled.
    secureRound?.catch(() => undefined);
    const outcomes = await callAll(
      instructions,
      async (client, ins, signal) => {
        const res = await client.fit(ins, signal);
        // A secure fit answers nothing to check: the update travels masked.
        return secure === undefined ? checkFitRes(parameters, res) : res;
      },
      {
        phase: 'fit',
        timeoutMs: this.#timeoutMs,
        onSettled: (o) => {
          training?.settle(o.client, !('error' in o));
          this.#emit({
            type: 'fit-finished',
            round,
            client: o.client.id,
            ...('error' in o ? { error: o.error.message } : {}),
          });
        },
      },
    );
    training?.finish();
    const { results, failures } = partition(outcomes);
    const dropped = failures.map((c) => c.id);
    let secAgg: SecAggRoundRecord | undefined;
    let aggregation: Aggregation;
    const refusal =
      sampled === 0
        ? 'too few clients available to sample'
        : this.#strategy.checkOutcome('fit', results.length, failures.length);
    if (refusal !== undefined) {
      giveUp.abort(new Error(refusal));
      await secureRound?.catch(() => undefined);
      aggregation = { aborted: refusal };
    } else if (secureRound !== undefined) {
      const outcome = await secureRound;
      // A client whose fit failed also left the secure aggregation: it is listed once.
      for (const client of outcome.dropped)
        if (!dropped.includes(client.id)) dropped.push(client.id);
      secAgg = outcome.record;
      aggregation = outcome.aggregation;
    } else {
      const aggregate = this.#strategy.aggregateFit(round, results, parameters);
      aggregation =
        'aborted' in aggregate ? aggregate : { ...aggregate, aggregated: results.length };
    }
    const record = { sampled, dropped, ...(secAgg !== undefined ? { secAgg } : {}) };
    return 'aborted' in aggregation
      ? { parameters, record: { ...record, aggregated: 0, fitMetrics: {}, ...aggregation } }
      : {
          parameters: aggregation.parameters,
          record: {
            ...record,
            aggregated: aggregation.aggregated,
            fitMetrics: aggregation.metrics,
          },
        };
  }

  /**
   * A SecAgg round among the sampled clients, alongside their training. Their inputs are the
   * updates Δ = fit parameters − global parameters, so the securely averaged Δ plus the global
   * parameters is the weighted mean of their parameters, which the strategy's server update
   * takes. A client whose secure fit fails drops out of the SecAgg round. Clients' fit metrics
   * stay with them: only the count of survivors is recorded.
   */
  async #secureAggregate(
    round: number,
    parameters: Parameters,
    secure: Secure,
    participants: readonly ClientProxy[],
    training: Training,
    signal: AbortSignal,
  ): Promise<SecureRoundOutcome & { readonly aggregation: Aggregation }> {
    const outcome = await runSecureRound({
      round,
      clients: participants,
      dim: totalSize(parameters),
      options: secure.options,
      stageTimeoutMs: this.#stageTimeoutMs,
      random: this.#options.random,
      training,
      signal,
      onStage: (stage, ms, active) =>
        this.#emit({ type: 'secagg-stage', round, stage, ms, active }),
      onDropped: (client, stage, reason) =>
        this.#emit({ type: 'client-dropped', round, client: client.id, stage, reason }),
    });
    const { result } = outcome;
    if (result === undefined) {
      return { ...outcome, aggregation: { aborted: outcome.record.aborted ?? 'aborted' } };
    }
    const survivors = result.survivors.length;
    const refusal = this.#strategy.checkOutcome('fit', survivors, participants.length - survivors);
    if (refusal !== undefined) return { ...outcome, aggregation: { aborted: refusal } };
    const mean = offsetBy(parameters, result.values);
    return {
      ...outcome,
      aggregation: {
        parameters: secure.fromWeightedMean(round, mean, result.totalWeight, parameters),
        metrics: {},
        aggregated: survivors,
      },
    };
  }

  async #evaluate(round: number, parameters: Parameters): Promise<EvaluationRecord | undefined> {
    const instructions = this.#strategy.configureEvaluate(round, parameters, this.#available());
    if (instructions.length === 0) return undefined;
    const outcomes = await callAll(
      instructions,
      async (client, ins, signal) => checkEvaluateRes(await client.evaluate(ins, signal)),
      {
        phase: 'evaluate',
        timeoutMs: this.#timeoutMs,
        onSettled: (o) =>
          this.#emit({
            type: 'evaluate-finished',
            round,
            client: o.client.id,
            ...('error' in o ? { error: o.error.message } : {}),
          }),
      },
    );
    const { results, failures } = partition(outcomes);
    return this.#strategy.checkOutcome('evaluate', results.length, failures.length) === undefined
      ? this.#strategy.aggregateEvaluate(round, results)
      : undefined;
  }
}

/**
 * Runs federated learning to `numRounds` and returns the final global parameters and History.
 * With a checkpoint store holding a checkpoint, it resumes after that checkpoint's round with its
 * parameters, history and strategy state.
 */
export async function runServer(options: ServerOptions): Promise<RunResult> {
  return new ServerRun(options).run();
}
