/**
 * Examples are addressed by index into a shared dataset; only the current batch is copied out
 * into tensors. This is what lets the simulator hold one copy of the data for all clients.
 */
import type { ImageDataset } from '../data/dataset.js';
import { tf } from './tf.js';

/** Some examples of a dataset: one client's partition, a test slice, or all of it. */
export interface ExampleSet {
  readonly dataset: ImageDataset;
  /** Indices into `dataset`, each in [0, dataset.count). */
  readonly indices: ArrayLike<number>;
}

export function allExamples(dataset: ImageDataset): ExampleSet {
  return { dataset, indices: Uint32Array.from({ length: dataset.count }, (_, i) => i) };
}

/** Throws a RangeError naming the first index outside the dataset. */
export function checkIndices(examples: ExampleSet): void {
  const { indices, dataset } = examples;
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i] as number;
    if (!Number.isInteger(index) || index < 0 || index >= dataset.count) {
      throw new RangeError(
        `example index ${index} (position ${i}) is outside the dataset's [0, ${dataset.count})`,
      );
    }
  }
}

/**
 * Images [n, height, width, 1] and int32 labels [n] of the examples at `order[start..end)`.
 * The caller owns (and disposes) both tensors.
 */
export function makeBatch(
  dataset: ImageDataset,
  order: ArrayLike<number>,
  start: number,
  end: number,
): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const pixels = dataset.height * dataset.width;
  const n = end - start;
  const x = new Float32Array(n * pixels);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const index = order[start + i] as number;
    x.set(dataset.images.subarray(index * pixels, (index + 1) * pixels), i * pixels);
    y[i] = dataset.labels[index] as number;
  }
  return {
    x: tf.tensor4d(x, [n, dataset.height, dataset.width, 1]),
    y: tf.tensor1d(y, 'int32'),
  };
}
