/*
 * RFC 9380's hash_to_ristretto255 for batches of ids, on the system's libsodium, the same C
 * library that src/vertical/psi/sodium-group.ts runs compiled to WebAssembly. The PSI hashes
 * every id with it before blinding (src/vertical/psi/group.ts).
 *
 * libsodium is opened at load time (dlopen), not linked: the addon builds without its headers and
 * loads where it is missing, and these functions are then simply not exported (callers keep the
 * WebAssembly build). Debian ships it as libsodium23. The prototypes below are libsodium's
 * documented, stable API.
 *
 * ristrettoHash(messages: Uint8Array, ends: Uint32Array, dst: Uint8Array, out: Uint8Array)
 *   Message i is messages[ends[i-1] .. ends[i]) (from 0 for i = 0). For each, out receives the
 *   encoding of hash_to_ristretto255(message, dst) (RFC 9380 Appendix B: expand_message_xmd with
 *   SHA-512 to 64 bytes, then RFC 9496's one-way map).
 * expandMessageXmdSha512(message: Uint8Array, dst: Uint8Array, out: Uint8Array)
 *   RFC 9380 §5.3.1's expand_message_xmd with SHA-512 into out (1 to 255 · 64 bytes), dst not
 *   empty: the expansion the hash above runs, exported so that it can be checked against the
 *   RFC's vectors.
 *
 * expand_message_xmd runs here, over libsodium's SHA-512, rather than in JavaScript: at 100,000
 * ids the per-call overhead of hashing from JavaScript cost more than the one-way map itself.
 * Each id's expansion is wiped here.
 */
#include "addon.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define ELEMENT_BYTES 32
#define UNIFORM_BYTES 64
#define SHA512_BYTES 64
/* expand_message_xmd's limits (RFC 9380 §5.3.1): ell = ceil(len / 64) at most 255. */
#define MAX_EXPANSION (255 * SHA512_BYTES)
#define MAX_DST 255

/* libsodium's crypto_hash_sha512_state (crypto_hash_sha512.h); its size is checked at load. */
typedef struct {
  uint64_t state[8];
  uint64_t count[2];
  uint8_t buf[128];
} sha512_state;

static struct {
  int (*from_hash)(unsigned char *p, const unsigned char *r);
  void (*memzero)(void *pnt, size_t len);
  int (*sha512_init)(sha512_state *state);
  int (*sha512_update)(sha512_state *state, const unsigned char *in, unsigned long long inlen);
  int (*sha512_final)(sha512_state *state, unsigned char *out);
  size_t (*sha512_statebytes)(void);
} sodium;

/* Sonames of libsodium 1.0.18 (Debian 12) and of later releases, then the development link. */
static const char *const LIBRARIES[] = {"libsodium.so.23", "libsodium.so.26", "libsodium.so"};

static bool open_sodium(void) {
  for (size_t i = 0; i < sizeof LIBRARIES / sizeof *LIBRARIES; i++) {
    void *library = dlopen(LIBRARIES[i], RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) continue;
    int (*init)(void) = (int (*)(void))dlsym(library, "sodium_init");
    sodium.from_hash = dlsym(library, "crypto_core_ristretto255_from_hash");
    sodium.memzero = dlsym(library, "sodium_memzero");
    sodium.sha512_init = dlsym(library, "crypto_hash_sha512_init");
    sodium.sha512_update = dlsym(library, "crypto_hash_sha512_update");
    sodium.sha512_final = dlsym(library, "crypto_hash_sha512_final");
    sodium.sha512_statebytes = dlsym(library, "crypto_hash_sha512_statebytes");
    /* sodium_init: 0 on first initialization, 1 when already done, -1 on failure. */
    if (init != NULL && sodium.from_hash != NULL && sodium.memzero != NULL &&
        sodium.sha512_init != NULL &&
        sodium.sha512_update != NULL && sodium.sha512_final != NULL &&
        sodium.sha512_statebytes != NULL && sodium.sha512_statebytes() == sizeof(sha512_state) &&
        init() >= 0) {
      return true;
    }
    dlclose(library);
  }
  return false;
}

