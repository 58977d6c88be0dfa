import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { ImageDataset } from '../../src/data/dataset.js';
import { loadFashionMnist } from '../../src/data/fashion-mnist.js';
import type { Parameters } from '../../src/fl/parameters.js';
import { createModel, initialParameters, MODEL_KINDS } from '../../src/models/architectures.js';
import type { ExampleSet } from '../../src/models/batches.js';
import { tf, useBackend } from '../../src/models/tf.js';
import { Trainer, type FitConfig } from '../../src/models/trainer.js';
import {
  getModelParameters,
  ParameterMismatchError,
  setModelParameters,
} from '../../src/models/weights.js';

const SHAPE = { height: 28, width: 28, classes: 10 };
let train: ImageDataset;
/** 200 training examples spread over the bundled subset. */
let slice: { dataset: ImageDataset; indices: Uint32Array };

before(async () => {
  ({ train } = await loadFashionMnist({ subset: true }));
  slice = { dataset: train, indices: Uint32Array.from({ length: 200 }, (_, i) => i * 30) };
  await useBackend();
});

const squaredDistance = (a: Parameters, b: Parameters) =>
  a.reduce(
    (sum, t, i) =>
      sum + t.values.reduce((s, v, j) => s + (v - (b[i]?.values[j] as number)) ** 2, 0),
    0,
  );

describe('tfjs setup', () => {
  it('prints nothing, not even the "install tfjs-node" hint of the cpu backend', async () => {
    const printed: unknown[] = [];
    const { warn, log } = console;
    console.warn = console.log = (...args: unknown[]) => printed.push(args);
    try {
      await useBackend('cpu');
      tf.tensor([1, 2, 3]).square().dataSync();
    } finally {
      Object.assign(console, { warn, log });
      await useBackend();
    }
    assert.deepEqual(printed, []);
  });
});

describe('model weights as Parameters', () => {
  it('are named after the layers, stable across model instances', () => {
    const expected = {
      mlp: [
        'hidden/kernel [784,128]',
        'hidden/bias [128]',
        'logits/kernel [128,10]',
        'logits/bias [10]',
      ],
      cnn: [
        'conv1/kernel [3,3,1,16]',
        'conv1/bias [16]',
        'conv2/kernel [3,3,16,32]',
        'conv2/bias [32]',
        'logits/kernel [1568,10]',
        'logits/bias [10]',
      ],
    };
    for (const kind of MODEL_KINDS) {
      for (let instance = 0; instance < 2; instance++) {
        const names = initialParameters(kind, SHAPE).map((t) => `${t.name} [${t.shape.join(',')}]`);
        assert.deepEqual(names, expected[kind]);
      }
    }
  });

  it('depend only on the seed', () => {
    assert.deepEqual(initialParameters('mlp', SHAPE, 3), initialParameters('mlp', SHAPE, 3));
    assert.notDeepEqual(initialParameters('mlp', SHAPE, 3), initialParameters('mlp', SHAPE, 4));
  });

  it('round-trip through a model, as copies', () => {
    const source = initialParameters('cnn', SHAPE, 1);
    const model = createModel('cnn', SHAPE, 2);
    setModelParameters(model, source);
    const read = getModelParameters(model);
    assert.deepEqual(read, source);
    (read[0] as { values: Float32Array }).values[0] = 42;
    assert.deepEqual(getModelParameters(model), source);
    model.dispose();
  });

  it('are refused, by tensor name, when they do not fit', () => {
    const model = createModel('mlp', SHAPE);
    const good = initialParameters('mlp', SHAPE);
    const [kernel, bias, ...rest] = good as [Parameters[0], Parameters[0]];
    const cases: [Parameters, RegExp][] = [
      [good.slice(1), /model mlp has 4 weight tensors, got 3 parameters/],
      [[bias, kernel, ...rest], /expected tensor hidden\/kernel, got hidden\/bias/],
      [
        [{ ...kernel, shape: [128, 784] }, bias, ...rest],
        /tensor hidden\/kernel must have shape \[784, 128\], got \[128, 784\]/,
      ],
      [
        [kernel, { ...bias, values: new Float32Array(3) }, ...rest],
        /tensor hidden\/bias of shape \[128\] needs 128 values, got 3/,
      ],
    ];
    for (const [parameters, message] of cases) {
      assert.throws(
        () => setModelParameters(model, parameters),
        (error: unknown) => {
          assert.ok(error instanceof ParameterMismatchError);
          assert.match(error.message, message);
          return true;
        },
      );
    }
    model.dispose();
  });
});

