/**
 * The active party's side of a two-process run: the one session of the run, driven by the
 * passive party's calls (service.ts turns them into RPCs).
 *
 * Session rules:
 * - One session per run. Open creates it with a random 16-byte id, bound to the caller's identity
 *   (its TLS key). Every later call must name that id and come from that identity.
 * - Calls are handled one at a time, in arrival order, so a retry never overlaps its original.
 * - Every call can be repeated after a lost reply: a repeated PSI request gets the same reply; a
 *   repeated step makes the active party undo and redo it (ActiveParty's retry rule); Evaluate has
 *   no effect on the state; a repeated Finish gets the same answer.
 * - Liveness: the run fails with PeerGoneError when the peer's last connection closes and no
 *   request arrives within `reconnectMs`, and with PeerTimeoutError when no request arrives for
 *   `peerTimeoutMs` (a peer that hangs with its connection open). Either way the provisional step
 *   is rolled back: the party keeps the last state both parties share, and can export it.
 */
import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { PeerError, PeerTimeoutError, VerticalInputError } from '../errors.js';
import type { PsiResult } from '../psi/party.js';
import type { ActiveParty } from '../split/active.js';
import { decodeSplitMessage, encodeSplitMessage, toMatrix } from '../split/codec.js';
import { accuracy } from '../split/driver.js';
import type { Matrix } from '../split/messages.js';
import { firstNonFinite } from '../split/model.js';
import * as pb from '../../gen/sepal/vertical/v1/vertical_pb.js';
import { PeerGoneError } from './errors.js';
import { checkPlan, type RunPlan } from './plan.js';
import { PsiEndpoint, type PsiSettings } from './psi-endpoint.js';

/** Who is calling, as the transport established it. */
export interface Caller {
  /** Stable per key: the session is bound to it. */
  readonly id: string;
  /** For errors and logs, e.g. "passive (key 3q2-…)". */
  readonly label: string;
}

export interface AlignedParty {
  party: ActiveParty;
  /** Steps in the shared schedule (a completed run has done all of them). */
  steps: number;
}

export interface ActiveSessionOptions {
  /** This party's name in errors (default "active"). */
  name?: string;
  ids: readonly string[];
  plan: RunPlan;
  /** Builds the party from the PSI result: its rows and labels in the aligned order. */
  align: (result: PsiResult) => AlignedParty | Promise<AlignedParty>;
  /** Rows both parties hold in the same order, with their labels, for Evaluate. */
  evaluation?: { features: Matrix; labels: ArrayLike<number> };
  /** PSI's randomness and group arithmetic (default: CSPRNG, libsodium on the calling thread). */
  psi?: PsiSettings;
  peerTimeoutMs: number;
  reconnectMs: number;
  onEvent?: (event: ActiveEvent) => void;
}

export type ActiveEvent =
  | { type: 'opened'; peer: string }
  | { type: 'aligned'; count: number }
  | { type: 'step'; step: number; loss: number }
  | { type: 'evaluated'; accuracy: number }
  | { type: 'disconnected'; peer: string }
  | { type: 'finished'; steps: number };

export interface ActiveOutcome {
  steps: number;
  accuracy: number | undefined;
}

type Phase = 'waiting' | 'psi' | 'training' | 'finished' | 'failed';

export class ActiveSession {
  readonly name: string;
  /** Settles when the run ends: resolved by a completed Finish, rejected by any failure. */
  readonly done: Promise<ActiveOutcome>;
  private phase: Phase = 'waiting';
  private failure: Error | undefined;
  private id: Uint8Array | undefined;
  private caller: Caller | undefined;
  private psi: PsiEndpoint | undefined;
  private lastPsi: { request: Buffer; reply: pb.PsiResponse } | undefined;
  private aligned: AlignedParty | undefined;
  private testAccuracy: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly connections = new Map<string, number>();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private settle!: { resolve: (outcome: ActiveOutcome) => void; reject: (error: Error) => void };

