/*
 * X25519 (RFC 7748) in batches, computed by OpenSSL's own implementation: the function behind
 * node:crypto's diffieHellman, called without the EVP key objects around it. Importing each
 * peer's 32-byte key into a KeyObject costs node:crypto more than the multiplication itself; a
 * SecAgg client agrees keys with each of its neighbours every round, and a PSI party multiplies
 * two X25519 points per id (src/vertical/psi/group.ts).
 *
 * OpenSSL's public API offers X25519 only through EVP_PKEY objects. Node links OpenSSL statically
 * and exports all of its symbols, the internal `ossl_x25519` (OpenSSL 3.x) included. It is looked
 * up at load time and used only if it reproduces RFC 7748's test vector; otherwise the addon does
 * not export `x25519` and callers keep node:crypto. Nothing here implements curve arithmetic.
 *
 * x25519(scalar: Uint8Array, points: Uint8Array, out: Uint8Array)
 *   scalar is 32 bytes (clamped inside, as RFC 7748 says); points holds n 32-byte u-coordinates
 *   back to back, out receives the n products. Returns the index of the first point whose product
 *   is all zero (a point of small order, RFC 7748 §6.1) or -1. Products after that index are
 *   still written.
 */
#include "addon.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define POINT_BYTES 32

/* OpenSSL 3's signature: 1 on success, 0 when the product is all zero. */
typedef int (*x25519_function)(uint8_t out[POINT_BYTES], const uint8_t scalar[POINT_BYTES],
                               const uint8_t point[POINT_BYTES]);

/* RFC 7748 §5.2, the first X25519 test vector. */
static const uint8_t KAT_SCALAR[POINT_BYTES] = {
    0xa5, 0x46, 0xe3, 0x6b, 0xf0, 0x52, 0x7c, 0x9d, 0x3b, 0x16, 0x15, 0x4b, 0x82, 0x46, 0x5e, 0xdd,
    0x62, 0x14, 0x4c, 0x0a, 0xc1, 0xfc, 0x5a, 0x18, 0x50, 0x6a, 0x22, 0x44, 0xba, 0x44, 0x9a, 0xc4};
static const uint8_t KAT_POINT[POINT_BYTES] = {
    0xe6, 0xdb, 0x68, 0x67, 0x58, 0x30, 0x30, 0xdb, 0x35, 0x94, 0xc1, 0xa4, 0x24, 0xb1, 0x5f, 0x7c,
    0x72, 0x66, 0x24, 0xec, 0x26, 0xb3, 0x35, 0x3b, 0x10, 0xa9, 0x03, 0xa6, 0xd0, 0xab, 0x1c, 0x4c};
static const uint8_t KAT_PRODUCT[POINT_BYTES] = {
    0xc3, 0xda, 0x55, 0x37, 0x9d, 0xe9, 0xc6, 0x90, 0x8e, 0x94, 0xea, 0x4d, 0xf2, 0x8d, 0x08, 0x4f,
    0x32, 0xec, 0xcf, 0x03, 0x49, 0x1c, 0x71, 0xf7, 0x54, 0xb4, 0x07, 0x55, 0x77, 0xa2, 0x85, 0x52};

/*
 * OpenSSL's X25519 if this process exports it and it behaves as the prototype above says: the
 * test vector's product with 1, and for u = 0 (small order) an all-zero product with 0. NULL
 * otherwise.
 */
static x25519_function resolve_x25519(void) {
  x25519_function function = (x25519_function)dlsym(RTLD_DEFAULT, "ossl_x25519");
  if (function == NULL) return NULL;
  static const uint8_t ZERO[POINT_BYTES];
  uint8_t product[POINT_BYTES];
  const int vector_ok = function(product, KAT_SCALAR, KAT_POINT) == 1 &&
                        memcmp(product, KAT_PRODUCT, POINT_BYTES) == 0;
  memset(product, 0xff, sizeof product);
  const int small_order_ok =
      function(product, KAT_SCALAR, ZERO) == 0 && memcmp(product, ZERO, POINT_BYTES) == 0;
  return vector_ok && small_order_ok ? function : NULL;
}

static x25519_function openssl_x25519;
static void resolve_once(void) { openssl_x25519 = resolve_x25519(); }

static napi_value x25519(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!sepal_arguments(env, info, 3, argv, "x25519(scalar, points, out) takes 3 arguments")) {
    return NULL;
  }
  size_t scalar_bytes, point_bytes, out_bytes;
  const uint8_t *scalar = sepal_typed_array(env, argv[0], napi_uint8_array, &scalar_bytes);
  if (scalar == NULL || scalar_bytes != POINT_BYTES) {
    return sepal_fail(env, "x25519: scalar must be a Uint8Array of 32 bytes");
  }
  const uint8_t *points = sepal_typed_array(env, argv[1], napi_uint8_array, &point_bytes);
  if (points == NULL || point_bytes % POINT_BYTES != 0) {
    return sepal_fail(env, "x25519: points must be a Uint8Array of 32-byte u-coordinates");
  }
  uint8_t *out = sepal_typed_array(env, argv[2], napi_uint8_array, &out_bytes);
  if (out == NULL || out_bytes != point_bytes) {
    return sepal_fail(env, "x25519: out must be a Uint8Array as long as points");
  }
  double small_order = -1;
  for (size_t i = 0; i < point_bytes / POINT_BYTES; i++) {
    const size_t at = POINT_BYTES * i;
    if (openssl_x25519(out + at, scalar, points + at) != 1 && small_order < 0) {
      small_order = (double)i;
    }
  }
  napi_value result;
  return napi_create_double(env, small_order, &result) == napi_ok ? result : NULL;
}

bool sepal_register_x25519(napi_env env, napi_value exports) {
  /* Every worker thread that loads the addon registers it; the lookup runs once. */
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, resolve_once);
  return openssl_x25519 == NULL || sepal_export(env, exports, "x25519", x25519);
}
