// Virtual clients trained on the pool give exactly what the same Trainer gives in-process: the
// workers read the shared dataset by index and send parameters back intact.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadFashionMnist } from '../../src/data/fashion-mnist.js';
import { partitionDataset } from '../../src/data/partition.js';
import type { ImageDataset } from '../../src/data/dataset.js';
import { useBackend } from '../../src/models/tf.js';
import { Trainer, type FitConfig } from '../../src/models/trainer.js';
import { TrainingPool } from '../../src/sim/train-pool.js';
import { TaskFailedError } from '../../src/runtime/worker-pool.js';

const config: FitConfig = { epochs: 2, batchSize: 10, learningRate: 0.05 };

describe('TrainingPool', () => {
  let train: ImageDataset;
  let test: ImageDataset;
  let pool: TrainingPool;
  let trainer: Trainer;

  before(async () => {
    ({ train, test } = await loadFashionMnist({ subset: true }));
    [pool] = await Promise.all([
      TrainingPool.start({ train, test, model: 'mlp', size: 2 }),
      useBackend(),
    ]);
    trainer = new Trainer('mlp', train);
  });
  after(() => pool?.close());

  it('fits sampled clients in parallel, exactly as in-process training does', async () => {
    const partition = partitionDataset({ kind: 'iid' }, train.labels, 10, 100, 1);
    const global = trainer.parameters();
    const clients = [3, 14, 15, 92];
    const task = (client: number) => ({
      clientId: String(client),
      indices: partition[client] as Uint32Array,
      parameters: global,
      config: { ...config, seed: `1/${client}` },
    });
    const pooled = await Promise.all(clients.map((client) => pool.fit(task(client))));
    for (const [i, client] of clients.entries()) {
      const local = await trainer.fit(
        global,
        { dataset: train, indices: task(client).indices },
        task(client).config,
      );
      assert.deepEqual(pooled[i], local, `client ${client}`);
    }
  });

  it('evaluates on a client slice or the whole test set', async () => {
    const parameters = trainer.parameters();
    const all = await pool.evaluate({ clientId: 'server', split: 'test', parameters });
    assert.deepEqual(
      all,
      await trainer.evaluate(parameters, {
        dataset: test,
        indices: Uint32Array.from({ length: 1000 }, (_, i) => i),
      }),
    );
    const some = await pool.evaluate({
      clientId: '5',
      split: 'train',
      indices: Uint32Array.of(1, 2, 3),
      parameters,
    });
    assert.equal(some.numExamples, 3);
  });

  it('fails a bad task naming the client, and trains the next one', async () => {
    const parameters = trainer.parameters();
    const bad = pool.fit({ clientId: '17', indices: Uint32Array.of(0, 6000), parameters, config });
    await assert.rejects(bad, (error: unknown) => {
      assert.ok(error instanceof TaskFailedError);
      assert.match(
        error.message,
        /^fit for client 17 failed: RangeError: example index 6000 \(position 1\)/,
      );
      return true;
    });
    const good = await pool.fit({
      clientId: '18',
      indices: Uint32Array.of(0, 1, 2),
      parameters,
      config,
    });
    assert.equal(good.numExamples, 3);
  });

  it("keeps the 'training' config key for itself", async () => {
    await assert.rejects(
      TrainingPool.start({ train, model: 'mlp', size: 1, config: { training: {} } }),
      /config key 'training' is reserved/,
    );
  });
});
