/*
 * One operation of the field of Curve25519 (p = 2^255 - 19): squaring, in constant time. The PSI
 * (src/vertical/psi/group.ts) blinds an id hashed to ristretto255 with X25519, whose input is a
 * Montgomery u-coordinate; for the element with ristretto255 encoding s, s² is such a
 * u-coordinate (group.ts says why). s comes from a private id, so the squaring must not branch
 * on it or index memory by it. Nothing else of the curve is computed here: the hash is
 * libsodium's (sodium_ristretto.c), the multiplication OpenSSL's (x25519.c).
 *
 * fieldSquare25519(values: Uint8Array, out: Uint8Array)
 *   values holds n 32-byte little-endian numbers (any, below 2^256); out (as long; it may be the
 *   same array) receives each one's square modulo p, fully reduced, little-endian. The stack
 *   copies of a value and its square are wiped.
 */
#include "addon.h"

#include <stdint.h>
#include <string.h>

/* The limbs need 64 x 64 -> 128-bit products; without them (32-bit targets) the function is not
 * exported and src/vertical/psi/native-batches.ts leaves the PSI to WebAssembly. */
#ifdef __SIZEOF_INT128__

#define FIELD_BYTES 32

typedef unsigned __int128 uint128_t;

/* memset through a volatile pointer, which the compiler may not drop as a dead store. */
static void wipe(void *bytes, size_t length) {
  static void *(*const volatile set)(void *, int, size_t) = memset;
  set(bytes, 0, length);
}

static uint64_t load64_le(const uint8_t *bytes) {
  uint64_t word = 0;
  for (int i = 7; i >= 0; i--) word = word << 8 | bytes[i];
  return word;
}

static void store64_le(uint8_t *bytes, uint64_t word) {
  for (int i = 0; i < 8; i++) bytes[i] = (uint8_t)(word >> (8 * i));
}

/* s² mod p, s < 2^256 as four 64-bit limbs, least significant first. */
static void square_mod_p(uint8_t out[FIELD_BYTES], const uint8_t in[FIELD_BYTES]) {
  uint64_t a[4], r[8] = {0};
  for (int i = 0; i < 4; i++) a[i] = load64_le(in + 8 * i);

  /* The 512-bit square, schoolbook. Each step's sum is at most (2^64-1)² + 2(2^64-1) < 2^128. */
  for (int i = 0; i < 4; i++) {
    uint64_t carry = 0;
    for (int j = 0; j < 4; j++) {
      const uint128_t t = (uint128_t)a[i] * a[j] + r[i + j] + carry;
      r[i + j] = (uint64_t)t;
      carry = (uint64_t)(t >> 64);
    }
    r[i + 4] = carry;
  }

  /* 2^256 ≡ 38 (mod p): low + 38·high leaves a carry c ≤ 38 above 2^256. */
  uint64_t carry = 0;
  for (int i = 0; i < 4; i++) {
    const uint128_t t = (uint128_t)r[i + 4] * 38 + r[i] + carry;
    r[i] = (uint64_t)t;
    carry = (uint64_t)(t >> 64);
  }
  /* Fold c·2^256 as 38·c. This can pass 2^256 once more, and only when the four limbs end
   * below 38·38; folding that last carry then touches the lowest limb alone. */
  uint128_t t = (uint128_t)carry * 38;
  for (int i = 0; i < 4; i++) {
    t += r[i];
    r[i] = (uint64_t)t;
    t >>= 64;
  }
  r[0] += 38 * (uint64_t)t;

  /* Below 2^256 now. 2^255 ≡ 19: fold bit 255, leaving a value below 2^255 + 19 < 2p. */
  const uint64_t top = r[3] >> 63;
  r[3] &= UINT64_MAX >> 1;
  t = 19 * top;
  for (int i = 0; i < 4; i++) {
    t += r[i];
    r[i] = (uint64_t)t;
    t >>= 64;
  }

  /* Subtract p when the value is at least p, that is when value + 19 reaches 2^255; without a
   * branch. */
  uint64_t plus19[4];
  t = 19;
  for (int i = 0; i < 4; i++) {
    t += r[i];
    plus19[i] = (uint64_t)t;
    t >>= 64;
  }
  const uint64_t at_least_p = 0 - (plus19[3] >> 63);
  plus19[3] &= UINT64_MAX >> 1;
  for (int i = 0; i < 4; i++) {
    store64_le(out + 8 * i, (plus19[i] & at_least_p) | (r[i] & ~at_least_p));
  }
  wipe(a, sizeof a);
  wipe(r, sizeof r);
  wipe(plus19, sizeof plus19);
}

static napi_value field_square(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!sepal_arguments(env, info, 2, argv, "fieldSquare25519(values, out) takes 2 arguments")) {
    return NULL;
  }
  size_t value_bytes, out_bytes;
  const uint8_t *values = sepal_typed_array(env, argv[0], napi_uint8_array, &value_bytes);
  if (values == NULL || value_bytes % FIELD_BYTES != 0) {
    return sepal_fail(env, "fieldSquare25519: values must be a Uint8Array of 32-byte numbers");
  }
  uint8_t *out = sepal_typed_array(env, argv[1], napi_uint8_array, &out_bytes);
  if (out == NULL || out_bytes != value_bytes) {
    return sepal_fail(env, "fieldSquare25519: out must be a Uint8Array as long as values");
  }
  for (size_t at = 0; at < value_bytes; at += FIELD_BYTES) {
    /* A copy, so that out may overlap values in any way. */
    uint8_t value[FIELD_BYTES];
    for (size_t i = 0; i < FIELD_BYTES; i++) value[i] = values[at + i];
    square_mod_p(out + at, value);
    wipe(value, sizeof value);
  }
  return NULL;
}

bool sepal_register_field25519(napi_env env, napi_value exports) {
  return sepal_export(env, exports, "fieldSquare25519", field_square);
}

#else

bool sepal_register_field25519(napi_env env, napi_value exports) {
  (void)env;
  (void)exports;
  return true;
}

#endif
