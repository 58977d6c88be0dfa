/**
 * The door to TensorFlow.js: it registers the WebAssembly backend beside the pure-JS 'cpu' one and
 * Sepal's gradient overrides (./gradients.ts), silences tfjs's console hints, and selects a
 * backend. Everything else in Sepal imports `tf` from here, so that this configuration holds
 * wherever tfjs is used.
 */
import * as tf from '@tensorflow/tfjs';
// Side effect: registers the 'wasm' backend (its .wasm binaries ship inside the npm package).
import '@tensorflow/tfjs-backend-wasm';
import './gradients.js';

// Production mode only gates tfjs's own console.warn/log calls. In Node the cpu backend otherwise
// prints a multi-line "install @tensorflow/tfjs-node" banner on its first tensor; tfjs-node needs
// a native download that this project cannot rely on, so the hint is noise for our users.
tf.enableProdMode();

export { tf };

export type BackendName = 'cpu' | 'wasm';
export const BACKENDS: readonly BackendName[] = ['cpu', 'wasm'];

/**
 * The faster backend for Sepal's models on Node, measured by bench/tfjs-backends.ts (figures in
 * docs/data-and-models.md). Multi-threaded wasm is unavailable in Node (tfjs issue 3830); the
 * simulator gets its parallelism from one worker thread per core instead.
 */
export const DEFAULT_BACKEND: BackendName = 'wasm';

// Selections in flight. tfjs names the new backend current before it has initialised, so a second
// caller that only checked getBackend() would use the wasm backend before it is ready.
const selecting = new Map<BackendName, Promise<void>>();

/**
 * Selects `name` for every later tfjs call in this thread; resolves once it is ready. Concurrent
 * calls share one initialisation.
 */
export function useBackend(name: BackendName = DEFAULT_BACKEND): Promise<void> {
  const pending = selecting.get(name);
  if (pending !== undefined) return pending;
  if (tf.getBackend() === name) return Promise.resolve();
  const selection = select(name).finally(() => selecting.delete(name));
  selecting.set(name, selection);
  return selection;
}

async function select(name: BackendName): Promise<void> {
  if (!(await withoutEmscriptenHandlers(() => tf.setBackend(name)))) {
    throw new Error(`TensorFlow.js backend '${name}' failed to initialise`);
  }
}

const PROCESS_EVENTS: readonly string[] = ['uncaughtException', 'unhandledRejection'];

/**
 * Runs `init`, then removes the process-wide handlers it added. Emscripten's Node glue, which
 * loads the wasm backend, installs 'uncaughtException' and 'unhandledRejection' handlers that
 * rethrow: any later crash of the program would then exit with code 7 and print the glue's
 * minified source line (tens of kilobytes) instead of the error. Nothing in tfjs needs them.
 */
async function withoutEmscriptenHandlers<T>(init: () => Promise<T>): Promise<T> {
  if (typeof process === 'undefined') return init();
  // As a plain emitter: Process's typings only list the signals for arbitrary event names.
  const emitter: NodeJS.EventEmitter = process;
  const before = PROCESS_EVENTS.map((event) => emitter.listeners(event));
  try {
    return await init();
  } finally {
    PROCESS_EVENTS.forEach((event, i) => {
      for (const listener of emitter.listeners(event)) {
        if (!before[i]?.includes(listener)) emitter.off(event, listener as () => void);
      }
    });
  }
}
