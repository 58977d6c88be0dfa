/*
 * What the kernel files of Sepal's addon share: argument helpers and one registration function
 * per file, called by addon.c's module initializer.
 */
#ifndef SEPAL_ADDON_H
#define SEPAL_ADDON_H

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>

/* Throws a TypeError with code ERR_SEPAL_NATIVE_ARGUMENT; returns NULL for the caller to return. */
napi_value sepal_fail(napi_env env, const char *message);

/* Reads exactly `count` arguments into argv; otherwise throws `usage` (via sepal_fail), false. */
bool sepal_arguments(napi_env env, napi_callback_info info, size_t count, napi_value *argv,
                     const char *usage);

/*
 * The data of the typed array at `value` if it has `type` (its element count in *length); NULL
 * otherwise. A zero-length view yields a non-NULL pointer that must not be dereferenced.
 */
void *sepal_typed_array(napi_env env, napi_value value, napi_typedarray_type type,
                        size_t *length);

/* Whether `value` is a number that is a whole number in [min, max]; stores it in *out. */
bool sepal_whole_number(napi_env env, napi_value value, double min, double max, double *out);

/* Adds `callback` to `exports` as `name`; false when N-API refuses. */
bool sepal_export(napi_env env, napi_value exports, const char *name, napi_callback callback);

/* Each kernel file exports its functions; false when N-API refuses. */
bool sepal_register_secagg_kernels(napi_env env, napi_value exports);
bool sepal_register_x25519(napi_env env, napi_value exports);
bool sepal_register_sodium_ristretto(napi_env env, napi_value exports);
bool sepal_register_field25519(napi_env env, napi_value exports);

#endif
