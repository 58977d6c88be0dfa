/**
 * Puts a party's rows in the aligned order the PSI produced. Both parties call it with the same
 * aligned ids (each from its own PsiResult), so row k means the same person on both sides.
 */
import { VerticalInputError } from '../errors.js';
import type { Matrix } from './messages.js';

/**
 * The rows of `features` (row i belongs to ids[i]) for `aligned`, in that order. Throws
 * VerticalInputError naming `party` and the first aligned id it does not hold.
 */
export function alignRows(
  party: string,
  ids: readonly string[],
  features: Matrix,
  aligned: readonly string[],
): { features: Matrix; rows: number[] } {
  if (ids.length !== features.rows) {
    throw new VerticalInputError(party, `${ids.length} ids for ${features.rows} feature rows`);
  }
  const rowOf = new Map(ids.map((id, row) => [id, row]));
  const rows = aligned.map((id) => {
    const row = rowOf.get(id);
    if (row === undefined) {
      throw new VerticalInputError(party, `aligned id ${JSON.stringify(id)} is not one of its ids`);
    }
    return row;
  });
  const { cols } = features;
  const data = new Float32Array(rows.length * cols);
  rows.forEach((row, i) =>
    data.set(features.data.subarray(row * cols, (row + 1) * cols), i * cols),
  );
  return { features: { rows: rows.length, cols, data }, rows };
}
