// The native kernels (native/secagg_kernels.c): present under Node wherever npm could build them,
// word for word the same results as the JavaScript paths, and strict about their arguments, since
// a wrong length would otherwise write outside a vector.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backend } from '../../src/crypto/backend.js';

function requireNative() {
  const { applyAes256CtrStreams, addWords } = backend;
  assert.ok(
    applyAes256CtrStreams && addWords,
    'native kernels missing: run "npm run build:native"',
  );
  return { applyAes256CtrStreams, addWords };
}

/** Keystream words of `key` from counter block `block`, straight from node:crypto. */
function keystreamWords(key: Uint8Array, block: bigint, length: number): Uint32Array {
  const iv = new Uint8Array(16);
  new DataView(iv.buffer).setBigUint64(8, block);
  const bytes = createCipheriv('aes-256-ctr', key, iv).update(new Uint8Array(4 * length));
  return new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 4 * length));
}

describe('native kernels', () => {
  it('is built and used by the Node backend', () => {
    requireNative();
  });

  it('adds and subtracts streams from any counter block, as node:crypto computes them', () => {
    const applyStreams = requireNative().applyAes256CtrStreams;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
            sign: fc.constantFrom<1 | -1>(1, -1),
          }),
          { maxLength: 5 },
        ),
        fc.oneof(fc.constantFrom(0, 4095, 4096, 4097, 9001), fc.nat({ max: 12_000 })),
        fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }),
        (masks, length, block) => {
          const start = Uint32Array.from({ length }, (_, i) => Math.imul(i, 2654435761) >>> 0);
          const expected = start.slice();
          for (const { key, sign } of masks) {
            const words = keystreamWords(key, block, length);
            for (let i = 0; i < length; i++) {
              expected[i] = (expected[i] as number) + sign * (words[i] as number);
            }
          }
          const keys = new Uint8Array(32 * masks.length);
          masks.forEach(({ key }, i) => keys.set(key, 32 * i));
          const target = start.slice();
          applyStreams(
            target,
            keys,
            Int8Array.from(masks, (m) => m.sign),
            Number(block),
          );
          assert.deepEqual(target, expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses arguments of the wrong type, length or range, naming the argument', () => {
    const applyStreams = requireNative().applyAes256CtrStreams as (...args: unknown[]) => void;
    const key = new Uint8Array(32);
    const cases: [unknown[], RegExp][] = [
      [[new Uint32Array(4), key, Int8Array.of(1)], /takes 4 arguments/],
      [[new Int32Array(4), key, Int8Array.of(1), 0], /target must be a Uint32Array/],
      [[new Uint32Array(4), new Uint8Array(31), Int8Array.of(1), 0], /keys must be .*32-byte/],
      [[new Uint32Array(4), key, Int8Array.of(1, 1), 0], /signs must be .* one entry per key/],
      [[new Uint32Array(4), key, Uint8Array.of(1), 0], /signs must be an Int8Array/],
      [[new Uint32Array(4), key, Int8Array.of(0), 0], /each sign must be 1 .* or -1/],
      [[new Uint32Array(4), key, Int8Array.of(1), -1], /firstBlock must be a whole number/],
      [[new Uint32Array(4), key, Int8Array.of(1), 1.5], /firstBlock must be a whole number/],
      [[new Uint32Array(4), key, Int8Array.of(1), 2 ** 53], /firstBlock must be a whole number/],
    ];
    for (const [args, message] of cases) {
      const target = args[0] instanceof Uint32Array ? args[0] : undefined;
      assert.throws(() => applyStreams(...args), message);
      if (target) assert.deepEqual(target, new Uint32Array(4), 'a refused call changes nothing');
    }
  });

  it('adds words modulo 2^32, and refuses arrays of different lengths', () => {
    const { addWords } = requireNative();
    const words = fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 3000 });
    fc.assert(
      fc.property(words, fc.nat(), (values, seed) => {
        const target = Uint32Array.from(values);
        const source = Uint32Array.from(values, (_, i) => Math.imul(i + seed, 2654435761) >>> 0);
        const expected = Uint32Array.from(values, (v, i) => (v + (source[i] as number)) >>> 0);
        addWords(target, source);
        assert.deepEqual(target, expected);
      }),
    );
    const target = new Uint32Array(4);
    assert.throws(() => addWords(target, new Uint32Array(5)), /same length/);
    assert.throws(
      () => (addWords as (...args: unknown[]) => void)(target, new Int32Array(4)),
      /Uint32Arrays/,
    );
    assert.deepEqual(target, new Uint32Array(4));
  });

  // The JavaScript paths (browsers; Node without a compiler) must pass the same suites.
  it('SEPAL_NATIVE=0 switches them off, and the JavaScript paths pass the mask suite', () => {
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--test', 'test/crypto/mask.test.ts'],
      { env: { ...process.env, SEPAL_NATIVE: '0' }, encoding: 'utf8' },
    );
    assert.equal(child.status, 0, child.stdout + child.stderr);
    const probe = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        "const { backend } = await import('./src/crypto/backend.ts'); console.log(backend.applyAes256CtrStreams === undefined && backend.addWords === undefined)",
      ],
      { env: { ...process.env, SEPAL_NATIVE: '0' }, encoding: 'utf8' },
    );
    assert.equal(probe.stdout.trim(), 'true', probe.stderr);
  });
});
