// Shared by the deployment tests: a small secure job and what its synthetic model must produce.
import { decodeCheckpoint, type Checkpoint } from '../../src/fl/checkpoint.js';
import type { RoundRecord } from '../../src/fl/history.js';
import { syntheticJob, syntheticUpdate, syntheticWeight } from '../../src/deploy/synthetic.js';
import type { JobConfig } from '../../src/sim/config.js';
import Database from 'better-sqlite3';

export const DIM = 64;

/**
 * FedAvg with SecAgg+ (5 neighbours of 10): clippingRange 8 and targetRange 65 put every
 * synthetic update on the quantization grid (step 1/4), so aggregates are exact.
 */
export const jobConfig = (overrides: Record<string, unknown> = {}) => ({
  name: 'deploy-test',
  model: 'mlp',
  clients: 10,
  rounds: 3,
  fit: { fraction: 1, minClients: 3 },
  evaluate: { fraction: 0, centralized: false },
  strategy: { name: 'fedavg' },
  secureAggregation: {
    shareNum: 5,
    threshold: 3,
    clippingRange: 8,
    targetRange: 65,
    maxWeight: 16,
  },
  roundTimeoutMs: 20_000,
  seed: 1,
  ...overrides,
});

/** The node name a partition gets in these tests. */
export const partitionOf = (node: string): number => Number(node.replace(/^node-/, ''));

/** The weighted mean of the synthetic updates of `nodes` (named node-<partition>). */
export function expectedMean(nodes: readonly string[], dim = DIM): Float64Array {
  const mean = new Float64Array(dim);
  const total = nodes.reduce((sum, n) => sum + syntheticWeight(partitionOf(n)), 0);
  for (const node of nodes) {
    const p = partitionOf(node);
    for (let j = 0; j < dim; j++) {
      mean[j] = (mean[j] as number) + (syntheticWeight(p) * syntheticUpdate(p, j)) / total;
    }
  }
  return mean;
}

/** Every checkpoint of a run, by round, read straight from the server's database. */
export function checkpoints(database: string): Checkpoint[] {
  const db = new Database(database, { readonly: true });
  try {
    const rows = db.prepare('SELECT checkpoint FROM checkpoints ORDER BY run_id, round').all() as {
      checkpoint: Uint8Array;
    }[];
    return rows.map((row) => decodeCheckpoint(row.checkpoint));
  } finally {
    db.close();
  }
}

/** The nodes whose updates a round aggregated: those sampled minus those dropped. */
export const aggregatedNodes = (record: RoundRecord, sampled: readonly string[]): string[] =>
  sampled.filter((node) => !record.dropped.includes(node));

/** Largest |a - b| over entries. */
export function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++)
    max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/**
 * Server options of a one-round run of `config` on the synthetic model, with short heartbeats and
 * small limits: the fields the in-process server tests share (they add host, port, TLS, database).
 */
export async function oneRoundServer(config: JobConfig) {
  return {
    job: JSON.stringify(config),
    strategy: await syntheticJob(config, DIM).strategy(),
    numRounds: 1,
    minNodes: 1,
    heartbeatIntervalMs: 1000,
    livenessTimeoutMs: 5000,
    pollTimeoutMs: 1000,
    maxMessageBytes: 1 << 20,
    rateLimit: { perSecond: 100, burst: 100 },
  };
}
