/**
 * The prime-order group of the PSI: ristretto255 (RFC 9496), with ids hashed onto it per RFC 9380
 * (hash_to_ristretto255, suite ristretto255_XMD:SHA-512_R255MAP_RO_).
 *
 * Every element has exactly one 32-byte encoding and every accepted encoding is a group element,
 * so equal points are equal bytes (the protocol compares double-blinded points as bytes) and a
 * peer cannot smuggle in a small-order or off-curve point: decoding refuses it.
 *
 * This module is the seam between the protocol (party.ts) and curve arithmetic. A `PsiGroup`
 * works on whole batches of encoded points, so an implementation can keep a batch in one memory
 * region or spread it over threads. Three implementations compute the same bytes (tested):
 * - `nobleGroup` (noble-group.ts): @noble/curves, BigInt arithmetic; the portable reference;
 * - `sodiumGroup()` (sodium-group.ts): libsodium compiled to WebAssembly, about 10x faster; runs
 *   in any engine with WebAssembly, and is PsiParty's default;
 * - `startWorkerGroup()` (worker-group.ts): the libsodium group on Node worker threads, the
 *   Node-only fast path.
 */
import { ristretto255 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { type RandomSource, systemRandom } from '../../crypto/random.js';
import { zeroize } from '../../crypto/bytes.js';

/** Bytes of one encoded element. */
export const ELEMENT_BYTES = 32;

/** Bytes of a scalar: little-endian, reduced modulo the group order (RFC 9496 §4.4). */
export const SCALAR_BYTES = 32;

/**
 * RFC 9380 §3.1 domain separation tag: application, protocol version, suite. Two deployments that
 * must align ids agree on it; changing the protocol changes the version, so no point from one
 * version can match a point from another.
 */
export const PSI_DST = 'SEPAL-PSI-V1-ristretto255_XMD:SHA-512_R255MAP_RO_';

/**
 * A secret scalar, SCALAR_BYTES little-endian bytes. A byte array rather than a BigInt so that
 * its owner can overwrite it (`zeroize`) when done.
 */
export type Scalar = Uint8Array;

/** Why an encoded point was refused; `index` counts points from 0 in the batch. */
export class InvalidPointError extends RangeError {
  override name = 'InvalidPointError';
  constructor(
    readonly index: number,
    readonly reason: 'not a canonical ristretto255 encoding' | 'the identity element',
  ) {
    super(`point ${index} is ${reason}`);
  }
}

export interface PsiGroup {
  /** Names the implementation in benchmarks and logs. */
  readonly name: string;
  /**
   * k·H(id) for every id (H: hash_to_ristretto255 of the id's UTF-8 bytes with `dst`), encoded
   * and concatenated in the order of `ids`. The scalar is read, never kept.
   */
  hashAndMultiply(ids: readonly string[], scalar: Scalar, dst?: string): Promise<Uint8Array>;
  /**
   * k·P for every ELEMENT_BYTES-byte encoding P in `points`, concatenated in the same order.
   * Rejects with an InvalidPointError for the first point that is not a canonical encoding of a
   * group element or is the identity (an honest party never sends it: k·H(id) is never the
   * identity for k ≠ 0). `points.length` must be a multiple of ELEMENT_BYTES.
   */
  multiply(points: Uint8Array, scalar: Scalar): Promise<Uint8Array>;
}

const ORDER = ristretto255.Point.Fn.ORDER;

/**
 * A secret blinding scalar: 512 random bits reduced modulo the group order (bias below 2^-250),
 * redrawn in the negligible case of zero. The random bytes are wiped before returning; the
 * intermediate BigInts cannot be (JavaScript has no way to), and are dropped at once.
 */
export function randomScalar(random: RandomSource = systemRandom): Scalar {
  const bytes = new Uint8Array(64);
  try {
    for (;;) {
      random.fill(bytes);
      const scalar = bytesToNumberLE(bytes) % ORDER;
      if (scalar !== 0n) return numberToBytesLE(scalar, SCALAR_BYTES);
    }
  } finally {
    zeroize(bytes);
  }
}

/** Checks the arguments every implementation shares; throws a RangeError naming the problem. */
export function checkBatch(points: Uint8Array | undefined, scalar: Scalar): void {
  if (scalar.length !== SCALAR_BYTES) {
    throw new RangeError(`scalar: expected ${SCALAR_BYTES} bytes, got ${scalar.length}`);
  }
  // Implementations must agree on every accepted scalar; libsodium would not reduce one ≥ ORDER.
  const value = bytesToNumberLE(scalar);
  if (value === 0n || value >= ORDER) throw new RangeError('scalar: not in [1, group order)');
  if (points !== undefined && points.length % ELEMENT_BYTES !== 0) {
    throw new RangeError(
      `points: ${points.length} bytes is not a whole number of ${ELEMENT_BYTES}-byte points`,
    );
  }
}
