// A worker for the SyncWorker tests: doubles numbers, fails on negatives, never answers on NaN.
import { serveSync } from '../../src/runtime/sync-worker.js';

serveSync((offset: number) => (request: number) => {
  if (Number.isNaN(request)) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  }
  if (request < 0) throw new RangeError(`cannot double ${request}`);
  return { answer: 2 * request + offset };
});
