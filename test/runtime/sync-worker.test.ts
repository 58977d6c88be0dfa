import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SyncWorker } from '../../src/runtime/sync-worker.js';
import { moduleBeside } from '../../src/runtime/worker.js';

const ENTRY = moduleBeside(import.meta.url, 'echo-worker');

describe('SyncWorker', () => {
  it('answers calls synchronously, with the data it was started with', () => {
    const worker = new SyncWorker<number, number>(ENTRY, { data: 1, timeoutMs: 30_000 });
    try {
      assert.equal(worker.call(20), 41);
      assert.equal(worker.call(0.5), 2);
    } finally {
      worker.terminate();
    }
  });

  it("a handler's error becomes the call's error, and the worker goes on answering", () => {
    const worker = new SyncWorker<number, number>(ENTRY, { data: 0, timeoutMs: 30_000 });
    try {
      assert.throws(() => worker.call(-3), /worker echo-worker\.ts failed: cannot double -3/);
      assert.equal(worker.call(3), 6);
    } finally {
      worker.terminate();
    }
  });

  it('a worker that never answers makes the call throw at the deadline', () => {
    const worker = new SyncWorker<number, number>(ENTRY, { data: 0, timeoutMs: 200 });
    try {
      assert.throws(() => worker.call(Number.NaN), /did not answer within 200 ms/);
    } finally {
      worker.terminate();
    }
  });
});
