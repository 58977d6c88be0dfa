// The server loop with tiny pure-JS clients: convergence, failures, timeouts, events.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '../../src/fl/client.js';
import { ConfigError } from '../../src/fl/errors.js';
import type { ServerEvent } from '../../src/fl/events.js';
import { localProxy } from '../../src/fl/local-proxy.js';
import type { Parameters } from '../../src/fl/parameters.js';
import { runServer } from '../../src/fl/server.js';
import { FedAvg } from '../../src/fl/strategy/fedavg.js';
import { regressionClient, regressionTask, values, zeroModel } from './helpers.js';

const task = regressionTask(100);
const clients = (count: number) =>
  Array.from({ length: count }, (_, i) => localProxy(`c${i}`, regressionClient(task, 40, i + 1)));
const heldOut = regressionClient(task, 200, 99);
const centralized = async (_round: number, parameters: Parameters) => {
  const { loss } = await heldOut.evaluate(parameters, {});
  return { loss };
};

/** `client`, misbehaving in fit (and hanging in evaluate too, when it hangs). */
function broken(client: Client, how: 'throw' | 'hang' | 'nan'): Client {
  const never = () => new Promise<never>(() => {});
  return {
    ...client,
    async fit(parameters, config) {
      if (how === 'throw') throw new Error('out of memory');
      if (how === 'hang') return never();
      const res = await client.fit(parameters, config);
      res.parameters[0]?.values.fill(Number.NaN);
      return res;
    },
    evaluate: how === 'hang' ? never : client.evaluate.bind(client),
  };
}

