/**
 * The entry point of every WorkerPool thread: loads the handler modules named in workerData, then
 * serves the tasks the pool sends, one at a time (they are CPU-bound). A handler
 * that throws or rejects fails only its task; anything that escapes (an uncaught exception, a
 * process.exit) ends the thread, and the pool replaces it.
 */
import { parentPort, workerData, type TransferListItem } from 'node:worker_threads';
import {
  toRemoteError,
  type CreateHandlers,
  type HandlerTable,
  type TaskHandler,
  type TaskRequest,
  type WorkerInit,
  type WorkerMessage,
} from './task-protocol.js';

const port = parentPort;
if (port === null) throw new Error('task-worker.ts runs only as a worker thread (WorkerPool)');
const post = (message: WorkerMessage, transfer: readonly TransferListItem[] = []) =>
  port.postMessage(message, transfer);

async function loadHandlers(init: WorkerInit): Promise<Map<string, TaskHandler<unknown>>> {
  const handlers = new Map<string, TaskHandler<unknown>>();
  for (const url of init.modules) {
    const module = (await import(url)) as { createHandlers?: CreateHandlers };
    if (typeof module.createHandlers !== 'function') {
      throw new Error(`handler module ${url} does not export createHandlers`);
    }
    const table: HandlerTable = await module.createHandlers(init.config);
    for (const [kind, handler] of Object.entries(table)) {
      if (handlers.has(kind)) throw new Error(`task kind '${kind}' is defined twice (${url})`);
      handlers.set(kind, handler as TaskHandler<unknown>);
    }
  }
  return handlers;
}

try {
  const handlers = await loadHandlers(workerData as WorkerInit);
  // The pool sends a worker its next task only after the previous one's answer.
  port.on('message', async (request: TaskRequest) => {
    try {
      const handler = handlers.get(request.kind);
      if (handler === undefined) {
        throw new Error(
          `no handler for task kind '${request.kind}' (known: ${[...handlers.keys()].join(', ')})`,
        );
      }
      const reply = await handler(request.payload);
      post({ type: 'result', id: request.id, value: reply.value }, reply.transfer);
    } catch (error) {
      post({ type: 'failed', id: request.id, error: toRemoteError(error) });
    }
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'start-failed', error: toRemoteError(error) });
}
