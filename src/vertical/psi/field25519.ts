/**
 * Squaring modulo p = 2^255 - 19 for the portable PSI groups: the step from an id's ristretto255
 * encoding s to the u-coordinate s² that X25519 multiplies (group.ts says why). s comes from a
 * private id, so the arithmetic avoids what makes JavaScript leak the most: no BigInt (whose
 * operations take value-dependent time and cannot be wiped), no table indexed by a secret, no
 * branch on one. Sixteen 16-bit limbs in float64, as TweetNaCl represents field elements: every
 * intermediate stays an exact integer below 2^53, and the scratch arrays are wiped. JIT-compiled
 * JavaScript can promise no more than that; the native group squares in C (native/field25519.c).
 */
const LIMBS = 16;
const LIMB = 65536;
/** p's limbs: 0xffed, then 0xffff fourteen times, then 0x7fff. */
const P_LOW = 0xffed;
const P_MIDDLE = 0xffff;
const P_HIGH = 0x7fff;

/** Moves each limb's excess above 16 bits up one limb; the top limb's, as 38 times it, to limb 0
 * (2^256 ≡ 38 mod p). Limbs are non-negative. The `i < LIMBS - 1` test is on the index only. */
function carry(limbs: Float64Array): void {
  for (let i = 0; i < LIMBS; i++) {
    const value = limbs[i] as number;
    const over = Math.floor(value / LIMB);
    limbs[i] = value - over * LIMB;
    if (i < LIMBS - 1) limbs[i + 1] = (limbs[i + 1] as number) + over;
    else limbs[0] = (limbs[0] as number) + 38 * over;
  }
}

/** Replaces `limbs` (below 2^256, each below 2^16) by limbs - p when that is not negative,
 * choosing with a mask. `scratch` receives the difference. */
function subtractPrimeIfAbove(limbs: Float64Array, scratch: Float64Array): void {
  let borrow = 0;
  for (let i = 0; i < LIMBS; i++) {
    const prime = i === 0 ? P_LOW : i === LIMBS - 1 ? P_HIGH : P_MIDDLE;
    const difference = (limbs[i] as number) - prime - borrow;
    borrow = (difference >> 16) & 1; // 1 exactly when the difference is negative
    scratch[i] = difference & 0xffff;
  }
  // A borrow out of the top limb means limbs < p: keep them (mask 0), else take the difference.
  const mask = borrow - 1;
  for (let i = 0; i < LIMBS; i++) {
    const a = limbs[i] as number;
    limbs[i] = a ^ (mask & (a ^ (scratch[i] as number)));
  }
}

/** s² mod p, fully reduced, as 32 little-endian bytes; s is any 32-byte little-endian number. */
export function squareModPrime(s: Uint8Array, out: Uint8Array = new Uint8Array(32)): Uint8Array {
  const a = new Float64Array(LIMBS);
  const product = new Float64Array(2 * LIMBS - 1);
  const scratch = new Float64Array(LIMBS);
  try {
    for (let i = 0; i < LIMBS; i++) {
      a[i] = (s[2 * i] as number) | ((s[2 * i + 1] as number) << 8);
    }
    // Each term is below 2^32 and a sum has at most 16: below 2^36.
    for (let i = 0; i < LIMBS; i++) {
      for (let j = 0; j < LIMBS; j++) {
        product[i + j] = (product[i + j] as number) + (a[i] as number) * (a[j] as number);
      }
    }
    // Fold limbs 16..30 (weight 2^256 and up) as 38 times themselves: below 2^42.
    for (let i = 0; i < LIMBS - 1; i++) {
      product[i] = (product[i] as number) + 38 * (product[i + LIMBS] as number);
    }
    const limbs = product.subarray(0, LIMBS);
    // Three passes bring every limb below 2^16: the first leaves limb 0 below 2^33, the second
    // below 2^16 + 38, the third finishes. The value is then below 2^256 < 3p. The third matters
    // only when the second carries out of the top limb, which needs limbs 2..15 all within 2 of
    // 2^16 after the first: about 2^-224 of inputs, too rare for a test to reach by input.
    carry(limbs);
    carry(limbs);
    carry(limbs);
    subtractPrimeIfAbove(limbs, scratch);
    subtractPrimeIfAbove(limbs, scratch);
    for (let i = 0; i < LIMBS; i++) {
      const limb = limbs[i] as number;
      out[2 * i] = limb & 0xff;
      out[2 * i + 1] = limb >> 8;
    }
    return out;
  } finally {
    a.fill(0);
    product.fill(0);
    scratch.fill(0);
  }
}
