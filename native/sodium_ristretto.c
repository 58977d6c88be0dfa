/*
 * The PSI group's batch operations on ristretto255 (RFC 9496) through the system's libsodium,
 * the same C library that src/vertical/psi/sodium-group.ts runs compiled to WebAssembly: natively
 * its scalar multiplication takes about half the time.
 *
 * libsodium is opened at load time (dlopen), not linked: the addon builds without its headers and
 * loads where it is missing, and these functions are then simply not exported (callers keep the
 * WebAssembly build). Debian ships it as libsodium23. The prototypes below are libsodium's
 * documented, stable API.
 *
 * ristrettoHashMultiply(scalar: Uint8Array, uniform: Uint8Array, out: Uint8Array)
 *   For each 64-byte string of `uniform` (expand_message_xmd output), out receives
 *   scalar · one-way-map(string) (hash_to_ristretto255 without its expansion). Returns the index
 *   of the first product that is the identity, or -1.
 * ristrettoMultiply(scalar: Uint8Array, points: Uint8Array, out: Uint8Array)
 *   scalar · P for each 32-byte encoding P. Returns the index of the first point refused
 *   (not a canonical encoding, or a product that is the identity), or -1.
 * ristrettoIsValidPoint(point: Uint8Array): boolean
 *
 * The scalar is read in place; the mapped point of each id is wiped here. libsodium's own stack
 * copies of the scalar are its business (it does not wipe all of them).
 */
#include "addon.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>

#define SCALAR_BYTES 32
#define ELEMENT_BYTES 32
#define UNIFORM_BYTES 64

static struct {
  int (*from_hash)(unsigned char *p, const unsigned char *r);
  int (*scalarmult)(unsigned char *q, const unsigned char *n, const unsigned char *p);
  int (*is_valid_point)(const unsigned char *p);
  void (*memzero)(void *pnt, size_t len);
} sodium;

/* Sonames of libsodium 1.0.18 (Debian 12) and of later releases, then the development link. */
static const char *const LIBRARIES[] = {"libsodium.so.23", "libsodium.so.26", "libsodium.so"};

static bool open_sodium(void) {
  for (size_t i = 0; i < sizeof LIBRARIES / sizeof *LIBRARIES; i++) {
    void *library = dlopen(LIBRARIES[i], RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) continue;
    int (*init)(void) = (int (*)(void))dlsym(library, "sodium_init");
    sodium.from_hash = dlsym(library, "crypto_core_ristretto255_from_hash");
    sodium.scalarmult = dlsym(library, "crypto_scalarmult_ristretto255");
    sodium.is_valid_point = dlsym(library, "crypto_core_ristretto255_is_valid_point");
    sodium.memzero = dlsym(library, "sodium_memzero");
    /* sodium_init: 0 on first initialization, 1 when already done, -1 on failure. */
    if (init != NULL && sodium.from_hash != NULL && sodium.scalarmult != NULL &&
        sodium.is_valid_point != NULL && sodium.memzero != NULL && init() >= 0) {
      return true;
    }
    dlclose(library);
  }
  return false;
}

/* What a batch function's argument errors say: its name and the item its input holds. */
struct batch_messages {
  const char *usage, *scalar, *input, *out;
};

/* A batch call's arguments: the scalar, `count` input items, and 32 bytes of output per item. */
struct batch {
  const unsigned char *scalar, *input;
  unsigned char *out;
  size_t count;
};

/* Reads (scalar, input, out) with input holding `stride`-byte items into *batch. */
static bool batch_arguments(napi_env env, napi_callback_info info, size_t stride,
                            const struct batch_messages *messages, struct batch *batch) {
  napi_value argv[3];
  size_t scalar_bytes, input_bytes, out_bytes;
  if (!sepal_arguments(env, info, 3, argv, messages->usage)) return false;
  batch->scalar = sepal_typed_array(env, argv[0], napi_uint8_array, &scalar_bytes);
  batch->input = sepal_typed_array(env, argv[1], napi_uint8_array, &input_bytes);
  batch->out = sepal_typed_array(env, argv[2], napi_uint8_array, &out_bytes);
  const char *refused =
      batch->scalar == NULL || scalar_bytes != SCALAR_BYTES    ? messages->scalar
      : batch->input == NULL || input_bytes % stride != 0      ? messages->input
      : batch->out == NULL || out_bytes != input_bytes / stride * ELEMENT_BYTES ? messages->out
                                                                                : NULL;
  if (refused != NULL) {
    sepal_fail(env, refused);
    return false;
  }
  batch->count = input_bytes / stride;
  return true;
}

