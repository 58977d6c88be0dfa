/**
 * Model parameters as the framework sees them: an ordered list of named float tensors. The order
 * is the contract between server and clients (it is the model's weight order); names and shapes
 * are carried so that mismatches are caught and reported by name rather than silently misapplied.
 */

export interface Tensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** Row-major values; length is the product of `shape`. */
  readonly values: Float32Array;
}

export type Parameters = readonly Tensor[];
