// AVX-512 GEMM micro-kernel: a 12×32 tile of C held in 24 zmm accumulators, one broadcast of A and
// two loads of B per row step. Compiled with -mavx512*; only reached when the CPU reports AVX-512.
// No standard-library templates here: an inline function instantiated in this file could be
// merged by the linker with the baseline copy and run AVX-512 code on a CPU without it.
#include <immintrin.h>

#include "dispatch.h"

namespace wn {
namespace {

constexpr int MR = 12;
constexpr int NR = 32;

// R rows of the tile (R ≤ MR): the edge tile of an m that is not a multiple of MR computes only
// its real rows. Every C entry is the same chain of FMAs whatever R is.
template <int R>
void micro_rows(long kc, const float* ap, const float* bp, float* c, long ldc, float beta, int mv, int nv) {
  __m512 acc[R][2];
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) {
    acc[r][0] = _mm512_setzero_ps();
    acc[r][1] = _mm512_setzero_ps();
  }
  for (long p = 0; p < kc; p++) {
    _mm_prefetch(reinterpret_cast<const char*>(bp + 8 * NR), _MM_HINT_T0);
    const __m512 b0 = _mm512_load_ps(bp);
    const __m512 b1 = _mm512_load_ps(bp + 16);
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) {
      const __m512 av = _mm512_set1_ps(ap[r]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
    ap += MR;
    bp += NR;
  }
  const __mmask16 m0 = nv >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << nv) - 1);
  const __mmask16 m1 = nv >= 32  ? static_cast<__mmask16>(0xFFFF)
                       : nv > 16 ? static_cast<__mmask16>((1u << (nv - 16)) - 1)
                                 : static_cast<__mmask16>(0);
  const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) {
    if (r >= mv) break;
    float* cr = c + r * ldc;
    __m512 x0 = acc[r][0], x1 = acc[r][1];
    if (beta != 0.0f) {
      x0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), x0);
      x1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), x1);
    }
    _mm512_mask_storeu_ps(cr, m0, x0);
    _mm512_mask_storeu_ps(cr + 16, m1, x1);
  }
}

void micro(long kc, const float* ap, const float* bp, float* c, long ldc, float beta, int mv, int nv) {
  switch (mv) {
    case 1: return micro_rows<1>(kc, ap, bp, c, ldc, beta, mv, nv);
    case 2: return micro_rows<2>(kc, ap, bp, c, ldc, beta, mv, nv);
    case 3: return micro_rows<3>(kc, ap, bp, c, ldc, beta, mv, nv);
    case 4: return micro_rows<4>(kc, ap, bp, c, ldc, beta, mv, nv);
    case 5: return micro_rows<5>(kc, ap, bp, c, ldc, beta, mv, nv);
    case 6: return micro_rows<6>(kc, ap, bp, c, ldc, beta, mv, nv);
    case 7: return micro_rows<7>(kc, ap, bp, c, ldc, beta, mv, nv);
    case 8: return micro_rows<8>(kc, ap, bp, c, ldc, beta, mv, nv);
    case 9: return micro_rows<9>(kc, ap, bp, c, ldc, beta, mv, nv);
    case 10: return micro_rows<10>(kc, ap, bp, c, ldc, beta, mv, nv);
    case 11: return micro_rows<11>(kc, ap, bp, c, ldc, beta, mv, nv);
    default: return micro_rows<MR>(kc, ap, bp, c, ldc, beta, mv, nv);
  }
}

}  // namespace

extern const GemmKernel gemm_avx512 = {"avx512-12x32", MR, NR, 512, 144, 4096, micro};

}  // namespace wn
