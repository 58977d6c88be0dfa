/**
 * The passive party's side of a two-process run, calling the active party through ActiveClient:
 * Open (the plan), PSI until both parties hold the intersection, one Step per batch of the shared
 * schedule, Evaluate (optional), Finish.
 *
 * Failure: whatever goes wrong, the passive party has applied nothing of the step in flight (it
 * applies a gradient only after checking it), so `party` holds its last good state; the run then
 * tells the active party it gives up (Finish with a reason, best effort, so the active party rolls
 * back the same step) and throws the error, which names the active party.
 */
import { PeerError } from '../errors.js';
import type { PsiResult } from '../psi/party.js';
import { decodeSplitMessage, encodeSplitMessage, matrixMessage } from '../split/codec.js';
import type { Matrix } from '../split/messages.js';
import type { PassiveParty } from '../split/passive.js';
import type { ActiveClient } from './client.js';
import { planMessage, PROTOCOL_VERSION, type RunPlan } from './plan.js';
import { PsiEndpoint, type PsiSettings } from './psi-endpoint.js';

export interface AlignedPassive {
  party: PassiveParty;
  steps: number;
}

export interface PassiveRunOptions {
  client: ActiveClient;
  ids: readonly string[];
  plan: RunPlan;
  /** Builds the party from the PSI result: its rows in the aligned order. */
  align: (result: PsiResult) => AlignedPassive | Promise<AlignedPassive>;
  /** Features of rows the active party holds in the same order with labels, for Evaluate. */
  evaluation?: Matrix;
  /** PSI's randomness and group arithmetic (default: CSPRNG, libsodium on the calling thread). */
  psi?: PsiSettings;
  /** Deadline of Open, each step and Finish. */
  timeoutMs: number;
  /** Deadline of each PSI call and of Evaluate, which compute over whole sets. */
  psiTimeoutMs: number;
  onEvent?: (event: PassiveEvent) => void;
}

export type PassiveEvent =
  | { type: 'opened' }
  | { type: 'aligned'; count: number; peerCount: number }
  | { type: 'step'; step: number; steps: number }
  | { type: 'evaluated'; accuracy: number }
  | { type: 'finished'; steps: number };

export interface PassiveOutcome {
  aligned: number;
  steps: number;
  accuracy: number | undefined;
}

/** How long the best-effort "giving up" message may take. */
const ABANDON_TIMEOUT_MS = 2000;

export class PassiveRun {
  /** Set once PSI is done; after a failure it holds the last good state. */
  party: PassiveParty | undefined;
  /** Steps whose gradients this party applied. */
  steps = 0;

  constructor(private readonly options: PassiveRunOptions) {}

  async run(): Promise<PassiveOutcome> {
    const { client, timeoutMs } = this.options;
    const { session } = await client.call(
      'open',
      { protocol: PROTOCOL_VERSION, plan: planMessage(this.options.plan) },
      'session id',
      timeoutMs,
    );
    this.emit({ type: 'opened' });
    try {
      return await this.train(session);
    } catch (error) {
      await client
        .call(
          'finish',
          { session, steps: this.steps, abandon: (error as Error).message },
          'acknowledgement of the end',
          ABANDON_TIMEOUT_MS,
        )
        .catch(() => undefined); // the active party may be the reason: it is gone
      throw error;
    }
  }

  private async train(session: Uint8Array): Promise<PassiveOutcome> {
    const { client, timeoutMs, psiTimeoutMs, evaluation } = this.options;
    const result = await this.align(session);
    const { party, steps } = await this.options.align(result);
    this.party = party;
    for (let step = 0; step < steps; step++) {
      const request = encodeSplitMessage(party.embed(step));
      const { message } = await client.call(
        'step',
        { session, message: request },
        `gradient for step ${step}`,
        timeoutMs,
      );
      const reply = decodeSplitMessage(message, client.name, client.peer);
      if (reply.kind === 'embedding') {
        throw new PeerError(client.name, client.peer, 'an embedding, which only this party sends');
      }
      await party.receive(reply); // checks the gradient before applying it
      if (reply.kind === 'abort') {
        throw new PeerError(client.name, client.peer, `aborted step ${step}: ${reply.reason}`);
      }
      this.steps = step + 1;
      this.emit({ type: 'step', step, steps });
    }
    let accuracy: number | undefined;
    if (evaluation !== undefined) {
      const embedding = matrixMessage(party.infer(evaluation));
      ({ accuracy } = await client.call(
        'evaluate',
        { session, embedding },
        'test accuracy',
        psiTimeoutMs,
      ));
      this.emit({ type: 'evaluated', accuracy });
    }
    const finished = await client.call(
      'finish',
      { session, steps, abandon: '' },
      'acknowledgement of the end',
      timeoutMs,
    );
    if (finished.steps !== steps) {
      throw new PeerError(
        client.name,
        client.peer,
        `finished at ${finished.steps} of ${steps} steps`,
      );
    }
    this.emit({ type: 'finished', steps });
    return { aligned: result.ids.length, steps, accuracy };
  }

  /** PSI: sends this party's messages until the active party has nothing more to say. */
  private async align(session: Uint8Array): Promise<PsiResult> {
    const { client, psiTimeoutMs } = this.options;
    const psi = new PsiEndpoint(this.options.ids, client.name, client.peer, this.options.psi);
    let outgoing = await psi.start();
    let aligned: number | undefined;
    while (outgoing.length > 0) {
      const reply = await client.call(
        'psi',
        { session, messages: outgoing },
        'PSI reply',
        psiTimeoutMs,
      );
      aligned = reply.aligned;
      outgoing = [];
      for (const message of reply.messages) outgoing.push(...(await psi.receive(message)));
    }
    const result = await psi.result();
    if (result === undefined) {
      throw new PeerError(
        client.name,
        client.peer,
        'PSI stopped before the intersection was known',
      );
    }
    if (aligned !== result.ids.length) {
      throw new PeerError(
        client.name,
        client.peer,
        `its intersection has ${aligned ?? 'no'} ids, this party's ${result.ids.length}`,
      );
    }
    this.emit({ type: 'aligned', count: aligned, peerCount: result.peerCount });
    return result;
  }

  private emit(event: PassiveEvent): void {
    this.options.onEvent?.(event);
  }
}