static const struct batch_messages HASH_MULTIPLY_MESSAGES = {
    "ristrettoHashMultiply(scalar, uniform, out) takes 3 arguments",
    "ristrettoHashMultiply: scalar must be a Uint8Array of 32 bytes",
    "ristrettoHashMultiply: uniform must be a Uint8Array of 64-byte strings",
    "ristrettoHashMultiply: out must be a Uint8Array of 32 bytes per uniform string",
};

static const struct batch_messages MULTIPLY_MESSAGES = {
    "ristrettoMultiply(scalar, points, out) takes 3 arguments",
    "ristrettoMultiply: scalar must be a Uint8Array of 32 bytes",
    "ristrettoMultiply: points must be a Uint8Array of 32-byte encodings",
    "ristrettoMultiply: out must be a Uint8Array as long as points",
};

static napi_value index_or_minus_one(napi_env env, double index) {
  napi_value result;
  return napi_create_double(env, index, &result) == napi_ok ? result : NULL;
}

static napi_value hash_multiply(napi_env env, napi_callback_info info) {
  struct batch b;
  if (!batch_arguments(env, info, UNIFORM_BYTES, &HASH_MULTIPLY_MESSAGES, &b)) return NULL;
  unsigned char hashed[ELEMENT_BYTES];
  double identity = -1;
  for (size_t i = 0; i < b.count; i++) {
    sodium.from_hash(hashed, b.input + UNIFORM_BYTES * i);
    if (sodium.scalarmult(b.out + ELEMENT_BYTES * i, b.scalar, hashed) != 0 && identity < 0) {
      identity = (double)i;
    }
  }
  sodium.memzero(hashed, sizeof hashed);
  return index_or_minus_one(env, identity);
}

static napi_value multiply(napi_env env, napi_callback_info info) {
  struct batch b;
  if (!batch_arguments(env, info, ELEMENT_BYTES, &MULTIPLY_MESSAGES, &b)) return NULL;
  for (size_t i = 0; i < b.count; i++) {
    const size_t at = ELEMENT_BYTES * i;
    if (sodium.scalarmult(b.out + at, b.scalar, b.input + at) != 0) {
      return index_or_minus_one(env, (double)i);
    }
  }
  return index_or_minus_one(env, -1);
}

static napi_value is_valid_point(napi_env env, napi_callback_info info) {
  size_t bytes;
  napi_value argv[1];
  if (!sepal_arguments(env, info, 1, argv, "ristrettoIsValidPoint(point) takes 1 argument")) {
    return NULL;
  }
  const unsigned char *point = sepal_typed_array(env, argv[0], napi_uint8_array, &bytes);
  if (point == NULL || bytes != ELEMENT_BYTES) {
    return sepal_fail(env, "ristrettoIsValidPoint: point must be a Uint8Array of 32 bytes");
  }
  napi_value result;
  return napi_get_boolean(env, sodium.is_valid_point(point) == 1, &result) == napi_ok ? result
                                                                                      : NULL;
}

static bool opened;
static void open_once(void) { opened = open_sodium(); }

bool sepal_register_sodium_ristretto(napi_env env, napi_value exports) {
  /* Every worker thread that loads the addon registers it; libsodium is opened once. */
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, open_once);
  return !opened || (sepal_export(env, exports, "ristrettoHashMultiply", hash_multiply) &&
                     sepal_export(env, exports, "ristrettoMultiply", multiply) &&
                     sepal_export(env, exports, "ristrettoIsValidPoint", is_valid_point));
}
