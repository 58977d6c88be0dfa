// Strategies against numbers computed by hand (the arithmetic is written out in the comments).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, ParametersError } from '../../src/fl/errors.js';
import type { Parameters } from '../../src/fl/parameters.js';
import { FedAvg } from '../../src/fl/strategy/fedavg.js';
import { FedAvgM } from '../../src/fl/strategy/fedavgm.js';
import { FedMedian } from '../../src/fl/strategy/fedmedian.js';
import { FedAdagrad, FedAdam, FedYogi } from '../../src/fl/strategy/fedopt.js';
import { FedProx } from '../../src/fl/strategy/fedprox.js';
import { FedTrimmedAvg } from '../../src/fl/strategy/fedtrimmedavg.js';
import { Krum } from '../../src/fl/strategy/krum.js';
import type { FitAggregate, FitResult, Strategy } from '../../src/fl/strategy/strategy.js';
import { ParameterError } from '../../src/secagg/errors.js';
import { fitResult, stubProxy, values, vector } from './helpers.js';

function close(actual: readonly number[], expected: readonly number[], tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((a, i) =>
    assert.ok(
      Math.abs(a - (expected[i] as number)) <= tolerance,
      `entry ${i}: ${a} is not within ${tolerance} of ${expected[i]}`,
    ),
  );
}

function aggregated(aggregate: FitAggregate): Parameters {
  if ('aborted' in aggregate) assert.fail(`aborted: ${aggregate.aborted}`);
  return aggregate.parameters;
}

/** One round in which every client sends `mean` (so the weighted mean is `mean`). */
const step = (strategy: Strategy, round: number, current: number[], mean: number[]) =>
  values(aggregated(strategy.aggregateFit(round, [fitResult(mean, 1)], vector(current))));

describe('FedAvg', () => {
  it('takes the example-weighted mean of parameters and fit metrics', () => {
    const results: FitResult[] = [
      {
        ...fitResult([1, 2], 1),
        res: { parameters: vector([1, 2]), numExamples: 1, metrics: { loss: 4 } },
      },
      {
        ...fitResult([3, 6], 3),
        res: { parameters: vector([3, 6]), numExamples: 3, metrics: { loss: 8 } },
      },
    ];
    const aggregate = new FedAvg().aggregateFit(1, results, vector([0, 0]));
    // ([1, 2]·1 + [3, 6]·3) / 4 = [10, 20] / 4; loss (4·1 + 8·3) / 4 = 7
    close(values(aggregated(aggregate)), [2.5, 5]);
    assert.deepEqual('metrics' in aggregate && aggregate.metrics, { loss: 7 });
  });

  it('aborts a round whose clients report no examples', () => {
    const aggregate = new FedAvg().aggregateFit(1, [fitResult([1], 0)], vector([0]));
    assert.ok('aborted' in aggregate && /no training examples/.test(aggregate.aborted));
  });

  it('weights distributed evaluation by examples and lifts accuracy', () => {
    const client = stubProxy('c');
    const record = new FedAvg().aggregateEvaluate(1, [
      { client, res: { loss: 1, numExamples: 1, metrics: { accuracy: 0.5 } } },
      { client, res: { loss: 3, numExamples: 3, metrics: { accuracy: 0.9 } } },
    ]);
    // loss (1 + 9) / 4, accuracy (0.5 + 2.7) / 4
    close([record.loss, record.accuracy ?? NaN, record.numExamples ?? NaN], [2.5, 0.8, 4]);
  });

  it('reports centralized evaluation through evaluateFn', async () => {
    const strategy = new FedAvg({
      evaluateFn: async (round) => ({ loss: round, metrics: { accuracy: 0.7 } }),
    });
    assert.deepEqual(await strategy.evaluate(3, vector([0])), {
      loss: 3,
      accuracy: 0.7,
      metrics: { accuracy: 0.7 },
    });
  });
});

describe('FedProx', () => {
  it('sends proximalMu with every fit instruction, after the user config', () => {
    const strategy = new FedProx({ proximalMu: 0.1, onFitConfig: (round) => ({ epochs: round }) });
    const ins = strategy.configureFit(4, vector([0]), [stubProxy('a'), stubProxy('b')]);
    assert.equal(ins.length, 2);
    for (const { ins: i } of ins) assert.deepEqual(i.config, { epochs: 4, proximalMu: 0.1 });
  });
});

