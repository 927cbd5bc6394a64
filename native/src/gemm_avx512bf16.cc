// AVX512_BF16 GEMM pieces: packing that rounds fp32 operands to bf16 (round-to-nearest-even,
// vcvtne2ps2bf16) into k-pairs, and a 12×32 micro-kernel that multiplies them with vdpbf16ps,
// accumulating in fp32. Compiled with -mavx512bf16; only reached when cpu.cc has seen the CPU
// report AVX512_BF16 with AVX-512 state enabled by the OS (gemm_bf16_kernel() is null otherwise).
// No standard-library templates here (see gemm_avx512.cc for why).
#include <immintrin.h>

#include "dispatch.h"

namespace wn {
namespace {

constexpr int MR = 12;
constexpr int NR = 32;

// 16 fp32 → 16 bf16 (RNE), as the low half of a 512-bit register.
inline __m256i to_bf16(__m512 x) { return (__m256i)_mm512_cvtneps_pbh(x); }

// dst[q·width + r] = (bf16 src[r·ld + 2q], bf16 src[r·ld + 2q + 1]) for r < rows, q < ⌈kc/2⌉: the
// pair of consecutive k entries of one row, as one 32-bit word (low half = even k). Rows up to
// width and the odd tail's second half are zero.
void pack_contig(const float* src, long ld, int rows, long kc, unsigned* dst, int width) {
  const long kq = (kc + 1) / 2;
  for (int r = 0; r < rows; r++) {
    const float* s = src + r * ld;
    long p = 0;
    alignas(64) unsigned tmp[16];
    for (; p + 32 <= kc; p += 32) {
      // cvtne2ps: the second operand fills the low 16 bf16, so lo/hi keep k order.
      const __m512i v = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(s + p + 16), _mm512_loadu_ps(s + p));
      _mm512_store_si512(tmp, v);
      unsigned* d = dst + (p / 2) * width + r;
      for (int t = 0; t < 16; t++) d[t * width] = tmp[t];
    }
    if (p < kc) {
      const long rest = kc - p;
      const __mmask16 m0 = rest >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << rest) - 1);
      const __mmask16 m1 = rest > 16 ? static_cast<__mmask16>((1u << (rest - 16)) - 1) : static_cast<__mmask16>(0);
      const __m512i v = (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(m1, s + p + 16),
                                                     _mm512_maskz_loadu_ps(m0, s + p));
      _mm512_store_si512(tmp, v);
      unsigned* d = dst + (p / 2) * width + r;
      for (long t = 0; t < kq - p / 2; t++) d[t * width] = tmp[t];
    }
  }
  for (int r = rows; r < width; r++)
    for (long q = 0; q < kq; q++) dst[q * width + r] = 0u;
}

// dst[q·width + r] = (bf16 src[2q·ld + r], bf16 src[(2q+1)·ld + r]): the same pairs when k is the
// strided dimension (two consecutive rows of the stored matrix, interleaved).
void pack_strided(const float* src, long ld, int rows, long kc, unsigned* dst, int width) {
  const long kq = (kc + 1) / 2;
  // Interleave 16 bf16 of row 2q (low half) with 16 of row 2q+1 (high half): 0,16,1,17,…
  const __m512i perm = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22,
                                        6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (long q = 0; q < kq; q++) {
    const float* s0 = src + 2 * q * ld;
    const bool has1 = 2 * q + 1 < kc;
    unsigned* d = dst + q * width;
    for (int r = 0; r < width; r += 16) {
      const int cols = rows - r >= 16 ? 16 : (rows - r > 0 ? rows - r : 0);
      const __mmask16 m = cols >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << cols) - 1);
      const __m512 x0 = _mm512_maskz_loadu_ps(m, s0 + r);
      const __m512 x1 = has1 ? _mm512_maskz_loadu_ps(m, s0 + ld + r) : _mm512_setzero_ps();
      const __m512i v = _mm512_permutexvar_epi16(perm, (__m512i)_mm512_cvtne2ps_pbh(x1, x0));
      if (r + 16 <= width) {
        _mm512_storeu_si512(d + r, v);
      } else {
        const __mmask16 w = static_cast<__mmask16>((1u << (width - r)) - 1);
        _mm512_mask_storeu_epi32(d + r, w, v);
      }
    }
  }
}

