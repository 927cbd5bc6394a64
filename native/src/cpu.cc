// Chooses the SIMD level once at load from what the CPU reports (__builtin_cpu_supports), so one
// build runs everywhere: AVX-512 kernels on CPUs that have them, AVX2+FMA or portable code elsewhere.
#include <cstdlib>
#include <cstring>

#include "dispatch.h"

#ifdef WATCHNEXT_X86
#include <cpuid.h>
#endif

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

// AVX512_BF16 is not in every compiler's __builtin_cpu_supports list, so read cpuid directly:
// leaf 7 subleaf 1 EAX bit 5, plus OSXSAVE and XCR0 bits 1, 2 (SSE, AVX) and 5-7 (opmask, ZMM).
bool detect_bf16() {
#ifdef WATCHNEXT_X86
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d) || (c & (1u << 27)) == 0) return false;
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  if ((lo & 0xE6u) != 0xE6u) return false;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || a < 1) return false;
  __get_cpuid_count(7, 1, &a, &b, &c, &d);
  return (a & (1u << 5)) != 0;
#else
  return false;
#endif
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
const bool has_bf16 = best == kAvx512 && detect_bf16();

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

bool cpu_has_avx512_bf16() { return has_bf16; }

const Bf16GemmKernel* gemm_bf16_kernel() {
#ifdef WATCHNEXT_X86
  if (has_bf16 && level == kAvx512) return &gemm_avx512bf16;
#endif
  return nullptr;
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
