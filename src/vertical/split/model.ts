/**
 * The split network and the computation both parties and the central baseline share.
 *
 *   passive features ─ passive bottom ─┐ (cut layer: the embedding crosses here)
 *                                      ├─ concat ─ top ─ logits ─ softmax cross-entropy ← labels
 *   active features ── active bottom ──┘
 *
 * The active party holds the labels, its features, its bottom and the top; the passive party
 * holds its features and its bottom. Training the composition centrally (central.ts) and training
 * it split (active.ts, passive.ts) run the same functions below, which is what makes the split
 * computation provably the unsplit one (tested).
 */
import type { Matrix } from './messages.js';
import { tf } from './tf.js';

export interface SplitArchitecture {
  passiveInputs: number;
  activeInputs: number;
  /** Width of each bottom model's output; the passive one is the cut-layer embedding. */
  embedding: number;
  /** Width of the top model's hidden layer. */
  hidden: number;
  classes: number;
}

export interface SplitModel {
  passiveBottom: tf.LayersModel;
  activeBottom: tf.LayersModel;
  top: tf.LayersModel;
}

/**
 * Bottoms: one dense ReLU layer each; top: dense ReLU then dense logits. Initial weights depend
 * only on `seed`, so the central baseline starts exactly where the split parties start.
 */
export function createSplitModel(arch: SplitArchitecture, seed: number): SplitModel {
  let layerSeed = seed * 8;
  const dense = (name: string, units: number, inputs: number, activation?: 'relu') =>
    tf.layers.dense({
      name,
      units,
      inputShape: [inputs],
      kernelInitializer: tf.initializers.glorotUniform({ seed: layerSeed++ }),
      ...(activation && { activation }),
    });
  const bottom = (name: string, inputs: number) =>
    tf.sequential({ name, layers: [dense(`${name}_dense`, arch.embedding, inputs, 'relu')] });
  return {
    passiveBottom: bottom('passive_bottom', arch.passiveInputs),
    activeBottom: bottom('active_bottom', arch.activeInputs),
    top: tf.sequential({
      name: 'top',
      layers: [
        dense('top_hidden', arch.hidden, 2 * arch.embedding, 'relu'),
        dense('top_logits', arch.classes, arch.hidden),
      ],
    }),
  };
}

/** Output width of a model with one [batch, width] output. */
export function outputWidth(model: tf.LayersModel): number {
  return model.outputs[0]?.shape[1] ?? NaN;
}

/** The tf.Variables an optimizer updates for `models`. */
export function trainableVariables(...models: tf.LayersModel[]): tf.Variable[] {
  return models.flatMap((model) => model.trainableWeights.map((w) => w.read() as tf.Variable));
}

/** Rows `rows` of `matrix`, as a [rows.length, cols] tensor. */
export function gatherRows(matrix: Matrix, rows: readonly number[]): tf.Tensor2D {
  const out = new Float32Array(rows.length * matrix.cols);
  rows.forEach((row, i) =>
    out.set(matrix.data.subarray(row * matrix.cols, (row + 1) * matrix.cols), i * matrix.cols),
  );
  return tf.tensor2d(out, [rows.length, matrix.cols]);
}

/** Logits of the top model from the cut-layer embedding and the active party's own features. */
export function activeLogits(
  model: Pick<SplitModel, 'activeBottom' | 'top'>,
  embedding: tf.Tensor2D,
  activeFeatures: tf.Tensor2D,
): tf.Tensor2D {
  const own = model.activeBottom.apply(activeFeatures) as tf.Tensor2D;
  return model.top.apply(tf.concat([embedding, own], 1)) as tf.Tensor2D;
}

/** Mean softmax cross-entropy of a batch. */
export function batchLoss(logits: tf.Tensor2D, labels: readonly number[], classes: number) {
  const oneHot = tf.oneHot(tf.tensor1d([...labels], 'int32'), classes);
  return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
}

/** The first index of a value that is NaN or infinite, or -1. */
export function firstNonFinite(values: Float32Array): number {
  return values.findIndex((value) => !Number.isFinite(value));
}
