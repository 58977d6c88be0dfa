/*
 * Sepal's native addon (Node-API, so one build serves every Node version of the same ABI): the
 * module initializer and the argument helpers of the kernel files. See secagg_kernels.c,
 * x25519.c, sodium_ristretto.c and field25519.c for what it computes and why.
 */
#include "addon.h"

#include <math.h>

/* A zero-length typed array may have no backing store: hand out this instead of NULL (aligned
 * for any element type, though never dereferenced). */
static const _Alignas(8) unsigned char EMPTY[8];

napi_value sepal_fail(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_SEPAL_NATIVE_ARGUMENT", message);
  return NULL;
}

bool sepal_arguments(napi_env env, napi_callback_info info, size_t count, napi_value *argv,
                     const char *usage) {
  size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != count) {
    sepal_fail(env, usage);
    return false;
  }
  return true;
}

void *sepal_typed_array(napi_env env, napi_value value, napi_typedarray_type type,
                        size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return NULL;
  napi_typedarray_type actual;
  void *data = NULL;
  if (napi_get_typedarray_info(env, value, &actual, length, &data, NULL, NULL) != napi_ok ||
      actual != type) {
    return NULL;
  }
  return data != NULL ? data : (void *)EMPTY;
}

bool sepal_whole_number(napi_env env, napi_value value, double min, double max, double *out) {
  double number;
  if (napi_get_value_double(env, value, &number) != napi_ok) return false;
  if (!(number >= min && number <= max) || number != floor(number)) return false;
  *out = number;
  return true;
}

bool sepal_export(napi_env env, napi_value exports, const char *name, napi_callback callback) {
  napi_value function;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &function) == napi_ok &&
         napi_set_named_property(env, exports, name, function) == napi_ok;
}

NAPI_MODULE_INIT() {
  if (!sepal_register_secagg_kernels(env, exports) || !sepal_register_x25519(env, exports) ||
      !sepal_register_sodium_ristretto(env, exports) || !sepal_register_field25519(env, exports)) {
    return NULL;
  }
  return exports;
}