describe('server loop', () => {
  it('trains linear regression to convergence and records every round', async () => {
    const events: ServerEvent['type'][] = [];
    const { parameters, history } = await runServer({
      strategy: new FedAvg({
        initialParameters: zeroModel(task.dim),
        evaluateFn: centralized,
        onFitConfig: () => ({ localSteps: 5, learningRate: 0.2 }),
      }),
      clients: clients(6),
      numRounds: 8,
      onEvent: (e) => events.push(e.type),
    });
    const initial = history.initial?.loss ?? NaN;
    const final = history.rounds.at(-1)?.centralized?.loss ?? NaN;
    assert.equal(history.rounds.length, 8);
    assert.ok(final < initial / 20, `loss ${initial} → ${final}`);
    const losses = history.rounds.map((r) => r.distributed?.loss ?? NaN);
    losses.slice(1).forEach((loss, i) => assert.ok(loss < (losses[i] as number)));
    for (const r of history.rounds) {
      assert.deepEqual([r.sampled, r.aggregated, r.dropped], [6, 6, []]);
      assert.equal(r.distributed?.numExamples, 240);
      assert.ok(r.fitMetrics['loss'] !== undefined && r.aborted === undefined);
    }
    assert.equal(values(parameters).length, task.dim + 1);
    assert.deepEqual(events.slice(0, 2), ['run-started', 'round-started']);
    assert.deepEqual(events.slice(2, 8), new Array(6).fill('fit-finished'));
    assert.deepEqual(events.slice(8, 14), new Array(6).fill('evaluate-finished'));
    assert.equal(events[14], 'round-finished');
  });

  it('stops after the first round that satisfies stopWhen', async () => {
    const { history } = await runServer({
      strategy: new FedAvg({
        initialParameters: zeroModel(task.dim),
        evaluateFn: centralized,
        onFitConfig: () => ({ localSteps: 5, learningRate: 0.2 }),
      }),
      clients: clients(4),
      numRounds: 50,
      stopWhen: (record) => (record.centralized?.loss ?? Infinity) < 0.5,
    });
    const losses = history.rounds.map((r) => r.centralized?.loss ?? NaN);
    assert.ok(history.rounds.length < 50);
    assert.ok((losses.at(-1) as number) < 0.5);
    assert.ok(losses.slice(0, -1).every((loss) => loss >= 0.5));
  });

  it('drops clients that throw, hang past the deadline or send NaN, and keeps going', async () => {
    const proxies = clients(5);
    const bad = [
      localProxy('thrower', broken(regressionClient(task, 40, 11), 'throw')),
      localProxy('sleeper', broken(regressionClient(task, 40, 12), 'hang')),
      localProxy('nan', broken(regressionClient(task, 40, 13), 'nan')),
    ];
    const errors = new Map<string, string>();
    const { history } = await runServer({
      strategy: new FedAvg({ initialParameters: zeroModel(task.dim) }),
      clients: [...proxies, ...bad],
      numRounds: 2,
      roundTimeoutMs: 150,
      onEvent: (e) => {
        if (e.type === 'fit-finished' && e.error !== undefined) errors.set(e.client, e.error);
      },
    });
    for (const r of history.rounds) {
      assert.equal(r.sampled, 8);
      assert.equal(r.aggregated, 5);
      assert.deepEqual([...r.dropped].sort(), ['nan', 'sleeper', 'thrower']);
      assert.equal(r.distributed?.numExamples, 40 * 7, 'the sleeper also misses evaluation');
    }
    assert.match(errors.get('thrower') ?? '', /out of memory/);
    assert.match(errors.get('sleeper') ?? '', /did not answer fit within 150 ms/);
    assert.match(errors.get('nan') ?? '', /tensor w: value 0 is NaN/);
  });

  it('keeps the parameters when failures are not accepted or too few clients succeed', async () => {
    const initial = zeroModel(task.dim);
    const run = (strategy: FedAvg) =>
      runServer({
        strategy,
        clients: [
          ...clients(2),
          localProxy('thrower', broken(regressionClient(task, 40, 11), 'throw')),
        ],
        numRounds: 1,
      });
    const strict = await run(new FedAvg({ initialParameters: initial, acceptFailures: false }));
    assert.match(strict.history.rounds[0]?.aborted ?? '', /acceptFailures is off/);
    assert.deepEqual(strict.parameters, initial);
    const needy = await run(new FedAvg({ initialParameters: initial, minFitClients: 3 }));
    assert.match(
      needy.history.rounds[0]?.aborted ?? '',
      /2 client\(s\) completed fit, fewer than the minimum of 3/,
    );
    assert.deepEqual(needy.parameters, initial);
    assert.equal(needy.history.rounds[0]?.aggregated, 0);
  });

  it('skips a round when too few clients are available', async () => {
    const { history } = await runServer({
      strategy: new FedAvg({ initialParameters: zeroModel(3), minAvailableClients: 5 }),
      clients: () => clients(2),
      numRounds: 1,
    });
    assert.equal(history.rounds[0]?.sampled, 0);
    assert.match(history.rounds[0]?.aborted ?? '', /too few clients available/);
  });

  it('asks the first client for initial parameters when the strategy has none', async () => {
    const { history } = await runServer({
      strategy: new FedAvg({ evaluateFn: centralized }),
      clients: clients(2),
      numRounds: 0,
    });
    // The regression clients start from zeros: the loss of the zero model.
    assert.equal(history.initial?.loss, (await heldOut.evaluate(zeroModel(task.dim), {})).loss);
    await assert.rejects(
      runServer({ strategy: new FedAvg(), clients: [], numRounds: 1 }),
      (e: unknown) => e instanceof ConfigError && e.parameter === 'initialParameters',
    );
  });

  it('validates its own options', async () => {
    const strategy = new FedAvg();
    for (const [options, parameter] of [
      [{ numRounds: -1 }, 'numRounds'],
      [{ numRounds: 1, roundTimeoutMs: 0 }, 'roundTimeoutMs'],
    ] as const) {
      await assert.rejects(
        runServer({ strategy, clients: [], ...options }),
        (e: unknown) => e instanceof ConfigError && e.parameter === parameter,
      );
    }
  });
});
