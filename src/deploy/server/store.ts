/**
 * The server's durable state in SQLite: runs, every completed round's checkpoint (global
 * parameters, history so far, strategy state), and the nodes that registered.
 *
 * Durability: WAL journal with synchronous=FULL, and every write is one transaction that has
 * committed before the call returns, so a round the server reported complete survives kill -9
 * and power loss. A checkpoint is stored in the framework's own binary format (fl/checkpoint.ts),
 * one row per round, beside its round record as JSON for inspection with the sqlite3 shell.
 *
 * Sealed (confidential mode, `sepal server --sealed-key`): each checkpoint is sealed before it
 * is written (confidential/sealed format, AES-256-GCM under the server's mount key) with its run
 * and round bound in as its name, `checkpoints/<run id>/<round>`, and the round record column
 * stays NULL (the record is inside the sealed checkpoint). So neither the database nor its WAL
 * ever holds the model in the clear; a blob moved to another row, altered, cut, or sealed under
 * another key is refused when loaded, naming the run and round. Rollback to an older sealed row
 * of the same run and round is not detected (docs/confidential.md, Limits).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  type Checkpoint,
  type CheckpointStore,
} from '../../fl/checkpoint.js';
import { looksSealed } from '../../confidential/sealed/index.js';
import { DeployFileError } from '../errors.js';
import { newId } from './session.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id          TEXT PRIMARY KEY,
  config      TEXT NOT NULL,     -- the job as configured (JSON); a run resumes only under it
  created_at  INTEGER NOT NULL,  -- ms since the epoch
  finished_at INTEGER            -- NULL while the run is in progress
);
CREATE TABLE IF NOT EXISTS checkpoints (
  run_id     TEXT NOT NULL REFERENCES runs(id),
  round      INTEGER NOT NULL,   -- 0: the initial parameters
  checkpoint BLOB NOT NULL,      -- fl/checkpoint.ts format
  record     TEXT,               -- the round's RoundRecord as JSON; NULL for round 0
  saved_at   INTEGER NOT NULL,
  PRIMARY KEY (run_id, round)
);
CREATE TABLE IF NOT EXISTS nodes (
  name          TEXT PRIMARY KEY,
  key           TEXT,            -- base64url Ed25519 key; NULL when the server runs without TLS
  first_seen    INTEGER NOT NULL,
  last_seen     INTEGER NOT NULL,
  registrations INTEGER NOT NULL
);
`;

/** Seals and opens named blobs (a SealedMount). */
export interface BlobSealer {
  sealBytes(name: string, data: Uint8Array): Uint8Array;
  openBytes(name: string, sealed: Uint8Array): Uint8Array;
}

/**
 * The sealed-mount label of the database's blobs (`sepal server --sealed-key`): the same key
 * material yields an unrelated key for them, so a blob never opens as a file of the mount.
 */
export const DATABASE_SEAL_LABEL = 'sepal server database';

/** The name a checkpoint is sealed under: its run and round are bound into every chunk. */
export const sealedCheckpointName = (runId: string, round: number) =>
  `checkpoints/${runId}/${round}`;

export interface RunInfo {
  readonly id: string;
  /** True when the run existed and continues; false when it was created now. */
  readonly resumed: boolean;
}

export class ServerStore {
  readonly #db: Database.Database;
  readonly #pendingNodes = new Map<
    string,
    { readonly key: string | undefined; readonly at: number; readonly count: number }
  >();

