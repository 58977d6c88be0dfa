// Mask streams: the WebAssembly SIMD path and the JavaScript fallback must both produce exactly
// the little-endian words of AES-256-CTR keystream (zero IV) added modulo 2^32, since clients and
// the server may run different paths and their masks must cancel.
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import {
  applyMask,
  applyMaskRange,
  applyMasks,
  maskKey,
  maskWords,
  type Mask,
} from '../../src/crypto/mask.js';
import { addWordsInto, createAccumulator, simdAvailable } from '../../src/crypto/vector-add.js';

// Around the 16 Ki-word chunk size, and small and non-multiple-of-4 lengths.
const lengths = fc.oneof(
  fc.constantFrom(0, 1, 3, 4, 5, 7, 16383, 16384, 16385, 32771),
  fc.integer({ min: 0, max: 40_000 }),
);
const keys = fc.uint8Array({ minLength: 32, maxLength: 32 });
const signs = fc.constantFrom<1 | -1>(1, -1);
// Vectors are derived from a seed rather than generated element by element: a 40,000-entry
// array from fast-check is slow to build and far slower to shrink.
const vectorOf = (length: number) =>
  fc
    .nat()
    .map((seed) => Uint32Array.from({ length }, (_, i) => Math.imul(i + seed, 2654435761) >>> 0));