/*
 * The domain separation tag as expand_message_xmd uses it: DST' = DST || I2OSP(len(DST), 1), a
 * DST longer than 255 bytes first replaced by SHA-512("H2C-OVERSIZE-DST-" || DST) (§5.3.3). The
 * DST is not empty (§3.1's MUST; the callers refuse an empty one).
 */
struct tag {
  unsigned char bytes[MAX_DST + 1];
  size_t length;
};

static void tag_of(const unsigned char *dst, size_t dst_length, struct tag *tag) {
  if (dst_length > MAX_DST) {
    static const char OVERSIZE[] = "H2C-OVERSIZE-DST-";
    sha512_state state;
    sodium.sha512_init(&state);
    sodium.sha512_update(&state, (const unsigned char *)OVERSIZE, sizeof OVERSIZE - 1);
    sodium.sha512_update(&state, dst, dst_length);
    sodium.sha512_final(&state, tag->bytes);
    dst_length = SHA512_BYTES;
  } else {
    memcpy(tag->bytes, dst, dst_length);
  }
  tag->bytes[dst_length] = (unsigned char)dst_length;
  tag->length = dst_length + 1;
}

/*
 * What every expansion under one DST shares, computed once per call: the tag, and SHA-512 after
 * Z_pad, the block of zeros every expansion's b_0 begins with (copied for each message).
 */
struct expander {
  struct tag tag;
  sha512_state after_zero_block;
};

static void expander_of(const unsigned char *dst, size_t dst_length, struct expander *expander) {
  static const unsigned char Z_PAD[128] = {0};
  tag_of(dst, dst_length, &expander->tag);
  sodium.sha512_init(&expander->after_zero_block);
  sodium.sha512_update(&expander->after_zero_block, Z_PAD, sizeof Z_PAD);
}

/*
 * RFC 9380 §5.3.1 expand_message_xmd with SHA-512 (b_in_bytes 64, s_in_bytes 128) into out[0 ..
 * length), 1 ≤ length ≤ MAX_EXPANSION.
 */
static void expand_message_xmd(const struct expander *expander, const unsigned char *message,
                               size_t message_length, unsigned char *out, size_t length) {
  const struct tag *tag = &expander->tag;
  const unsigned char length_and_zero[3] = {(unsigned char)(length >> 8),
                                            (unsigned char)length, 0};
  unsigned char b0[SHA512_BYTES], block[SHA512_BYTES];
  sha512_state state = expander->after_zero_block;
  /* b_0 = H(Z_pad || msg || I2OSP(len_in_bytes, 2) || I2OSP(0, 1) || DST') */
  sodium.sha512_update(&state, message, message_length);
  sodium.sha512_update(&state, length_and_zero, sizeof length_and_zero);
  sodium.sha512_update(&state, tag->bytes, tag->length);
  sodium.sha512_final(&state, b0);
  /* b_1 = H(b_0 || I2OSP(1, 1) || DST'), b_i = H(strxor(b_0, b_(i-1)) || I2OSP(i, 1) || DST') */
  memcpy(block, b0, SHA512_BYTES);
  for (size_t i = 1, done = 0; done < length; i++) {
    if (i > 1) {
      for (size_t j = 0; j < SHA512_BYTES; j++) block[j] ^= b0[j];
    }
    const unsigned char counter = (unsigned char)i;
    sodium.sha512_init(&state);
    sodium.sha512_update(&state, block, SHA512_BYTES);
    sodium.sha512_update(&state, &counter, 1);
    sodium.sha512_update(&state, tag->bytes, tag->length);
    sodium.sha512_final(&state, block);
    const size_t take = length - done < SHA512_BYTES ? length - done : SHA512_BYTES;
    memcpy(out + done, block, take);
    done += take;
  }
  sodium.memzero(b0, sizeof b0);
  sodium.memzero(block, sizeof block);
  sodium.memzero(&state, sizeof state);
}

