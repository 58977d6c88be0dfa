/**
 * A pool of worker threads that run tasks by kind (see ./task-protocol.ts): one task per worker
 * at a time, the rest queued in arrival order. The simulator's virtual clients train here, on
 * every core, while the round logic stays on the main thread; the PSI spreads its group
 * operations over one.
 *
 * Failure model: a task whose handler throws rejects with a TaskFailedError naming the task's
 * label (e.g. "client 17"); the worker goes on. A worker that dies (uncaught exception, exit,
 * out of memory) rejects its task with a TaskFailedError saying so and is replaced; queued tasks
 * are not affected. If a replacement cannot start, the pool goes on with fewer workers; with none
 * left, it rejects every queued and later task.
 */
import { availableParallelism } from 'node:os';
import { Worker, type TransferListItem } from 'node:worker_threads';
import type { RemoteError, TaskRequest, WorkerInit, WorkerMessage } from './task-protocol.js';
import { moduleBeside, startModuleWorker } from './worker.js';

const WORKER_ENTRY = moduleBeside(import.meta.url, 'task-worker');

const startWorker = (workerData: WorkerInit): Worker =>
  startModuleWorker(WORKER_ENTRY, { workerData });

/** A task that failed in its handler or lost its worker; `label` names what it was for. */
export class TaskFailedError extends Error {
  override name = 'TaskFailedError';
  constructor(
    readonly kind: string,
    readonly label: string,
    detail: string,
    /** The error as thrown in the worker (its name, message and stack). */
    readonly remote?: RemoteError,
  ) {
    super(`${kind} for ${label} failed: ${detail}`);
  }
}

export interface WorkerPoolOptions {
  /** file: URLs of the handler modules each worker loads (see `moduleBeside`). */
  readonly modules: readonly string[];
  /** Passed to every module's createHandlers; SharedArrayBuffers in it are shared, not copied. */
  readonly config?: Readonly<Record<string, unknown>>;
  /** Worker threads; default os.availableParallelism(). */
  readonly size?: number;
}

export interface RunOptions {
  /** Names the task in errors, e.g. "client 17". Default: the kind and a sequence number. */
  readonly label?: string;
  /** Buffers in the payload to move to the worker instead of copying (they become unusable). */
  readonly transfer?: readonly TransferListItem[];
}

interface Task {
  readonly request: TaskRequest;
  readonly label: string;
  readonly transfer: readonly TransferListItem[];
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  /** The task the worker is running; undefined while idle. */
  task?: Task | undefined;
}

export class WorkerPool {
  /** Every worker not yet exited: starting, idle or running a task. */
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;
  /** Set once the pool cannot run tasks any more: closed, or no worker could be started. */
  private broken?: string;

  private constructor(private readonly init: WorkerInit) {}

  /** Starts `size` workers and resolves once all have loaded their handler modules. */
  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const size = options.size ?? availableParallelism();
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`size must be an integer >= 1, got ${size}`);
    }
    const pool = new WorkerPool({ modules: options.modules, config: options.config ?? {} });
    const started = await Promise.allSettled(Array.from({ length: size }, () => pool.spawn()));
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) {
      await pool.close();
      throw failure.reason;
    }
    return pool;
  }

  /** Workers not yet exited (a replacement counts from its start). */
  get size(): number {
    return this.slots.size;
  }

  /** Runs one task of `kind` on the next free worker; resolves with the handler's value. */
  run<R>(kind: string, payload: unknown, options: RunOptions = {}): Promise<R> {
    const id = this.nextId++;
    const label = options.label ?? `task ${id}`;
    if (this.broken !== undefined) {
      return Promise.reject(new TaskFailedError(kind, label, this.broken));
    }
    return new Promise<R>((resolve, reject) => {
      const task: Task = {
        request: { id, kind, payload },
        label,
        transfer: options.transfer ?? [],
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      this.queue.push(task);
      this.dispatch();
    });
  }

  /** Stops every worker; queued and running tasks reject. */
  async close(): Promise<void> {
    this.broken = 'the worker pool was closed';
    this.failQueued();
    await Promise.all([...this.slots].map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const slot = this.idle.pop() as Slot;
      const task = this.queue.shift() as Task;
      try {
        slot.worker.postMessage(task.request, task.transfer);
        slot.task = task;
      } catch (error) {
        // Not cloneable (a function, a detached buffer, ...): the task fails, the worker stays idle.
        task.reject(
          new TaskFailedError(
            task.request.kind,
            task.label,
            `could not be sent (${String(error)})`,
          ),
        );
        this.idle.push(slot);
      }
    }
  }

  /** Starts one worker; resolves when its handlers are loaded, rejects if they cannot be. */
  private spawn(): Promise<void> {
    const worker = startWorker(this.init);
    const slot: Slot = { worker };
    this.slots.add(slot);
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      let lastError: Error | undefined;
      worker.on('message', (message: WorkerMessage) => {
        switch (message.type) {
          case 'ready':
            ready = true;
            this.idle.push(slot);
            resolve();
            this.dispatch();
            return;
          case 'start-failed':
            reject(new Error(`a pool worker could not start: ${message.error.message}`));
            void worker.terminate();
            return;
          default:
            this.settle(slot, message);
        }
      });
      worker.on('error', (error) => (lastError = error));
      worker.on('exit', (code) => {
        this.slots.delete(slot);
        const index = this.idle.indexOf(slot);
        if (index >= 0) this.idle.splice(index, 1);
        if (!ready) {
          reject(lastError ?? new Error(`a pool worker exited with code ${code} while starting`));
          return;
        }
        if (this.broken !== undefined) {
          slot.task?.reject(
            new TaskFailedError(slot.task.request.kind, slot.task.label, this.broken),
          );
          return;
        }
        const cause = lastError ? `${lastError.name}: ${lastError.message}` : `exit code ${code}`;
        const task = slot.task;
        task?.reject(
          new TaskFailedError(task.request.kind, task.label, `its worker thread died (${cause})`),
        );
        this.replace();
      });
    });
  }

  /** Replaces a dead worker; if even that fails, the pool stops taking tasks. */
  private replace(): void {
    this.spawn().catch((error: unknown) => {
      if (this.slots.size > 0) return;
      this.broken = `no worker could be started (${error instanceof Error ? error.message : String(error)})`;
      this.failQueued();
    });
  }

  private settle(
    slot: Slot,
    message: Exclude<WorkerMessage, { type: 'ready' | 'start-failed' }>,
  ): void {
    const task = slot.task;
    if (task === undefined || task.request.id !== message.id) return;
    slot.task = undefined;
    this.idle.push(slot);
    if (message.type === 'result') task.resolve(message.value);
    else {
      task.reject(
        new TaskFailedError(
          task.request.kind,
          task.label,
          `${message.error.name}: ${message.error.message}`,
          message.error,
        ),
      );
    }
    this.dispatch();
  }

  private failQueued(): void {
    for (const task of this.queue.splice(0)) {
      task.reject(
        new TaskFailedError(task.request.kind, task.label, this.broken ?? 'the pool stopped'),
      );
    }
  }
}
