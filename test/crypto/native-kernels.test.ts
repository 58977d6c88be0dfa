// The native kernels (native/*.c): present under Node wherever npm could build them, word for word
// the same results as the JavaScript paths and node:crypto, and strict about their arguments,
// since a wrong length would otherwise write outside a vector.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createCipheriv, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { backend } from '../../src/crypto/backend.js';
import { nativeKernels } from '../../src/crypto/native-kernels.js';
import { weightedLevels } from '../../src/secagg/quantize.js';

function requireNative() {
  const { applyAes256CtrStreams, addWords, weightedLevels } = backend;
  assert.ok(
    applyAes256CtrStreams && addWords && weightedLevels && nativeKernels?.x25519,
    'native kernels missing: run "npm run build:native"',
  );
  return {
    applyAes256CtrStreams,
    addWords,
    weightedLevels,
    x25519: nativeKernels.x25519.bind(nativeKernels),
  };
}

/** X25519 through node:crypto's key objects (RFC 8410 JWK), the reference for the addon's. */
function nodeX25519(scalar: Uint8Array, point: Uint8Array): Uint8Array {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
  const product = diffieHellman({
    privateKey: createPrivateKey({
      key: { kty: 'OKP', crv: 'X25519', d: b64(scalar), x: b64(new Uint8Array(32)) },
      format: 'jwk',
    }),
    publicKey: createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: b64(point) },
      format: 'jwk',
    }),
  });
  return new Uint8Array(product.buffer, product.byteOffset, product.length);
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

  it('quantizes as the JavaScript loop does, word for word, and finds the same bad entry', () => {
    const native = requireNative().weightedLevels;
    const entry = fc.oneof(
      fc.float({ noNaN: true, noDefaultInfinity: true, min: -4, max: 4 }),
      fc.constantFrom(0, -0, 1, -1, 2, -2, 1e-45, 3.4e38, -3.4e38, Number.NaN, Infinity),
    );
    const coin = fc.oneof(
      fc.constantFrom(0, 1, 2 ** 31, 2 ** 32 - 1),
      fc.nat({ max: 2 ** 32 - 1 }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(entry, coin), { maxLength: 200 }),
        fc.constantFrom(1, 0.5, 1e-3, 8, 2),
        fc.constantFrom(16, 2 ** 22, 2 ** 32),
        fc.nat({ max: 1000 }),
        fc.constantFrom<'round' | number>('round', 'round', 'round', 0, Infinity, 1e300),
        (entries, clippingRange, targetRange, weightSeed, scaleKind) => {
          const top = targetRange - 1;
          // Any weight with weight x top < 2^32: 0 or 1 when targetRange is 2^32.
          const weight = weightSeed % (Math.floor((2 ** 32 - 1) / top) + 1);
          const values = Float32Array.from(entries, ([value]) => value);
          const coins = Uint32Array.from(entries, ([, c]) => c);
          // The round's slope, or the extremes the kernel must also agree on: 0 and infinity.
          const scale = scaleKind === 'round' ? top / (2 * clippingRange) : scaleKind;
          const expected = coins.slice();
          const badExpected = weightedLevels(values, expected, clippingRange, scale, top, weight);
          const actual = coins.slice();
          assert.equal(native(values, actual, clippingRange, scale, top, weight), badExpected);
          const written = badExpected < 0 ? values.length : badExpected;
          assert.deepEqual(actual.subarray(0, written), expected.subarray(0, written));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses quantizer arguments that could overflow or write outside the vector', () => {
    const quantize = requireNative().weightedLevels as (...args: unknown[]) => number;
    const values = new Float32Array(4);
    const cases: [unknown[], RegExp][] = [
      [[values, new Uint32Array(4), 1, 1, 15], /takes 6 arguments/],
      [[values, new Uint32Array(5), 1, 1, 15, 1], /same length/],
      [[new Float64Array(4), new Uint32Array(4), 1, 1, 15, 1], /Float32Array/],
      [[values, new Uint32Array(4), 0, 1, 15, 1], /clippingRange must be a positive finite/],
      [[values, new Uint32Array(4), Infinity, 1, 15, 1], /clippingRange must be a positive/],
      [[values, new Uint32Array(4), 1, -1, 15, 1], /scale must be a number >= 0/],
      [[values, new Uint32Array(4), 1, Number.NaN, 15, 1], /scale must be a number >= 0/],
      [[values, new Uint32Array(4), 1, 1, 0, 1], /top must be a whole number/],
      [[values, new Uint32Array(4), 1, 1, 15, 1.5], /weight must be a whole number/],
      [[values, new Uint32Array(4), 1, 1, 2 ** 16, 2 ** 16], /weight x top < 2\^32/],
    ];
    for (const [args, message] of cases) assert.throws(() => quantize(...args), message);
  });

  it('multiplies X25519 points as node:crypto does, and reports the first small-order one', () => {
    const { x25519 } = requireNative();
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 6 }),
        (scalar, points) => {
          const all = new Uint8Array(32 * points.length);
          points.forEach((point, i) => all.set(point, 32 * i));
          const out = new Uint8Array(all.length);
          const expected = points.map((point) => {
            try {
              return nodeX25519(scalar, point);
            } catch {
              return undefined; // OpenSSL refuses an all-zero product
            }
          });
          const firstZero = expected.findIndex((product) => product === undefined);
          assert.equal(x25519(scalar, all, out), firstZero);
          expected.forEach((product, i) => {
            const actual = out.subarray(32 * i, 32 * i + 32);
            assert.deepEqual(actual, product ?? new Uint8Array(32));
          });
        },
      ),
      { numRuns: 60 },
    );
    // u = 0 and u = 1 have small order (RFC 7748 §6.1): their products are all zero.
    const points = new Uint8Array(96);
    points[32] = 1;
    points[64] = 9;
    assert.equal(x25519(new Uint8Array(32).fill(7), points, new Uint8Array(96)), 0);
    assert.equal(x25519(new Uint8Array(32).fill(7), points.subarray(64), new Uint8Array(32)), -1);
    const bad = x25519 as (...args: unknown[]) => number;
    assert.throws(() => bad(new Uint8Array(31), points, new Uint8Array(96)), /scalar .* 32 bytes/);
    assert.throws(() => bad(new Uint8Array(32), points.subarray(1), new Uint8Array(95)), /32-byte/);
    assert.throws(() => bad(new Uint8Array(32), points, new Uint8Array(64)), /as long as points/);
  });

  it('the system libsodium hashes, when present, refuse bad arguments naming them', (t) => {
    const { ristrettoHash, expandMessageXmdSha512 } = nativeKernels ?? {};
    if (ristrettoHash === undefined || expandMessageXmdSha512 === undefined) {
      // test/vertical/psi-group.test.ts fails where libsodium is installed and these are missing.
      t.diagnostic('no system libsodium here');
      return;
    }
    const call =
      (f: unknown, ...args: unknown[]) =>
      () =>
        (f as (...a: unknown[]) => number)(...args);
    const [dst, out32, out64] = [new Uint8Array(4), new Uint8Array(32), new Uint8Array(64)];
    const three = new Uint8Array(3);
    const cases: [() => unknown, RegExp][] = [
      [
        call(ristrettoHash, three, new Uint32Array([3]), dst),
        /ristrettoHash\(messages, ends, dst, out\) takes 4/,
      ],
      [
        call(ristrettoHash, three, new Uint32Array([2, 1]), dst, out64),
        /ristrettoHash: ends must be a Uint32Array of nondecreasing offsets/,
      ],
      [call(ristrettoHash, three, new Uint32Array([4]), dst, out32), /ristrettoHash: ends/],
      [call(ristrettoHash, three, [3], dst, out32), /ristrettoHash: ends/],
      [call(ristrettoHash, three, new Uint32Array([3]), 'dst', out32), /ristrettoHash: dst/],
      [
        call(ristrettoHash, three, new Uint32Array([3]), new Uint8Array(0), out32),
        /ristrettoHash: dst must be a non-empty/,
      ],
      [call(ristrettoHash, three, new Uint32Array([3]), dst, out64), /ristrettoHash: out/],
      [
        call(ristrettoHash, 'abc', new Uint32Array([3]), dst, out32),
        /ristrettoHash: messages must be a Uint8Array/,
      ],
      [
        call(expandMessageXmdSha512, [1, 2], dst, out32),
        /expandMessageXmdSha512: message must be a Uint8Array/,
      ],
      [
        call(expandMessageXmdSha512, three, dst, new Uint8Array(255 * 64 + 1)),
        /expandMessageXmdSha512: out must be a Uint8Array of 1 to 16320 bytes/,
      ],
      [call(expandMessageXmdSha512, three, dst, new Uint8Array(0)), /expandMessageXmdSha512: out/],
      [
        call(expandMessageXmdSha512, three, new Uint8Array(0), out32),
        /expandMessageXmdSha512: dst must be a non-empty Uint8Array/,
      ],
    ];
    for (const [attempt, message] of cases) assert.throws(attempt, message);
  });

  // The JavaScript and WebAssembly paths (browsers; Node without a compiler) must pass the same
  // suites: masks, the quantizer, X25519's vectors and the PSI group on worker threads.
  it('SEPAL_NATIVE=0 switches them off, and the other paths pass the same suites', () => {
    const suites = [
      'test/crypto/mask.test.ts',
      'test/secagg/parts.test.ts',
      'test/crypto/backends.test.ts',
      'test/vertical/psi-group.test.ts',
    ];
    // Without NODE_TEST_CONTEXT, which the outer runner sets: a child that inherits it skips its
    // files and exits 0 having run nothing.
    const env: NodeJS.ProcessEnv = { ...process.env, SEPAL_NATIVE: '0' };
    delete env['NODE_TEST_CONTEXT'];
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...suites], {
      env,
      encoding: 'utf8',
    });
    assert.equal(child.status, 0, child.stdout + child.stderr);
    const passed = Number(/^# pass (\d+)$/m.exec(child.stdout)?.[1] ?? 0);
    assert.ok(passed >= 40, `the child ran ${passed} tests:\n${child.stdout.slice(-2000)}`);
    const probe = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        "const { backend } = await import('./src/crypto/backend.ts'); console.log(backend.applyAes256CtrStreams === undefined && backend.addWords === undefined && backend.weightedLevels === undefined)",
      ],
      { env: { ...process.env, SEPAL_NATIVE: '0' }, encoding: 'utf8' },
    );
    assert.equal(probe.stdout.trim(), 'true', probe.stderr);
  });
});
