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
import { offsetBy } from '../../src/fl/arithmetic.js';
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
import type { ClientMessage } from '../../src/secagg/messages.js';
import { resolveRoundParams, type SecAggOptions } from '../../src/secagg/params.js';
import { quantizationStep } from '../../src/secagg/quantize.js';
import { SecAggServer, type ServerStep } from '../../src/secagg/server.js';
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

describe('secure aggregation alongside training', () => {
  /** A proxy whose fit waits for `gate` (and fails with `failure` if given) before training. */
  const gated = (i: number, gate: Promise<unknown>, failure?: string): ClientProxy => {
    const inner = regressionClient(task, 30 + 5 * i, 100 + i);
    return localProxy(`c${i}`, {
      ...inner,
      async fit(parameters, config) {
        await gate;
        if (failure !== undefined) throw new Error(failure);
        return inner.fit(parameters, config);
      },
    });
  };

  /** Resolves once the key stages are over (share-keys reported), for gates. */
  function keyStagesOver() {
    let open: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (open = resolve));
    const events: ServerEvent[] = [];
    const onEvent = (e: ServerEvent) => {
      events.push(e);
      if (e.type === 'secagg-stage' && e.stage === 'share-keys') open();
    };
    return { done, events, onEvent };
  }

  const plainOf = (ids: readonly number[]) =>
    oneRound(
      (s) => new FedAvg(options(s)),
      ids.map((i) => proxy(i)),
      false,
    );

  it('runs the key stages while clients train, then masks each update after its fit', async () => {
    const keys = keyStagesOver();
    const clients = [0, 1, 2, 3, 4].map((i) => gated(i, keys.done));
    const secure = await oneRound((s) => new FedAvg(options(s)), clients, true, keys);
    within(secure.parameters, (await plainOf([0, 1, 2, 3, 4])).parameters, stepFor(5));
    const order = keys.events.flatMap((e) =>
      e.type === 'secagg-stage' ? [e.stage] : e.type === 'fit-finished' ? ['fit'] : [],
    );
    assert.deepEqual(order, [
      'setup',
      'ask-keys',
      'share-keys',
      ...Array<string>(5).fill('fit'),
      'ask-vectors',
      'unmask',
    ]);
    const { secAgg } = secure.record;
    assert.deepEqual(Object.keys(secAgg?.stageMs ?? {}), [...STAGES]);
    // Masking and unmasking are all that comes after training.
    const afterFit = (secAgg?.stageMs['ask-vectors'] ?? 0) + (secAgg?.stageMs.unmask ?? 0);
    assert.ok(Math.abs((secAgg?.afterFitMs ?? -1) - afterFit) < 5, JSON.stringify(secAgg));
  });

  for (const when of ['before the key stages end', 'after the key stages']) {
    it(`drops a client whose fit fails ${when} and aggregates the others`, async () => {
      const keys = keyStagesOver();
      const gate = when === 'after the key stages' ? keys.done : Promise.resolve();
      const clients = [0, 1, 2, 3, 4, 5].map((i) => gated(i, gate, i === 0 ? 'broken' : undefined));
      const secure = await oneRound((s) => new FedAvg(options(s)), clients, true, keys);
      within(secure.parameters, (await plainOf([1, 2, 3, 4, 5])).parameters, stepFor(6));
      const { record } = secure;
      assert.deepEqual([record.aggregated, record.dropped], [5, ['c0']]);
      assert.equal(record.secAgg?.survivors, 5);
      const drop = keys.events.find((e) => e.type === 'client-dropped');
      assert.equal(drop?.type === 'client-dropped' && drop.client, 'c0');
      if (when === 'after the key stages') {
        assert.equal(drop?.type === 'client-dropped' && drop.stage, 'ask-vectors');
      }
    });
  }

  it('fails the fit of a client whose parameters are NaN, naming the tensor, and drops it', async () => {
    const inner = regressionClient(task, 30, 100);
    const nan = localProxy('c0', {
      ...inner,
      async fit(parameters, config) {
        const res = await inner.fit(parameters, config);
        res.parameters[0]?.values.fill(Number.NaN, 7);
        return res;
      },
    });
    const errors = new Map<string, string>();
    const { record, parameters } = await oneRound(
      (s) => new FedAvg(options(s)),
      [nan, proxy(1), proxy(2), proxy(3)],
      true,
      {
        onEvent: (e) => {
          if (e.type === 'fit-finished' && e.error !== undefined) errors.set(e.client, e.error);
        },
      },
    );
    assert.match(errors.get('c0') ?? '', /tensor w: value 7 is NaN/);
    assert.deepEqual([record.aggregated, record.dropped], [3, ['c0']]);
    within(parameters, (await plainOf([1, 2, 3])).parameters, stepFor(4));
  });

  it('drops a client whose fit misses the deadline; stage deadlines wait for training', async () => {
    const slow = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const clients = [0, 1, 2, 3].map((i) => gated(i, i === 0 ? new Promise(() => {}) : slow(150)));
    // Each client answers SecAgg only once its fit is over, as a node running one task at a
    // time does: the key stages must not time out (50 ms) while the fits (150 ms) run.
    const sequential = clients.map((client, i) => {
      const fitted = i === 0 ? new Promise<void>(() => {}) : slow(150);
      return {
        ...client,
        secAgg: async (round: number, message: Uint8Array, signal: AbortSignal) => {
          await fitted;
          return client.secAgg(round, message, signal);
        },
      };
    });
    const { history } = await runServer({
      strategy: new FedAvg(options({})),
      clients: sequential,
      numRounds: 1,
      roundTimeoutMs: 400,
      secAggStageTimeoutMs: 50,
    });
    const record = history.rounds[0] as RoundRecord;
    assert.deepEqual([record.aggregated, record.dropped], [3, ['c0']]);
  });

  it('injects a dropout after setup while clients still train', async () => {
    const keys = keyStagesOver();
    const slowFits = new Promise((resolve) => setTimeout(resolve, 100));
    const clients = [0, 1, 2, 3, 4, 5].map((i) => {
      const inner = gated(i, slowFits);
      return i < 2 ? { ...proxy(i, 'setup'), fit: inner.fit } : inner;
    });
    const secure = await oneRound((s) => new FedAvg(options(s)), clients, true, keys);
    within(secure.parameters, (await plainOf([2, 3, 4, 5])).parameters, stepFor(6));
    assert.deepEqual([...secure.record.dropped].sort(), ['c0', 'c1']);
    const drops = keys.events.flatMap((e) => (e.type === 'client-dropped' ? [e.stage] : []));
    assert.deepEqual(drops, ['ask-keys', 'ask-keys']);
    const firstFit = keys.events.findIndex((e) => e.type === 'fit-finished');
    const firstDrop = keys.events.findIndex((e) => e.type === 'client-dropped');
    assert.ok(firstDrop < firstFit, 'they left during training');
  });

  it('keeps the previous parameters and gives up secure aggregation when the fit phase is refused', async () => {
    const stages: Stage[] = [];
    const failing: ClientProxy = { ...proxy(0), fit: () => Promise.reject(new Error('broken')) };
    const { record, parameters } = await oneRound(
      (s) => new FedAvg({ ...options(s), acceptFailures: false }),
      [failing, proxy(1), proxy(2), proxy(3)],
      true,
      { onEvent: (e) => e.type === 'secagg-stage' && stages.push(e.stage) },
    );
    assert.deepEqual(parameters, initialParameters);
    assert.match(record.aborted ?? '', /1 client\(s\) failed during fit and acceptFailures is off/);
    assert.deepEqual([record.aggregated, record.dropped, record.secAgg], [0, ['c0'], undefined]);
    assert.ok(!stages.includes('ask-vectors'), 'no client was asked to mask');
  });
});

