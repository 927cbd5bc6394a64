// Chooses the SIMD level once at load from what the CPU reports (__builtin_cpu_supports), so one
// build runs everywhere: AVX-512 kernels on CPUs that have them, AVX2+FMA or portable code elsewhere.
#include <cstdlib>
#include <cstring>

#include "dispatch.h"

namespace wn {
namespace {

enum Level { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

int detect() {
#ifdef WATCHNEXT_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    return kAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return kAvx2;
#endif
  return kPortable;
}

const char* const kNames[] = {"portable", "avx2", "avx512"};

int parse(const char* name) {
  for (int i = 0; i < 3; i++)
    if (std::strcmp(name, kNames[i]) == 0) return i;
  return -1;
}

const int best = detect();
int initial() {
  const char* env = std::getenv("WATCHNEXT_SIMD");
  if (env != nullptr && *env != 0) {
    int l = parse(env);
    if (l >= 0 && l <= best) return l;
  }
  return best;
}
int level = initial();

}  // namespace

const GemmKernel& gemm_kernel() {
#ifdef WATCHNEXT_X86
  if (level == kAvx512) return gemm_avx512;
  if (level == kAvx2) return gemm_avx2;
#endif
  return gemm_portable;
}

const VecOps& vec_ops() {
#ifdef WATCHNEXT_X86
  if (level == kAvx512) return vec_avx512;
  if (level == kAvx2) return vec_avx2;
#endif
  return vec_portable;
}

const char* best_simd_level() { return kNames[best]; }
const char* simd_level() { return kNames[level]; }

bool set_simd_level(const char* name) {
  int l = parse(name);
  if (l < 0 || l > best) return false;
  level = l;
  return true;
}

}  // namespace wn
