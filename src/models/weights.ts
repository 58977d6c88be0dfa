/**
 * Moving weights between a tfjs model and Sepal's `Parameters`. Order is the model's weight order;
 * names are the layers' own (`hidden/kernel`), without the `_1` suffixes tfjs appends when a
 * process builds a second model with the same layer names.
 */
import type { Parameters, Tensor } from '../fl/parameters.js';
import { tf } from './tf.js';

/** Parameters that do not fit a model: the message names the tensor and what was expected. */
export class ParameterMismatchError extends Error {
  override name = 'ParameterMismatchError';
}

/** A copy of the model's weights (later training does not change it). */
export function getModelParameters(model: tf.LayersModel): Parameters {
  return model.weights.map((weight) => ({
    name: weight.originalName,
    shape: weight.shape.slice() as number[],
    // Copied: on the cpu backend dataSync returns the tensor's own storage.
    values: new Float32Array(weight.read().dataSync()),
  }));
}

/** Loads `parameters` into the model after checking count, names, shapes and lengths. */
export function setModelParameters(model: tf.LayersModel, parameters: Parameters): void {
  const weights = model.weights;
  if (parameters.length !== weights.length) {
    throw new ParameterMismatchError(
      `model ${model.name} has ${weights.length} weight tensors, got ${parameters.length} parameters`,
    );
  }
  weights.forEach((weight, i) =>
    checkTensor(parameters[i] as Tensor, weight.originalName, weight.shape as number[]),
  );
  const tensors = parameters.map((p) => tf.tensor(p.values, p.shape as number[], 'float32'));
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

function checkTensor(tensor: Tensor, name: string, shape: readonly number[]): void {
  const describe = (s: readonly number[]) => `[${s.join(', ')}]`;
  if (tensor.name !== name) {
    throw new ParameterMismatchError(`expected tensor ${name}, got ${tensor.name}`);
  }
  if (tensor.shape.length !== shape.length || tensor.shape.some((size, i) => size !== shape[i])) {
    throw new ParameterMismatchError(
      `tensor ${name} must have shape ${describe(shape)}, got ${describe(tensor.shape)}`,
    );
  }
  const length = shape.reduce((a, b) => a * b, 1);
  if (tensor.values.length !== length) {
    throw new ParameterMismatchError(
      `tensor ${name} of shape ${describe(shape)} needs ${length} values, got ${tensor.values.length}`,
    );
  }
}
