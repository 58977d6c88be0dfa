/**
 * In-memory image classification data, decoded once and shared: the arrays live in
 * SharedArrayBuffers so the simulator's worker threads read the same memory instead of a copy
 * each (60,000 Fashion-MNIST images are 188 MB as float32).
 */
import type { IdxArray } from './idx.js';

export interface ImageDataset {
  /** count x height x width pixels, row-major, scaled to [0, 1]. */
  readonly images: Float32Array;
  /** One class index in [0, classes) per image. */
  readonly labels: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly classes: number;
}

/** Pairs an IDX image file ([count, height, width] bytes) with its IDX label file ([count]). */
export function imageDatasetFromIdx(
  images: IdxArray,
  labels: IdxArray,
  classes: number,
  source: string,
): ImageDataset {
  const [count, height, width] = images.shape;
  if (images.shape.length !== 3 || count === undefined || !height || !width) {
    throw new RangeError(
      `${source}: images have shape [${images.shape.join(', ')}], expected [count, height, width]`,
    );
  }
  if (labels.shape.length !== 1 || labels.shape[0] !== count) {
    throw new RangeError(
      `${source}: labels have shape [${labels.shape.join(', ')}], expected [${count}] to match the images`,
    );
  }
  const bad = labels.data.findIndex((label) => label >= classes);
  if (bad >= 0) {
    throw new RangeError(
      `${source}: label ${labels.data[bad]} at index ${bad} is outside [0, ${classes})`,
    );
  }
  const pixels = new Float32Array(new SharedArrayBuffer(images.data.length * 4));
  for (let i = 0; i < pixels.length; i++) pixels[i] = (images.data[i] as number) / 255;
  const shared = new Uint8Array(new SharedArrayBuffer(count));
  shared.set(labels.data);
  return { images: pixels, labels: shared, count, height, width, classes };
}

/**
 * The same dataset backed by SharedArrayBuffers (itself when it already is), so that posting it to
 * a worker shares the memory rather than copying it.
 */
export function shareDataset(dataset: ImageDataset): ImageDataset {
  const isShared = (array: ArrayBufferView) => array.buffer instanceof SharedArrayBuffer;
  if (isShared(dataset.images) && isShared(dataset.labels)) return dataset;
  const images = new Float32Array(new SharedArrayBuffer(dataset.images.byteLength));
  images.set(dataset.images);
  const labels = new Uint8Array(new SharedArrayBuffer(dataset.labels.byteLength));
  labels.set(dataset.labels);
  return { ...dataset, images, labels };
}