describe('client host', () => {
  const n = 3;
  const hosts = () =>
    Array.from({ length: n }, (_, i) => new ClientHost(regressionClient(task, 10 + i, 1 + i)));

  /** Carries the machine's messages of one stage to the hosts and their replies back. */
  function deliver(server: SecAggServer, step: ServerStep, host: (id: number) => ClientHost) {
    const replies = step.send.map(({ to, message }) => ({
      to,
      reply: host(to).secAgg(1, encodeServerMessage(message)),
    }));
    let last = step;
    for (const { to, reply } of replies) {
      last = server.receive(to, decodeClientMessage(reply, server.params.modBits));
    }
    return last;
  }

  it('takes the key stages before the fit, masks the update once it is kept, aborts without one', async () => {
    const clients = hosts();
    const server = new SecAggServer({ clients: [1, 2, 3], dim: task.dim + 1 });
    const host = (id: number) => clients[id - 1] as ClientHost;
    // setup, ask-keys and share-keys: no client has trained yet.
    let step = server.start();
    for (const stage of ['setup', 'ask-keys', 'share-keys'] as const) {
      assert.equal(server.stage, stage);
      step = deliver(server, step, host);
    }
    assert.equal(server.stage, 'ask-vectors');
    // Clients 1 and 2 train now; client 3 never does.
    const fits = await Promise.all(
      [0, 1].map((i) =>
        clients[i]?.fit({ parameters: initialParameters, config: {}, secureRound: 1 }),
      ),
    );
    assert.deepEqual(fits, [WITHHELD_FIT_RES, WITHHELD_FIT_RES]);
    const third = step.send.find((o) => o.to === 3);
    assert.ok(third !== undefined);
    const refused = decodeClientMessage(host(3).secAgg(1, encodeServerMessage(third.message)), 32);
    assert.deepEqual(refused, {
      stage: 'abort',
      reason: 'no update was kept for round 1: its fit has not succeeded',
    });
    step = deliver(server, { ...step, send: step.send.filter((o) => o.to !== 3) }, host);
    step = server.receive(3, refused as ClientMessage);
    step = deliver(server, step, host);
    const mean = step.result?.values;
    assert.ok(mean !== undefined, 'the round completes with the two trained clients');
    assert.deepEqual(step.result?.survivors, [1, 2]);
    const plain = await oneRound(
      (s) => new FedAvg(options(s)),
      [0, 1].map((i) => localProxy(`h${i}`, regressionClient(task, 10 + i, 1 + i))),
      false,
    );
    within(offsetBy(initialParameters, mean), plain.parameters, stepFor(3));
  });

  it('keeps a session started before the fit; a later round forgets an unfinished one', async () => {
    const host = new ClientHost(regressionClient(task, 10, 1));
    const setup = () =>
      encodeServerMessage({
        stage: 'setup',
        roundId: new Uint8Array(16),
        clientId: 1,
        params: resolveRoundParams({}, 3, task.dim + 1),
      });
    const askKeys = encodeServerMessage({ stage: 'ask-keys' });
    assert.equal(decodeClientMessage(host.secAgg(1, setup()), 32).stage, 'setup');
    await host.fit({ parameters: initialParameters, config: {}, secureRound: 1 });
    assert.equal(decodeClientMessage(host.secAgg(1, askKeys), 32).stage, 'ask-keys');
    // Round 2's fit discards round 1's session.
    await host.fit({ parameters: initialParameters, config: {}, secureRound: 2 });
    assert.match(
      JSON.stringify(decodeClientMessage(host.secAgg(1, askKeys), 32)),
      /no secure aggregation of round 1/,
    );
    const stray = encodeServerMessage({ stage: 'ask-keys' });
    assert.match(
      JSON.stringify(decodeClientMessage(host.secAgg(3, stray), 32)),
      /no secure aggregation of round 3/,
    );
  });
});
