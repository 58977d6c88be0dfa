{
  "targets": [
    {
      "target_name": "sepal_native",
      "sources": ["secagg_kernels.c"],
      "cflags": ["-O3", "-Wall", "-Wextra"]
    }
  ]
}
