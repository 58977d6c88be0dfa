/**
 * Splitting a dataset among simulated clients. Every partitioner assigns each index to exactly
 * one client (test/data/partition.test.ts checks it as a property), returns each client's indices
 * in ascending order, and depends only on its inputs and seed, so a run can be replayed.
 *
 * - IID: a shuffled deal, sizes differing by at most one.
 * - Dirichlet(alpha) label skew (Hsu et al., 2019): each class is split among the clients in
 *   proportions drawn from Dirichlet(alpha); small alpha gives clients few classes, large alpha
 *   approaches IID. Client sizes vary.
 * - Shards (McMahan et al., 2017): indices sorted by label are cut into clients x shardsPerClient
 *   equal shards, dealt at random; with 2 shards each client sees at most 2 classes or so.
 */
import { seededRandom, shuffle, type RandomSource } from '../crypto/random.js';
import { dirichlet } from './sampling.js';

export type PartitionSpec =
  | { readonly kind: 'iid' }
  | {
      readonly kind: 'dirichlet';
      readonly alpha: number;
      /** Least examples per client; draws are repeated until every client has them. Default 1. */
      readonly minExamples?: number;
    }
  | { readonly kind: 'shards'; readonly shardsPerClient: number };

/** Client c's example indices are `partition[c]`, ascending. */
export type Partition = readonly Uint32Array[];

/** Draws of the Dirichlet proportions before giving up on `minExamples`. */
const DIRICHLET_ATTEMPTS = 100;

export function partitionDataset(
  spec: PartitionSpec,
  labels: Uint8Array,
  classes: number,
  clients: number,
  seed: string | number,
): Partition {
  checkClients(clients, labels.length);
  const random = seededRandom(seed, `sepal/data/partition/${spec.kind}`);
  switch (spec.kind) {
    case 'iid':
      return iid(labels.length, clients, random);
    case 'dirichlet':
      return labelDirichlet(labels, classes, clients, spec.alpha, spec.minExamples ?? 1, random);
    case 'shards':
      return shards(labels, clients, spec.shardsPerClient, random);
  }
}

function checkClients(clients: number, count: number): void {
  if (!Number.isInteger(clients) || clients < 1 || clients > count) {
    throw new RangeError(
      `clients must be an integer in [1, ${count}] (the examples), got ${clients}`,
    );
  }
}

/** `items` cut into `parts` consecutive runs whose lengths differ by at most one. */
function splitEvenly<T>(items: readonly T[], parts: number): T[][] {
  const base = Math.floor(items.length / parts);
  const longer = items.length % parts;
  const out: T[][] = [];
  for (let part = 0, start = 0; part < parts; part++) {
    const end = start + base + (part < longer ? 1 : 0);
    out.push(items.slice(start, end));
    start = end;
  }
  return out;
}

const ascending = (indices: readonly number[]) => Uint32Array.from(indices).sort();

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function iid(count: number, clients: number, random: RandomSource): Partition {
  return splitEvenly(shuffle(range(count), random), clients).map(ascending);
}

function labelDirichlet(
  labels: Uint8Array,
  classes: number,
  clients: number,
  alpha: number,
  minExamples: number,
  random: RandomSource,
): Partition {
  if (!(alpha > 0) || !Number.isFinite(alpha)) {
    throw new RangeError(`alpha must be a positive number, got ${alpha}`);
  }
  if (!Number.isInteger(minExamples) || minExamples < 0 || minExamples * clients > labels.length) {
    throw new RangeError(
      `minExamples must be an integer in [0, ${Math.floor(labels.length / clients)}] for ${clients} clients, got ${minExamples}`,
    );
  }
  const byClass = range(classes).map(() => [] as number[]);
  labels.forEach((label, index) => {
    const members = byClass[label];
    if (members === undefined) {
      throw new RangeError(`label ${label} at index ${index} is outside [0, ${classes})`);
    }
    members.push(index);
  });
  for (let attempt = 0; attempt < DIRICHLET_ATTEMPTS; attempt++) {
    const assigned = range(clients).map(() => [] as number[]);
    for (const members of byClass) {
      const proportions = dirichlet(alpha, clients, random);
      const shuffled = shuffle(members, random);
      // Cut points at the rounded cumulative proportions: every member lands in one slice.
      let cumulative = 0;
      let start = 0;
      proportions.forEach((p, client) => {
        cumulative += p;
        const end =
          client === clients - 1 ? shuffled.length : Math.round(cumulative * shuffled.length);
        assigned[client]?.push(...shuffled.slice(start, end));
        start = Math.max(start, end);
      });
    }
    if (assigned.every((indices) => indices.length >= minExamples)) return assigned.map(ascending);
  }
  throw new RangeError(
    `Dirichlet(alpha=${alpha}) gave some of ${clients} clients fewer than ${minExamples} examples ` +
      `in ${DIRICHLET_ATTEMPTS} draws; raise alpha or lower minExamples`,
  );
}

function shards(
  labels: Uint8Array,
  clients: number,
  shardsPerClient: number,
  random: RandomSource,
): Partition {
  const total = clients * shardsPerClient;
  if (!Number.isInteger(shardsPerClient) || shardsPerClient < 1 || total > labels.length) {
    throw new RangeError(
      `shardsPerClient must be an integer >= 1 with clients x shardsPerClient <= ${labels.length}, got ${shardsPerClient}`,
    );
  }
  // Sorted by label, ties by index (Array.prototype.sort is stable).
  const sorted = range(labels.length).sort((a, b) => (labels[a] as number) - (labels[b] as number));
  const dealt = shuffle(splitEvenly(sorted, total), random);
  return range(clients).map((client) =>
    ascending(dealt.slice(client * shardsPerClient, (client + 1) * shardsPerClient).flat()),
  );
}
