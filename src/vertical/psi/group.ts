/**
 * The group arithmetic of the PSI: ids hashed onto ristretto255 (RFC 9496) per RFC 9380
 * (hash_to_ristretto255, suite ristretto255_XMD:SHA-512_R255MAP_RO_), and blinded by X25519
 * (RFC 7748) on their Montgomery u-coordinates.
 *
 * Why X25519: it computes the same multiples as ristretto255's scalar multiplication, up to sign,
 * and OpenSSL's Montgomery ladder on one coordinate takes about half the time of libsodium's
 * ristretto255 multiplication on whole Edwards points here (docs/vertical.md has the figures).
 * The PSI only ever multiplies and compares, so it needs no more than that.
 *
 * The representation. ristretto255 is the prime-order subgroup of Curve25519 in disguise: each
 * element R has exactly one representative R₀ in that subgroup, and we write u(R) for the
 * Montgomery u-coordinate of R₀, which R and -R share. The PSI sends u-values:
 * - Hashing. If s is the encoding of H(id), decoding s gives an Edwards point with
 *   y = (1 - s²)/(1 + s²) (RFC 9496 §4.3.1 simplifies to this), whose u = (1 + y)/(1 - y) is
 *   1/s²; adding the 2-torsion point (0, 0) maps u to 1/u, so s² is the u-coordinate of a point
 *   that differs from R₀ by a small-order point.
 * - Blinding. X25519 clamps its 32-byte scalar k to c = clamp(k), a multiple of 8 in
 *   [2^254, 2^255), and returns the u-coordinate of c·P. Multiplying by a multiple of 8 removes
 *   every small-order component (Curve25519's group is Z/8 × Z/ℓ), so
 *   X25519(k, s²) = u(c·H(id)), and X25519(k', u(R)) = u(c'·R) for every R.
 * - Matching. The double-blinded values u(c·c'·H(x)) and u(c·c'·H(y)) are equal exactly when
 *   H(x) = ±H(y). For x ≠ y that has probability 2/ℓ (ℓ ≈ 2^252) under the random-oracle model
 *   of RFC 9380's hash, so equal values mean equal ids, as with whole points.
 * - Security: a u-value is a function of a group element, so anything computed from the u-values
 *   could be computed from the elements themselves. What hides the ids outside the intersection
 *   is DDH in ristretto255 with exponents drawn as X25519 draws them: c is one of 2^251
 *   multiples of 8, distinct modulo ℓ, so uniform on just under half of Z/ℓ. That is the
 *   assumption every X25519 key exchange rests on, rather than DDH with uniform exponents.
 * - Peer input. A u-value from a peer is refused when it is not canonical (not below p, so equal
 *   values are equal bytes) or is one of the five u-coordinates of small order (on the curve or
 *   its twist), which X25519 sends to zero. Among ristretto255 elements only the identity has
 *   such a u-coordinate (0), and an honest party never sends it. Other values are accepted
 *   unchecked, as X25519 accepts them. A value on the quadratic twist yields a product on the
 *   twist, which matches no value of the curve. The product determines c modulo the twist's
 *   large prime order only through a discrete logarithm of about 2^126 work (Curve25519 is
 *   twist-secure, RFC 7748 §7; c is a multiple of 4, the twist's cofactor), so it reveals
 *   nothing computable about c. Such a peer only loses ids from its own result, as it could by
 *   sending random points.
 *
 * Every value the group returns is a canonical 32-byte little-endian u-coordinate, so equal
 * values are equal bytes, which is how the protocol compares them.
 *
 * This module is the seam between the protocol (party.ts) and curve arithmetic. A `PsiGroup`
 * works on whole batches, so an implementation can keep a batch in one memory region or spread it
 * over threads. Four implementations compute the same bytes (tested):
 * - `nobleGroup` (noble-group.ts): @noble/curves, BigInt arithmetic; the portable reference;
 * - `sodiumGroup()` (sodium-group.ts): libsodium compiled to WebAssembly; runs in any engine with
 *   WebAssembly, and is PsiParty's default;
 * - `nativeBatches` (native-batches.ts): the system's libsodium for the hash and Node's OpenSSL
 *   for X25519, through Sepal's addon;
 * - `startWorkerGroup()` (worker-group.ts): the native batches (or else libsodium in
 *   WebAssembly) on Node worker threads, the Node-only fast path.
 */
import { type RandomSource, systemRandom } from '../../crypto/random.js';
import { isSmallOrderKey } from '../../crypto/agreement.js';

/** Bytes of one u-coordinate (RFC 7748 §5: little-endian). */
export const ELEMENT_BYTES = 32;

/** Bytes of an X25519 scalar (RFC 7748 §5: little-endian, clamped by X25519 itself). */
export const SCALAR_BYTES = 32;