describe('FedAvgM', () => {
  it('applies server momentum to the pseudo-gradient', () => {
    const strategy = new FedAvgM({ serverLearningRate: 0.5, serverMomentum: 0.9 });
    // g = [1, 0] − [0, 2] = [1, −2]; v = g; x = [1, 0] − 0.5·v = [0.5, 1]
    close(step(strategy, 1, [1, 0], [0, 2]), [0.5, 1]);
    // g = [0.5, 1] − [0.5, 3] = [0, −2]; v = 0.9·[1, −2] + [0, −2] = [0.9, −3.8];
    // x = [0.5, 1] − 0.5·v = [0.05, 2.9]
    close(step(strategy, 2, [0.5, 1], [0.5, 3]), [0.05, 2.9]);
  });

  it('is FedAvg with its defaults', () => {
    const strategy = new FedAvgM();
    assert.deepEqual(step(strategy, 1, [1, 0], [0.3, 2]), values(vector([0.3, 2])));
    assert.deepEqual(strategy.saveState(), []);
  });
});

describe('adaptive strategies (Reddi et al. 2021)', () => {
  it('FedAdagrad accumulates squared updates', () => {
    const strategy = new FedAdagrad({ eta: 1, tau: 1 });
    // Δ = [3, −4]; m = Δ; v = [9, 16]; x = 0 + [3 / (3 + 1), −4 / (4 + 1)]
    close(step(strategy, 1, [0, 0], [3, -4]), [0.75, -0.8]);
    // Δ = [1, 0]; m = [1, 0]; v = [10, 16]; x = [0.75 + 1 / (√10 + 1), −0.8]
    close(step(strategy, 2, [0.75, -0.8], [1.75, -0.8]), [0.75 + 1 / (Math.sqrt(10) + 1), -0.8]);
  });

  it('FedAdam uses Flower’s bias-corrected step', () => {
    const strategy = new FedAdam({ eta: 0.75, beta1: 0.5, beta2: 0.6, tau: 1 });
    // round 1: step = 0.75·√(1 − 0.6²) / (1 − 0.5²) = 0.75·0.8 / 0.75 = 0.8;
    // Δ = 2; m = 0.5·2 = 1; v = 0.4·4 = 1.6; x = 0.8·1 / (√1.6 + 1)
    close(step(strategy, 1, [0], [2]), [0.8 / (Math.sqrt(1.6) + 1)]);
    // round 2, Δ = 0: m = 0.5; v = 0.6·1.6 = 0.96; step = 0.75·√(1 − 0.6³) / (1 − 0.5³)
    const x = 0.8 / (Math.sqrt(1.6) + 1);
    const rate = (0.75 * Math.sqrt(1 - 0.216)) / (1 - 0.125);
    close(step(strategy, 2, [x], [x]), [x + (rate * 0.5) / (Math.sqrt(0.96) + 1)]);
  });

  it('FedYogi moves v additively towards Δ²', () => {
    const strategy = new FedYogi({ eta: 1, beta1: 0.5, beta2: 0.75, tau: 1 });
    // Δ = [2, 0.5]; m = [1, 0.25]; v = 0 + 0.25·Δ² = [1, 0.0625]; x = [1 / 2, 0.25 / 1.25]
    close(step(strategy, 1, [0, 0], [2, 0.5]), [0.5, 0.2]);
    // Δ = [0.5, 3]; m = [0.5 + 0.25, 0.125 + 1.5] = [0.75, 1.625];
    // v₀: Δ² = 0.25 < 1, so v₀ = 1 − 0.25·0.25 = 0.9375 (Adam would give 0.8125);
    // v₁: Δ² = 9 > 0.0625, so v₁ = 0.0625 + 0.25·9 = 2.3125
    close(step(strategy, 2, [0.5, 0.2], [1, 3.2]), [
      0.5 + 0.75 / (Math.sqrt(0.9375) + 1),
      0.2 + 1.625 / (Math.sqrt(2.3125) + 1),
    ]);
  });

  it('send etaL to clients and carry their state across instances', () => {
    const strategy = new FedYogi({ etaL: 0.05 });
    assert.equal(
      strategy.configureFit(1, vector([0]), [stubProxy('a'), stubProxy('b')])[0]?.ins.config[
        'etaL'
      ],
      0.05,
    );

    const straight = new FedAdam();
    step(straight, 1, [0, 0], [1, -1]);
    const resumed = new FedAdam();
    resumed.loadState(straight.saveState());
    const fresh = new FedAdam();
    fresh.loadState(resumed.saveState());
    assert.deepEqual(step(fresh, 2, [0.1, 0.2], [0.5, 0]), step(straight, 2, [0.1, 0.2], [0.5, 0]));
  });
});

