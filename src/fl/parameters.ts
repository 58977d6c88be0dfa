/**
 * Model parameters as the framework sees them: an ordered list of named float tensors. The order
 * is the contract between server and clients (it is the model's weight order); names and shapes
 * are carried so that mismatches are caught and reported by name rather than silently misapplied.
 */
import { ParametersError } from './errors.js';

export interface Tensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** Row-major values; length is the product of `shape`. */
  readonly values: Float32Array;
}

export type Parameters = readonly Tensor[];

// Strategies and secure aggregation work on one flat vector per client: the concatenation of the
// tensors' values in parameter order. `flatten` and `unflatten` are inverses for a given layout.

/** Entries of a tensor of this shape. */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Entries of all tensors together: the length of `flatten(parameters)`. */
export const totalSize = (parameters: Parameters): number =>
  parameters.reduce((sum, tensor) => sum + tensor.values.length, 0);

/** Checks that every tensor's shape is a list of non-negative integers matching its values. */
export function validateParameters(parameters: Parameters): void {
  const names = new Set<string>();
  for (const { name, shape, values } of parameters) {
    if (names.has(name)) throw new ParametersError(name, 'appears twice');
    names.add(name);
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ParametersError(name, `shape [${shape.join(', ')}] is not a list of sizes`);
    }
    if (values.length !== sizeOf(shape)) {
      throw new ParametersError(
        name,
        `has ${values.length} values, its shape [${shape.join(', ')}] needs ${sizeOf(shape)}`,
      );
    }
  }
}

/**
 * Checks that `actual` has the layout of `expected`: the same tensors in the same order, with the
 * same shapes and value counts.
 */
export function checkLayout(expected: Parameters, actual: Parameters): void {
  if (actual.length !== expected.length) {
    throw new ParametersError(
      undefined,
      `expected ${expected.length} tensors (${expected.map((t) => t.name).join(', ')}), got ${actual.length}`,
    );
  }
  expected.forEach((want, i) => {
    const got = actual[i] as Tensor;
    if (got.name !== want.name) {
      throw new ParametersError(want.name, `expected at position ${i}, found ${got.name}`);
    }
    if (got.shape.length !== want.shape.length || got.shape.some((d, k) => d !== want.shape[k])) {
      throw new ParametersError(
        want.name,
        `expected shape [${want.shape.join(', ')}], got [${got.shape.join(', ')}]`,
      );
    }
    if (got.values.length !== want.values.length) {
      throw new ParametersError(
        want.name,
        `expected ${want.values.length} values, got ${got.values.length}`,
      );
    }
  });
}

/**
 * Checks that `actual` has the layout of `expected` and only finite values: what the server
 * requires of every update before it aggregates it.
 */
export function checkCompatible(expected: Parameters, actual: Parameters): void {
  checkLayout(expected, actual);
  for (const { name, values } of actual) {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i]))
        throw new ParametersError(name, `value ${i} is ${values[i]}`);
    }
  }
}

/** One Float32Array holding every tensor's values in order (a copy). */
export function flatten(parameters: Parameters): Float32Array {
  const flat = new Float32Array(totalSize(parameters));
  let offset = 0;
  for (const { values } of parameters) {
    flat.set(values, offset);
    offset += values.length;
  }
  return flat;
}

/**
 * Cuts `flat` into tensors with the names and shapes of `layout`. The tensors are views of `flat`
 * (no copy): the caller hands `flat` over and must not write to it afterwards.
 */
export function unflatten(flat: Float32Array, layout: Parameters): Parameters {
  const size = totalSize(layout);
  if (flat.length !== size) {
    throw new ParametersError(undefined, `expected ${size} values in all, got ${flat.length}`);
  }
  let offset = 0;
  return layout.map(({ name, shape, values }) => {
    const tensor = { name, shape, values: flat.subarray(offset, offset + values.length) };
    offset += values.length;
    return tensor;
  });
}

/** A deep copy: what crosses a process or network boundary, for in-process stand-ins of one. */
export const cloneParameters = (parameters: Parameters): Parameters =>
  parameters.map(({ name, shape, values }) => ({
    name,
    shape: [...shape],
    values: values.slice(),
  }));
