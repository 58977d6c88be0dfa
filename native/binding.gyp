{
  "targets": [
    {
      "target_name": "sepal_native",
      "sources": ["addon.c", "secagg_kernels.c", "x25519.c", "sodium_ristretto.c", "field25519.c"],
      "cflags": ["-O3", "-Wall", "-Wextra", "-ffp-contract=off"],
      "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-Wall", "-Wextra", "-ffp-contract=off"] },
      "libraries": ["-ldl", "-lpthread"]
    }
  ]
}
