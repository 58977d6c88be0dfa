/**
 * Server-optimizer state (momentum, moment estimates) as a checkpoint stores it: named flat
 * vectors, carried as one-dimensional tensors.
 */
import { ParametersError } from '../errors.js';
import type { Parameters } from '../parameters.js';

/** Copies: the strategy goes on updating its vectors in place after a checkpoint took them. */
export function packState(vectors: Readonly<Record<string, Float32Array | undefined>>): Parameters {
  return Object.entries(vectors).flatMap(([name, values]) =>
    values === undefined ? [] : [{ name, shape: [values.length], values: values.slice() }],
  );
}

/** A copy of the named vector of `state`, or undefined when it is not there. */
export function unpackState(state: Parameters, name: string): Float32Array | undefined {
  return state.find((t) => t.name === name)?.values.slice();
}

/**
 * The state vector for a model of `size` entries: `stored`, or zeros before the first round.
 * A stored vector of another size belongs to another model (e.g. a checkpoint of another run).
 */
export function stateVector(
  stored: Float32Array | undefined,
  size: number,
  name: string,
): Float32Array {
  if (stored === undefined) return new Float32Array(size);
  if (stored.length !== size) {
    throw new ParametersError(
      name,
      `server state has ${stored.length} entries, the model has ${size}`,
    );
  }
  return stored;
}
