import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  combine,
  decodeShareValue,
  encodeShareValue,
  FIELD_PRIME,
  ShamirError,
  split,
  type Share,
} from '../../src/crypto/shamir.js';

/** A threshold, a set of distinct indices at least that large, and a secret. */
const sharing = fc
  .record({
    threshold: fc.integer({ min: 1, max: 12 }),
    extra: fc.integer({ min: 0, max: 8 }),
    secret: fc.uint8Array({ minLength: 0, maxLength: 40 }),
  })
  .chain(({ threshold, extra, secret }) =>
    fc.record({
      threshold: fc.constant(threshold),
      secret: fc.constant(secret),
      indices: fc.uniqueArray(fc.integer({ min: 1, max: FIELD_PRIME - 1 }), {
        minLength: threshold + extra,
        maxLength: threshold + extra,
      }),
      pick: fc.infiniteStream(fc.nat()),
    }),
  );

function choose<T>(items: readonly T[], count: number, pick: Iterator<number>): T[] {
  const pool = items.slice();
  const out: T[] = [];
  while (out.length < count)
    out.push(pool.splice((pick.next().value as number) % pool.length, 1)[0] as T);
  return out;
}

describe('Shamir secret sharing over GF(2^22 - 3)', () => {
  it('any t shares reconstruct the secret', () => {
    fc.assert(
      fc.property(sharing, ({ threshold, secret, indices, pick }) => {
        const shares = split(secret, threshold, indices);
        const subset = choose(shares, threshold, pick[Symbol.iterator]());
        assert.deepEqual(combine(subset, threshold, secret.length), secret);
      }),
    );
  });

  it('t - 1 shares are refused', () => {
    fc.assert(
      fc.property(sharing, ({ threshold, secret, indices, pick }) => {
        const shares = split(secret, threshold, indices);
        const subset = choose(shares, threshold - 1, pick[Symbol.iterator]());
        assert.throws(() => combine(subset, threshold, secret.length), ShamirError);
      }),
    );
  });

  it('t - 1 shares carry no information: every secret is consistent with them', () => {
    // Perfect secrecy, constructively: for the t - 1 shares of secret a and ANY other secret b,
    // one more share exists that completes them to a sharing of b. It is a's share at x* plus
    // g(x*), where g has constant term b - a and vanishes at the t - 1 known indices.
    const p = BigInt(FIELD_PRIME);
    const mod = (v: bigint) => ((v % p) + p) % p;
    const pow = (base: bigint, e: bigint): bigint => {
      let [result, b, k] = [1n, mod(base), e];
      for (; k > 0n; k >>= 1n, b = (b * b) % p) if (k & 1n) result = (result * b) % p;
      return result;
    };
    const chunksOf = (secret: Uint8Array) =>
      Array.from({ length: secret.length / 2 }, (_, c) =>
        BigInt((secret[2 * c] as number) * 256 + (secret[2 * c + 1] as number)),
      );
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }),
        fc.uint8Array({ minLength: 30, maxLength: 30 }),
        fc.uint8Array({ minLength: 30, maxLength: 30 }),
        (threshold, a, b) => {
          const indices = Array.from({ length: threshold }, (_, i) => i + 1);
          const shares = split(a, threshold, indices);
          const known = shares.slice(0, threshold - 1);
          const last = shares[threshold - 1] as Share;
          const x = BigInt(last.index);
          let vanishing = 1n; // prod over known x_i of (x* - x_i) / (0 - x_i)
          for (const share of known) {
            const xi = BigInt(share.index);
            vanishing = mod(vanishing * mod(x - xi) * pow(mod(-xi), p - 2n));
          }
          const [ca, cb] = [chunksOf(a), chunksOf(b)];
          const forged = last.value.map((y, c) =>
            Number(mod(BigInt(y) + mod((cb[c] as bigint) - (ca[c] as bigint)) * vanishing)),
          );
          assert.deepEqual(
            combine([...known, { index: last.index, value: forged }], threshold, 30),
            b,
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('refuses duplicate indices that disagree, and ignores exact duplicates', () => {
    const secret = new Uint8Array(32).fill(7);
    const shares = split(secret, 3, [1, 2, 3, 4]);
    const [s1, s2] = shares as [Share, Share];
    assert.throws(() => combine([s1, s1, s2], 3, 32), /need 3 shares with distinct indices/);
    const forged = { index: s1.index, value: s2.value };
    assert.throws(
      () => combine([s1, forged, s2, shares[2] as Share], 3, 32),
      /two different shares/,
    );
  });

  it('names bad parameters and bad shares', () => {
    assert.throws(() => split(new Uint8Array(32), 4, [1, 2, 3]), /need at least 4/);
    assert.throws(() => split(new Uint8Array(32), 2, [1, 1]), /distinct/);
    assert.throws(() => split(new Uint8Array(32), 2, [0, 1]), /share index/);
    assert.throws(() => split(new Uint8Array(32), 2, [1, FIELD_PRIME]), /share index/);
    const [s1, s2] = split(new Uint8Array(32), 2, [1, 2]) as [Share, Share];
    assert.throws(
      () => combine([s1, { index: 2, value: s2.value.slice(1) }], 2, 32),
      /expected 16/,
    );
    const outside = s2.value.slice();
    outside[0] = FIELD_PRIME;
    assert.throws(() => combine([s1, { index: 2, value: outside }], 2, 32), /outside the field/);
  });

  it('detects inconsistent shares when the reconstruction is not a valid secret', () => {
    const a = split(new Uint8Array(32).fill(1), 2, [1, 2]);
    const b = split(new Uint8Array(32).fill(2), 2, [1, 2]);
    // Mixing two sharings gives a random field element per chunk; all 16 chunks landing below
    // 2^16 has probability about 2^-96.
    assert.throws(() => combine([a[0] as Share, b[1] as Share], 2, 32), /inconsistent/);
  });

  it('encodes share values as 3-byte elements and checks their length', () => {
    const [share] = split(new Uint8Array(32).fill(9), 2, [5, 6]) as [Share];
    const bytes = encodeShareValue(share.value);
    assert.equal(bytes.length, 48);
    assert.deepEqual(decodeShareValue(bytes, 32), share.value);
    assert.throws(() => decodeShareValue(bytes.subarray(3), 32), /must be 48 bytes/);
  });

  it('supports more than 65,000 holders', () => {
    const indices = Array.from({ length: 65_536 }, (_, i) => i + 1);
    const secret = new Uint8Array(32).map((_, i) => i * 7);
    const shares = split(secret, 3, indices);
    const tail = shares.slice(-3);
    assert.deepEqual(combine(tail, 3, 32), secret);
  });
});
