/**
 * Runs a `Client` behind any transport: answers fit, evaluate and get-parameters, and hosts the
 * client side of secure aggregation (the SecAggClient state machine) for it. The same host runs
 * in-process (`localProxy`), in the simulator's workers and in network clients, so they all
 * behave alike: a transport only moves FitIns / EvaluateIns / encoded SecAgg messages to it.
 *
 * A secure round: fit with `secureRound` set trains, keeps update Δ = fit parameters − global
 * parameters (flat) with the example count, and answers WITHHELD_FIT_RES; the SecAgg messages of
 * that round then mask Δ into the aggregate. The host keeps at most one round's update and
 * session: a newer secure fit discards whatever an unfinished earlier round left.
 */
import { SecAggClient, type ClientInput, type SecAggClientOptions } from '../secagg/client.js';
import { decodeServerMessage, encodeClientMessage } from '../secagg/codec.js';
import { difference } from './arithmetic.js';
import {
  WITHHELD_FIT_RES,
  type Client,
  type Config,
  type EvaluateIns,
  type EvaluateRes,
  type FitIns,
  type FitRes,
} from './client.js';
import { checkCompatible, type Parameters } from './parameters.js';

/** Options of the hosted SecAggClient (its input is the kept update). */
export type ClientHostOptions = Omit<SecAggClientOptions, 'input'>;

interface Session {
  readonly round: number;
  readonly machine: SecAggClient;
  /** Bits per masked entry, from the round's parameters: the encoding of the masked vector. */
  readonly modBits: number;
}

/** An abort reply; `modBits` only matters for masked vectors, so any value encodes it. */
const abortReply = (reason: string): Uint8Array =>
  encodeClientMessage({ stage: 'abort', reason }, 32);

export class ClientHost {
  readonly #client: Client;
  readonly #options: ClientHostOptions;
  #kept: { readonly round: number; readonly input: ClientInput } | undefined;
  #session: Session | undefined;

  constructor(client: Client, options: ClientHostOptions = {}) {
    this.#client = client;
    this.#options = options;
  }

  getParameters(config: Config): Promise<Parameters> {
    return this.#client.getParameters(config);
  }

  evaluate(ins: EvaluateIns): Promise<EvaluateRes> {
    return this.#client.evaluate(ins.parameters, ins.config);
  }

  async fit(ins: FitIns): Promise<FitRes> {
    const res = await this.#client.fit(ins.parameters, ins.config);
    if (ins.secureRound === undefined) return res;
    checkCompatible(ins.parameters, res.parameters);
    this.#kept = {
      round: ins.secureRound,
      input: { values: difference(res.parameters, ins.parameters), numExamples: res.numExamples },
    };
    this.#session = undefined;
    return WITHHELD_FIT_RES;
  }

  /** Answers one encoded SecAgg server message of `round` with the encoded reply. */
  secAgg(round: number, message: Uint8Array): Uint8Array {
    let decoded;
    try {
      decoded = decodeServerMessage(message);
    } catch (error) {
      return abortReply((error as Error).message);
    }
    if (decoded.stage === 'setup') {
      const kept = this.#kept;
      if (kept?.round !== round) return abortReply(`no update was kept for round ${round}`);
      this.#session = {
        round,
        modBits: decoded.params.modBits,
        machine: new SecAggClient({
          ...this.#options,
          // Called once, at ask-vectors; the update is not needed after it is masked.
          input: () => {
            this.#kept = undefined;
            return kept.input;
          },
        }),
      };
    }
    const session = this.#session;
    if (session?.round !== round) return abortReply(`no secure aggregation of round ${round}`);
    const reply = session.machine.handle(decoded);
    if (session.machine.expecting === 'done' || session.machine.expecting === 'aborted') {
      this.#session = undefined;
    }
    return encodeClientMessage(reply, session.modBits);
  }
}
