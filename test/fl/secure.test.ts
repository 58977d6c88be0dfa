// Secure aggregation inside the server loop: same result as plain averaging (up to quantization),
// dropouts after every stage, stage deadlines, misbehaving clients, aborts, refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientHost } from '../../src/fl/client-host.js';
import { WITHHELD_FIT_RES, type ClientProxy } from '../../src/fl/client.js';
import { ConfigError } from '../../src/fl/errors.js';
import type { ServerEvent } from '../../src/fl/events.js';
import type { RoundRecord } from '../../src/fl/history.js';
import { localProxy } from '../../src/fl/local-proxy.js';
import type { Parameters } from '../../src/fl/parameters.js';
import { runServer } from '../../src/fl/server.js';
import { FedAvg } from '../../src/fl/strategy/fedavg.js';
import { FedAvgM } from '../../src/fl/strategy/fedavgm.js';
import { FedAdagrad, FedAdam, FedYogi } from '../../src/fl/strategy/fedopt.js';
import { FedProx } from '../../src/fl/strategy/fedprox.js';
import type { Strategy } from '../../src/fl/strategy/strategy.js';
import {
  decodeClientMessage,
  decodeServerMessage,
  encodeServerMessage,
} from '../../src/secagg/codec.js';
import { resolveRoundParams, type SecAggOptions } from '../../src/secagg/params.js';
import { quantizationStep } from '../../src/secagg/quantize.js';
import { STAGES, type Stage } from '../../src/secagg/stages.js';
import { regressionClient, regressionTask, values, zeroModel } from './helpers.js';

const task = regressionTask(100, 2);
const initialParameters = zeroModel(task.dim);
const proxy = (i: number, vanishAfter?: Stage) =>
  localProxy(
    `c${i}`,
    regressionClient(task, 30 + 5 * i, 100 + i),
    vanishAfter === undefined ? {} : { vanishAfter: () => vanishAfter },
  );

/** Runs one round of `build(secureAggregation)` over `clients`; the round's record and result. */
async function oneRound(
  build: (secureAggregation?: SecAggOptions) => Strategy,
  clients: readonly ClientProxy[],
  secure: boolean,
  extra: { secAggStageTimeoutMs?: number; onEvent?: (e: ServerEvent) => void } = {},
): Promise<{ record: RoundRecord; parameters: Parameters }> {
  const { history, parameters } = await runServer({
    strategy: build(secure ? {} : undefined),
    clients,
    numRounds: 1,
    ...extra,
  });
  return { record: history.rounds[0] as RoundRecord, parameters };
}

/** The quantization step of a SecAgg round with `n` clients under default options. */
const stepFor = (n: number) => quantizationStep(resolveRoundParams({}, n, task.dim + 1));

function within(actual: Parameters, expected: Parameters, tolerance: number): void {
  const [a, e] = [values(actual), values(expected)];
  const worst = Math.max(...a.map((v, i) => Math.abs(v - (e[i] as number))));
  assert.ok(worst <= tolerance, `max difference ${worst} exceeds ${tolerance}`);
}

const options = (secureAggregation?: SecAggOptions) => ({
  initialParameters,
  ...(secureAggregation !== undefined ? { secureAggregation } : {}),
});

