// Checkpoint format, the file store, and resuming a run.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileCheckpointStore } from '../../src/fl/checkpoint-file.js';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../src/fl/checkpoint.js';
import { CheckpointError, ConfigError } from '../../src/fl/errors.js';
import type { History } from '../../src/fl/history.js';
import { localProxy } from '../../src/fl/local-proxy.js';
import { runServer } from '../../src/fl/server.js';
import { FedAvg } from '../../src/fl/strategy/fedavg.js';
import { FedAdam } from '../../src/fl/strategy/fedopt.js';
import { regressionClient, regressionTask, vector, zeroModel } from './helpers.js';

const directory = await mkdtemp(join(tmpdir(), 'sepal-fl-'));
after(() => rm(directory, { recursive: true, force: true }));

const sample: Checkpoint = {
  round: 3,
  strategy: 'FedAdam',
  parameters: [
    { name: 'dense/kernel', shape: [2, 3], values: Float32Array.of(1, -2, 3.5, 0, 1e-30, -0) },
    { name: 'dense/bias', shape: [3], values: Float32Array.of(0.1, 0.2, 0.3) },
    { name: 'scalar', shape: [], values: Float32Array.of(7) },
  ],
  strategyState: [...vector([1, 2], 'm'), ...vector([3, 4], 'v')],
  history: {
    initial: { loss: 2, metrics: {} },
    rounds: [
      {
        round: 1,
        sampled: 2,
        aggregated: 1,
        dropped: ['b'],
        fitMetrics: { loss: Number.NaN },
        distributed: { loss: Number.POSITIVE_INFINITY, numExamples: 3, metrics: {} },
        durationMs: 12.5,
      },
    ],
  },
};

describe('checkpoint format', () => {
  it('round-trips parameters, state and history, non-finite numbers included', () => {
    const bytes = encodeCheckpoint(sample);
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 19)), 'sepal-checkpoint 1\n');
    assert.deepEqual(decodeCheckpoint(bytes), sample);
  });

  it('names the source and the problem of an unreadable checkpoint', () => {
    const bytes = encodeCheckpoint(sample);
    const refuses = (input: Uint8Array, message: RegExp) =>
      assert.throws(
        () => decodeCheckpoint(input, 'run.ckpt'),
        (e: unknown) =>
          e instanceof CheckpointError && e.source === 'run.ckpt' && message.test(e.message),
      );
    refuses(new TextEncoder().encode('{"round": 1}'), /not a sepal-checkpoint file/);
    const future = bytes.slice();
    future[17] = '2'.charCodeAt(0);
    refuses(future, /format version 2 is not supported \(this build reads version 1\)/);
    refuses(bytes.subarray(0, bytes.length - 4), /expected \d+ bytes, found \d+/);
    refuses(bytes.subarray(0, 30), /truncated header/);
  });
});

describe('file checkpoint store', () => {
  it('has nothing before the first save, then the latest checkpoint, and leaves no temporary files', async () => {
    const store = new FileCheckpointStore(join(directory, 'store', 'run.ckpt'));
    assert.equal(await store.loadLatest(), undefined);
    await store.save({ ...sample, round: 1 });
    await store.save(sample);
    assert.deepEqual(await store.loadLatest(), sample);
    assert.deepEqual(await readdir(join(directory, 'store')), ['run.ckpt']);
    await writeFile(store.path, (await readFile(store.path)).subarray(0, 40));
    await assert.rejects(store.loadLatest(), CheckpointError);
  });
});

describe('resuming', () => {
  const task = regressionTask(20, 3);
  const proxies = () =>
    Array.from({ length: 5 }, (_, i) => localProxy(`c${i}`, regressionClient(task, 20, 50 + i)));
  const heldOut = regressionClient(task, 50, 77);
  const strategy = () =>
    new FedAdam({
      initialParameters: zeroModel(task.dim),
      fractionFit: 0.6,
      fractionEvaluate: 0.4,
      seed: 'resume',
      eta: 0.05,
      evaluateFn: async (_round, parameters) => {
        const { loss, metrics } = await heldOut.evaluate(parameters, {});
        return { loss, metrics };
      },
    });
  const timeless = (history: History) => ({
    ...history,
    rounds: history.rounds.map(({ durationMs: _, ...rest }) => rest),
  });

  it('continues a crashed run to the same History and parameters as an uninterrupted one', async () => {
    const straight = await runServer({ strategy: strategy(), clients: proxies(), numRounds: 4 });

    const checkpoint = new FileCheckpointStore(join(directory, 'resume.ckpt'));
    const crash = new Error('power cut');
    await assert.rejects(
      runServer({
        strategy: strategy(),
        clients: proxies(),
        numRounds: 4,
        checkpoint,
        onEvent: (e) => {
          if (e.type === 'round-started' && e.round === 3) throw crash;
        },
      }),
      crash,
    );
    assert.equal((await checkpoint.loadLatest())?.round, 2);

    const firstRounds: number[] = [];
    const resumed = await runServer({
      strategy: strategy(),
      clients: proxies(),
      numRounds: 4,
      checkpoint,
      onEvent: (e) => e.type === 'run-started' && firstRounds.push(e.firstRound),
    });
    assert.deepEqual(firstRounds, [3]);
    assert.deepEqual(timeless(resumed.history), timeless(straight.history));
    assert.deepEqual(resumed.parameters, straight.parameters);
    assert.equal((await checkpoint.loadLatest())?.round, 4);
  });

  it('refuses to resume under another strategy', async () => {
    const checkpoint = new FileCheckpointStore(join(directory, 'resume.ckpt'));
    await assert.rejects(
      runServer({ strategy: new FedAvg(), clients: proxies(), numRounds: 5, checkpoint }),
      (e: unknown) =>
        e instanceof ConfigError && e.parameter === 'checkpoint' && /FedAdam/.test(e.message),
    );
  });
});
