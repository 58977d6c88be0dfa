/**
 * Drives one SecAgg round of the server loop over ClientProxies: the SecAggServer machine decides,
 * this module only moves encoded messages, keeps time and counts bytes.
 *
 * Every stage's messages go out concurrently. Replies are fed to the machine as they arrive; the
 * machine moves to the next stage by itself once everyone still in the round has answered. A
 * stage closes early (`closeStage`, which drops whoever has not answered) when its deadline passes
 * or when every call of the stage has settled without completing it, i.e. some clients failed:
 * a vanished client costs no waiting when its transport reports it gone.
 *
 * Alongside training (`training`), as in Flower's SecAgg+ workflow, the key stages (setup,
 * ask-keys, share-keys) run while the clients train, so that only masking and unmasking remain
 * after the fit phase. A client gets its ask-vectors message once its own fit has succeeded; a
 * client whose fit fails leaves the round at the stage then open, which the protocol recovers
 * from like any dropout. Stage deadlines do not run while clients train (the fit deadline does):
 * a stage still open when the fit phase ends gets its whole deadline from then, so a transport
 * that answers one call at a time (a node busy training) is not dropped for training.
 */
import type { RandomSource } from '../crypto/random.js';
import type { RoundAbortedError } from '../secagg/errors.js';
import { decodeClientMessage, encodeServerMessage } from '../secagg/codec.js';
import type { SecAggOptions } from '../secagg/params.js';
import {
  SecAggServer,
  type AggregateResult,
  type Outgoing,
  type ServerStep,
} from '../secagg/server.js';
import { STAGES, type Stage } from '../secagg/stages.js';
import { raceAbort } from './calls.js';
import type { ClientProxy } from './client.js';
import type { Training } from './fit-tracker.js';
import type { SecAggRoundRecord } from './history.js';

export interface SecureRoundOptions {
  readonly round: number;
  /** The participants; the i-th gets SecAgg index i + 1 (indices are Shamir x-coordinates). */
  readonly clients: readonly ClientProxy[];
  /** Entries of each client's update. */
  readonly dim: number;
  readonly options: SecAggOptions;
  /** Deadline of each stage; none when undefined. */
  readonly stageTimeoutMs?: number | undefined;
  readonly random?: RandomSource | undefined;
  readonly onStage?: (stage: Stage, ms: number, active: number) => void;
  readonly onDropped?: (client: ClientProxy, stage: Stage, reason: string) => void;
  /** The clients' training, when the round runs alongside it (see the module comment). */
  readonly training?: Training | undefined;
  /**
   * Gives the round up when it fires (the server loop refused the fit phase): the open stage's
   * calls are aborted, no further stage is reported, and the round rejects with the reason.
   */
  readonly signal?: AbortSignal | undefined;
}

export interface SecureRoundOutcome {
  /** The weighted mean of the survivors' updates, or undefined when the round aborted. */
  readonly result?: AggregateResult;
  readonly aborted?: RoundAbortedError;
  /** Clients the machine dropped, in the order it dropped them. */
  readonly dropped: readonly ClientProxy[];
  readonly record: SecAggRoundRecord;
}

/** The stage in progress: its calls (one controller each) and its deadline. */
interface OpenStage {
  readonly stage: Stage;
  readonly controllers: AbortController[];
  /** Its opening, or the end of the fit phase if that came later: its clock and deadline start. */
  startedAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  pending: number;
}

