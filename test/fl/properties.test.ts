// Properties of the parameter helpers and the aggregators, over generated inputs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ParametersError } from '../../src/fl/errors.js';
import { checkCompatible, flatten, unflatten, type Parameters } from '../../src/fl/parameters.js';
import { FedAvg } from '../../src/fl/strategy/fedavg.js';
import { FedMedian } from '../../src/fl/strategy/fedmedian.js';
import { FedTrimmedAvg } from '../../src/fl/strategy/fedtrimmedavg.js';
import { Krum } from '../../src/fl/strategy/krum.js';
import type { FitAggregate } from '../../src/fl/strategy/strategy.js';
import { fitResult, values, vector } from './helpers.js';

// `+ 0` turns −0 into 0: sums start at +0, and +0 + −0 is +0.
const entry = fc
  .float({ min: -1000, max: 1000, noNaN: true, noDefaultInfinity: true })
  .map((v) => v + 0);
const update = (dim: number) => fc.array(entry, { minLength: dim, maxLength: dim });
/** n updates of one dimension, with example counts. */
const round = fc.integer({ min: 1, max: 6 }).chain((dim) =>
  fc.array(fc.tuple(update(dim), fc.integer({ min: 1, max: 1000 })), {
    minLength: 1,
    maxLength: 7,
  }),
);

const result = (aggregate: FitAggregate): number[] => {
  if ('aborted' in aggregate) assert.fail(aggregate.aborted);
  return values(aggregate.parameters);
};
const zeros = (dim: number) => vector(new Array<number>(dim).fill(0));

describe('parameter helpers', () => {
  const tensors = fc.array(
    fc
      .array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 })
      .chain((shape) => update(shape.reduce((a, b) => a * b, 1)).map((v) => ({ shape, v }))),
    { maxLength: 5 },
  );

  it('unflatten inverts flatten', () => {
    fc.assert(
      fc.property(tensors, (list) => {
        const parameters: Parameters = list.map(({ shape, v }, i) => ({
          name: `t${i}`,
          shape,
          values: Float32Array.from(v),
        }));
        const back = unflatten(flatten(parameters), parameters);
        assert.deepEqual(back, parameters);
        checkCompatible(parameters, back);
      }),
    );
  });

  it('name the tensor that does not fit', () => {
    const layout: Parameters = [...vector([1, 2], 'kernel'), ...vector([3], 'bias')];
    const wrong = (parameters: Parameters, tensor: string | undefined) =>
      assert.throws(
        () => checkCompatible(layout, parameters),
        (e: unknown) => e instanceof ParametersError && e.tensor === tensor,
      );
    wrong([...vector([1, 2], 'kernel'), ...vector([3, 4], 'bias')], 'bias');
    wrong([...vector([1, 2], 'kernel'), ...vector([3], 'other')], 'bias');
    wrong([...vector([1, Number.NaN], 'kernel'), ...vector([3], 'bias')], 'kernel');
    wrong(vector([1, 2], 'kernel'), undefined);
  });
});

describe('aggregation properties', () => {
  it('FedAvg of identical updates is that update, whatever the weights', () => {
    fc.assert(
      fc.property(
        update(4),
        fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 8 }),
        (u, weights) => {
          const results = weights.map((w) => fitResult(u, w));
          assert.deepEqual(
            result(new FedAvg().aggregateFit(1, results, zeros(4))),
            values(vector(u)),
          );
        },
      ),
    );
  });

  it('FedAvg does not change when every weight is scaled by the same factor', () => {
    fc.assert(
      fc.property(round, fc.integer({ min: 2, max: 1000 }), (rows, k) => {
        const dim = (rows[0] as [number[], number])[0].length;
        const avg = (scale: number) =>
          result(
            new FedAvg().aggregateFit(
              1,
              rows.map(([u, w]) => fitResult(u, w * scale)),
              zeros(dim),
            ),
          );
        const [base, scaled] = [avg(1), avg(k)];
        base.forEach((b, i) =>
          assert.ok(Math.abs(b - (scaled[i] as number)) <= 1e-6 * Math.max(1, Math.abs(b))),
        );
      }),
    );
  });

  it('FedMedian is order-free and lies within each coordinate’s range', () => {
    fc.assert(
      fc.property(round, (rows) => {
        const dim = (rows[0] as [number[], number])[0].length;
        const median = (list: typeof rows) =>
          result(
            new FedMedian().aggregateFit(
              1,
              list.map(([u, w]) => fitResult(u, w)),
              zeros(dim),
            ),
          );
        const m = median(rows);
        assert.deepEqual(median([...rows].reverse()), m);
        m.forEach((v, i) => {
          const column = rows.map(([u]) => Math.fround(u[i] as number));
          assert.ok(v >= Math.min(...column) && v <= Math.max(...column));
        });
      }),
    );
  });

  it('FedTrimmedAvg with β = 0 is the unweighted mean', () => {
    fc.assert(
      fc.property(round, (rows) => {
        const dim = (rows[0] as [number[], number])[0].length;
        const trimmed = result(
          new FedTrimmedAvg({ beta: 0 }).aggregateFit(
            1,
            rows.map(([u, w]) => fitResult(u, w)),
            zeros(dim),
          ),
        );
        const plain = result(
          new FedAvg().aggregateFit(
            1,
            rows.map(([u]) => fitResult(u, 1)),
            zeros(dim),
          ),
        );
        trimmed.forEach((t, i) => assert.ok(Math.abs(t - (plain[i] as number)) <= 1e-3));
      }),
    );
  });

  it('Krum never picks an outlier among honest clients that agree', () => {
    const honest = fc.array(
      update(3).map((u) => u.map((v) => v / 1000)),
      { minLength: 4, maxLength: 8 },
    );
    fc.assert(
      fc.property(honest, fc.integer({ min: 0, max: 8 }), (rows, at) => {
        const outlier = [1e4, -1e4, 1e4];
        const all = [...rows];
        all.splice(at % (rows.length + 1), 0, outlier);
        const chosen = result(
          new Krum({ numMalicious: 1 }).aggregateFit(
            1,
            all.map((u) => fitResult(u, 1)),
            zeros(3),
          ),
        );
        assert.notDeepEqual(chosen, values(vector(outlier)));
      }),
    );
  });
});
