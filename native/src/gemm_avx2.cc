// AVX2+FMA GEMM micro-kernel: a 6×16 tile of C in 12 ymm accumulators. Compiled with -mavx2 -mfma;
// only reached when the CPU reports both. No standard-library templates (see gemm_avx512.cc).
#include <immintrin.h>

#include "dispatch.h"

namespace wn {
namespace {

constexpr int MR = 6;
constexpr int NR = 16;

void micro(long kc, const float* ap, const float* bp, float* c, long ldc, float beta, int mv, int nv) {
  __m256 acc[MR][2];
#pragma GCC unroll 6
  for (int r = 0; r < MR; r++) {
    acc[r][0] = _mm256_setzero_ps();
    acc[r][1] = _mm256_setzero_ps();
  }
  for (long p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_load_ps(bp);
    const __m256 b1 = _mm256_load_ps(bp + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
      const __m256 av = _mm256_broadcast_ss(ap + r);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
    ap += MR;
    bp += NR;
  }
  if (mv == MR && nv == NR) {
    const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 6
    for (int r = 0; r < MR; r++) {
      float* cr = c + r * ldc;
      __m256 x0 = acc[r][0], x1 = acc[r][1];
      if (beta != 0.0f) {
        x0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), x0);
        x1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), x1);
      }
      _mm256_storeu_ps(cr, x0);
      _mm256_storeu_ps(cr + 8, x1);
    }
    return;
  }
  alignas(32) float tile[MR * NR];
  for (int r = 0; r < MR; r++) {
    _mm256_store_ps(tile + r * NR, acc[r][0]);
    _mm256_store_ps(tile + r * NR + 8, acc[r][1]);
  }
  for (int r = 0; r < mv; r++) {
    float* cr = c + r * ldc;
    for (int j = 0; j < nv; j++) cr[j] = beta == 0.0f ? tile[r * NR + j] : tile[r * NR + j] + beta * cr[j];
  }
}

}  // namespace

extern const GemmKernel gemm_avx2 = {"avx2-6x16", MR, NR, 256, 120, 4096, micro};

}  // namespace wn
