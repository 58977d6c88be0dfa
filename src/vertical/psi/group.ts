/**
 * The prime-order group of the PSI: ristretto255 (RFC 9496) from @noble/curves, with ids hashed
 * onto it per RFC 9380 (suite ristretto255_XMD:SHA-512_R255MAP_RO_).
 *
 * Every element has exactly one 32-byte encoding and every accepted encoding is a group element,
 * so equal points are equal bytes (the protocol compares double-blinded points as bytes) and a
 * peer cannot smuggle in a small-order or off-curve point: decoding refuses it.
 *
 * This module is the seam for a faster implementation of the same group (see docs/vertical.md):
 * nothing else in the PSI touches curve arithmetic.
 */
import { ristretto255, ristretto255_hasher } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { type RandomSource, systemRandom } from '../../crypto/random.js';
import { zeroize } from '../../crypto/bytes.js';

export type GroupElement = InstanceType<typeof ristretto255.Point>;

/** Bytes of one encoded element. */
export const ELEMENT_BYTES = 32;

/**
 * RFC 9380 §3.1 domain separation tag: application, protocol version, suite. Two deployments that
 * must align ids agree on it; changing the protocol changes the version, so no point from one
 * version can match a point from another.
 */
export const PSI_DST = 'SEPAL-PSI-V1-ristretto255_XMD:SHA-512_R255MAP_RO_';

const Point = ristretto255.Point;
const ORDER = Point.Fn.ORDER;
const utf8 = new TextEncoder();

/** H(id): the id's UTF-8 bytes hashed onto the group. Nobody knows its discrete logarithm. */
export function hashToGroup(id: string): GroupElement {
  return ristretto255_hasher.hashToCurve(utf8.encode(id), { DST: PSI_DST });
}

/**
 * A secret blinding scalar: 512 random bits reduced modulo the group order (bias below 2^-250),
 * redrawn in the negligible case of zero. The random bytes are wiped before returning.
 */
export function randomScalar(random: RandomSource = systemRandom): bigint {
  const bytes = new Uint8Array(64);
  try {
    for (;;) {
      random.fill(bytes);
      const scalar = bytesToNumberLE(bytes) % ORDER;
      if (scalar !== 0n) return scalar;
    }
  } finally {
    zeroize(bytes);
  }
}

/** k·P, with noble's constant-time ladder (the scalar is secret). */
export function multiply(point: GroupElement, scalar: bigint): GroupElement {
  return point.multiply(scalar);
}

export function encode(point: GroupElement): Uint8Array {
  return point.toBytes();
}

/**
 * Decodes one element. Throws a RangeError for non-canonical encodings, points off the group and
 * the identity (an honest party never sends it: k·H(id) is never the identity for k ≠ 0).
 */
export function decode(bytes: Uint8Array): GroupElement {
  let point: GroupElement;
  try {
    point = Point.fromBytes(bytes);
  } catch {
    throw new RangeError('not a canonical ristretto255 encoding');
  }
  if (point.is0()) throw new RangeError('the identity element');
  return point;
}