describe('robust strategies', () => {
  const results = (rows: number[][], examples: number[] = rows.map(() => 1)) =>
    rows.map((row, i) => fitResult(row, examples[i] as number, `c${i}`));

  it('FedMedian takes coordinate-wise medians', () => {
    const median = new FedMedian();
    const three = results([
      [1, 10],
      [2, -5],
      [100, 0],
    ]);
    close(values(aggregated(median.aggregateFit(1, three, vector([0, 0])))), [2, 0]);
    // even count: columns [1, 2, 3, 100] and [−5, 0, 4, 10] → means of the middle pairs
    const four = results([
      [1, 10],
      [2, -5],
      [100, 0],
      [3, 4],
    ]);
    close(values(aggregated(median.aggregateFit(1, four, vector([0, 0])))), [2.5, 2]);
  });

  it('FedTrimmedAvg cuts floor(β·n) values from each end', () => {
    const rows = [[1], [2], [3], [4], [100]];
    // β = 0.25, n = 5: cut 1 each side → mean(2, 3, 4)
    close(
      values(
        aggregated(new FedTrimmedAvg({ beta: 0.25 }).aggregateFit(1, results(rows), vector([0]))),
      ),
      [3],
    );
    // β = 0.2, n = 4: cut floor(0.8) = 0 → mean(1, 2, 3, 4)
    close(
      values(
        aggregated(new FedTrimmedAvg().aggregateFit(1, results(rows.slice(0, 4)), vector([0]))),
      ),
      [2.5],
    );
  });

  // a, b, c, d near the origin, e far away. Squared distances: a–b 1, a–c 4, a–d 2, a–e 200,
  // b–c 5, b–d 1, b–e 181, c–d 2, c–e 164, d–e 162. With f = 1 each score sums the n − f − 2 = 2
  // nearest: a 1+2 = 3, b 1+1 = 2, c 2+4 = 6, d 1+2 = 3, e 162+164 = 326.
  const krumRows = [
    [0, 0],
    [1, 0],
    [0, 2],
    [1, 1],
    [10, 10],
  ];
  const krumExamples = [1, 2, 1, 1, 1];

  it('Krum scores by the nearest n − f − 2 and picks the lowest', () => {
    const krum = new Krum({ numMalicious: 1 });
    assert.deepEqual(krum.scores(results(krumRows)), [3, 2, 6, 3, 326]);
    close(
      values(aggregated(krum.aggregateFit(1, results(krumRows, krumExamples), vector([0, 0])))),
      [1, 0],
    );
  });

  it('Multi-Krum averages the m best, weighted by examples', () => {
    const multi = new Krum({ numMalicious: 1, numToKeep: 3 });
    // b (2 examples), a and d (1 each): ([1, 0]·2 + [0, 0] + [1, 1]) / 4
    close(
      values(aggregated(multi.aggregateFit(1, results(krumRows, krumExamples), vector([0, 0])))),
      [0.75, 0.25],
    );
  });
});

