// Sealed checkpoints (sepal server --sealed-key): the database holds only sealed blobs bound to
// their run and round; a restarted server resumes from them; a blob that was altered, cut, moved
// to another round, sealed under another key, or not sealed at all is refused, naming the run and
// round, and a server refuses to start on such a database.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SealedMount } from '../../src/confidential/sealed/index.js';
import { DeployFileError } from '../../src/deploy/errors.js';
import { startFleetServer } from '../../src/deploy/server/fleet-server.js';
import { DATABASE_SEAL_LABEL, ServerStore } from '../../src/deploy/server/store.js';
import type { Checkpoint } from '../../src/fl/checkpoint.js';
import { resolveConfig } from '../../src/sim/config.js';
import { jobConfig, oneRoundServer } from './helpers.js';

/** A recognisable model: its float32 bytes must never reach the database in the clear. */
const checkpoint = (round: number): Checkpoint => ({
  round,
  parameters: [
    { name: 'w', shape: [64], values: Float32Array.from({ length: 64 }, (_, i) => round + i / 7) },
  ],
  history: { rounds: [] },
  strategy: 'FedAvg',
  strategyState: [],
});

const mount = (key: Uint8Array) => new SealedMount('.', key, { label: DATABASE_SEAL_LABEL });

/** A database with a run of sealed checkpoints 0..2; returns its path, run id and key. */
async function sealedDatabase() {
  const path = join(mkdtempSync(join(tmpdir(), 'sepal-sealed-store-')), 'server.db');
  const key = new Uint8Array(randomBytes(32));
  const store = new ServerStore(path, mount(key));
  const run = store.openRun('{"job":1}');
  const checkpoints = store.checkpointStore(run.id);
  for (const round of [0, 1, 2]) await checkpoints.save(checkpoint(round));
  store.close();
  return { path, runId: run.id, key };
}

/** Runs `edit` on the database directly, as someone with access to the disk could. */
function tamper(path: string, edit: (db: Database.Database) => void): void {
  const db = new Database(path);
  try {
    edit(db);
  } finally {
    db.close();
  }
}

const blob = (db: Database.Database, round: number) =>
  (
    db.prepare('SELECT checkpoint FROM checkpoints WHERE round = ?').get(round) as {
      checkpoint: Buffer;
    }
  ).checkpoint;

/** Loading the latest checkpoint fails with a DeployFileError matching `pattern`. */
async function refused(path: string, key: Uint8Array | undefined, pattern: RegExp) {
  const store = new ServerStore(path, key && mount(key));
  try {
    const run = store.openRun('{"job":1}');
    await assert.rejects(
      store.checkpointStore(run.id).loadLatest(),
      (error: unknown) =>
        error instanceof DeployFileError &&
        new RegExp(`run ${run.id}, round 2`).test(error.message) &&
        pattern.test(error.message),
    );
  } finally {
    store.close();
  }
}

describe('sealed checkpoints', () => {
  it('holds no plaintext model, and a restart with the key resumes from the last one', async () => {
    const { path, runId, key } = await sealedDatabase();
    const onDisk = Buffer.concat(
      ['', '-wal'].map((suffix) => {
        try {
          return readFileSync(path + suffix);
        } catch {
          return Buffer.alloc(0);
        }
      }),
    );
    const model = Buffer.from(checkpoint(2).parameters[0]?.values.buffer as ArrayBuffer);
    assert.equal(onDisk.indexOf(model.subarray(0, 32)), -1, 'model bytes in the clear');
    tamper(path, (db) => {
      const rows = db.prepare('SELECT checkpoint, record FROM checkpoints').all() as {
        checkpoint: Buffer;
        record: string | null;
      }[];
      assert.equal(rows.length, 3);
      for (const row of rows) {
        assert.equal(row.checkpoint.subarray(0, 8).toString(), 'SEPALSLD');
        assert.equal(row.record, null);
      }
    });
    const store = new ServerStore(path, mount(key));
    assert.deepEqual(store.openRun('{"job":1}'), { id: runId, resumed: true });
    assert.deepEqual(await store.checkpointStore(runId).loadLatest(), checkpoint(2));
    store.close();
  });

  it('refuses a flipped byte, a cut blob, and a blob moved to another round', async () => {
    const flipped = await sealedDatabase();
    tamper(flipped.path, (db) => {
      const bytes = blob(db, 2);
      bytes[bytes.length - 20] = (bytes[bytes.length - 20] as number) ^ 1;
      db.prepare('UPDATE checkpoints SET checkpoint = ? WHERE round = 2').run(bytes);
    });
    await refused(flipped.path, flipped.key, /chunk 0 failed authentication/);

    const cut = await sealedDatabase();
    tamper(cut.path, (db) => {
      const bytes = blob(db, 2);
      db.prepare('UPDATE checkpoints SET checkpoint = ? WHERE round = 2').run(
        bytes.subarray(0, bytes.length - 7),
      );
    });
    await refused(cut.path, cut.key, /cut short|failed authentication/);

    // Round 1's (valid, same key) checkpoint put in round 2's row: its name binds round 1.
    const moved = await sealedDatabase();
    tamper(moved.path, (db) => {
      db.prepare('UPDATE checkpoints SET checkpoint = ? WHERE round = 2').run(blob(db, 1));
    });
    await refused(moved.path, moved.key, /sealed under another path/);
  });

  it('refuses another key, no key, and an unsealed checkpoint under a key', async () => {
    const { path, key } = await sealedDatabase();
    await refused(path, new Uint8Array(randomBytes(32)), /different mount key/);
    await refused(
      path,
      undefined,
      /the checkpoint is sealed: start the server with .*--sealed-key/,
    );

    const plainPath = join(mkdtempSync(join(tmpdir(), 'sepal-plain-store-')), 'server.db');
    const plain = new ServerStore(plainPath);
    const run = plain.openRun('{"job":1}');
    for (const round of [0, 1, 2]) await plain.checkpointStore(run.id).save(checkpoint(round));
    plain.close();
    await refused(plainPath, key, /not sealed \(written without --sealed-key\)/);
  });

  it('stops a server before it listens when its last checkpoint cannot be opened', async () => {
    const config = resolveConfig(jobConfig());
    const database = join(mkdtempSync(join(tmpdir(), 'sepal-sealed-server-')), 'server.db');
    const options = {
      host: '127.0.0.1',
      port: 0,
      database,
      ...(await oneRoundServer(config)),
    };
    const key = new Uint8Array(randomBytes(32));
    const store = new ServerStore(database, mount(key));
    const run = store.openRun(JSON.stringify(config));
    await store.checkpointStore(run.id).save(checkpoint(0));
    store.close();
    await assert.rejects(
      startFleetServer({ ...options, sealer: mount(new Uint8Array(randomBytes(32))) }),
      (error: unknown) =>
        error instanceof DeployFileError && /different mount key/.test(error.message),
    );
    const server = await startFleetServer({ ...options, sealer: mount(key) });
    assert.equal(server.resumed, true);
    await server.close();
  });
});