/** The mask stream computed directly with node:crypto, independent of the code under test. */
function referenceWords(key: Uint8Array, length: number): Uint32Array {
  const bytes = createCipheriv('aes-256-ctr', key, new Uint8Array(16)).update(
    new Uint8Array(4 * length),
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Uint32Array.from({ length }, (_, i) => view.getUint32(4 * i, true));
}

function referenceApply(target: Uint32Array, masks: readonly Mask[]): Uint32Array {
  const out = target.slice();
  for (const { key, sign } of masks) {
    const words = referenceWords(key, out.length);
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + sign * (words[i] as number);
  }
  return out;
}

describe('mask streams', () => {
  it('uses WebAssembly SIMD under Node, so the tests below exercise it', () => {
    assert.equal(simdAvailable, true);
  });

  it('maskWords is AES-256-CTR keystream with a zero IV (known answer)', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    // AES-256 of the zero block (counter 0) under key 00 01 … 1f: f29000b6 2a499fd0 a9f39a6a dd2e7780.
    const words = maskWords(key, 8);
    assert.deepEqual([...words.subarray(0, 4)], [0xb60090f2, 0xd09f492a, 0x6a9af3a9, 0x80772edd]);
    assert.deepEqual(words, referenceWords(key, 8));
  });

  it('applyMask equals the reference for any length, key and sign', () => {
    fc.assert(
      fc.property(
        lengths.chain((n) => fc.tuple(vectorOf(n), keys, signs)),
        ([vector, key, sign]) => {
          const masked = vector.slice();
          applyMask(masked, key, sign);
          assert.deepEqual(masked, referenceApply(vector, [{ key, sign }]));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('applyMasks equals applying each mask in turn', () => {
    fc.assert(
      fc.property(
        lengths.chain((n) =>
          fc.tuple(vectorOf(n), fc.array(fc.record({ key: keys, sign: signs }), { maxLength: 6 })),
        ),
        ([vector, masks]) => {
          const masked = vector.slice();
          applyMasks(masked, masks);
          assert.deepEqual(masked, referenceApply(vector, masks));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('adding then subtracting a mask restores the vector', () => {
    fc.assert(
      fc.property(
        lengths.chain((n) => fc.tuple(vectorOf(n), keys)),
        ([vector, key]) => {
          const masked = vector.slice();
          applyMask(masked, key, 1);
          applyMask(masked, key, -1);
          assert.deepEqual(masked, vector);
          applyMasks(masked, [
            { key, sign: -1 },
            { key, sign: 1 },
          ]);
          assert.deepEqual(masked, vector);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('streams differ across purposes and contexts', () => {
    const seed = Uint8Array.from({ length: 32 }, (_, i) => 3 * i);
    const round1 = new Uint8Array([1]);
    const round2 = new Uint8Array([2]);
    const streams = [
      maskWords(maskKey(seed, 'pairwise', round1), 64),
      maskWords(maskKey(seed, 'self', round1), 64),
      maskWords(maskKey(seed, 'pairwise', round2), 64),
    ];
    for (let a = 0; a < streams.length; a++) {
      for (let b = a + 1; b < streams.length; b++) assert.notDeepEqual(streams[a], streams[b]);
    }
    assert.deepEqual(maskWords(maskKey(seed, 'pairwise', round1), 64), streams[0]);
  });
});

describe('mask windows and threads', () => {
  it('a window starting at block b continues every stream from word 4b', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: keys, sign: signs }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 9000 }),
        fc.integer({ min: 0, max: 20_000 }),
        (masks, block, length) => {
          const whole = referenceApply(new Uint32Array(4 * block + length), masks);
          const window = new Uint32Array(length);
          applyMaskRange(window, masks, 4 * block);
          assert.deepEqual(window, whole.subarray(4 * block));
        },
      ),
      { numRuns: 20 },
    );
  });

  it('refuses a window that does not start at a block boundary', () => {
    const masks: Mask[] = [{ key: new Uint8Array(32), sign: 1 }];
    assert.throws(() => applyMaskRange(new Uint32Array(8), masks, 6), /block boundary, got word 6/);
  });

  // In a child process, so that the number of threads can be set: three threads take windows
  // that are not chunk-aligned.
  it('a server-sized job on mask threads equals the same job on the calling thread', () => {
    const script = `
      import { applyMaskRange, applyMasks } from './src/crypto/mask.ts';
      import { maskThreads } from './src/crypto/backend.ts';
      if (maskThreads === undefined) throw new Error('no mask threads');
      // 130 streams x 65,539 words: above the threaded threshold.
      const masks = Array.from({ length: 130 }, (_, i) => ({
        key: Uint8Array.from({ length: 32 }, (_, j) => (i * 31 + j * 7) & 0xff),
        sign: i % 3 === 0 ? -1 : 1,
      }));
      const start = Uint32Array.from({ length: 65_539 }, (_, i) => Math.imul(i, 2654435761) >>> 0);
      const inline = start.slice();
      applyMaskRange(inline, masks, 0);
      const threaded = start.slice();
      applyMasks(threaded, masks);
      const equal = threaded.every((word, i) => word === inline[i]);
      const changed = threaded.some((word, i) => word !== start[i]);
      console.log(JSON.stringify({ equal, changed }));
    `;
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { env: { ...process.env, SEPAL_MASK_THREADS: '3' }, encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), { equal: true, changed: true });
  });

  it('SEPAL_MASK_THREADS must be a whole number, and the error says so', () => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', "await import('./src/crypto/mask.ts')"],
      { env: { ...process.env, SEPAL_MASK_THREADS: 'many' }, encoding: 'utf8' },
    );
    assert.notEqual(child.status, 0);
    assert.match(child.stderr, /SEPAL_MASK_THREADS must be a whole number >= 0, got "many"/);
  });
});

describe('word accumulators', () => {
  for (const simd of [true, false]) {
    it(`${simd ? 'SIMD' : 'JavaScript'} accumulator equals word-wise addition mod 2^32`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 1000 }).chain((n) =>
            fc.tuple(
              vectorOf(n),
              fc.array(
                fc.tuple(fc.integer({ min: 0, max: n }), fc.integer({ min: 0, max: 3 }), signs),
                {
                  maxLength: 5,
                },
              ),
            ),
          ),
          ([vector, adds]) => {
            const accumulator = createAccumulator(1000, simd);
            const expected = vector.slice();
            const actual = vector.slice();
            accumulator.load(actual);
            for (const [words, offset, sign] of adds) {
              // Unaligned, non-zero byteOffset slices exercise the copying path of the fallback.
              const bytes = Uint8Array.from(
                { length: 4 * words + offset },
                (_, i) => (i * 37 + words) & 0xff,
              );
              const block = bytes.subarray(offset);
              const view = new DataView(block.buffer, block.byteOffset, 4 * words);
              for (let i = 0; i < words; i++) {
                expected[i] = (expected[i] as number) + sign * view.getUint32(4 * i, true);
              }
              accumulator.add(block.subarray(0, 4 * words), sign);
            }
            accumulator.store();
            assert.deepEqual(actual, expected);
          },
        ),
        { numRuns: 100 },
      );
    });

    it(`${simd ? 'SIMD' : 'JavaScript'} accumulator rejects oversized inputs`, () => {
      const accumulator = createAccumulator(8, simd);
      assert.throws(() => accumulator.load(new Uint32Array(9)), RangeError);
      accumulator.load(new Uint32Array(2));
      assert.throws(() => accumulator.add(new Uint8Array(12), 1), RangeError);
      assert.throws(() => accumulator.add(new Uint8Array(6), 1), RangeError);
    });
  }
});

describe('addWordsInto', () => {
  it('adds two vectors word by word modulo 2^32, across chunk boundaries', () => {
    fc.assert(
      fc.property(
        lengths.chain((n) => fc.tuple(vectorOf(n), vectorOf(n))),
        ([target, source]) => {
          const expected = target.map((word, i) => word + (source[i] as number));
          addWordsInto(target, source);
          assert.deepEqual(target, expected);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('refuses vectors of different lengths', () => {
    assert.throws(() => addWordsInto(new Uint32Array(3), new Uint32Array(4)), RangeError);
  });
});
