/**
 * Shamir t-of-n secret sharing over the prime field GF(p), p = 2^22 - 3.
 *
 * Why this field: any x-coordinate in [1, p) can hold a share, so a secret can be split among
 * over four million holders (SecAgg with shareNum = n needs n shares; GF(2^8) stops at 255).
 * Elements are below 2^22, so a product is below 2^44 and 512 products add up exactly in a
 * float64 before one reduction is needed: evaluating and interpolating are plain multiply-adds,
 * with no BigInt and almost no modular reductions on the hot path.
 *
 * A secret is cut into 16-bit chunks (each below p) and every chunk is shared with its own
 * independent random polynomial of degree t - 1, so any t - 1 shares are independent of the
 * secret (perfect secrecy per chunk, hence for the whole secret). A share is one field element
 * per chunk, evaluated at the holder's x-coordinate, its `index`.
 */
import { systemRandom, type RandomSource } from './random.js';

export const FIELD_PRIME = 4_194_301; // 2^22 - 3
const ELEMENT_BITS = 22;
const ELEMENT_BYTES = 3;
const CHUNK_BYTES = 2;
/** How many products below p^2 a float64 can sum exactly (2^53 / p^2, rounded down). */
const EXACT_TERMS = Math.floor(2 ** 53 / FIELD_PRIME ** 2);

export interface Share {
  /** The x-coordinate the polynomials were evaluated at, in [1, FIELD_PRIME). */
  readonly index: number;
  /** One field element per 16-bit chunk of the secret. */
  readonly value: Uint32Array;
}

export class ShamirError extends Error {
  override name = 'ShamirError';
}

/** Number of field elements in a share of a `byteLength`-byte secret. */
export const shareElements = (byteLength: number): number => Math.ceil(byteLength / CHUNK_BYTES);

/** Bytes of an encoded share value of a `byteLength`-byte secret. */
export const encodedShareBytes = (byteLength: number): number =>
  ELEMENT_BYTES * shareElements(byteLength);

/**
 * v mod p for an integer 0 <= v < 2^53. Floating-point `%` is a slow library call (it works bit
 * by bit); flooring v / p gives the quotient or one too many, which the sign test corrects.
 */
function reduce(v: number): number {
  const r = v - Math.floor(v / FIELD_PRIME) * FIELD_PRIME;
  return r < 0 ? r + FIELD_PRIME : r;
}

const mulMod = (a: number, b: number): number => reduce(a * b);

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 1 || index >= FIELD_PRIME) {
    throw new ShamirError(`share index must be an integer in [1, ${FIELD_PRIME}), got ${index}`);
  }
}

/** Uniform field elements by rejection sampling 22-bit words (rejects with probability 7e-7). */
function randomElements(count: number, random: RandomSource): Float64Array {
  const out = new Float64Array(count);
  const words = new Uint32Array(count);
  let filled = 0;
  while (filled < count) {
    random.fill(new Uint8Array(words.buffer, 0, 4 * (count - filled)));
    for (let i = 0, n = count - filled; i < n; i++) {
      const candidate = (words[i] as number) >>> (32 - ELEMENT_BITS);
      if (candidate < FIELD_PRIME) out[filled++] = candidate;
    }
  }
  words.fill(0);
  return out;
}

/**
 * out[c] = (sum over k of weights[k] * terms[k * out.length + c]) mod p, for field elements:
 * the one kernel of both evaluation (weights = powers of x) and interpolation (weights = Lagrange
 * coefficients). Sums stay exact by reducing once every EXACT_TERMS products.
 */
function weightedSums(weights: Float64Array, terms: ArrayLike<number>, out: Float64Array): void {
  const width = out.length;
  out.fill(0);
  for (let k = 0; k < weights.length; k++) {
    const weight = weights[k] as number;
    const base = k * width;
    for (let c = 0; c < width; c++)
      out[c] = (out[c] as number) + weight * (terms[base + c] as number);
    if ((k + 1) % EXACT_TERMS === 0)
      for (let c = 0; c < width; c++) out[c] = reduce(out[c] as number);
  }
  for (let c = 0; c < width; c++) out[c] = reduce(out[c] as number);
}

/**
 * Splits `secret` so that any `threshold` of the returned shares (one per entry of `indices`)
 * reconstruct it and fewer reveal nothing about it.
 */
