/**
 * Runs a `Client` behind any transport: answers fit, evaluate and get-parameters, and hosts the
 * client side of secure aggregation (the SecAggClient state machine) for it. The same host runs
 * in-process (`localProxy`), in the simulator's workers and in network clients, so they all
 * behave alike: a transport only moves FitIns / EvaluateIns / encoded SecAgg messages to it.
 *
 * A secure round: fit with `secureRound` set trains, keeps update Δ = fit parameters − global
 * parameters (flat) with the example count, and answers WITHHELD_FIT_RES; the SecAgg messages of
 * that round mask Δ into the aggregate. The key stages may come before, during or after the fit
 * (the server runs them alongside training); Δ is read at ask-vectors, and a client whose fit of
 * that round has not succeeded by then answers abort. The host keeps at most one round's update
 * and session: a newer round's fit or setup discards whatever an unfinished earlier round left.
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
import { checkLayout, type Parameters } from './parameters.js';

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
    const round = ins.secureRound;
    if (round !== undefined) this.#forgetBefore(round);
    const res = await this.#client.fit(ins.parameters, ins.config);
    if (round === undefined) return res;
    // The layout here, finiteness while taking the difference: a NaN or infinite parameter fails
    // the fit, naming its tensor. (The SecAgg client checks the update again as it quantizes it.)
    checkLayout(ins.parameters, res.parameters);
    this.#forgetBefore(round);
    this.#kept = {
      round,
      input: { values: difference(res.parameters, ins.parameters), numExamples: res.numExamples },
    };
    return WITHHELD_FIT_RES;
  }

  /** Discards the update and session of rounds other than `round` (an unfinished earlier one). */
  #forgetBefore(round: number): void {
    if (this.#kept?.round !== round) this.#kept = undefined;
    if (this.#session?.round !== round) this.#session = undefined;
  }

  /** The kept update of `round`, handed over once: it is not needed after it is masked. */
  #takeUpdate(round: number): ClientInput {
    const kept = this.#kept;
    if (kept?.round !== round) {
      throw new Error(`no update was kept for round ${round}: its fit has not succeeded`);
    }
    this.#kept = undefined;
    return kept.input;
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
      this.#forgetBefore(round);
      this.#session = {
        round,
        modBits: decoded.params.modBits,
        // The machine reads its input once, at ask-vectors; if that throws, it answers abort.
        machine: new SecAggClient({ ...this.#options, input: () => this.#takeUpdate(round) }),
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
