// The server's SQLite store: which run a start continues, checkpoints per round, node records.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { ServerStore } from '../../src/deploy/server/store.js';
import type { Checkpoint } from '../../src/fl/checkpoint.js';

const checkpoint = (round: number): Checkpoint => ({
  round,
  parameters: [{ name: 'w', shape: [2], values: new Float32Array([round, -round]) }],
  history: {
    rounds: Array.from({ length: round }, (_, i) => ({
      round: i + 1,
      sampled: 3,
      aggregated: 3,
      dropped: [],
      fitMetrics: {},
      durationMs: 1,
    })),
  },
  strategy: 'FedAvg',
  strategyState: [],
});

test('a restarted server continues the unfinished run of its job, from its last checkpoint', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'sepal-store-')), 'deep', 'server.db');
  let store = new ServerStore(path);
  const run = store.openRun('{"job":1}');
  assert.equal(run.resumed, false);
  const checkpoints = store.checkpointStore(run.id);
  assert.equal(await checkpoints.loadLatest(), undefined);
  for (const round of [0, 1, 2]) await checkpoints.save(checkpoint(round));
  store.recordNode('node-1', 'key-1');
  store.recordNode('node-1', 'key-1');
  store.close();

  store = new ServerStore(path);
  assert.deepEqual(store.openRun('{"job":1}'), { id: run.id, resumed: true });
  assert.deepEqual(await store.checkpointStore(run.id).loadLatest(), checkpoint(2));
  assert.deepEqual(store.rounds(run.id), [0, 1, 2]);
  assert.throws(() => store.openRun('{"job":2}'), new RegExp(`holds unfinished run ${run.id}`));
  const next = store.openRun('{"job":2}', true);
  assert.notEqual(next.id, run.id);
  store.finishRun(next.id);
  assert.equal(store.openRun('{"job":2}').resumed, false);
  store.close();

  const db = new Database(path, { readonly: true });
  assert.deepEqual(db.prepare('SELECT name, key, registrations FROM nodes').all(), [
    { name: 'node-1', key: 'key-1', registrations: 2 },
  ]);
  db.close();
});
