import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { randomBelow, type RandomSource, seededRandom, shuffle } from '../../src/crypto/random.js';

const RUNS = Number(process.env.SEPAL_PROPERTY_RUNS ?? 30);

/** Fisher–Yates with one randomBelow per element: the definition shuffle must match. */
function oneDrawPerWord<T>(items: readonly T[], random: RandomSource): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomBelow(i + 1, random);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** A seeded source that also counts the bytes taken from it. */
function counted(seed: number): RandomSource & { taken: number } {
  const source = seededRandom(seed, 'shuffle-test');
  const counter = {
    taken: 0,
    fill(bytes: Uint8Array) {
      counter.taken += bytes.length;
      source.fill(bytes);
    },
  };
  return counter;
}

/** Words that are all rejected for bound 3 (≥ 2^32 − 2^32 mod 3) until `rejections` are spent. */
function rejectingFirst(rejections: number, then: RandomSource): RandomSource {
  let left = rejections;
  return {
    fill(bytes) {
      then.fill(bytes);
      const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
      for (let k = 0; k < words.length && left > 0; k++, left--) words[k] = 0xffffffff;
    },
  };
}

describe('shuffle', () => {
  it('is the one-draw-per-word Fisher–Yates, consuming exactly the same bytes (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer(), (length, seed) => {
        const items = Array.from({ length }, (_, i) => i);
        const [fast, slow] = [counted(seed), counted(seed)];
        assert.deepEqual(shuffle(items, fast), oneDrawPerWord(items, slow));
        assert.equal(fast.taken, slow.taken);
        // The stream is left at the same point: the next draws agree.
        assert.equal(randomBelow(1000, fast), randomBelow(1000, slow));
      }),
      { numRuns: RUNS },
    );
  });

  it('redraws a rejected word without losing its place in the stream', () => {
    // Three items: the first word is drawn for bound 3, which rejects 0xffffffff; a block of two
    // words is drawn, so rejections cross block boundaries.
    const items = [0, 1, 2];
    const [fast, slow] = [1, 1].map((seed) =>
      rejectingFirst(5, seededRandom(seed, 'rejections')),
    ) as [RandomSource, RandomSource];
    assert.deepEqual(shuffle(items, fast), oneDrawPerWord(items, slow));
    assert.equal(randomBelow(2 ** 32, fast), randomBelow(2 ** 32, slow));
  });

  it('gives every permutation of three items about equally often', () => {
    const random = seededRandom(42, 'uniformity');
    const counts = new Map<string, number>();
    for (let r = 0; r < 6000; r++) {
      const key = shuffle(['a', 'b', 'c'], random).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    // 1000 expected each; ±150 is over 5 standard deviations (σ ≈ 29).
    for (const [permutation, count] of counts) {
      assert.ok(Math.abs(count - 1000) < 150, `${permutation}: ${count}`);
    }
  });

  it('leaves its input alone', () => {
    const items = Object.freeze([1, 2, 3, 4]);
    assert.equal(shuffle(items).length, 4);
    assert.deepEqual(items, [1, 2, 3, 4]);
  });
});

describe('randomBelow', () => {
  it('refuses bounds that are not integers in [1, 2^32]', () => {
    for (const bound of [0, -1, 1.5, 2 ** 32 + 1, Number.NaN]) {
      assert.throws(() => randomBelow(bound), /bound must be an integer in \[1, 2\^32\]/);
    }
  });

  it('stays below its bound (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 32 }), fc.integer(), (bound, seed) => {
        const value = randomBelow(bound, seededRandom(seed, 'below'));
        assert.ok(Number.isInteger(value) && value >= 0 && value < bound);
      }),
      { numRuns: RUNS },
    );
  });
});
