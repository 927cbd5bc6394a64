// GEMM driver (Goto/BLIS loop order): for each nc-wide column block and kc-deep slice, pack B into
// nr-wide panels, for each mc-tall row block pack A (scaled by alpha) into mr-tall panels, then run
// the micro-kernel over the tiles. In parallel, the operand every thread needs (A when C's columns
// are split, B when its rows are) is packed once by all threads together, then C is handed out in
// chunks, about four per thread, each packing its own part of the other operand.
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

// Columns [j0, j1) of C from an A packed once for every task: per kc-deep slice starting at pc,
// m_pad×kc floats at ap + pc·m_pad holding mr-row panels (row i's panel at i·kc).
void columns_from_packed_a(const GemmKernel& K, bool tb, long m, long k, const float* ap, long m_pad,
                           const float* b, long ldb, float beta, float* c, long ldc, long j0, long j1) {
  const int mr = K.mr, nr = K.nr;
  const long nc = j1 - j0;
  float* bbuf = t_pack_b.get(static_cast<size_t>((nc + nr - 1) / nr * nr) * std::min<long>(K.kc, k));
  if (bbuf == nullptr) std::abort();
  for (long pc = 0; pc < k; pc += K.kc) {
    const long kc = std::min<long>(K.kc, k - pc);
    pack_b(b, ldb, tb, pc, kc, j0, nc, nr, bbuf);
    const float bet = pc == 0 ? beta : 1.0f;
    const float* apc = ap + pc * m_pad;
    for (long ic = 0; ic < m; ic += K.mc) {
      const long mc = std::min<long>(K.mc, m - ic);
      for (long jr = 0; jr < nc; jr += nr) {
        const int nv = static_cast<int>(std::min<long>(nr, nc - jr));
        float* cc = c + ic * ldc + j0 + jr;
        for (long ir = 0; ir < mc; ir += mr) {
          const int mv = static_cast<int>(std::min<long>(mr, mc - ir));
          K.micro(kc, apc + (ic + ir) * kc, bbuf + jr * kc, cc + ir * ldc, ldc, bet, mv, nv);
        }
      }
    }
  }
}

// Rows [i0, i1) of C from a B packed once for every task: per slice pc, n_pad×kc floats at
// bp + pc·n_pad holding nr-column panels (column j's panel at j·kc).
void rows_from_packed_b(const GemmKernel& K, bool ta, long n, long k, float alpha, const float* a, long lda,
                        const float* bp, long n_pad, float beta, float* c, long ldc, long i0, long i1) {
  const int mr = K.mr, nr = K.nr;
  float* abuf = t_pack_a.get(static_cast<size_t>(K.mc) * std::min<long>(K.kc, k));
  if (abuf == nullptr) std::abort();
  for (long pc = 0; pc < k; pc += K.kc) {
    const long kc = std::min<long>(K.kc, k - pc);
    const float bet = pc == 0 ? beta : 1.0f;
    const float* bpc = bp + pc * n_pad;
    for (long ic = i0; ic < i1; ic += K.mc) {
      const long mc = std::min<long>(K.mc, i1 - ic);
      pack_a(a, lda, ta, ic, mc, pc, kc, alpha, mr, abuf);
      for (long jr = 0; jr < n; jr += nr) {
        const int nv = static_cast<int>(std::min<long>(nr, n - jr));
        float* cc = c + ic * ldc + jr;
        for (long ir = 0; ir < mc; ir += mr) {
          const int mv = static_cast<int>(std::min<long>(mr, mc - ir));
          K.micro(kc, abuf + ir * kc, bpc + jr * kc, cc + ir * ldc, ldc, bet, mv, nv);
        }
      }
    }
  }
}

// How many chunks to cut `tiles` micro-tiles into: a multiple of the thread count (about four per
// thread, at least two tiles each) so that, with tiles spread evenly over the chunks, no thread is
// left with a short last chunk while the other still has a full one.
long balanced_chunks(long tiles, int threads) {
  long chunks = std::min<long>(4L * threads, tiles / 2);
  if (chunks >= threads) chunks -= chunks % threads;
  return std::max<long>(chunks, 1);
}

// The operand packed once per parallel product (owned by the calling thread, read by the tasks).
thread_local Scratch t_shared;

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

