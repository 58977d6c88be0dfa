import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bytesToHex } from '../../src/crypto/bytes.js';
import { ELEMENT_BYTES } from '../../src/vertical/psi/group.js';
import { SortedPoints } from '../../src/vertical/psi/sorted-points.js';

const RUNS = Number(process.env.SEPAL_PROPERTY_RUNS ?? 60);

/**
 * Points that often share long prefixes (each byte from a two-letter alphabet, with the
 * difference anywhere), so that the comparisons past the 6-byte key are exercised.
 */
const point = fc
  .tuple(fc.integer({ min: 0, max: ELEMENT_BYTES - 1 }), fc.integer({ min: 0, max: 1 }))
  .map(([at, bit]) => {
    const bytes = new Uint8Array(ELEMENT_BYTES).fill(0x5a);
    bytes[at] = 0x5a + bit;
    return bytes;
  });
const points = (max: number) =>
  fc.array(fc.oneof(point, fc.uint8Array({ minLength: 32, maxLength: 32 })), { maxLength: max });

const concat = (list: Uint8Array[]) => {
  const out = new Uint8Array(list.length * ELEMENT_BYTES);
  list.forEach((p, i) => out.set(p, i * ELEMENT_BYTES));
  return out;
};
const distinct = (list: Uint8Array[]) => [...new Map(list.map((p) => [bytesToHex(p), p])).values()];

describe('SortedPoints', () => {
  it('finds a repeat exactly when the points are not distinct, and names two equal ones', () => {
    fc.assert(
      fc.property(points(40), (list) => {
        const repeat = new SortedPoints(concat(list)).repeat();
        const hexes = list.map(bytesToHex);
        if (new Set(hexes).size === hexes.length) {
          assert.equal(repeat, undefined);
        } else {
          assert.ok(repeat !== undefined);
          const [earlier, later] = repeat;
          assert.ok(earlier < later);
          assert.equal(hexes[earlier], hexes[later]);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('intersects in ascending byte order, as sorting hex strings does (property)', () => {
    fc.assert(
      fc.property(points(40), points(40), (mine, theirs) => {
        const [a, b] = [distinct(mine), distinct(theirs)];
        const theirHexes = new Set(b.map(bytesToHex));
        const expected = a
          .map((p, i) => [bytesToHex(p), i] as const)
          .filter(([hex]) => theirHexes.has(hex))
          .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
          .map(([, i]) => i);
        const [sortedA, sortedB] = [new SortedPoints(concat(a)), new SortedPoints(concat(b))];
        assert.deepEqual(sortedA.positionsAlsoIn(sortedB), expected);
        // The same common points, in the same order, seen from the other side.
        const fromB = sortedB.positionsAlsoIn(sortedA).map((j) => bytesToHex(b[j] as Uint8Array));
        assert.deepEqual(
          fromB,
          expected.map((i) => bytesToHex(a[i] as Uint8Array)),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps its own copy: the caller may reuse or detach its buffer', () => {
    const list = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)];
    const buffer = concat(list);
    const sorted = new SortedPoints(buffer);
    structuredClone(buffer, { transfer: [buffer.buffer] }); // detaches `buffer`
    assert.equal(buffer.length, 0);
    assert.deepEqual(sorted.positionsAlsoIn(new SortedPoints(concat(list))), [0, 1]);
  });

  it('refuses a ragged buffer', () => {
    assert.throws(() => new SortedPoints(new Uint8Array(33)), /33 bytes is not a whole number/);
  });
});
