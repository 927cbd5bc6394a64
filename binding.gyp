# The engine's native addon. Target-specific SIMD code lives in its own translation units, each
# built as a static library with its own -m flags; the base files carry no -m flags, and the
# addon picks the widest kernels the CPU supports at load time (never -march=native, so a build
# copied to another x86-64 machine cannot die with SIGILL).
{
  "target_defaults": {
    "cflags_cc": ["-std=c++17", "-O3", "-fPIC", "-fno-math-errno", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-psabi"],
    "cflags_cc!": ["-fno-exceptions", "-O2", "-Os"],
    "cflags!": ["-fno-exceptions", "-O2", "-Os"],
    "include_dirs": ["native/src"],
  },
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "watchnext_avx512",
          "type": "static_library",
          "sources": ["native/src/gemm_avx512.cc", "native/src/vec_avx512.cc", "native/src/sgns_avx512.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx2", "-mfma"],
        },
        {
          "target_name": "watchnext_avx512bf16",
          "type": "static_library",
          "sources": ["native/src/gemm_avx512bf16.cc"],
          "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512bf16", "-mavx2", "-mfma"],
        },
        {
          "target_name": "watchnext_avx2",
          "type": "static_library",
          "sources": ["native/src/gemm_avx2.cc", "native/src/vec_avx2.cc", "native/src/sgns_avx2.cc"],
          "cflags_cc": ["-mavx2", "-mfma"],
        },
      ],
    }],
  ],
  "targets": [
    {
      "target_name": "watchnext_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/cpu.cc",
        "native/src/pool.cc",
        "native/src/gemm.cc",
        "native/src/gemm_bf16.cc",
        "native/src/gemm_portable.cc",
        "native/src/vec_portable.cc",
        "native/src/elementwise.cc",
        "native/src/losses.cc",
        "native/src/embedding.cc",
        "native/src/topk.cc",
        "native/src/spd_inverse.cc",
        "native/src/transformer.cc",
        "native/src/sgns.cc",
        "native/src/sgns_portable.cc",
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "ldflags": ["-pthread"],
      "cflags_cc": ["-pthread"],
      "conditions": [
        ["target_arch=='x64'", {
          "defines": ["WATCHNEXT_X86"],
          "dependencies": ["watchnext_avx512", "watchnext_avx512bf16", "watchnext_avx2"],
        }],
      ],
    },
  ],
}