namespace {

thread_local Scratch t_trans;

long padded(long x, long to) { return (x + to - 1) / to * to; }

// C = beta·C + Tᵀ for the m×n C and the n×m T (row-major, leading dimension m), in 32×32 blocks.
void add_transposed(long m, long n, const float* t, float beta, float* c, long ldc) {
  for (long i0 = 0; i0 < m; i0 += 32) {
    const long i1 = std::min(m, i0 + 32);
    for (long j0 = 0; j0 < n; j0 += 32) {
      const long j1 = std::min(n, j0 + 32);
      for (long i = i0; i < i1; i++) {
        float* ci = c + i * ldc;
        if (beta == 0.0f) {
          for (long j = j0; j < j1; j++) ci[j] = t[j * m + i];
        } else {
          for (long j = j0; j < j1; j++) ci[j] = beta * ci[j] + t[j * m + i];
        }
      }
    }
  }
}

void gemm_parallel(const GemmKernel& K, bool ta, bool tb, long m, long n, long k, float alpha, const float* a,
                   long lda, const float* b, long ldb, float beta, float* c, long ldc);

}  // namespace

void gemm(bool ta, bool tb, long m, long n, long k, float alpha, const float* a, long lda, const float* b,
          long ldb, float beta, float* c, long ldc) {
  if (trivial(m, n, k, alpha, beta, c, ldc)) return;
  const GemmKernel& K = gemm_kernel();
  // A narrow C (n just past a multiple of nr, e.g. 97 columns in 4×32) wastes up to a quarter of the
  // micro-kernel's work on padded columns (edge rows cost nothing extra); Cᵀ = op(B)ᵀ·op(A)ᵀ
  // puts n on the rows instead. Chosen by shape only, so results do not depend on the thread count.
  const double work = static_cast<double>(m) * padded(n, K.nr);
  const double work_t = static_cast<double>(n) * padded(m, K.nr);
  if (work > 1.1 * work_t && static_cast<double>(m) * n * k >= 5e5) {
    float* t = t_trans.get(static_cast<size_t>(m) * n);
    if (t == nullptr) std::abort();
    gemm_parallel(K, !tb, !ta, n, m, k, alpha, b, ldb, a, lda, 0.0f, t, m);
    add_transposed(m, n, t, beta, c, ldc);
    return;
  }
  gemm_parallel(K, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

namespace {

void gemm_parallel(const GemmKernel& K, bool ta, bool tb, long m, long n, long k, float alpha, const float* a,
                   long lda, const float* b, long ldb, float beta, float* c, long ldc) {
  const int threads = pool_threads();
  const long mr = K.mr, nr = K.nr;
  const bool split_n = n >= m ? n >= 2 * nr : m < 2 * mr;
  // Below ~1 MFLOP waking the workers costs more than it saves.
  if (static_cast<double>(m) * n * k < 5e5 || threads < 2 || (split_n ? n < 2 * nr : m < 2 * mr)) {
    gemm_block(K, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Two phases: pack the operand every task needs (in parallel), then hand out chunks of C about
  // four per thread, so a thread that shares its core with another process simply takes fewer
  // chunks instead of holding everyone up. Each C entry is computed the same way whatever the
  // chunking, so results do not depend on the thread count.
  const long n_pc = (k + K.kc - 1) / K.kc;
  if (split_n) {
    const long m_pad = (m + mr - 1) / mr * mr, n_ic = (m + K.mc - 1) / K.mc;
    float* ap = t_shared.get(static_cast<size_t>(m_pad) * k);
    if (ap == nullptr) std::abort();
    parallel_for(static_cast<int>(n_ic * n_pc), [&](int t) {
      const long ic = (t % n_ic) * K.mc, pc = (t / n_ic) * K.kc;
      const long mc = std::min<long>(K.mc, m - ic), kc = std::min<long>(K.kc, k - pc);
      pack_a(a, lda, ta, ic, mc, pc, kc, alpha, K.mr, ap + pc * m_pad + ic * kc);
    });
    const long tiles = (n + nr - 1) / nr, chunks = balanced_chunks(tiles, threads);
    parallel_for(static_cast<int>(chunks), [&](int t) {
      const long j0 = tiles * t / chunks * nr, j1 = std::min(n, tiles * (t + 1) / chunks * nr);
      columns_from_packed_a(K, tb, m, k, ap, m_pad, b, ldb, beta, c, ldc, j0, j1);
    });
  } else {
    const long n_pad = (n + nr - 1) / nr * nr;
    float* bp = t_shared.get(static_cast<size_t>(n_pad) * k);
    if (bp == nullptr) std::abort();
    parallel_for(static_cast<int>(n_pc), [&](int t) {
      const long pc = t * K.kc, kc = std::min<long>(K.kc, k - pc);
      pack_b(b, ldb, tb, pc, kc, 0, n, K.nr, bp + pc * n_pad);
    });
    const long tiles = (m + mr - 1) / mr, chunks = balanced_chunks(tiles, threads);
    parallel_for(static_cast<int>(chunks), [&](int t) {
      const long i0 = tiles * t / chunks * mr, i1 = std::min(m, tiles * (t + 1) / chunks * mr);
      rows_from_packed_b(K, ta, n, k, alpha, a, lda, bp, n_pad, beta, c, ldc, i0, i1);
    });
  }
}

}  // namespace

}  // namespace wn