  constructor(private readonly options: ActiveSessionOptions) {
    this.name = options.name ?? 'active';
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => undefined); // the owner awaits it; no unhandled rejection meanwhile
  }

  /** The party once PSI is done: its state is the last good one after `done` settles. */
  get party(): ActiveParty | undefined {
    return this.aligned?.party;
  }

  open(caller: Caller, request: pb.OpenRequest): Promise<pb.OpenResponse> {
    return this.serial(async () => {
      checkPlan(this.name, caller.label, this.options.plan, request.protocol, request.plan);
      if (this.phase !== 'waiting') {
        throw new ConnectError(
          `the run already has a session, opened by ${this.peer}`,
          Code.AlreadyExists,
        );
      }
      this.id = new Uint8Array(randomBytes(16));
      this.caller = caller;
      this.phase = 'psi';
      this.emit({ type: 'opened', peer: caller.label });
      this.touch();
      return create(pb.OpenResponseSchema, { session: this.id });
    });
  }

  psiMessages(caller: Caller, session: Uint8Array, messages: Uint8Array[]) {
    return this.call(caller, session, 'psi', async (): Promise<pb.PsiResponse> => {
      const request = Buffer.concat(messages.flatMap((m) => [lengthPrefix(m.length), m]));
      if (this.lastPsi?.request.equals(request)) return this.lastPsi.reply;
      this.psi ??= new PsiEndpoint(this.options.ids, this.name, this.peer, this.options.psi);
      const replies = [...(await this.psi.start())];
      for (const message of messages) replies.push(...(await this.psi.receive(message)));
      const result = await this.psi.result();
      if (result !== undefined) {
        try {
          this.aligned = await this.options.align(result);
        } catch (error) {
          this.fail(error as Error); // its own rows cannot be laid out: the run cannot go on
          throw error;
        }
        this.phase = 'training';
        this.emit({ type: 'aligned', count: result.ids.length });
      }
      const reply = create(pb.PsiResponseSchema, {
        messages: replies,
        ...(result !== undefined && { aligned: result.ids.length }),
      });
      this.lastPsi = { request, reply };
      return reply;
    });
  }

  step(caller: Caller, session: Uint8Array, bytes: Uint8Array): Promise<Uint8Array> {
    return this.call(caller, session, 'training', async (aligned) => {
      const message = decodeSplitMessage(bytes, this.name, this.peer);
      if (message.kind === 'gradient') {
        throw new PeerError(this.name, this.peer, 'a gradient, which only the active party sends');
      }
      let reply;
      try {
        reply = await aligned.party.receive(message);
      } catch (error) {
        // Its own update failed (a non-finite weight): the party restored its state; the passive
        // party must not apply anything for this step either.
        if (!(error instanceof VerticalInputError)) throw error;
        return encodeSplitMessage({ kind: 'abort', step: message.step, reason: error.message });
      }
      if (reply === undefined) {
        return encodeSplitMessage({ kind: 'abort', step: message.step, reason: 'abort received' });
      }
      this.emit({ type: 'step', step: message.step, loss: aligned.party.lastLoss });
      return encodeSplitMessage(reply);
    });
  }

  evaluate(caller: Caller, session: Uint8Array, embedding: pb.Matrix | undefined) {
    return this.call(caller, session, 'training', async (aligned) => {
      const { evaluation } = this.options;
      if (evaluation === undefined) {
        throw new ConnectError(
          'this active party holds no evaluation rows',
          Code.FailedPrecondition,
        );
      }
      const fail = (text: string): never => {
        throw new PeerError(this.name, this.peer, `evaluation embedding: ${text}`);
      };
      const matrix = toMatrix(embedding, fail);
      const { rows } = evaluation.features;
      const cols = aligned.party.embeddingWidth;
      if (matrix.rows !== rows || matrix.cols !== cols) {
        fail(`${matrix.rows} x ${matrix.cols}, expected ${rows} x ${cols}`);
      }
      const bad = firstNonFinite(matrix.data);
      if (bad >= 0) fail(`${matrix.data[bad]} at row ${Math.floor(bad / cols)}`);
      const predicted = aligned.party.predict(matrix, evaluation.features);
      this.testAccuracy = accuracy(predicted, evaluation.labels);
      this.emit({ type: 'evaluated', accuracy: this.testAccuracy });
      return this.testAccuracy;
    });
  }

  finish(caller: Caller, session: Uint8Array, steps: number, abandon: string): Promise<number> {
    return this.serial(async () => {
      if (this.phase === 'finished') {
        this.check(caller, session);
        return this.aligned?.party.committedSteps ?? 0;
      }
      this.checkPhase(caller, session, this.phase === 'psi' ? 'psi' : 'training');
      const party = this.aligned?.party;
      if (abandon !== '') {
        await party?.rollback();
        this.fail(new PeerError(this.name, this.peer, `gave up at step ${steps}: ${abandon}`));
        return party?.committedSteps ?? 0;
      }
      const aligned = this.aligned;
      if (aligned === undefined || steps !== aligned.steps) {
        throw new PeerError(
          this.name,
          this.peer,
          `finished after ${steps} steps, the schedule has ${aligned?.steps ?? 'not begun'}`,
        );
      }
      aligned.party.commit(); // the passive party applied the last gradient
      this.end();
      this.phase = 'finished';
      this.emit({ type: 'finished', steps });
      this.settle.resolve({ steps, accuracy: this.testAccuracy });
      return steps;
    });
  }

  /** The transport saw a connection from `caller` open (first request on it) or close. */
  connectionOpened(caller: Caller): void {
    this.connections.set(caller.id, (this.connections.get(caller.id) ?? 0) + 1);
    if (caller.id === this.caller?.id) this.clearReconnect();
  }

  connectionClosed(caller: Caller): void {
    const open = (this.connections.get(caller.id) ?? 1) - 1;
    this.connections.set(caller.id, open);
    if (open > 0 || caller.id !== this.caller?.id || !this.live) return;
    this.emit({ type: 'disconnected', peer: caller.label });
    this.clearReconnect();
    const { reconnectMs } = this.options;
    this.reconnectTimer = setTimeout(
      () =>
        this.abort(
          new PeerGoneError(
            this.name,
            this.peer,
            `its connection closed during ${this.phase === 'psi' ? 'PSI' : this.where()} and it did not reconnect within ${reconnectMs} ms`,
          ),
        ),
      reconnectMs,
    );
  }

  /** Ends the run from outside (the process is shutting down): rolls back, rejects `done`. */
  abort(error: Error): void {
    void this.serial(async () => {
      if (!this.live && this.phase !== 'waiting') return;
      await this.aligned?.party.rollback();
      this.fail(error);
    });
  }

  private get live(): boolean {
    return this.phase === 'psi' || this.phase === 'training';
  }

  private get peer(): string {
    return this.caller?.label ?? 'passive';
  }

  private where(): string {
    const party = this.aligned?.party;
    return party === undefined ? 'alignment' : `training (step ${party.committedSteps})`;
  }

  private call<T>(
    caller: Caller,
    session: Uint8Array,
    phase: 'psi' | 'training',
    handle: (aligned: AlignedParty) => Promise<T>,
  ): Promise<T> {
    return this.serial(async () => {
      this.checkPhase(caller, session, phase);
      this.clearIdle();
      try {
        return await handle(this.aligned as AlignedParty);
      } finally {
        if (this.live) this.touch();
      }
    });
  }

  private checkPhase(caller: Caller, session: Uint8Array, phase: 'psi' | 'training'): void {
    this.check(caller, session);
    if (this.phase !== phase) {
      const now = this.phase === 'psi' ? 'aligning ids (PSI)' : this.phase;
      throw new ConnectError(`the run is ${now}, not ${phase}`, Code.FailedPrecondition);
    }
  }

  private check(caller: Caller, session: Uint8Array): void {
    if (this.phase === 'failed') {
      throw new ConnectError(`the run ended: ${this.failure?.message}`, Code.NotFound);
    }
    const { id } = this;
    if (id === undefined || session.length !== id.length || !timingSafeEqual(session, id)) {
      throw new ConnectError('unknown session', Code.NotFound);
    }
    if (caller.id !== this.caller?.id) {
      throw new ConnectError(
        `the session belongs to ${this.caller?.label}, not ${caller.label}`,
        Code.PermissionDenied,
      );
    }
  }

  /** A request arrived: the peer is alive; restart the silence deadline. */
  private touch(): void {
    this.clearIdle();
    this.clearReconnect();
    const { peerTimeoutMs } = this.options;
    this.idleTimer = setTimeout(
      () =>
        this.abort(
          new PeerTimeoutError(
            this.name,
            this.peer,
            `request during ${this.where()}`,
            peerTimeoutMs,
          ),
        ),
      peerTimeoutMs,
    );
  }

  private fail(error: Error): void {
    if (this.phase === 'finished' || this.phase === 'failed') return;
    this.end();
    this.phase = 'failed';
    this.failure = error;
    this.settle.reject(error);
  }

  private end(): void {
    this.clearIdle();
    this.clearReconnect();
  }

  private clearIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private clearReconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private emit(event: ActiveEvent): void {
    this.options.onEvent?.(event);
  }
}

/** 4-byte big-endian length, so concatenated requests are unambiguous. */
function lengthPrefix(length: number): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(length);
  return prefix;
}
