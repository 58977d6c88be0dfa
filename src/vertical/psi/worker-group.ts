/**
 * The PSI group's Node-only fast path: its batches on worker threads, native where the addon can
 * (native-batches.ts), else libsodium compiled to WebAssembly (sodium-group.ts).
 * Every point is independent of the others, so a batch is cut into contiguous chunks, the chunks
 * run on all workers at once, and the answers are put back in order: the bytes are exactly those
 * of the single-threaded group (tested). Peer points are checked on the calling thread first.
 *
 * The threads come from the runtime's WorkerPool (src/runtime/worker-pool.ts), which the simulator's
 * training uses too: it already replaces dead workers and fails the tasks they held.
 */
import { availableParallelism } from 'node:os';
import { WorkerPool } from '../../runtime/worker-pool.js';
import { moduleBeside } from '../../runtime/worker.js';
import { checkBatch, checkPeerPoints, ELEMENT_BYTES, PSI_DST, type PsiGroup } from './group.js';
import {
  ENGINE,
  HASH_AND_MULTIPLY,
  type HashAndMultiplyTask,
  MULTIPLY,
  type MultiplyTask,
} from './worker-handlers.js';

/** A PsiGroup that owns threads: `close()` them when done. */
export interface WorkerGroup extends PsiGroup {
  readonly threads: number;
  close(): Promise<void>;
}

export interface WorkerGroupOptions {
  /** Worker threads; default os.availableParallelism(). */
  readonly threads?: number;
}

/**
 * Points per chunk at least (smaller batches are not worth a message), and chunks per thread at
 * most: many per thread even out a thread slowed by other work on a shared machine, since the
 * batch ends when the last chunk does. At 100,000 points on 2 threads a chunk is about 0.3 s of
 * one core's work (4 per thread made it 1.2 s); a task message costs well under a millisecond.
 */
const MIN_CHUNK = 256;
const CHUNKS_PER_THREAD = 16;

/** [start, end) ranges covering 0..count in order. */
function chunks(count: number, threads: number): [number, number][] {
  const pieces = Math.max(1, Math.min(threads * CHUNKS_PER_THREAD, Math.ceil(count / MIN_CHUNK)));
  const size = Math.ceil(count / pieces);
  const ranges: [number, number][] = [];
  for (let start = 0; start < count; start += size) {
    ranges.push([start, Math.min(count, start + size)]);
  }
  return ranges;
}

function concat(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export async function startWorkerGroup(options: WorkerGroupOptions = {}): Promise<WorkerGroup> {
  const threads = options.threads ?? availableParallelism();
  const pool = await WorkerPool.start({
    modules: [moduleBeside(import.meta.url, 'worker-handlers')],
    size: threads,
  });
  // The workers say which group they compute with: native if their addon can, else WebAssembly.
  const engine = await pool.run<string>(ENGINE, {}, { label: 'which group' });
  return {
    name: `${engine} on ${threads} worker thread${threads === 1 ? '' : 's'}`,
    threads,

    async hashAndMultiply(ids, scalar, dst = PSI_DST) {
      checkBatch(undefined, scalar);
      const answers = await Promise.all(
        chunks(ids.length, threads).map(([start, end]) => {
          // Each task gets its own copy of the scalar, which its worker wipes.
          const task: HashAndMultiplyTask = { ids: ids.slice(start, end), scalar, dst };
          return pool.run<Uint8Array>(HASH_AND_MULTIPLY, task, { label: `ids ${start}..${end}` });
        }),
      );
      return concat(answers, ids.length * ELEMENT_BYTES);
    },

    async multiply(points, scalar) {
      checkBatch(points, scalar);
      // On this thread, before any work: a refused point is reported by its index in the whole
      // batch, as the single-threaded groups report it.
      checkPeerPoints(points);
      const answers = await Promise.all(
        chunks(points.length / ELEMENT_BYTES, threads).map(([start, end]) => {
          // A copy of just the chunk, moved to the worker (sending a view would copy its whole
          // buffer).
          const chunk = points.slice(start * ELEMENT_BYTES, end * ELEMENT_BYTES);
          const task: MultiplyTask = { points: chunk, scalar };
          return pool.run<Uint8Array>(MULTIPLY, task, {
            label: `points ${start}..${end}`,
            transfer: [chunk.buffer],
          });
        }),
      );
      return concat(answers, points.length);
    },

    close: () => pool.close(),
  };
}
