/**
 * The two faces of a client. `Client` is what a user implements: train and evaluate a model on
 * local data. `ClientProxy` is how the server reaches a client, whatever carries the calls: an
 * in-process object (`localProxy`), a worker thread (the simulator) or the network (deploy/).
 */
import type { Metrics } from './history.js';
import type { Parameters } from './parameters.js';

/** Instructions from the server to a client (Flower's `config`), e.g. epochs or proximalMu. */
export type Config = Readonly<Record<string, number | string | boolean>>;

export interface FitRes {
  readonly parameters: Parameters;
  /** Training examples behind the update: its weight in the weighted mean. */
  readonly numExamples: number;
  readonly metrics: Metrics;
}

export interface EvaluateRes {
  readonly loss: number;
  readonly numExamples: number;
  readonly metrics: Metrics;
}

export interface Client {
  getParameters(config: Config): Promise<Parameters>;
  fit(parameters: Parameters, config: Config): Promise<FitRes>;
  evaluate(parameters: Parameters, config: Config): Promise<EvaluateRes>;
}

export interface FitIns {
  readonly parameters: Parameters;
  readonly config: Config;
  /**
   * Set in a securely aggregated round, to that round's number: the client keeps its update for
   * the secure aggregation that follows and answers fit with {@link WITHHELD_FIT_RES}.
   */
  readonly secureRound?: number;
}

export interface EvaluateIns {
  readonly parameters: Parameters;
  readonly config: Config;
}

/**
 * What a client answers to a secure fit: nothing. Its update and weight leave it only masked,
 * through secure aggregation, and its fit metrics stay with it.
 */
export const WITHHELD_FIT_RES: FitRes = Object.freeze({
  parameters: Object.freeze([]),
  numExamples: 0,
  metrics: Object.freeze({}),
});

/**
 * The server's handle on one client. Every call takes an AbortSignal that fires when the server
 * stops waiting (a deadline passed); an implementation should give up then, and the server treats
 * the call as failed whether or not it does.
 */
export interface ClientProxy {
  /** Unique among the clients of a run; names the client in History and events. */
  readonly id: string;
  getParameters(config: Config, signal: AbortSignal): Promise<Parameters>;
  fit(ins: FitIns, signal: AbortSignal): Promise<FitRes>;
  evaluate(ins: EvaluateIns, signal: AbortSignal): Promise<EvaluateRes>;
  /**
   * Carries one encoded SecAgg server message of round `round` to the client and returns its
   * encoded reply (src/secagg/codec.ts). A rejected promise means the client is gone.
   */
  secAgg(round: number, message: Uint8Array, signal: AbortSignal): Promise<Uint8Array>;
}