describe('secure aggregation in the server loop', () => {
  const strategies: Record<string, (s?: SecAggOptions) => Strategy> = {
    FedAvg: (s) => new FedAvg(options(s)),
    FedProx: (s) => new FedProx({ ...options(s), proximalMu: 0.5 }),
    FedAvgM: (s) => new FedAvgM({ ...options(s), serverLearningRate: 0.7 }),
    FedAdagrad: (s) => new FedAdagrad(options(s)),
    FedAdam: (s) => new FedAdam(options(s)),
    FedYogi: (s) => new FedYogi(options(s)),
  };

  for (const [name, build] of Object.entries(strategies)) {
    it(`${name} gives the plain result within one quantization step`, async () => {
      const clients = [0, 1, 2, 3, 4].map((i) => proxy(i));
      const plain = await oneRound(build, clients, false);
      const secure = await oneRound(build, clients, true);
      // Adaptive steps divide by √v, which scales Δ's error by about η / |Δ| ≤ 1 here.
      within(secure.parameters, plain.parameters, stepFor(5));
      const { record } = secure;
      assert.deepEqual([record.sampled, record.aggregated, record.dropped], [5, 5, []]);
      assert.deepEqual(record.fitMetrics, {}, 'fit metrics stay with the clients');
      assert.equal(record.secAgg?.survivors, 5);
      assert.deepEqual(Object.keys(record.secAgg?.stageMs ?? {}), [...STAGES]);
      assert.ok((record.secAgg?.bytesUpPerClient ?? 0) > 4 * (task.dim + 1));
      assert.ok((record.secAgg?.bytesDownPerClient ?? 0) > 0);
    });
  }

  for (const stage of STAGES) {
    it(`aggregates exactly the survivors when two clients vanish after ${stage}`, async () => {
      const events: ServerEvent[] = [];
      const secure = await oneRound(
        (s) => new FedAvg(options(s)),
        [0, 1, 2, 3, 4, 5].map((i) => proxy(i, i < 2 ? stage : undefined)),
        true,
        { onEvent: (e) => events.push(e) },
      );
      // Whoever sent its masked vector (vanishing at ask-vectors or later) is in the sum.
      const inSum = STAGES.indexOf(stage) >= STAGES.indexOf('ask-vectors');
      const survivors = inSum ? [0, 1, 2, 3, 4, 5] : [2, 3, 4, 5];
      const plain = await oneRound(
        (s) => new FedAvg(options(s)),
        survivors.map((i) => proxy(i)),
        false,
      );
      within(secure.parameters, plain.parameters, stepFor(6));
      const { record } = secure;
      assert.equal(record.aggregated, survivors.length);
      assert.equal(record.secAgg?.survivors, survivors.length);
      // After unmask there is nothing left to miss.
      assert.deepEqual([...record.dropped].sort(), stage === 'unmask' ? [] : ['c0', 'c1']);
      const stages = events.flatMap((e) => (e.type === 'secagg-stage' ? [e.stage] : []));
      assert.deepEqual(stages, [...STAGES]);
    });
  }

  it('closes a stage at its deadline and drops the client that hangs', async () => {
    const hanging = proxy(0);
    const clients: ClientProxy[] = [
      {
        ...hanging,
        secAgg: (round, message, signal) =>
          decodeServerMessage(message).stage === 'share-keys'
            ? new Promise<never>(() => {}) // ignores its signal too
            : hanging.secAgg(round, message, signal),
      },
      ...[1, 2, 3].map((i) => proxy(i)),
    ];
    const started = performance.now();
    const { record } = await oneRound((s) => new FedAvg(options(s)), clients, true, {
      secAggStageTimeoutMs: 200,
    });
    assert.deepEqual([record.aggregated, record.dropped], [3, ['c0']]);
    assert.ok((record.secAgg?.stageMs['share-keys'] ?? 0) >= 190);
    assert.ok(performance.now() - started < 2000);
  });

  it('drops a client that answers garbage', async () => {
    const liar = proxy(0);
    const reasons: string[] = [];
    const { record } = await oneRound(
      (s) => new FedAvg(options(s)),
      [
        { ...liar, secAgg: async () => Uint8Array.of(0xff, 0xff, 0xff) },
        proxy(1),
        proxy(2),
        proxy(3),
      ],
      true,
      { onEvent: (e) => e.type === 'client-dropped' && reasons.push(`${e.client}: ${e.reason}`) },
    );
    assert.deepEqual([record.aggregated, record.dropped], [3, ['c0']]);
    assert.match(reasons.join(), /c0: sent an undecodable message/);
  });

  it('keeps the previous parameters when secure aggregation aborts', async () => {
    // Three of five vanish: fewer than the threshold (3) are left to share keys.
    const { record, parameters } = await oneRound(
      (s) => new FedAvg(options(s)),
      [0, 1, 2, 3, 4].map((i) => proxy(i, i < 3 ? 'ask-keys' : undefined)),
      true,
    );
    assert.deepEqual(parameters, initialParameters);
    assert.equal(record.aggregated, 0);
    assert.match(record.secAgg?.aborted ?? '', /secure aggregation aborted at/);
    assert.equal(record.aborted, record.secAgg?.aborted);
  });

  it('refuses a strategy that cannot take its aggregate from secure aggregation', async () => {
    const strategy = { name: 'Custom', secureAggregation: {} } as unknown as Strategy;
    await assert.rejects(
      runServer({ strategy, clients: [], numRounds: 1 }),
      (e: unknown) => e instanceof ConfigError && e.parameter === 'secureAggregation',
    );
  });
});

describe('client host', () => {
  const client = regressionClient(task, 10, 1);
  const setup = (round: Uint8Array) =>
    encodeServerMessage({
      stage: 'setup',
      roundId: round,
      clientId: 1,
      params: resolveRoundParams({}, 3, task.dim + 1),
    });

  it('withholds a secure fit and refuses secure aggregation without a kept update', async () => {
    const host = new ClientHost(client);
    const refused = decodeClientMessage(host.secAgg(1, setup(new Uint8Array(16))), 32);
    assert.deepEqual(refused, { stage: 'abort', reason: 'no update was kept for round 1' });
    const res = await host.fit({ parameters: initialParameters, config: {}, secureRound: 2 });
    assert.equal(res, WITHHELD_FIT_RES);
    assert.equal(decodeClientMessage(host.secAgg(1, setup(new Uint8Array(16))), 32).stage, 'abort');
    assert.equal(decodeClientMessage(host.secAgg(2, setup(new Uint8Array(16))), 32).stage, 'setup');
    const stray = encodeServerMessage({ stage: 'ask-keys' });
    assert.match(
      JSON.stringify(decodeClientMessage(host.secAgg(3, stray), 32)),
      /no secure aggregation of round 3/,
    );
  });
});