static unsigned char *bytes_of(napi_env env, napi_value value, size_t *length) {
  return sepal_typed_array(env, value, napi_uint8_array, length);
}

/* Throws `refused` unless it is NULL; whether it was NULL. */
static bool accepted(napi_env env, const char *refused) {
  if (refused != NULL) sepal_fail(env, refused);
  return refused == NULL;
}

static const char ENDS_REFUSED[] =
    "ristrettoHash: ends must be a Uint32Array of nondecreasing offsets into messages";

static napi_value hash(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!sepal_arguments(env, info, 4, argv,
                       "ristrettoHash(messages, ends, dst, out) takes 4 arguments")) {
    return NULL;
  }
  size_t message_bytes, count, dst_bytes, out_bytes;
  const unsigned char *messages = bytes_of(env, argv[0], &message_bytes);
  const uint32_t *ends = sepal_typed_array(env, argv[1], napi_uint32_array, &count);
  const unsigned char *dst = bytes_of(env, argv[2], &dst_bytes);
  unsigned char *out = bytes_of(env, argv[3], &out_bytes);
  if (!accepted(env, messages == NULL ? "ristrettoHash: messages must be a Uint8Array"
                     : ends == NULL   ? ENDS_REFUSED
                     : dst == NULL || dst_bytes == 0
                         ? "ristrettoHash: dst must be a non-empty Uint8Array"
                     : out == NULL || out_bytes != count * ELEMENT_BYTES
                         ? "ristrettoHash: out must be a Uint8Array of 32 bytes per message"
                         : NULL)) {
    return NULL;
  }
  struct expander expander;
  expander_of(dst, dst_bytes, &expander);
  unsigned char uniform[UNIFORM_BYTES];
  bool refused = false;
  for (size_t i = 0, start = 0; i < count; i++) {
    /* Each offset is read once and checked as it is used (the array could be shared memory). */
    const size_t end = ends[i];
    if (end < start || end > message_bytes) {
      refused = true;
      break;
    }
    expand_message_xmd(&expander, messages + start, end - start, uniform, UNIFORM_BYTES);
    sodium.from_hash(out + ELEMENT_BYTES * i, uniform);
    start = end;
  }
  sodium.memzero(uniform, sizeof uniform);
  return refused ? sepal_fail(env, ENDS_REFUSED) : NULL;
}

static napi_value expand(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!sepal_arguments(env, info, 3, argv,
                       "expandMessageXmdSha512(message, dst, out) takes 3 arguments")) {
    return NULL;
  }
  size_t message_bytes, dst_bytes, out_bytes;
  const unsigned char *message = bytes_of(env, argv[0], &message_bytes);
  const unsigned char *dst = bytes_of(env, argv[1], &dst_bytes);
  unsigned char *out = bytes_of(env, argv[2], &out_bytes);
  if (!accepted(env, message == NULL ? "expandMessageXmdSha512: message must be a Uint8Array"
                     : dst == NULL || dst_bytes == 0
                         ? "expandMessageXmdSha512: dst must be a non-empty Uint8Array"
                     : out == NULL || out_bytes == 0 || out_bytes > MAX_EXPANSION
                         ? "expandMessageXmdSha512: out must be a Uint8Array of 1 to 16320 bytes"
                         : NULL)) {
    return NULL;
  }
  struct expander expander;
  expander_of(dst, dst_bytes, &expander);
  expand_message_xmd(&expander, message, message_bytes, out, out_bytes);
  return NULL;
}

static bool opened;
static void open_once(void) { opened = open_sodium(); }

bool sepal_register_sodium_ristretto(napi_env env, napi_value exports) {
  /* Every worker thread that loads the addon registers it; libsodium is opened once. */
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, open_once);
  return !opened || (sepal_export(env, exports, "ristrettoHash", hash) &&
                     sepal_export(env, exports, "expandMessageXmdSha512", expand));
}
