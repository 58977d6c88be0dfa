/**
 * PSI values (32-byte u-coordinates) in ascending byte order: how a party finds repeated values,
 * the intersection and the aligned order without making a string of each (at 100,000 ids per side, hex
 * strings and the sets holding them cost the main thread about 40 µs per id, much of it garbage
 * collection; sorting the bytes costs about 1 µs).
 *
 * Sorting takes O(n log n) comparisons whatever the points are, so a peer choosing its points
 * (it chooses the double-blinded set's bytes outright) cannot slow a party down, as it could a
 * hash table keyed by the bytes.
 */
import { ELEMENT_BYTES } from './group.js';

/** Byte-wise comparison of point i of `a` with point j of `b`: negative, zero or positive. */
function compareBytes(a: Uint8Array, i: number, b: Uint8Array, j: number): number {
  const [x, y] = [i * ELEMENT_BYTES, j * ELEMENT_BYTES];
  for (let k = 0; k < ELEMENT_BYTES; k++) {
    const difference = (a[x + k] as number) - (b[y + k] as number);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** The first 6 bytes of each point, big-endian, as an exact number: most comparisons end here. */
function prefixes(points: Uint8Array, count: number): Float64Array {
  const keys = new Float64Array(count);
  for (let i = 0, at = 0; i < count; i++, at += ELEMENT_BYTES) {
    let key = 0;
    for (let k = 0; k < 6; k++) key = key * 256 + (points[at + k] as number);
    keys[i] = key;
  }
  return keys;
}

export class SortedPoints {
  /** How many points. */
  readonly count: number;
  /** Positions (indices of points in `points`) in ascending byte order of their points. */
  private readonly order: Uint32Array;
  private readonly keys: Float64Array;
  private readonly points: Uint8Array;

  /**
   * `points`: whole ELEMENT_BYTES-byte values, concatenated. They are copied: the caller's
   * buffer may be sent on, or transferred to another thread and detached.
   */
  constructor(points: Uint8Array) {
    this.count = points.length / ELEMENT_BYTES;
    if (!Number.isInteger(this.count)) {
      throw new RangeError(`${points.length} bytes is not a whole number of points`);
    }
    const own = points.slice();
    const keys = prefixes(own, this.count);
    this.order = new Uint32Array(this.count).map((_, i) => i);
    this.order.sort(
      (i, j) => (keys[i] as number) - (keys[j] as number) || compareBytes(own, i, own, j),
    );
    this.points = own;
    this.keys = keys;
  }

  /** Two positions holding the same point, [earlier, later], if any. */
  repeat(): [number, number] | undefined {
    const { order, keys, points } = this;
    for (let r = 1; r < this.count; r++) {
      const [i, j] = [order[r - 1] as number, order[r] as number];
      if (keys[i] === keys[j] && compareBytes(points, i, points, j) === 0) {
        return [Math.min(i, j), Math.max(i, j)];
      }
    }
    return undefined;
  }

  /**
   * The positions of this set's points that `other` holds too, in ascending byte order of the
   * points. Neither set may repeat a point (check `repeat()` first).
   */
  positionsAlsoIn(other: SortedPoints): number[] {
    const common: number[] = [];
    for (let r = 0, s = 0; r < this.count && s < other.count;) {
      const [i, j] = [this.order[r] as number, other.order[s] as number];
      const order =
        (this.keys[i] as number) - (other.keys[j] as number) ||
        compareBytes(this.points, i, other.points, j);
      if (order < 0) r++;
      else if (order > 0) s++;
      else {
        common.push(i);
        r++;
        s++;
      }
    }
    return common;
  }
}
