/**
 * Node's fast path for large mask jobs without the native kernels: the streams are applied by
 * worker threads, each over one window of the vector (AES-CTR can be entered at any block), while
 * the caller waits.
 *
 * Why a thread even on one core: a server removing hundreds of streams of 100k words draws
 * hundreds of megabytes of keystream, and node:crypto hands every keystream chunk out in a fresh
 * buffer. In the caller's heap (a server's, or a simulation's with all its clients) that churn
 * sets off full garbage collections that cost as much as the AES itself; a mask thread's heap is
 * nearly empty, so its collections are cheap. With more threads the windows run in parallel,
 * which shortens the wait but costs more CPU in all (the cores share caches and memory
 * bandwidth). Measured on this repository's 2-core machine: one thread takes 7% less server CPU
 * than none in a SecAgg+ round at N = 500, L = 100k (19% less amid the simulated clients);
 * two threads cut the wait for 1,725 streams of 100k words by 30% and cost 25% more CPU.
 *
 * With the native kernels (native-kernels.ts) there is no churn to move away: the kernel draws
 * keystream into one reused block, and handing a job to a thread only adds copies. There are then
 * no threads unless SEPAL_MASK_THREADS asks for them (to shorten the wait on several cores).
 *
 * The call stays synchronous, as the SecAgg machines need (see runtime/sync-worker.ts). A thread
 * that fails or never answers makes the call throw and the threads are stopped; the next job
 * starts fresh ones. Nothing half-applied is returned: the target changes only on success.
 *
 * SEPAL_MASK_THREADS sets the number of threads (0: never use threads; default 1, or 0 with the
 * native kernels).
 */
import { moduleBeside } from '../runtime/worker.js';
import { SyncWorker } from '../runtime/sync-worker.js';
import type { Mask } from './mask.js';

/** What a mask thread is sent: a window of the shared vector and every stream's key and sign. */
export interface MaskJob {
  readonly shared: SharedArrayBuffer;
  readonly firstWord: number;
  readonly words: number;
  /** The streams' 32-byte keys, concatenated. */
  readonly keys: Uint8Array;
  readonly signs: Int8Array;
}

/** A pool of mask threads, as the crypto backend seam exposes it. */
export interface MaskThreadPool {
  /** Starts the threads if they are not running, and returns once they are ready. */
  start(): void;
  /** Adds the streams of `masks` to `target`, as applyMaskRange(target, masks, 0) would. */
  apply(target: Uint32Array, masks: readonly Mask[]): void;
}

// Generous: a job of thousands of streams on a loaded machine takes seconds.
const TIMEOUT_MS = 60_000;
const WORKER_ENTRY = moduleBeside(import.meta.url, 'mask-worker');
// The young generation is made large: keystream chunks die young, and with a small one the
// allocator hands their memory back and faults it in again (measured: 10x the page faults).
const YOUNG_GENERATION_MB = 64;

function threadCount(defaultCount: number): number {
  const setting = process.env['SEPAL_MASK_THREADS'];
  if (setting === undefined || setting === '') return defaultCount;
  const count = Number(setting);
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`SEPAL_MASK_THREADS must be a whole number >= 0, got "${setting}"`);
  }
  return count;
}

/**
 * The window of `words` that thread `index` of `threads` takes. Windows start at AES block
 * boundaries (4 words), where a CTR stream can be entered (applyMaskRange checks it).
 */
function windowOf(words: number, threads: number, index: number): [number, number] {
  const per = Math.ceil(words / threads / 4) * 4;
  const first = Math.min(words, index * per);
  return [first, Math.min(words, first + per)];
}

class MaskThreads implements MaskThreadPool {
  readonly #count: number;
  #threads: SyncWorker<MaskJob, null>[] = [];
  #shared = new SharedArrayBuffer(0);

  constructor(count: number) {
    this.#count = count;
  }

  start(): void {
    if (this.#threads.length > 0) return;
    try {
      for (let i = 0; i < this.#count; i++) {
        this.#threads.push(
          new SyncWorker(WORKER_ENTRY, {
            data: null,
            timeoutMs: TIMEOUT_MS,
            resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
          }),
        );
      }
    } catch (error) {
      this.#stop();
      throw error;
    }
  }

  apply(target: Uint32Array, masks: readonly Mask[]): void {
    this.start();
    if (this.#shared.byteLength < target.byteLength) {
      this.#shared = new SharedArrayBuffer(target.byteLength);
    }
    const shared = this.#shared;
    new Uint32Array(shared, 0, target.length).set(target);
    const keys = new Uint8Array(32 * masks.length);
    masks.forEach(({ key }, i) => keys.set(key, 32 * i));
    const signs = Int8Array.from(masks, ({ sign }) => sign);
    try {
      const busy = this.#threads.filter((thread, index) => {
        const [firstWord, end] = windowOf(target.length, this.#threads.length, index);
        if (end > firstWord)
          thread.send({ shared, firstWord, words: end - firstWord, keys, signs });
        return end > firstWord;
      });
      for (const thread of busy) thread.receive();
    } catch (error) {
      this.#stop();
      throw error;
    } finally {
      keys.fill(0);
    }
    target.set(new Uint32Array(shared, 0, target.length));
  }

  #stop(): void {
    for (const thread of this.#threads) thread.terminate();
    this.#threads = [];
  }
}

/**
 * The process's mask threads, or undefined when there are none: SEPAL_MASK_THREADS threads, or
 * `defaultCount` when it is unset.
 */
export function createMaskThreads(defaultCount: number): MaskThreadPool | undefined {
  const count = threadCount(defaultCount);
  return count > 0 ? new MaskThreads(count) : undefined;
}