/**
 * RFC 9380 §3.1 domain separation tag: application, protocol version, suite. Two deployments that
 * must align ids agree on it; changing the protocol changes the version, so no value from one
 * version can match a value from another. Version 1 sent ristretto255 encodings; version 2 sends
 * u-coordinates.
 */
export const PSI_DST = 'SEPAL-PSI-V2-ristretto255_XMD:SHA-512_R255MAP_RO_';

/**
 * A secret X25519 scalar, SCALAR_BYTES bytes; every value is valid (X25519 clamps it). A byte
 * array so that its owner can overwrite it (`zeroize`) when done.
 */
export type Scalar = Uint8Array;

/** Why a peer's u-coordinate was refused; `index` counts points from 0 in the batch. */
export class InvalidPointError extends RangeError {
  override name = 'InvalidPointError';
  constructor(
    readonly index: number,
    readonly reason: 'not a canonical u-coordinate' | 'of small order',
  ) {
    super(`point ${index} is ${reason}`);
  }
}

export interface PsiGroup {
  /** Names the implementation in benchmarks and logs. */
  readonly name: string;
  /**
   * u(c·H(id)) for every id (H: hash_to_ristretto255 of the id's UTF-8 bytes with `dst`; c the
   * clamped scalar), concatenated in the order of `ids`. The scalar is read, never kept.
   */
  hashAndMultiply(ids: readonly string[], scalar: Scalar, dst?: string): Promise<Uint8Array>;
  /**
   * X25519(scalar, u) for every ELEMENT_BYTES-byte u-coordinate in `points`, concatenated in the
   * same order: u(c·R) for u = u(R). Rejects with an InvalidPointError for the first point that
   * `checkPeerPoints` refuses. `points.length` must be a multiple of ELEMENT_BYTES.
   */
  multiply(points: Uint8Array, scalar: Scalar): Promise<Uint8Array>;
}

/**
 * A secret blinding scalar: SCALAR_BYTES bytes from `random`, used as they come. X25519 clamps
 * every value to a multiple of 8 in [2^254, 2^255), which is never 0 modulo ℓ: it is below 8ℓ,
 * and ℓ, 2ℓ, …, 7ℓ are not multiples of 8 (ℓ is odd).
 */
export function randomScalar(random: RandomSource = systemRandom): Scalar {
  const scalar = new Uint8Array(SCALAR_BYTES);
  random.fill(scalar);
  return scalar;
}

/** Checks the arguments every implementation shares; throws a RangeError naming the problem. */
export function checkBatch(points: Uint8Array | undefined, scalar: Scalar): void {
  if (scalar.length !== SCALAR_BYTES) {
    throw new RangeError(`scalar: expected ${SCALAR_BYTES} bytes, got ${scalar.length}`);
  }
  if (points !== undefined && points.length % ELEMENT_BYTES !== 0) {
    throw new RangeError(
      `points: ${points.length} bytes is not a whole number of ${ELEMENT_BYTES}-byte points`,
    );
  }
}

/**
 * Throws an InvalidPointError for the first u-coordinate in `points` that is not canonical or is
 * of small order: what every implementation refuses before it multiplies. The small-order list is
 * the one SecAgg's key agreement refuses (RFC 7748 §7; crypto/agreement.ts): 0, 1, p - 1 and two
 * of order 8 among canonical values.
 */
export function checkPeerPoints(points: Uint8Array): void {
  for (let at = 0; at < points.length; at += ELEMENT_BYTES) {
    const index = at / ELEMENT_BYTES;
    if (!belowPrime(points, at)) throw new InvalidPointError(index, 'not a canonical u-coordinate');
    if (isSmallOrderKey(points.subarray(at, at + ELEMENT_BYTES))) {
      throw new InvalidPointError(index, 'of small order');
    }
  }
}

/** Whether u is below p: bytes 31..1 compared with p's (0x7f, then 0xff), then byte 0 with 0xed. */
function belowPrime(points: Uint8Array, at: number): boolean {
  const top = points[at + 31] as number;
  if (top !== 0x7f) return top < 0x7f;
  for (let i = 30; i >= 1; i--) {
    if (points[at + i] !== 0xff) return true;
  }
  return (points[at] as number) < 0xed;
}

/**
 * The group's batch operations on one thread, synchronous: what the single-threaded groups and
 * the worker threads of worker-group.ts run (sodium-group.ts in WebAssembly, native-batches.ts
 * natively). `multiply` throws InvalidPointError for the first refused point.
 */
export interface PsiBatches {
  readonly name: string;
  hashAndMultiply(ids: readonly string[], scalar: Scalar, dst: string): Uint8Array;
  multiply(points: Uint8Array, scalar: Scalar): Uint8Array;
}
