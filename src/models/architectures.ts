/**
 * Sepal's two image classifiers, sized for training many simulated clients on a CPU. Both take a
 * batch shaped [batch, height, width, 1] and return logits (no softmax: the loss applies it, which
 * is numerically safer). Layers are named explicitly because the names become the parameter names
 * that server and clients must agree on; tfjs's automatic names carry per-process counters.
 */
import type { Parameters } from '../fl/parameters.js';
import { tf } from './tf.js';
import { getModelParameters } from './weights.js';

export type ModelKind = 'mlp' | 'cnn';
export const MODEL_KINDS: readonly ModelKind[] = ['mlp', 'cnn'];

export interface ImageShape {
  readonly height: number;
  readonly width: number;
  readonly classes: number;
}

/**
 * Builds an untrained model. Initial weights depend only on `seed` (tfjs's seeded initializers),
 * so a server and its tests can recreate the same starting point. Needs a ready backend.
 */
export function createModel(kind: ModelKind, shape: ImageShape, seed = 0): tf.Sequential {
  const inputShape = [shape.height, shape.width, 1];
  // Each weighted layer gets its own seed: the same seed twice would give equal initial kernels.
  let layerSeed = seed * 16;
  const kernelInitializer = () => tf.initializers.glorotUniform({ seed: layerSeed++ });
  const dense = (name: string, units: number, activation?: 'relu') =>
    tf.layers.dense({
      name,
      units,
      kernelInitializer: kernelInitializer(),
      ...(activation && { activation }),
    });
  switch (kind) {
    case 'mlp':
      // 784-128-10: 101,770 parameters.
      return tf.sequential({
        name: 'mlp',
        layers: [
          tf.layers.flatten({ name: 'flatten', inputShape }),
          dense('hidden', 128, 'relu'),
          dense('logits', shape.classes),
        ],
      });
    case 'cnn': {
      // conv 3x3x16 - pool - conv 3x3x32 - pool - dense 10 ('same' pads): 20,490 parameters,
      // about 1.5 ms of CPU per training example on wasm at B = 20. The previous 5x5, 8/16-filter
      // net had 11,274 and cost 1.1 ms; 3x3 kernels buy twice the filters for a third more
      // compute. Compact on purpose: secure aggregation masks and sums one entry per parameter.
      // Choice and measurements: docs/data-and-models.md, "Choosing the CNN".
      const conv = (name: string, filters: number) =>
        tf.layers.conv2d({
          name,
          filters,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: kernelInitializer(),
        });
      const pool = (name: string) => tf.layers.maxPooling2d({ name, poolSize: 2, strides: 2 });
      return tf.sequential({
        name: 'cnn',
        layers: [
          tf.layers.inputLayer({ name: 'input', inputShape }),
          conv('conv1', 16),
          pool('pool1'),
          conv('conv2', 32),
          pool('pool2'),
          tf.layers.flatten({ name: 'flatten' }),
          dense('logits', shape.classes),
        ],
      });
    }
  }
}

/**
 * The seeded initial weights of a `kind` model: a federated run's round-0 global parameters.
 * Like every tfjs call, it needs a ready backend (`await useBackend()` first).
 */
export function initialParameters(kind: ModelKind, shape: ImageShape, seed = 0): Parameters {
  const model = createModel(kind, shape, seed);
  try {
    return getModelParameters(model);
  } finally {
    model.dispose();
  }
}