export function split(
  secret: Uint8Array,
  threshold: number,
  indices: readonly number[],
  random: RandomSource = systemRandom,
): Share[] {
  if (!Number.isInteger(threshold) || threshold < 1) {
    throw new ShamirError(`threshold must be a positive integer, got ${threshold}`);
  }
  if (indices.length < threshold) {
    throw new ShamirError(
      `cannot split into ${indices.length} shares with threshold ${threshold}: need at least ${threshold}`,
    );
  }
  indices.forEach(checkIndex);
  if (new Set(indices).size !== indices.length)
    throw new ShamirError('share indices must be distinct');

  const chunks = shareElements(secret.length);
  // coefficients[d * chunks + c]: the degree-d coefficient of chunk c's polynomial; degree 0 is
  // the chunk itself (a short last chunk is padded with a zero byte).
  const coefficients = randomElements(chunks * threshold, random);
  for (let c = 0; c < chunks; c++) {
    coefficients[c] = (secret[2 * c] as number) * 256 + (secret[2 * c + 1] ?? 0);
  }

  const powers = new Float64Array(threshold);
  const sums = new Float64Array(chunks);
  const shares = indices.map((x) => {
    powers[0] = 1;
    for (let d = 1; d < threshold; d++) powers[d] = mulMod(powers[d - 1] as number, x);
    weightedSums(powers, coefficients, sums);
    return { index: x, value: new Uint32Array(sums) };
  });
  coefficients.fill(0);
  sums.fill(0);
  return shares;
}

/** a^-1 mod p by the extended Euclidean algorithm; a must be non-zero mod p. */
function inverse(a: number): number {
  let [r0, r1] = [FIELD_PRIME, a];
  let [t0, t1] = [0, 1];
  while (r1 !== 0) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return t0 < 0 ? t0 + FIELD_PRIME : t0;
}

/** Lagrange basis polynomials of the distinct points `xs`, evaluated at 0. */
function lagrangeAtZero(xs: readonly number[]): Float64Array {
  const out = new Float64Array(xs.length);
  xs.forEach((xi, i) => {
    let numerator = 1;
    let denominator = 1;
    xs.forEach((xj, j) => {
      if (i === j) return;
      numerator = mulMod(numerator, xj);
      denominator = mulMod(denominator, (xj - xi + FIELD_PRIME) % FIELD_PRIME);
    });
    out[i] = mulMod(numerator, inverse(denominator));
  });
  return out;
}

/**
 * Reconstructs a `byteLength`-byte secret from at least `threshold` shares with distinct indices.
 * Refuses fewer; uses the first `threshold` distinct ones (in the semi-honest model every share
 * is genuine, so extra shares add nothing). A result that is not a valid secret encoding proves
 * the shares inconsistent and is refused too (a random field element passes for a 16-bit chunk
 * with probability 2^-6, so mixed-up shares of a 32-byte secret slip through with about 2^-96).
 */
export function combine(
  shares: readonly Share[],
  threshold: number,
  byteLength: number,
): Uint8Array {
  const chunks = shareElements(byteLength);
  const chosen = new Map<number, Share>();
  for (const share of shares) {
    checkIndex(share.index);
    if (share.value.length !== chunks) {
      throw new ShamirError(
        `share ${share.index} has ${share.value.length} elements, expected ${chunks}`,
      );
    }
    if (share.value.some((element) => element >= FIELD_PRIME)) {
      throw new ShamirError(`share ${share.index} holds a value outside the field`);
    }
    const seen = chosen.get(share.index);
    if (seen !== undefined && seen.value.some((element, c) => element !== share.value[c])) {
      throw new ShamirError(`two different shares carry index ${share.index}`);
    }
    if (seen === undefined && chosen.size < threshold) chosen.set(share.index, share);
  }
  if (chosen.size < threshold) {
    throw new ShamirError(
      `need ${threshold} shares with distinct indices to reconstruct, got ${chosen.size}`,
    );
  }

  const points = [...chosen.values()];
  const values = new Float64Array(threshold * chunks);
  points.forEach((share, i) => values.set(share.value, i * chunks));
  const sums = new Float64Array(chunks);
  weightedSums(lagrangeAtZero(points.map((share) => share.index)), values, sums);
  values.fill(0);

  const secret = new Uint8Array(byteLength);
  for (let c = 0; c < chunks; c++) {
    const chunk = sums[c] as number;
    const padded = 2 * c + 1 === byteLength;
    if (chunk >= 65_536 || (padded && chunk % 256 !== 0)) {
      throw new ShamirError('shares are inconsistent: the reconstruction is not a valid secret');
    }
    secret[2 * c] = chunk >>> 8;
    if (!padded) secret[2 * c + 1] = chunk & 0xff;
  }
  sums.fill(0);
  return secret;
}

/** Share values travel as 3-byte little-endian field elements. */
export function encodeShareValue(value: Uint32Array): Uint8Array {
  const out = new Uint8Array(ELEMENT_BYTES * value.length);
  value.forEach((element, i) => {
    out[3 * i] = element & 0xff;
    out[3 * i + 1] = (element >>> 8) & 0xff;
    out[3 * i + 2] = element >>> 16;
  });
  return out;
}

export function decodeShareValue(bytes: Uint8Array, byteLength: number): Uint32Array {
  const expected = encodedShareBytes(byteLength);
  if (bytes.length !== expected) {
    throw new ShamirError(`encoded share must be ${expected} bytes, got ${bytes.length}`);
  }
  const value = new Uint32Array(shareElements(byteLength));
  for (let c = 0; c < value.length; c++) {
    value[c] =
      (bytes[3 * c] as number) |
      ((bytes[3 * c + 1] as number) << 8) |
      ((bytes[3 * c + 2] as number) << 16);
  }
  return value;
}
