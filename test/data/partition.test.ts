import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { seededRandom } from '../../src/crypto/random.js';
import { partitionDataset, type Partition, type PartitionSpec } from '../../src/data/partition.js';
import { dirichlet, logGamma } from '../../src/data/sampling.js';

const RUNS = Number(process.env.SEPAL_PROPERTY_RUNS ?? 30);

/** Labels of a dataset of `count` examples in `classes` classes, some classes possibly empty. */
const labelsArbitrary = fc
  .record({ classes: fc.integer({ min: 1, max: 10 }), count: fc.integer({ min: 1, max: 400 }) })
  .chain(({ classes, count }) =>
    fc.record({
      classes: fc.constant(classes),
      labels: fc
        .array(fc.integer({ min: 0, max: classes - 1 }), { minLength: count, maxLength: count })
        .map((values) => Uint8Array.from(values)),
    }),
  );

const specArbitrary: fc.Arbitrary<PartitionSpec> = fc.oneof(
  fc.constant({ kind: 'iid' as const }),
  fc.record({
    kind: fc.constant('dirichlet' as const),
    alpha: fc.double({ min: 0.01, max: 100, noNaN: true }),
    minExamples: fc.constant(0),
  }),
  fc.record({
    kind: fc.constant('shards' as const),
    shardsPerClient: fc.integer({ min: 1, max: 3 }),
  }),
);

function assertExactCover(partition: Partition, count: number): void {
  const seen = new Uint8Array(count);
  for (const indices of partition) {
    for (let i = 0; i < indices.length; i++) {
      const index = indices[i] as number;
      assert.ok(index < count, `index ${index} out of range`);
      assert.equal(seen[index], 0, `index ${index} assigned twice`);
      seen[index] = 1;
      if (i > 0) assert.ok(index > (indices[i - 1] as number), 'indices not ascending');
    }
  }
  assert.ok(
    seen.every((s) => s === 1),
    'some index was not assigned',
  );
}

const sizes = (partition: Partition) => partition.map((indices) => indices.length);
const distinctLabels = (indices: Uint32Array, labels: Uint8Array) =>
  new Set(Array.from(indices, (i) => labels[i])).size;

