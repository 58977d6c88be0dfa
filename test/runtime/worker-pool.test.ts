// The generic pool, with handler modules written inline as data: URLs (plain JavaScript), so
// these tests need neither tfjs nor fixture files.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TaskFailedError, WorkerPool } from '../../src/runtime/worker-pool.js';
import { moduleBeside } from '../../src/runtime/worker.js';

const moduleUrl = (source: string) => `data:text/javascript,${encodeURIComponent(source)}`;

const HANDLERS = moduleUrl(`
  import { threadId } from 'node:worker_threads';
  export function createHandlers(config) {
    return {
      whoami: ({ ms }) => {
        const end = Date.now() + ms;
        while (Date.now() < end);
        return { value: threadId };
      },
      bump: () => ({ value: Atomics.add(config.counter, 0, 1) }),
      fail: ({ n }) => { throw new RangeError('bad input ' + n); },
      crash: () => process.exit(3),
      escape: () => {
        setTimeout(() => { throw new Error('escaped'); });
        return new Promise(() => {});
      },
      buffer: ({ n }) => {
        const values = new Float32Array(n).fill(1.5);
        return { value: values, transfer: [values.buffer] };
      },
    };
  }
`);

function assertTaskFailed(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof TaskFailedError, String(error));
    assert.match(error.message, pattern);
    return true;
  };
}

describe('WorkerPool', () => {
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const started = WorkerPool.start({ modules: [HANDLERS], config: { counter }, size: 2 });
  after(async () => (await started).close());

  it('runs tasks on every worker at once', async () => {
    const pool = await started;
    assert.equal(pool.size, 2);
    const threads = await Promise.all(
      [1, 2, 3, 4].map(() => pool.run<number>('whoami', { ms: 150 })),
    );
    assert.equal(new Set(threads).size, 2);
  });

  it('shares memory in its config with the workers instead of copying it', async () => {
    const pool = await started;
    const before = Atomics.load(counter, 0);
    await Promise.all([1, 2, 3].map(() => pool.run('bump', {})));
    assert.equal(Atomics.load(counter, 0), before + 3);
  });

  it('moves transferred results', async () => {
    const values = await (await started).run<Float32Array>('buffer', { n: 1000 });
    assert.ok(values instanceof Float32Array);
    assert.equal(values.length, 1000);
    assert.equal(values[999], 1.5);
  });

  it('rejects a failed task with its label and the remote error, and goes on', async () => {
    const pool = await started;
    await assert.rejects(pool.run('fail', { n: 7 }, { label: 'client 7' }), (error: unknown) => {
      assertTaskFailed(/^fail for client 7 failed: RangeError: bad input 7$/)(error);
      assert.equal((error as TaskFailedError).label, 'client 7');
      assert.equal((error as TaskFailedError).remote?.name, 'RangeError');
      return true;
    });
    await assert.rejects(
      pool.run('nope', {}, { label: 'client 8' }),
      assertTaskFailed(/no handler for task kind 'nope' \(known: whoami, bump, /),
    );
    await assert.rejects(
      pool.run('whoami', { ms: () => 0 }, { label: 'client 9' }),
      assertTaskFailed(/^whoami for client 9 failed: could not be sent \(DataCloneError/),
    );
    assert.equal(typeof (await pool.run('whoami', { ms: 0 })), 'number');
  });

  it('replaces a worker that dies, failing only the task it ran', async () => {
    const pool = await started;
    const crash = pool.run('crash', {}, { label: 'client 9' });
    const others = [1, 2, 3].map(() => pool.run<number>('whoami', { ms: 50 }));
    await assert.rejects(
      crash,
      assertTaskFailed(/^crash for client 9 failed: its worker thread died \(exit code 3\)$/),
    );
    await assert.rejects(
      pool.run('escape', {}, { label: 'client 10' }),
      assertTaskFailed(/its worker thread died \(Error: escaped\)/),
    );
    await Promise.all(others);
    assert.equal(pool.size, 2);
    // Replacements take a moment to start, while the survivor serves every task: wait for both.
    let threads = new Set<number>();
    for (let attempt = 0; attempt < 100 && threads.size < 2; attempt++) {
      threads = new Set(
        await Promise.all([1, 2].map(() => pool.run<number>('whoami', { ms: 50 }))),
      );
    }
    assert.equal(threads.size, 2);
  });

  it('rejects queued and later tasks once closed', async () => {
    const pool = await WorkerPool.start({ modules: [HANDLERS], config: { counter }, size: 1 });
    const running = pool.run('whoami', { ms: 200 });
    const queued = pool.run('whoami', { ms: 0 }, { label: 'client 11' });
    const rejections = [
      assert.rejects(running, assertTaskFailed(/the worker pool was closed/)),
      assert.rejects(
        queued,
        assertTaskFailed(/^whoami for client 11 failed: the worker pool was closed$/),
      ),
    ];
    await pool.close();
    await Promise.all(rejections);
    await assert.rejects(pool.run('whoami', { ms: 0 }), assertTaskFailed(/closed/));
  });

  it('fails to start when a handler module is unusable', async () => {
    const empty = moduleUrl('export const nothing = 1;');
    await assert.rejects(
      WorkerPool.start({ modules: [empty], size: 1 }),
      /does not export createHandlers/,
    );
    await assert.rejects(
      WorkerPool.start({ modules: [HANDLERS, HANDLERS], size: 1 }),
      /task kind 'whoami' is defined twice/,
    );
    await assert.rejects(
      WorkerPool.start({ modules: [], size: 0 }),
      /size must be an integer >= 1, got 0/,
    );
  });

  it("names modules beside the caller with the caller's extension", () => {
    assert.equal(moduleBeside('file:///app/src/sim/a.ts', 'b'), 'file:///app/src/sim/b.ts');
    assert.equal(
      moduleBeside('file:///app/dist/src/sim/a.js', 'b'),
      'file:///app/dist/src/sim/b.js',
    );
  });
});