describe('sampling (Flower’s rule)', () => {
  const clients = Array.from({ length: 10 }, (_, i) => stubProxy(`c${i}`));
  const sampled = (options: ConstructorParameters<typeof FedAvg>[0], round = 1) =>
    new FedAvg({ seed: 7, ...options })
      .configureFit(round, vector([0]), clients)
      .map((i) => i.client.id);

  it('asks max(floor(n·fraction), minFitClients) distinct clients', () => {
    assert.equal(new Set(sampled({ fractionFit: 0.3 })).size, 3);
    assert.equal(sampled({ fractionFit: 0.05 }).length, 2);
    assert.equal(sampled({ fractionFit: 0.05, minFitClients: 4 }).length, 4);
  });

  it('asks nobody when too few clients are available', () => {
    assert.equal(sampled({ minAvailableClients: 11 }).length, 0);
    assert.equal(sampled({ minFitClients: 11, minAvailableClients: 0 }).length, 0);
  });

  it('is reproducible per round from the seed', () => {
    assert.deepEqual(sampled({ fractionFit: 0.5 }, 3), sampled({ fractionFit: 0.5 }, 3));
    const rounds = [1, 2, 3, 4].map((r) => sampled({ fractionFit: 0.5 }, r).join());
    assert.ok(new Set(rounds).size > 1, 'rounds draw different samples');
  });

  it('skips evaluation when fractionEvaluate is 0', () => {
    const strategy = new FedAvg({ fractionEvaluate: 0 });
    assert.equal(strategy.configureEvaluate(1, vector([0]), clients).length, 0);
    assert.equal(new FedAvg().configureEvaluate(1, vector([0]), clients).length, 10);
  });

  it('refuses outcomes with too few successes or unaccepted failures', () => {
    assert.equal(new FedAvg().checkOutcome('fit', 2, 3), undefined);
    assert.match(
      new FedAvg({ minFitClients: 3 }).checkOutcome('fit', 2, 0) ?? '',
      /fewer than the minimum of 3/,
    );
    assert.match(
      new FedAvg({ acceptFailures: false }).checkOutcome('fit', 5, 1) ?? '',
      /acceptFailures/,
    );
    assert.match(new FedAvg().checkOutcome('evaluate', 0, 2) ?? '', /0 client/);
  });
});

describe('option validation', () => {
  const refuses = (build: () => unknown, parameter: string) =>
    assert.throws(build, (e: unknown) => {
      assert.ok(e instanceof ConfigError && e instanceof ParameterError, String(e));
      assert.equal(e.parameter, parameter);
      return true;
    });

  it('names the offending option', () => {
    refuses(() => new FedAvg({ fractionFit: 1.5 }), 'fractionFit');
    refuses(() => new FedAvg({ fractionEvaluate: -0.1 }), 'fractionEvaluate');
    refuses(() => new FedAvg({ minFitClients: 0 }), 'minFitClients');
    refuses(() => new FedAvg({ minAvailableClients: 1.5 }), 'minAvailableClients');
    refuses(() => new FedProx({ proximalMu: -1 }), 'proximalMu');
    refuses(() => new FedAvgM({ serverMomentum: 2 }), 'serverMomentum');
    refuses(() => new FedAdam({ beta1: 1 }), 'beta1');
    refuses(() => new FedYogi({ tau: -1 }), 'tau');
    refuses(() => new FedAdagrad({ tau: 0 }), 'tau');
    refuses(() => new FedAdagrad({ eta: Number.NaN }), 'eta');
    refuses(() => new FedTrimmedAvg({ beta: 0.5 }), 'beta');
    refuses(() => new Krum({ numMalicious: 1.5 }), 'numMalicious');
    refuses(() => new Krum({ numToKeep: -1 }), 'numToKeep');
  });

  it('names the malformed tensor of initialParameters', () => {
    assert.throws(
      () =>
        new FedAvg({
          initialParameters: [{ name: 'dense/kernel', shape: [2, 2], values: new Float32Array(3) }],
        }),
      (e: unknown) => e instanceof ParametersError && e.tensor === 'dense/kernel',
    );
  });

  it('refuses secure aggregation for strategies that need individual updates', () => {
    for (const build of [
      () => new FedMedian({ secureAggregation: {} }),
      () => new FedTrimmedAvg({ secureAggregation: {} }),
      () => new Krum({ secureAggregation: { shareNum: 5 } }),
    ]) {
      assert.throws(build, (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.parameter, 'secureAggregation');
        assert.match(e.message, /needs each client's update/);
        assert.match(e.message, /reveals only the weighted mean/);
        return true;
      });
    }
    assert.deepEqual(new FedAdam({ secureAggregation: {} }).secureAggregation, {});
  });
});