describe('partitionDataset', () => {
  it('assigns every index to exactly one client, ascending, the same way for the same seed', () => {
    fc.assert(
      fc.property(
        labelsArbitrary,
        specArbitrary,
        fc.integer({ min: 1, max: 20 }),
        fc.nat(),
        ({ classes, labels }, spec, wanted, seed) => {
          const perClient = spec.kind === 'shards' ? spec.shardsPerClient : 1;
          fc.pre(labels.length >= perClient);
          const clients = Math.min(wanted, Math.floor(labels.length / perClient));
          const partition = partitionDataset(spec, labels, classes, clients, seed);
          assert.equal(partition.length, clients);
          assertExactCover(partition, labels.length);
          assert.deepEqual(partitionDataset(spec, labels, classes, clients, seed), partition);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('IID: client sizes differ by at most one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 50 }),
        (count, wanted) => {
          const clients = Math.min(count, wanted);
          const partition = partitionDataset({ kind: 'iid' }, new Uint8Array(count), 1, clients, 1);
          assert.ok(Math.max(...sizes(partition)) - Math.min(...sizes(partition)) <= 1);
        },
      ),
      { numRuns: RUNS },
    );
  });

  const labels = Uint8Array.from({ length: 6000 }, (_, i) => i % 10);

  it("shards: McMahan et al.'s split gives each client equal shards and few classes", () => {
    const partition = partitionDataset({ kind: 'shards', shardsPerClient: 2 }, labels, 10, 100, 7);
    assert.deepEqual(new Set(sizes(partition)), new Set([60]));
    // Two shards of 30 sorted examples each span at most 2 classes: at most 4 per client.
    assert.ok(partition.every((indices) => distinctLabels(indices, labels) <= 4));
    const mean = partition.reduce((sum, p) => sum + distinctLabels(p, labels), 0) / 100;
    assert.ok(mean < 2.5, `mean classes per client ${mean}`);
  });

  it('Dirichlet: small alpha skews labels, large alpha approaches IID, minExamples holds', () => {
    /** Mean over clients of the share of the client's examples in its most common class. */
    const topClassShare = (alpha: number) => {
      const spec = { kind: 'dirichlet' as const, alpha, minExamples: 5 };
      const partition = partitionDataset(spec, labels, 10, 50, 3);
      assert.ok(Math.min(...sizes(partition)) >= 5);
      const shares = partition.map((indices) => {
        const counts = new Array<number>(10).fill(0);
        for (const i of indices)
          counts[labels[i] as number] = (counts[labels[i] as number] ?? 0) + 1;
        return Math.max(...counts) / indices.length;
      });
      return shares.reduce((a, b) => a + b, 0) / shares.length;
    };
    const skewed = topClassShare(0.1);
    const uniform = topClassShare(1000);
    assert.ok(skewed > 0.5, `alpha 0.1: top class share ${skewed}`);
    assert.ok(uniform < 0.2, `alpha 1000: top class share ${uniform}`);
  });

  it('different seeds give different partitions', () => {
    const a = partitionDataset({ kind: 'iid' }, labels, 10, 10, 1);
    const b = partitionDataset({ kind: 'iid' }, labels, 10, 10, 2);
    assert.notDeepEqual(a, b);
  });

  it('rejects impossible requests with what was expected', () => {
    assert.throws(
      () => partitionDataset({ kind: 'iid' }, labels, 10, 0, 1),
      /clients must be an integer in \[1, 6000\]/,
    );
    assert.throws(() => partitionDataset({ kind: 'iid' }, labels, 10, 6001, 1), /got 6001/);
    assert.throws(
      () => partitionDataset({ kind: 'dirichlet', alpha: 0 }, labels, 10, 10, 1),
      /alpha must be a positive number, got 0/,
    );
    assert.throws(
      () => partitionDataset({ kind: 'dirichlet', alpha: 1, minExamples: 700 }, labels, 10, 10, 1),
      /minExamples must be an integer in \[0, 600\]/,
    );
    assert.throws(
      () =>
        partitionDataset({ kind: 'dirichlet', alpha: 0.01, minExamples: 590 }, labels, 10, 10, 1),
      /fewer than 590 examples in 100 draws; raise alpha or lower minExamples/,
    );
    assert.throws(
      () => partitionDataset({ kind: 'dirichlet', alpha: 1 }, labels, 5, 10, 1),
      /label 5 at index 5 is outside \[0, 5\)/,
    );
    assert.throws(
      () => partitionDataset({ kind: 'shards', shardsPerClient: 0 }, labels, 10, 10, 1),
      /shardsPerClient must be an integer >= 1/,
    );
  });
});

describe('sampling', () => {
  const random = () => seededRandom(5, 'test/sampling');

  it('Gamma(shape) has mean shape (Marsaglia–Tsang, including shape < 1)', () => {
    for (const shape of [0.3, 1, 4]) {
      const source = random();
      const n = 4000;
      let sum = 0;
      for (let i = 0; i < n; i++) sum += Math.exp(logGamma(shape, source));
      // Standard error of the mean is sqrt(shape / n): allow five of them.
      assert.ok(
        Math.abs(sum / n - shape) < 5 * Math.sqrt(shape / n),
        `shape ${shape}: mean ${sum / n}`,
      );
    }
  });

  it('Dirichlet points lie on the simplex even when alpha is tiny', () => {
    const source = random();
    for (const alpha of [1e-4, 0.1, 10]) {
      const point = dirichlet(alpha, 20, source);
      assert.ok(point.every((p) => p >= 0 && Number.isFinite(p)));
      assert.ok(Math.abs(point.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    }
  });
});
