/*
 * Sepal's native kernels for secure aggregation: the two inner loops a server spends its time in,
 * adding AES-256-CTR mask streams to a vector and adding masked vectors into the running sum, both
 * modulo 2^32. The cipher is OpenSSL's, the library node:crypto itself runs on (Node exports its
 * symbols to addons); nothing here implements a cipher.
 *
 * Why it exists: node:crypto returns every keystream chunk in a freshly allocated buffer. A
 * server removing 1,725 streams of 100k words draws 690 MB of them, and the fresh memory costs
 * as much as the AES: node:crypto delivers 1.2-1.6 GB/s against OpenSSL's 3.5 here. applyMasks
 * encrypts zeros into one small scratch block that stays in cache and adds it to the vector at
 * once: no allocation, no copy, no garbage.
 *
 * applyMasks(target: Uint32Array, keys: Uint8Array, signs: Int8Array, firstBlock: number)
 *   keys holds n 32-byte AES-256 keys back to back; signs[i] is 1 to add stream i, -1 to
 *   subtract it; every stream starts at 128-bit big-endian counter block `firstBlock` and
 *   its bytes are read as little-endian words. Same words as src/crypto/mask.ts's JavaScript
 *   path, which the test suite checks.
 * addWords(target: Uint32Array, source: Uint32Array)
 *   target[i] += source[i] for every i; the two have the same length.
 *
 * Invariants: arguments are checked before anything is written; key schedules and the scratch
 * block are wiped before returning (EVP_CIPHER_CTX_free cleanses the context).
 */
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "keystream bytes are read as host words: little-endian hosts only (JavaScript path elsewhere)"
#endif

#define KEY_BYTES 32
/* 16 KiB: the scratch block and the matching window of the target both stay in L1/L2. */
#define CHUNK_WORDS 4096
#define CHUNK_BYTES (CHUNK_WORDS * 4)

static const unsigned char ZEROS[CHUNK_BYTES];

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_SEPAL_NATIVE_ARGUMENT", message);
  return NULL;
}

/* The typed array at `value` if it has `type`; NULL otherwise. */
static void *typed_array(napi_env env, napi_value value, napi_typedarray_type type,
                         size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return NULL;
  napi_typedarray_type actual;
  void *data = NULL;
  if (napi_get_typedarray_info(env, value, &actual, length, &data, NULL, NULL) != napi_ok ||
      actual != type) {
    return NULL;
  }
  /* A zero-length view may have no backing memory; hand back a non-NULL marker. */
  return data != NULL ? data : (void *)ZEROS;
}

static void free_contexts(EVP_CIPHER_CTX **contexts, size_t count) {
  for (size_t i = 0; i < count; i++) EVP_CIPHER_CTX_free(contexts[i]);
  free(contexts);
}

static napi_value apply_masks(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4) {
    return fail(env, "applyMasks(target, keys, signs, firstBlock) takes 4 arguments");
  }
  size_t words, key_bytes, count;
  uint32_t *target = typed_array(env, argv[0], napi_uint32_array, &words);
  if (target == NULL) return fail(env, "applyMasks: target must be a Uint32Array");
  const unsigned char *keys = typed_array(env, argv[1], napi_uint8_array, &key_bytes);
  if (keys == NULL || key_bytes % KEY_BYTES != 0) {
    return fail(env, "applyMasks: keys must be a Uint8Array of 32-byte keys");
  }
  const int8_t *signs = typed_array(env, argv[2], napi_int8_array, &count);
  if (signs == NULL || count != key_bytes / KEY_BYTES) {
    return fail(env, "applyMasks: signs must be an Int8Array with one entry per key");
  }
  double first_block;
  if (napi_get_value_double(env, argv[3], &first_block) != napi_ok || first_block < 0 ||
      first_block > 9007199254740991.0 || first_block != (double)(uint64_t)first_block) {
    return fail(env, "applyMasks: firstBlock must be a whole number in [0, 2^53)");
  }
  for (size_t i = 0; i < count; i++) {
    if (signs[i] != 1 && signs[i] != -1) {
      return fail(env, "applyMasks: each sign must be 1 (add) or -1 (subtract)");
    }
  }

  unsigned char iv[16] = {0};
  uint64_t block = (uint64_t)first_block;
  for (int b = 0; b < 8; b++) iv[15 - b] = (unsigned char)(block >> (8 * b));

  EVP_CIPHER_CTX **contexts = calloc(count ? count : 1, sizeof *contexts);
  if (contexts == NULL) {
    napi_throw_error(env, "ERR_SEPAL_NATIVE_MEMORY", "applyMasks: out of memory");
    return NULL;
  }
  for (size_t i = 0; i < count; i++) {
    contexts[i] = EVP_CIPHER_CTX_new();
    if (contexts[i] == NULL ||
        EVP_EncryptInit_ex(contexts[i], EVP_aes_256_ctr(), NULL, keys + KEY_BYTES * i, iv) != 1) {
      free_contexts(contexts, i + 1);
      napi_throw_error(env, "ERR_SEPAL_NATIVE_OPENSSL", "applyMasks: OpenSSL refused AES-256-CTR");
      return NULL;
    }
  }

  uint32_t scratch[CHUNK_WORDS];
  int ok = 1;
  for (size_t start = 0; ok && start < words; start += CHUNK_WORDS) {
    const size_t n = words - start < CHUNK_WORDS ? words - start : CHUNK_WORDS;
    uint32_t *window = target + start;
    for (size_t i = 0; i < count; i++) {
      int written = 0;
      if (EVP_EncryptUpdate(contexts[i], (unsigned char *)scratch, &written, ZEROS,
                            (int)(4 * n)) != 1 ||
          written != (int)(4 * n)) {
        ok = 0;
        break;
      }
      if (signs[i] == 1) {
        for (size_t j = 0; j < n; j++) window[j] += scratch[j];
      } else {
        for (size_t j = 0; j < n; j++) window[j] -= scratch[j];
      }
    }
  }
  OPENSSL_cleanse(scratch, sizeof scratch);
  free_contexts(contexts, count);
  if (!ok) {
    /* Unreachable with AES-CTR short of memory corruption; the target is then unreliable. */
    napi_throw_error(env, "ERR_SEPAL_NATIVE_OPENSSL", "applyMasks: AES-256-CTR failed midway");
  }
  return NULL;
}

static napi_value add_words(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) {
    return fail(env, "addWords(target, source) takes 2 arguments");
  }
  size_t words, source_words;
  uint32_t *target = typed_array(env, argv[0], napi_uint32_array, &words);
  const uint32_t *source = typed_array(env, argv[1], napi_uint32_array, &source_words);
  if (target == NULL || source == NULL || words != source_words) {
    return fail(env, "addWords: target and source must be Uint32Arrays of the same length");
  }
  for (size_t i = 0; i < words; i++) target[i] += source[i];
  return NULL;
}

static int export_function(napi_env env, napi_value exports, const char *name,
                           napi_callback callback) {
  napi_value function;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &function) == napi_ok &&
         napi_set_named_property(env, exports, name, function) == napi_ok;
}

NAPI_MODULE_INIT() {
  if (!export_function(env, exports, "applyMasks", apply_masks) ||
      !export_function(env, exports, "addWords", add_words)) {
    return NULL;
  }
  return exports;
}