  /** @param sealer seals every checkpoint written and opens every one read (confidential mode). */
  constructor(
    readonly path: string,
    private readonly sealer?: BlobSealer,
  ) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.#db = new Database(path);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.exec(SCHEMA);
    } catch (error) {
      throw new DeployFileError(path, `cannot open the database: ${(error as Error).message}`);
    }
  }

  /**
   * The run to execute for `config` (JSON): the unfinished run when there is one, else a new
   * run. An unfinished run of another config is an error unless `abandon` is set, which marks it
   * finished and starts anew.
   */
  openRun(config: string, abandon = false): RunInfo {
    return this.#db.transaction((): RunInfo => {
      const open = this.#db
        .prepare('SELECT id, config FROM runs WHERE finished_at IS NULL ORDER BY created_at DESC')
        .get() as { id: string; config: string } | undefined;
      if (open !== undefined && open.config === config) return { id: open.id, resumed: true };
      if (open !== undefined) {
        if (!abandon) {
          throw new DeployFileError(
            this.path,
            `holds unfinished run ${open.id} of a different job config; resume it with that ` +
              'config, or start a new run and abandon it (--new-run)',
          );
        }
        this.finishRun(open.id);
      }
      const id = newId();
      this.#db
        .prepare('INSERT INTO runs (id, config, created_at) VALUES (?, ?, ?)')
        .run(id, config, Date.now());
      return { id, resumed: false };
    })();
  }

  finishRun(runId: string): void {
    this.#db.prepare('UPDATE runs SET finished_at = ? WHERE id = ?').run(Date.now(), runId);
  }

  /**
   * Records a node's registration. Registrations arriving together (a fleet reconnecting after a
   * restart) are written in one transaction on the next turn of the event loop: one disk flush
   * for many nodes instead of one each. They are bookkeeping, not run state, so a crash may lose
   * the last batch.
   */
  recordNode(name: string, key: string | undefined): void {
    const pending = this.#pendingNodes.get(name);
    this.#pendingNodes.set(name, { key, at: Date.now(), count: (pending?.count ?? 0) + 1 });
    if (this.#pendingNodes.size === 1 && pending === undefined) {
      setImmediate(() => this.#flushNodes());
    }
  }

  #flushNodes(): void {
    if (this.#pendingNodes.size === 0 || !this.#db.open) return;
    const upsert = this.#db.prepare(
      `INSERT INTO nodes (name, key, first_seen, last_seen, registrations) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET key = excluded.key, last_seen = excluded.last_seen,
         registrations = registrations + excluded.registrations`,
    );
    const batch = [...this.#pendingNodes];
    this.#pendingNodes.clear();
    this.#db.transaction(() => {
      for (const [name, { key, at, count }] of batch) upsert.run(name, key ?? null, at, at, count);
    })();
  }

  /** Completed rounds of a run, in order (for inspection and tests). */
  rounds(runId: string): number[] {
    return (
      this.#db
        .prepare('SELECT round FROM checkpoints WHERE run_id = ? ORDER BY round')
        .all(runId) as { round: number }[]
    ).map((row) => row.round);
  }

  /** The run's checkpoints as the server loop's CheckpointStore. */
  checkpointStore(runId: string): CheckpointStore {
    const insert = this.#db.prepare(
      `INSERT OR REPLACE INTO checkpoints (run_id, round, checkpoint, record, saved_at)
       VALUES (?, ?, ?, ?, ?)`,
    );
    const latest = this.#db.prepare(
      'SELECT round, checkpoint FROM checkpoints WHERE run_id = ? ORDER BY round DESC LIMIT 1',
    );
    return {
      save: async (checkpoint: Checkpoint) => {
        const record = checkpoint.history.rounds.find((r) => r.round === checkpoint.round);
        const encoded = encodeCheckpoint(checkpoint);
        const sealer = this.sealer;
        insert.run(
          runId,
          checkpoint.round,
          sealer === undefined
            ? encoded
            : sealer.sealBytes(sealedCheckpointName(runId, checkpoint.round), encoded),
          sealer !== undefined || record === undefined ? null : JSON.stringify(record),
          Date.now(),
        );
      },
      loadLatest: async () => {
        const row = latest.get(runId) as { round: number; checkpoint: Uint8Array } | undefined;
        if (row === undefined) return undefined;
        const source = `${this.path} (run ${runId}, round ${row.round})`;
        return decodeCheckpoint(this.#unseal(runId, row.round, row.checkpoint, source), source);
      },
    };
  }

  /** A stored checkpoint blob in the clear; refuses one sealed differently from this store. */
  #unseal(runId: string, round: number, blob: Uint8Array, source: string): Uint8Array {
    const sealed = looksSealed(blob);
    if (this.sealer === undefined) {
      if (!sealed) return blob;
      throw new DeployFileError(
        source,
        'the checkpoint is sealed: start the server with the mount key it was sealed with (--sealed-key)',
      );
    }
    if (!sealed) {
      throw new DeployFileError(
        source,
        'the checkpoint is not sealed (written without --sealed-key): a sealed server refuses it',
      );
    }
    try {
      return this.sealer.openBytes(sealedCheckpointName(runId, round), blob);
    } catch (error) {
      throw new DeployFileError(source, `refused: ${(error as Error).message}`);
    }
  }

  close(): void {
    this.#flushNodes();
    this.#db.close();
  }
}
