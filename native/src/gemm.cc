// GEMM driver (Goto/BLIS loop order): for each nc-wide column block and kc-deep slice, pack B into
// nr-wide panels, for each mc-tall row block pack A (scaled by alpha) into mr-tall panels, then run
// the micro-kernel over the tiles. Threads split C into disjoint column (or row) blocks, each with
// its own packing buffers, so they never synchronise inside a product.
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "dispatch.h"
#include "pool.h"

#if defined(__SSE2__)
#include <emmintrin.h>  // baseline on x86-64: no runtime check needed
#endif

namespace wn {
namespace {

// Grow-only 64-byte-aligned scratch, one per thread: packing never allocates in steady state.
struct Scratch {
  float* p = nullptr;
  size_t cap = 0;
  ~Scratch() { std::free(p); }
  float* get(size_t n) {
    if (n > cap) {
      std::free(p);
      size_t bytes = ((n * sizeof(float)) + 63) / 64 * 64;
      p = static_cast<float*>(std::aligned_alloc(64, bytes));
      cap = p == nullptr ? 0 : n;
    }
    return p;
  }
};
thread_local Scratch t_pack_a;
thread_local Scratch t_pack_b;

// dst[p·ld_dst + r] = alpha·src[r·ld_src + p] for r < rows, p < kc: the transposing copy both
// packers need when the packed dimension is the strided one. 4×4 SSE transposes on x86-64.
void transpose_pack(const float* src, long ld_src, int rows, long kc, float* dst, int ld_dst, float alpha) {
  int r = 0;
#if defined(__SSE2__)
  const __m128 va = _mm_set1_ps(alpha);
  for (; r + 4 <= rows; r += 4) {
    const float* s0 = src + r * ld_src;
    long p = 0;
    for (; p + 4 <= kc; p += 4) {
      __m128 x0 = _mm_loadu_ps(s0 + p), x1 = _mm_loadu_ps(s0 + ld_src + p);
      __m128 x2 = _mm_loadu_ps(s0 + 2 * ld_src + p), x3 = _mm_loadu_ps(s0 + 3 * ld_src + p);
      _MM_TRANSPOSE4_PS(x0, x1, x2, x3);
      _mm_storeu_ps(dst + p * ld_dst + r, _mm_mul_ps(va, x0));
      _mm_storeu_ps(dst + (p + 1) * ld_dst + r, _mm_mul_ps(va, x1));
      _mm_storeu_ps(dst + (p + 2) * ld_dst + r, _mm_mul_ps(va, x2));
      _mm_storeu_ps(dst + (p + 3) * ld_dst + r, _mm_mul_ps(va, x3));
    }
    for (; p < kc; p++)
      for (int i = 0; i < 4; i++) dst[p * ld_dst + r + i] = alpha * s0[i * ld_src + p];
  }
#endif
  for (; r < rows; r++) {
    const float* sr = src + r * ld_src;
    for (long p = 0; p < kc; p++) dst[p * ld_dst + r] = alpha * sr[p];
  }
}

// Packs op(A)[i0 .. i0+mc, p0 .. p0+kc) · alpha into mr-row panels: panel[p·mr + r]; rows past mc
// are zero so edge tiles need no special case in the micro-kernel's inner loop.
void pack_a(const float* a, long lda, bool ta, long i0, long mc, long p0, long kc, float alpha, int mr,
            float* out) {
  if (ta) {
    // op(A) = Aᵀ: row p of the stored A holds column p of op(A); read each row once, left to right.
    for (long p = 0; p < kc; p++) {
      const float* src = a + (p0 + p) * lda + i0;
      for (long ir = 0; ir < mc; ir += mr) {
        const int rows = static_cast<int>(std::min<long>(mr, mc - ir));
        float* d = out + ir * kc + p * mr;
        for (int r = 0; r < rows; r++) d[r] = alpha * src[ir + r];
        for (int r = rows; r < mr; r++) d[r] = 0.0f;
      }
    }
    return;
  }
  for (long ir = 0; ir < mc; ir += mr) {
    const int rows = static_cast<int>(std::min<long>(mr, mc - ir));
    float* dst = out + ir * kc;
    transpose_pack(a + (i0 + ir) * lda + p0, lda, rows, kc, dst, mr, alpha);
    for (int r = rows; r < mr; r++)
      for (long p = 0; p < kc; p++) dst[p * mr + r] = 0.0f;
  }
}

// Packs op(B)[p0 .. p0+kc, j0 .. j0+nc) into nr-column panels: panel[p·nr + c], zero-padded.
void pack_b(const float* b, long ldb, bool tb, long p0, long kc, long j0, long nc, int nr, float* out) {
  for (long jr = 0; jr < nc; jr += nr) {
    const int cols = static_cast<int>(std::min<long>(nr, nc - jr));
    float* dst = out + jr * kc;
    if (!tb) {
      for (long p = 0; p < kc; p++) {
        const float* src = b + (p0 + p) * ldb + j0 + jr;
        float* d = dst + p * nr;
        std::memcpy(d, src, sizeof(float) * cols);
        for (int c = cols; c < nr; c++) d[c] = 0.0f;
      }
    } else {
      transpose_pack(b + (j0 + jr) * ldb + p0, ldb, cols, kc, dst, nr, 1.0f);
      for (int c = cols; c < nr; c++)
        for (long p = 0; p < kc; p++) dst[p * nr + c] = 0.0f;
    }
  }
}

void scale_c(long m, long n, float beta, float* c, long ldc) {
  if (beta == 1.0f) return;
  for (long i = 0; i < m; i++) {
    float* ci = c + i * ldc;
    if (beta == 0.0f) {
      std::memset(ci, 0, sizeof(float) * n);
    } else {
      for (long j = 0; j < n; j++) ci[j] *= beta;
    }
  }
}

void gemm_block(const GemmKernel& K, bool ta, bool tb, long m, long n, long k, float alpha, const float* a,
                long lda, const float* b, long ldb, float beta, float* c, long ldc) {
  const int mr = K.mr, nr = K.nr;
  const long kc_max = std::min<long>(K.kc, k);
  const long mc_max = std::min<long>(K.mc, (m + mr - 1) / mr * mr);
  const long nc_max = std::min<long>(K.nc, (n + nr - 1) / nr * nr);
  float* abuf = t_pack_a.get(static_cast<size_t>(mc_max) * kc_max);
  float* bbuf = t_pack_b.get(static_cast<size_t>(nc_max) * kc_max);
  if (abuf == nullptr || bbuf == nullptr) std::abort();
  for (long jc = 0; jc < n; jc += K.nc) {
    const long nc = std::min<long>(K.nc, n - jc);
    for (long pc = 0; pc < k; pc += K.kc) {
      const long kc = std::min<long>(K.kc, k - pc);
      pack_b(b, ldb, tb, pc, kc, jc, nc, nr, bbuf);
      const float bet = pc == 0 ? beta : 1.0f;
      for (long ic = 0; ic < m; ic += K.mc) {
        const long mc = std::min<long>(K.mc, m - ic);
        pack_a(a, lda, ta, ic, mc, pc, kc, alpha, mr, abuf);
        for (long jr = 0; jr < nc; jr += nr) {
          const int nv = static_cast<int>(std::min<long>(nr, nc - jr));
          const float* bp = bbuf + jr * kc;
          float* cc = c + ic * ldc + jc + jr;
          for (long ir = 0; ir < mc; ir += mr) {
            const int mv = static_cast<int>(std::min<long>(mr, mc - ir));
            K.micro(kc, abuf + ir * kc, bp, cc + ir * ldc, ldc, bet, mv, nv);
          }
        }
      }
    }
  }
}

bool trivial(long m, long n, long k, float alpha, float beta, float* c, long ldc) {
  if (m <= 0 || n <= 0) return true;
  if (k <= 0 || alpha == 0.0f) {
    scale_c(m, n, beta, c, ldc);
    return true;
  }
  return false;
}

}  // namespace

void gemm_serial(bool ta, bool tb, long m, long n, long k, float alpha, const float* a, long lda, const float* b,
                 long ldb, float beta, float* c, long ldc) {
  if (trivial(m, n, k, alpha, beta, c, ldc)) return;
  gemm_block(gemm_kernel(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm(bool ta, bool tb, long m, long n, long k, float alpha, const float* a, long lda, const float* b,
          long ldb, float beta, float* c, long ldc) {
  if (trivial(m, n, k, alpha, beta, c, ldc)) return;
  const GemmKernel& K = gemm_kernel();
  const int threads = pool_threads();
  // Below ~1 MFLOP waking the workers costs more than it saves.
  const double macs = static_cast<double>(m) * n * k;
  const long nblocks = (n + K.nr - 1) / K.nr, mblocks = (m + K.mr - 1) / K.mr;
  const bool split_n = n >= m ? nblocks >= 2 : mblocks < 2;
  const long units = split_n ? nblocks : mblocks;
  int tasks = static_cast<int>(std::min<long>(threads, units));
  if (macs < 5e5 || tasks < 2) {
    gemm_block(K, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  parallel_for(tasks, [&](int t) {
    const long u0 = units * t / tasks, u1 = units * (t + 1) / tasks;
    if (split_n) {
      const long j0 = u0 * K.nr, j1 = std::min<long>(n, u1 * K.nr);
      if (j1 <= j0) return;
      const float* bj = tb ? b + j0 * ldb : b + j0;
      gemm_block(K, ta, tb, m, j1 - j0, k, alpha, a, lda, bj, ldb, beta, c + j0, ldc);
    } else {
      const long i0 = u0 * K.mr, i1 = std::min<long>(m, u1 * K.mr);
      if (i1 <= i0) return;
      const float* ai = ta ? a + i0 : a + i0 * lda;
      gemm_block(K, ta, tb, i1 - i0, n, k, alpha, ai, lda, b, ldb, beta, c + i0 * ldc, ldc);
    }
  });
}

}  // namespace wn