/** Stages whose message makes a client mask its update: sent only once the client has trained. */
const needsUpdate = (stage: Stage): boolean =>
  STAGES.indexOf(stage) >= STAGES.indexOf('ask-vectors');

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function runSecureRound(options: SecureRoundOptions): Promise<SecureRoundOutcome> {
  return new Promise((resolve, reject) => {
    const { clients, round, training, signal } = options;
    const indices = clients.map((_, i) => i + 1);
    const clientOf = (index: number) => clients[index - 1] as ClientProxy;
    const server = new SecAggServer({
      clients: indices,
      dim: options.dim,
      options: options.options,
      ...(options.random !== undefined ? { random: options.random } : {}),
    });
    const modBits = server.params.modBits;
    const up = new Map<number, number>(indices.map((i) => [i, 0]));
    const down = new Map<number, number>(indices.map((i) => [i, 0]));
    const stageMs: Partial<Record<Stage, number>> = {};
    const dropped = new Set<number>();
    /** When the fit phase ended: now when the round does not run alongside training. */
    let fitEndedAt = training === undefined ? performance.now() : undefined;
    /** Clients whose fit failed, and the controller of each client's call in flight. */
    const unfit = new Set<number>();
    const inFlight = new Map<number, AbortController>();
    let open: OpenStage | undefined;
    let finished = false;

    const closeOpenStage = (report: boolean) => {
      if (open === undefined) return;
      clearTimeout(open.timer);
      for (const controller of open.controllers) controller.abort();
      if (report) {
        const ms = performance.now() - open.startedAt;
        stageMs[open.stage] = ms;
        options.onStage?.(open.stage, ms, indices.length - dropped.size);
      }
      open = undefined;
    };

    const end = () => {
      finished = true;
      signal?.removeEventListener('abort', cancel);
    };

    const cancel = () => {
      if (finished) return;
      end();
      closeOpenStage(false);
      reject(signal?.reason);
    };

    const apply = (step: ServerStep) => {
      for (const event of step.events) {
        if (event.kind !== 'dropped' || dropped.has(event.client)) continue;
        dropped.add(event.client);
        options.onDropped?.(clientOf(event.client), event.stage, event.reason);
      }
      if (step.result !== undefined || step.aborted !== undefined) {
        finish(step);
      } else if (server.stage !== open?.stage) {
        openStage(step.send);
      }
    };

    const guarded = (action: () => void) => {
      if (finished) return;
      try {
        action();
      } catch (error) {
        end();
        closeOpenStage(true);
        reject(error);
      }
    };

    /** Starts the stage's deadline; not while clients train (see the module comment). */
    const armDeadline = (stage: OpenStage) => {
      const timeout = options.stageTimeoutMs;
      if (timeout === undefined || fitEndedAt === undefined) return;
      stage.timer = setTimeout(() => guarded(() => apply(server.closeStage())), timeout);
    };

    const openStage = (send: readonly Outgoing[]) => {
      closeOpenStage(true);
      const stage: OpenStage = {
        stage: server.stage as Stage,
        controllers: [],
        startedAt: performance.now(),
        timer: undefined,
        pending: send.length,
      };
      open = stage;
      armDeadline(stage);
      for (const { to, message } of send) void exchange(stage, to, encodeServerMessage(message));
      // Nobody to wait for: the stage is over at once (settled calls would close it otherwise).
      if (send.length === 0) apply(server.closeStage());
    };

    /** False when the client may not be sent this stage's message: its fit failed, or must first succeed. */
    const mayAsk = async (stage: Stage, to: number, signal: AbortSignal): Promise<boolean> => {
      if (training === undefined) return true;
      if (needsUpdate(stage)) return raceAbort(training.fitted(clientOf(to)), signal);
      return !unfit.has(to);
    };

    const exchange = async (stage: OpenStage, to: number, bytes: Uint8Array) => {
      const controller = new AbortController();
      stage.controllers.push(controller);
      let reply: Uint8Array | undefined;
      try {
        if (await mayAsk(stage.stage, to, controller.signal)) {
          down.set(to, (down.get(to) as number) + bytes.length);
          inFlight.set(to, controller);
          const call = clientOf(to).secAgg(round, bytes, controller.signal);
          reply = await raceAbort(call, controller.signal);
        }
      } catch {
        // Gone or late: the machine drops it when the stage closes.
      } finally {
        if (inFlight.get(to) === controller) inFlight.delete(to);
      }
      if (open !== stage) return; // the stage closed meanwhile; a late reply changes nothing
      stage.pending -= 1;
      guarded(() => {
        if (reply !== undefined) {
          up.set(to, (up.get(to) as number) + reply.length);
          apply(receive(to, reply));
        }
        if (open === stage && stage.pending === 0) apply(server.closeStage());
      });
    };

    const receive = (from: number, bytes: Uint8Array): ServerStep => {
      let message;
      try {
        message = decodeClientMessage(bytes, modBits);
      } catch (error) {
        return server.receiveMalformed(from, (error as Error).message);
      }
      return server.receive(from, message);
    };

    const finish = (step: ServerStep) => {
      end();
      closeOpenStage(true);
      // Byte counts of the clients that stayed to the end (on abort, of those still in).
      const counted = indices.filter((i) => !dropped.has(i));
      resolve({
        ...(step.result !== undefined ? { result: step.result } : {}),
        ...(step.aborted !== undefined ? { aborted: step.aborted } : {}),
        dropped: [...dropped].map(clientOf),
        record: {
          stageMs,
          afterFitMs: fitEndedAt === undefined ? 0 : Math.max(0, performance.now() - fitEndedAt),
          bytesUpPerClient: median(counted.map((i) => up.get(i) as number)),
          bytesDownPerClient: median(counted.map((i) => down.get(i) as number)),
          survivors: step.result?.survivors.length ?? 0,
          ...(step.aborted !== undefined ? { aborted: step.aborted.message } : {}),
        },
      });
    };

    if (training !== undefined) {
      for (const index of indices) {
        void training.fitted(clientOf(index)).then((ok) => {
          if (ok) return;
          // Its update will never come: whatever it is asked now fails, and so does any later call.
          unfit.add(index);
          inFlight.get(index)?.abort();
        });
      }
      void training.settled.then(() => {
        fitEndedAt = performance.now();
        if (open === undefined || finished) return;
        open.startedAt = fitEndedAt;
        armDeadline(open);
      });
    }
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    signal?.addEventListener('abort', cancel, { once: true });
    guarded(() => apply(server.start()));
  });
}
