/**
 * The baseline split learning is measured against: the same composed network (model.ts) trained
 * in one place on both parties' features of the aligned rows, with one optimizer over all
 * weights, following the same batch schedule.
 */
import type { Matrix } from './messages.js';
import {
  activeLogits,
  batchLoss,
  gatherRows,
  type SplitModel,
  trainableVariables,
} from './model.js';
import type { BatchSchedule } from './schedule.js';
import { tf } from './tf.js';

export interface CentralData {
  passive: Matrix;
  active: Matrix;
  labels: ArrayLike<number>;
  classes: number;
}

function logits(model: SplitModel, passive: tf.Tensor2D, active: tf.Tensor2D): tf.Tensor2D {
  return activeLogits(model, model.passiveBottom.apply(passive) as tf.Tensor2D, active);
}

/** Trains `model` over every step of `schedule`; returns the batch losses. */
export function trainCentral(
  model: SplitModel,
  data: CentralData,
  schedule: BatchSchedule,
  optimizer: tf.Optimizer,
): number[] {
  const variables = trainableVariables(model.passiveBottom, model.activeBottom, model.top);
  const losses: number[] = [];
  for (let step = 0; step < schedule.steps; step++) {
    const rows = schedule.rows(step);
    const labels = rows.map((row) => data.labels[row] as number);
    const loss = tf.tidy(() => {
      const [xp, xa] = [gatherRows(data.passive, rows), gatherRows(data.active, rows)];
      const cost = optimizer.minimize(
        () => batchLoss(logits(model, xp, xa), labels, data.classes),
        true,
        variables,
      );
      return cost?.dataSync()[0] ?? NaN;
    });
    losses.push(loss);
  }
  return losses;
}

export function predictCentral(model: SplitModel, passive: Matrix, active: Matrix): Int32Array {
  const rows = Array.from({ length: passive.rows }, (_, i) => i);
  return tf.tidy(
    () =>
      logits(model, gatherRows(passive, rows), gatherRows(active, rows))
        .argMax(1)
        .dataSync() as Int32Array,
  );
}
