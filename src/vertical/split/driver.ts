/**
 * Drives split training step by step, in one process: the passive party sends each embedding
 * through a transport and awaits the gradient under a deadline. The transport is the seam for
 * the network: the in-process one below calls the active party directly, through the codec, and
 * a deployment's RPC client (optionally over an attested channel) will have the same signature.
 *
 * Failure handling: whatever goes wrong in a step (a refused message on either side, a
 * non-finite value, a peer that does not answer in time), neither party keeps a partial step:
 * the passive party applies nothing, the active party rolls back its provisional update, and the
 * typed error (naming the party and peer) propagates to the caller.
 */
import { PeerError, PeerTimeoutError } from '../errors.js';
import type { ActiveParty } from './active.js';
import { decodeSplitMessage, encodeSplitMessage } from './codec.js';
import type { AbortMessage, EmbeddingMessage, GradientMessage, Matrix } from './messages.js';
import type { PassiveParty } from './passive.js';

/** Carries one encoded embedding message to the active party and brings back its reply. */
export type SplitTransport = (request: Uint8Array) => Promise<Uint8Array>;

export function inProcessTransport(active: ActiveParty): SplitTransport {
  return async (request) => {
    const message = decodeSplitMessage(request, active.name, active.peer);
    if (message.kind === 'gradient') {
      throw new PeerError(
        active.name,
        active.peer,
        'a gradient, which only the active party sends',
      );
    }
    const reply = await active.receive(message);
    return encodeSplitMessage(reply ?? { kind: 'abort', step: message.step, reason: 'aborted' });
  };
}

export interface TrainOptions {
  /** How long the passive party waits for each gradient (default 30 s). */
  timeoutMs?: number;
  /** Default: the in-process transport to `active`. */
  transport?: SplitTransport;
  /** First step to run (default 0): resumes training after a failed step. */
  from?: number;
  /** Called after each completed step with the batch loss before the update. */
  onStep?: (step: number, loss: number) => void;
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Runs steps [from, steps) of the shared schedule; returns their batch losses. */
export async function trainSplit(
  passive: PassiveParty,
  active: ActiveParty,
  steps: number,
  options: TrainOptions = {},
): Promise<number[]> {
  const { timeoutMs = 30_000, transport = inProcessTransport(active) } = options;
  const losses: number[] = [];
  for (let step = options.from ?? 0; step < steps; step++) {
    const request: EmbeddingMessage = passive.embed(step);
    try {
      const replyBytes = await withTimeout(
        transport(encodeSplitMessage(request)),
        timeoutMs,
        () =>
          new PeerTimeoutError(passive.name, active.name, `gradient for step ${step}`, timeoutMs),
      );
      const reply = decodeSplitMessage(replyBytes, passive.name, active.name);
      if (reply.kind === 'embedding') {
        throw new PeerError(
          passive.name,
          active.name,
          'an embedding, which only the passive party sends',
        );
      }
      await passive.receive(reply satisfies GradientMessage | AbortMessage);
      if (reply.kind === 'abort') {
        throw new PeerError(passive.name, active.name, `aborted step ${step}: ${reply.reason}`);
      }
    } catch (error) {
      await active.rollback();
      throw error;
    }
    active.commit();
    losses.push(active.lastLoss);
    options.onStep?.(step, active.lastLoss);
  }
  return losses;
}

/** Predicted classes for rows both parties hold, through the cut layer (no noise). */
export function predictSplit(
  passive: PassiveParty,
  active: ActiveParty,
  passiveFeatures: Matrix,
  activeFeatures: Matrix,
): Int32Array {
  return active.predict(passive.infer(passiveFeatures), activeFeatures);
}

export function accuracy(predicted: ArrayLike<number>, labels: ArrayLike<number>): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return correct / labels.length;
}