// C[mv×nv] = alpha·Σ_q dot(Ap[q], Bp[q]) + beta·C over kq pairs; R rows (R ≤ MR).
template <int R>
void micro_rows(long kq, const unsigned* ap, const unsigned* bp, float* c, long ldc, float alpha, float beta,
                int mv, int nv) {
  __m512 acc[R][2];
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) {
    acc[r][0] = _mm512_setzero_ps();
    acc[r][1] = _mm512_setzero_ps();
  }
  for (long q = 0; q < kq; q++) {
    _mm_prefetch(reinterpret_cast<const char*>(bp + 8 * NR), _MM_HINT_T0);
    const __m512bh b0 = (__m512bh)_mm512_load_si512(bp);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(bp + 16);
#pragma GCC unroll 12
    for (int r = 0; r < R; r++) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32(static_cast<int>(ap[r]));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
    }
    ap += MR;
    bp += NR;
  }
  const __mmask16 m0 = nv >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << nv) - 1);
  const __mmask16 m1 = nv >= 32  ? static_cast<__mmask16>(0xFFFF)
                       : nv > 16 ? static_cast<__mmask16>((1u << (nv - 16)) - 1)
                                 : static_cast<__mmask16>(0);
  const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 12
  for (int r = 0; r < R; r++) {
    if (r >= mv) break;
    float* cr = c + r * ldc;
    __m512 x0 = _mm512_mul_ps(va, acc[r][0]), x1 = _mm512_mul_ps(va, acc[r][1]);
    if (beta != 0.0f) {
      x0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), x0);
      x1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), x1);
    }
    _mm512_mask_storeu_ps(cr, m0, x0);
    _mm512_mask_storeu_ps(cr + 16, m1, x1);
  }
}

void micro(long kq, const unsigned* ap, const unsigned* bp, float* c, long ldc, float alpha, float beta, int mv,
           int nv) {
  switch (mv) {
    case 1: return micro_rows<1>(kq, ap, bp, c, ldc, alpha, beta, mv, nv);
    case 2: return micro_rows<2>(kq, ap, bp, c, ldc, alpha, beta, mv, nv);
    case 3: return micro_rows<3>(kq, ap, bp, c, ldc, alpha, beta, mv, nv);
    case 4: return micro_rows<4>(kq, ap, bp, c, ldc, alpha, beta, mv, nv);
    case 5: return micro_rows<5>(kq, ap, bp, c, ldc, alpha, beta, mv, nv);
    case 6: return micro_rows<6>(kq, ap, bp, c, ldc, alpha, beta, mv, nv);
    case 7: return micro_rows<7>(kq, ap, bp, c, ldc, alpha, beta, mv, nv);
    case 8: return micro_rows<8>(kq, ap, bp, c, ldc, alpha, beta, mv, nv);
    case 9: return micro_rows<9>(kq, ap, bp, c, ldc, alpha, beta, mv, nv);
    case 10: return micro_rows<10>(kq, ap, bp, c, ldc, alpha, beta, mv, nv);
    case 11: return micro_rows<11>(kq, ap, bp, c, ldc, alpha, beta, mv, nv);
    default: return micro_rows<MR>(kq, ap, bp, c, ldc, alpha, beta, mv, nv);
  }
}

}  // namespace

extern const Bf16GemmKernel gemm_avx512bf16 = {"avx512bf16-12x32", MR, NR, 512, 144, pack_contig, pack_strided, micro};

}  // namespace wn
