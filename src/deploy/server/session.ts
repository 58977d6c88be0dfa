/**
 * One registration of one node: the tasks the server gave it, and its long poll.
 *
 * Invariants:
 * - a task is either queued (not yet pulled) or handed out, and in `#pending` until it is
 *   answered, cancelled (its caller's signal fired) or the session dies; each ends it once;
 * - at most one PullTask is parked; a second one from the same node ends the first, empty;
 * - a dead session stays dead: its pending calls reject and its requests get NOT_FOUND, so the
 *   node registers again and the server loop sees its calls fail (a dropped client).
 */
import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import * as pb from '../../gen/sepal/fleet/v1/fleet_pb.js';
import { SessionGoneError, StaleResultError, WireError } from '../errors.js';

export type TaskKind = Exclude<pb.Task['kind'], { case: undefined }>;
export type TaskResult = Exclude<pb.PushResultRequest['result'], { case: undefined }>;

/** Turns a node's answer into what the caller awaits; throws WireError when it is unusable. */
export type Decoder<T> = (result: TaskResult) => T;

interface Pending {
  readonly task: pb.Task;
  /** Hands the answer to the caller; rethrows a decoding error for the node that sent it. */
  settle(result: TaskResult): void;
  reject(error: Error): void;
}

interface Parked {
  resolve(task: pb.Task | undefined): void;
}

export const newId = (): string => randomBytes(16).toString('hex');

export class Session {
  readonly id = newId();
  #lastSeen: number;
  #parked: Parked | undefined;
  readonly #queue: pb.Task[] = [];
  readonly #pending = new Map<string, Pending>();
  #dead: SessionGoneError | undefined;

  constructor(
    /** The node's name: its id in the server loop, History and logs. */
    readonly node: string,
    /** The node's public identity key (base64url), or undefined without TLS. */
    readonly key: string | undefined,
    readonly runId: string,
    /** Milliseconds on a monotonic clock (injected for tests). */
    readonly clock: () => number = () => performance.now(),
  ) {
    this.#lastSeen = clock();
  }

  get dead(): boolean {
    return this.#dead !== undefined;
  }

  /** Every request of the node is a sign of life. */
  touch(): void {
    this.#lastSeen = this.clock();
  }

  /** A node waiting in a long poll is alive: a dead one's stream closes and unparks it. */
  silentForMs(): number {
    return this.#parked === undefined ? this.clock() - this.#lastSeen : 0;
  }

  /**
   * Gives the node a task and resolves with its decoded answer. Rejects when the node answers
   * with a failure or garbage, when the session dies, or with `signal`'s reason when it fires.
   */
  call<T>(round: number, kind: TaskKind, decode: Decoder<T>, signal: AbortSignal): Promise<T> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    if (signal.aborted) return Promise.reject(signal.reason);
    const task = create(pb.TaskSchema, { taskId: newId(), runId: this.runId, round, kind });
    return new Promise<T>((resolve, reject) => {
      const end = () => {
        this.#pending.delete(task.taskId);
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        end();
        const queued = this.#queue.indexOf(task);
        if (queued >= 0) this.#queue.splice(queued, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(task.taskId, {
        task,
        settle: (result) => {
          end();
          if (result.case === 'failure') {
            reject(new Error(`node ${this.node} failed task ${kind.case}: ${result.value.reason}`));
            return;
          }
          try {
            resolve(decode(result));
          } catch (error) {
            reject(error as Error);
            throw error;
          }
        },
        reject: (error) => {
          end();
          reject(error);
        },
      });
      this.#offer(task);
    });
  }

  #offer(task: pb.Task): void {
    const parked = this.#parked;
    if (parked === undefined) {
      this.#queue.push(task);
    } else {
      this.#parked = undefined;
      parked.resolve(task);
    }
  }

  /** The node's next task, waiting up to `waitMs` for one; undefined when none came. */
  pull(waitMs: number, signal: AbortSignal): Promise<pb.Task | undefined> {
    this.#check();
    this.touch();
    const next = this.#queue.shift();
    if (next !== undefined) return Promise.resolve(next);
    this.#parked?.resolve(undefined);
    return new Promise((resolve) => {
      const parked: Parked = {
        resolve: (task) => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          if (this.#parked === parked) this.#parked = undefined;
          this.touch();
          resolve(task);
        },
      };
      const onAbort = () => {
        // The node's stream closed under the poll. A task handed to it now would be lost, so
        // whatever arrives later queues for the next pull instead.
        parked.resolve(undefined);
      };
      const timer = setTimeout(() => parked.resolve(undefined), waitMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#parked = parked;
    });
  }

  /** Ends a parked poll now, empty (the run finished). */
  wake(): void {
    this.#parked?.resolve(undefined);
  }

  /** Delivers a node's answer to the task it names; throws when the task is not outstanding. */
  complete(request: pb.PushResultRequest): void {
    this.#check();
    this.touch();
    const pending = this.#pending.get(request.taskId);
    const task = pending?.task;
    if (
      pending === undefined ||
      task === undefined ||
      request.runId !== task.runId ||
      request.round !== task.round
    ) {
      throw new StaleResultError(
        `node ${this.node}: task ${request.taskId} of run ${request.runId} round ${request.round} ` +
          'is not outstanding (answered, cancelled, or from an earlier run or round)',
      );
    }
    if (request.result.case === undefined) throw new WireError('result', 'is not set');
    pending.settle(request.result);
  }

  /** Ends the session: every pending call rejects with `reason`, later requests get NOT_FOUND. */
  kill(reason: string): void {
    if (this.#dead !== undefined) return;
    this.#dead = new SessionGoneError(`node ${this.node}: session ${this.id} ended: ${reason}`);
    this.#queue.length = 0;
    for (const pending of [...this.#pending.values()]) pending.reject(this.#dead);
    this.#parked?.resolve(undefined);
  }

  #check(): void {
    if (this.#dead !== undefined) throw this.#dead;
  }
}
