/**
 * The contract between a `WorkerPool` and the code its worker threads run.
 *
 * A worker is generic: at start it imports each module named in `WorkerInit.modules` and calls
 * its exported `createHandlers(config)` once; the handlers it returns, keyed by task kind, serve
 * every task of that kind for the worker's life (so they can keep a model, keys, ... between
 * tasks). The training handlers (`fit`, `evaluate`) are one such module; another module can add
 * kinds (SecAgg client steps, say) without touching the pool: see docs/data-and-models.md.
 */
import type { TransferListItem } from 'node:worker_threads';

/** What a handler returns: a value to post back, and buffers to move rather than copy. */
export interface TaskReply<R = unknown> {
  readonly value: R;
  readonly transfer?: readonly TransferListItem[];
}

export type TaskHandler<P = never, R = unknown> = (
  payload: P,
) => TaskReply<R> | Promise<TaskReply<R>>;

/** Handlers by task kind; each kind must be served by one module only. */
export type HandlerTable = Readonly<Record<string, TaskHandler<never>>>;

/**
 * The export every handler module provides. `config` is the pool's `config` object as the
 * worker received it: SharedArrayBuffers in it are shared with the pool's thread, not copied.
 */
export type CreateHandlers = (
  config: Readonly<Record<string, unknown>>,
) => HandlerTable | Promise<HandlerTable>;

/** `workerData` of every pool worker. */
export interface WorkerInit {
  /** file: URLs of the handler modules. */
  readonly modules: readonly string[];
  readonly config: Readonly<Record<string, unknown>>;
}

export interface TaskRequest {
  readonly id: number;
  readonly kind: string;
  readonly payload: unknown;
}

/** An error as it crosses threads (structured clone keeps only some Error fields). */
export interface RemoteError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'start-failed'; readonly error: RemoteError }
  | { readonly type: 'result'; readonly id: number; readonly value: unknown }
  | { readonly type: 'failed'; readonly id: number; readonly error: RemoteError };

export function toRemoteError(error: unknown): RemoteError {
  if (error instanceof Error) {
    return { name: error.name, message: error.message, ...(error.stack && { stack: error.stack }) };
  }
  return { name: 'Error', message: String(error) };
}
