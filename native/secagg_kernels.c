/*
 * Sepal's native kernels for secure aggregation: the two inner loops a server spends its time in,
 * adding AES-256-CTR mask streams to a vector and adding masked vectors into the running sum, both
 * modulo 2^32, and the loop in which a client quantizes and weighs its update. The cipher is OpenSSL's, the library node:crypto itself runs on (Node exports its
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
 * quantizeWeighted(values, out, clippingRange, scale, top, weight)
 *   a client's one pass over its update (see the function below).
 *
 * Invariants: arguments are checked before anything is written; key schedules and the scratch
 * block are wiped before returning (EVP_CIPHER_CTX_free cleanses the context).
 */
#include "addon.h"

#include <math.h>
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

static void free_contexts(EVP_CIPHER_CTX **contexts, size_t count) {
  for (size_t i = 0; i < count; i++) EVP_CIPHER_CTX_free(contexts[i]);
  free(contexts);
}

static napi_value apply_masks(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!sepal_arguments(env, info, 4, argv,
                       "applyMasks(target, keys, signs, firstBlock) takes 4 arguments")) {
    return NULL;
  }
  size_t words, key_bytes, count;
  uint32_t *target = sepal_typed_array(env, argv[0], napi_uint32_array, &words);
  if (target == NULL) return sepal_fail(env, "applyMasks: target must be a Uint32Array");
  const unsigned char *keys = sepal_typed_array(env, argv[1], napi_uint8_array, &key_bytes);
  if (keys == NULL || key_bytes % KEY_BYTES != 0) {
    return sepal_fail(env, "applyMasks: keys must be a Uint8Array of 32-byte keys");
  }
  const int8_t *signs = sepal_typed_array(env, argv[2], napi_int8_array, &count);
  if (signs == NULL || count != key_bytes / KEY_BYTES) {
    return sepal_fail(env, "applyMasks: signs must be an Int8Array with one entry per key");
  }
  double first_block;
  if (!sepal_whole_number(env, argv[3], 0, 9007199254740991.0, &first_block)) {
    return sepal_fail(env, "applyMasks: firstBlock must be a whole number in [0, 2^53)");
  }
  for (size_t i = 0; i < count; i++) {
    if (signs[i] != 1 && signs[i] != -1) {
      return sepal_fail(env, "applyMasks: each sign must be 1 (add) or -1 (subtract)");
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
  napi_value argv[2];
  if (!sepal_arguments(env, info, 2, argv, "addWords(target, source) takes 2 arguments")) {
    return NULL;
  }
  size_t words, source_words;
  uint32_t *target = sepal_typed_array(env, argv[0], napi_uint32_array, &words);
  const uint32_t *source = sepal_typed_array(env, argv[1], napi_uint32_array, &source_words);
  if (target == NULL || source == NULL || words != source_words) {
    return sepal_fail(env, "addWords: target and source must be Uint32Arrays of the same length");
  }
  for (size_t i = 0; i < words; i++) target[i] += source[i];
  return NULL;
}

/*
 * The stochastic quantizer's loop (src/secagg/quantize.ts, weightedLevels, which states the
 * rounding): on entry out[i] holds entry i's 32-bit coin, on exit weight x level. The same
 * IEEE-754 double operations in the same order as the JavaScript, with contraction into fused
 * multiply-adds off (binding.gyp), so both give the same words (tested).
 *
 * quantizeWeighted(values: Float32Array, out: Uint32Array, clippingRange, scale, top, weight)
 *   returns the index of the first entry that is NaN or infinite, or -1.
 */
static napi_value quantize_weighted(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!sepal_arguments(env, info, 6, argv,
                       "quantizeWeighted(values, out, clippingRange, scale, top, weight) takes 6 "
                       "arguments")) {
    return NULL;
  }
  size_t count, out_count;
  const float *values = sepal_typed_array(env, argv[0], napi_float32_array, &count);
  uint32_t *out = sepal_typed_array(env, argv[1], napi_uint32_array, &out_count);
  if (values == NULL || out == NULL || count != out_count) {
    return sepal_fail(env,
                      "quantizeWeighted: values must be a Float32Array and out a Uint32Array of "
                      "the same length");
  }
  double c, scale, top, weight;
  if (napi_get_value_double(env, argv[2], &c) != napi_ok || !(c > 0 && isfinite(c))) {
    return sepal_fail(env, "quantizeWeighted: clippingRange must be a positive finite number");
  }
  /* Any scale the JavaScript loop accepts, infinity included: the clamp below handles it. */
  if (napi_get_value_double(env, argv[3], &scale) != napi_ok || !(scale >= 0)) {
    return sepal_fail(env, "quantizeWeighted: scale must be a number >= 0");
  }
  if (!sepal_whole_number(env, argv[4], 1, 4294967295.0, &top)) {
    return sepal_fail(env, "quantizeWeighted: top must be a whole number in [1, 2^32)");
  }
  if (!sepal_whole_number(env, argv[5], 0, 4294967295.0, &weight) || weight * top > 4294967295.0) {
    return sepal_fail(env, "quantizeWeighted: weight must be a whole number with weight x top < 2^32");
  }
  const uint32_t top_level = (uint32_t)top;
  const uint32_t factor = (uint32_t)weight;
  double bad = -1;
  for (size_t i = 0; i < count; i++) {
    const double value = values[i];
    if (!isfinite(value)) {
      bad = (double)i;
      break;
    }
    const double clipped = value > c ? c : value < -c ? -c : value;
    /* The sum is >= 0 or NaN (0 x an infinite scale). Below top, truncation is Math.floor and
     * needs no call to libm's floor (baseline x86-64 has no rounding instruction); from top on,
     * and for NaN, the level is top, as `level < top ? level : top` gives in JavaScript. */
    const double sum = (clipped + c) * scale + (double)out[i] * 0x1p-32;
    out[i] = factor * (sum < top ? (uint32_t)sum : top_level);
  }
  napi_value result;
  return napi_create_double(env, bad, &result) == napi_ok ? result : NULL;
}

bool sepal_register_secagg_kernels(napi_env env, napi_value exports) {
  return sepal_export(env, exports, "applyMasks", apply_masks) &&
         sepal_export(env, exports, "addWords", add_words) &&
         sepal_export(env, exports, "quantizeWeighted", quantize_weighted);
}
