/**
 * The PSI's tasks for the worker threads of worker-group.ts (a WorkerPool handler module, see
 * src/runtime/task-protocol.ts): each worker runs the group's batches on the chunks it is sent,
 * natively when the addon can (native-batches.ts), else on libsodium in WebAssembly (loaded once
 * per worker). Each task's copy of the scalar is wiped when done.
 */
import type { HandlerTable, TaskReply } from '../../runtime/task-protocol.js';
import { zeroize } from '../../crypto/bytes.js';
import { loadSodium, wasmBatches } from './sodium-group.js';
import { nativeBatches } from './native-batches.js';

export interface HashAndMultiplyTask {
  readonly ids: readonly string[];
  readonly scalar: Uint8Array;
  readonly dst: string;
}

export interface MultiplyTask {
  readonly points: Uint8Array;
  readonly scalar: Uint8Array;
}

export const HASH_AND_MULTIPLY = 'psi.hash-and-multiply';
export const MULTIPLY = 'psi.multiply';
/** Names the group the worker computes with (native or WebAssembly). */
export const ENGINE = 'psi.engine';

const reply = <R>(value: R, bytes: Uint8Array): TaskReply<R> => ({
  value,
  transfer: [bytes.buffer as ArrayBuffer],
});

export async function createHandlers(): Promise<HandlerTable> {
  const batches = nativeBatches ?? wasmBatches(await loadSodium());
  return {
    [ENGINE]: () => ({ value: batches.name }),
    [HASH_AND_MULTIPLY]: (task: HashAndMultiplyTask) => {
      try {
        const points = batches.hashAndMultiply(task.ids, task.scalar, task.dst);
        return reply(points, points);
      } finally {
        zeroize(task.scalar);
      }
    },
    [MULTIPLY]: (task: MultiplyTask) => {
      try {
        // worker-group.ts checked the points already; a refusal here fails the task.
        const points = batches.multiply(task.points, task.scalar);
        return reply(points, points);
      } finally {
        zeroize(task.scalar);
      }
    },
  };
}