describe('Trainer', () => {
  // Five epochs of ten steps: the CNN's loss sits near its starting value for its first ~30
  // steps on this slice (measured across seeds) before it falls.
  const config: FitConfig = { epochs: 5, batchSize: 20, learningRate: 0.1, seed: 'test' };

  for (const kind of MODEL_KINDS) {
    it(`${kind}: a few epochs of SGD lower the loss on a small slice`, async () => {
      const trainer = new Trainer(kind, SHAPE);
      const initial = trainer.parameters();
      const before = await trainer.evaluate(initial, slice);
      const fitted = await trainer.fit(initial, slice, config);
      const after = await trainer.evaluate(fitted.parameters, slice);
      assert.equal(fitted.numExamples, 200);
      assert.equal(after.numExamples, 200);
      assert.ok(after.loss < 0.8 * before.loss, `loss ${before.loss} -> ${after.loss}`);
      assert.ok(after.metrics.accuracy > before.metrics.accuracy + 0.2);
      assert.ok(
        fitted.metrics.loss > 0 && fitted.metrics.accuracy > 0.3,
        JSON.stringify(fitted.metrics),
      );
      trainer.dispose();
    });
  }

  it('replays exactly from its seed and leaves the input parameters alone', async () => {
    const trainer = new Trainer('mlp', SHAPE);
    const start = trainer.parameters();
    const copy = structuredClone(start);
    const a = await trainer.fit(start, slice, config);
    const b = await trainer.fit(start, slice, config);
    const c = await trainer.fit(start, slice, { ...config, seed: 'other' });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.parameters, c.parameters);
    assert.deepEqual(start, copy);
    trainer.dispose();
  });

  it("FedProx's proximal term keeps local weights nearer the global ones", async () => {
    const trainer = new Trainer('mlp', SHAPE);
    const global = trainer.parameters();
    const plain = await trainer.fit(global, slice, config);
    const proximal = await trainer.fit(global, slice, { ...config, proximalMu: 1 });
    const plainDrift = squaredDistance(plain.parameters, global);
    const proximalDrift = squaredDistance(proximal.parameters, global);
    assert.ok(
      proximalDrift < 0.8 * plainDrift,
      `drift ${plainDrift} (mu 0) vs ${proximalDrift} (mu 1)`,
    );
    trainer.dispose();
  });

  it("frees every tensor it makes (only the model's weights stay)", async () => {
    const trainer = new Trainer('cnn', SHAPE);
    const p = trainer.parameters();
    const small = { dataset: train, indices: slice.indices.slice(0, 30) };
    await trainer.fit(p, small, { ...config, epochs: 1, proximalMu: 0.5 });
    const live = tf.memory().numTensors;
    await trainer.fit(p, small, { ...config, epochs: 1, proximalMu: 0.5 });
    await trainer.fit(p, small, { ...config, epochs: 1 });
    await trainer.evaluate(p, small);
    assert.equal(tf.memory().numTensors, live);
    trainer.dispose();
  });

  it('refuses bad configs and examples with what was expected', async () => {
    const trainer = new Trainer('mlp', SHAPE);
    const p = trainer.parameters();
    const refuse = (c: Partial<FitConfig>, examples: ExampleSet, message: RegExp) =>
      assert.rejects(trainer.fit(p, examples, { ...config, ...c }), message);
    await refuse({ epochs: 0 }, slice, /epochs must be an integer >= 1, got 0/);
    await refuse({ batchSize: 2.5 }, slice, /batchSize must be an integer >= 1, got 2.5/);
    await refuse({ learningRate: -1 }, slice, /learningRate must be > 0, got -1/);
    await refuse({ proximalMu: -0.1 }, slice, /proximalMu must be >= 0, got -0.1/);
    await refuse({}, { dataset: train, indices: [] }, /no examples to train or evaluate on/);
    await refuse(
      {},
      { dataset: train, indices: [5, 6000] },
      /example index 6000 \(position 1\) is outside the dataset's \[0, 6000\)/,
    );
    const small = { ...train, height: 14, width: 56 };
    await assert.rejects(
      trainer.evaluate(p, { dataset: small, indices: [0] }),
      /takes 28x28 images in 10 classes, the dataset has 14x56 in 10/,
    );
    trainer.dispose();
  });
});
