// bf16 GEMM driver: op(B) is rounded to bf16 and packed once (in parallel) into k-pair panels, then
// C is handed out in row chunks, each packing its own rows of op(A) and running the AVX512_BF16
// micro-kernel (gemm_avx512bf16.cc). Every C entry is computed the same way whatever the chunking,
// so results do not depend on the thread count. Without a bf16 kernel this is the fp32 gemm.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "dispatch.h"
#include "gemm.h"
#include "pool.h"

namespace wn {
namespace {

// Grow-only 64-byte-aligned scratch of 32-bit words (bf16 pairs), one per thread.
struct WordScratch {
  unsigned* p = nullptr;
  size_t cap = 0;
  ~WordScratch() { std::free(p); }
  unsigned* get(size_t n) {
    if (n > cap) {
      std::free(p);
      size_t bytes = ((n * sizeof(unsigned)) + 63) / 64 * 64;
      p = static_cast<unsigned*>(std::aligned_alloc(64, bytes));
      cap = p == nullptr ? 0 : n;
    }
    return p;
  }
};
thread_local WordScratch t_bf16_a;
thread_local WordScratch t_bf16_b;

long pad_to(long x, long to) { return (x + to - 1) / to * to; }

// Panels of op(A)[i0 .. i0+mc, p0 .. p0+kc): panel of row ir at out + ir·kq.
void pack_a(const Bf16GemmKernel& K, const float* a, long lda, bool ta, long i0, long mc, long p0, long kc,
            unsigned* out) {
  const long kq = (kc + 1) / 2;
  for (long ir = 0; ir < mc; ir += K.mr) {
    const int rows = static_cast<int>(std::min<long>(K.mr, mc - ir));
    if (ta)
      K.pack_strided(a + p0 * lda + i0 + ir, lda, rows, kc, out + ir * kq, K.mr);
    else
      K.pack_contig(a + (i0 + ir) * lda + p0, lda, rows, kc, out + ir * kq, K.mr);
  }
}

// One nr-wide panel of op(B)[p0 .. p0+kc, j0 .. j0+cols).
void pack_b_panel(const Bf16GemmKernel& K, const float* b, long ldb, bool tb, long p0, long kc, long j0, int cols,
                  unsigned* out) {
  if (tb)
    K.pack_contig(b + j0 * ldb + p0, ldb, cols, kc, out, K.nr);
  else
    K.pack_strided(b + p0 * ldb + j0, ldb, cols, kc, out, K.nr);
}

// Rows [i0, i1) of C from the packed op(B): block pc's panels start at bp + (pc/2)·n_pad.
void rows_bf16(const Bf16GemmKernel& K, bool ta, long n, long k, float alpha, const float* a, long lda,
               const unsigned* bp, long n_pad, float beta, float* c, long ldc, long i0, long i1) {
  const long kq_max = (std::min<long>(K.kc, k) + 1) / 2;
  unsigned* abuf = t_bf16_a.get(static_cast<size_t>(K.mc) * kq_max);
  if (abuf == nullptr) std::abort();
  for (long pc = 0; pc < k; pc += K.kc) {
    const long kc = std::min<long>(K.kc, k - pc), kq = (kc + 1) / 2;
    const float bet = pc == 0 ? beta : 1.0f;
    const unsigned* bpc = bp + (pc / 2) * n_pad;
    for (long ic = i0; ic < i1; ic += K.mc) {
      const long mc = std::min<long>(K.mc, i1 - ic);
      pack_a(K, a, lda, ta, ic, mc, pc, kc, abuf);
      for (long jr = 0; jr < n; jr += K.nr) {
        const int nv = static_cast<int>(std::min<long>(K.nr, n - jr));
        float* cc = c + ic * ldc + jr;
        for (long ir = 0; ir < mc; ir += K.mr) {
          const int mv = static_cast<int>(std::min<long>(K.mr, mc - ir));
          K.micro(kq, abuf + ir * kq, bpc + jr * kq, cc + ir * ldc, ldc, alpha, bet, mv, nv);
        }
      }
    }
  }
}

}  // namespace

void gemm_bf16(bool ta, bool tb, long m, long n, long k, float alpha, const float* a, long lda, const float* b,
               long ldb, float beta, float* c, long ldc) {
  const Bf16GemmKernel* kp = gemm_bf16_kernel();
  if (kp == nullptr || m <= 0 || n <= 0 || k <= 0 || alpha == 0.0f) {
    gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);  // also the trivial cases
    return;
  }
  const Bf16GemmKernel& K = *kp;
  const long n_pad = pad_to(n, K.nr), n_pc = (k + K.kc - 1) / K.kc, n_jr = n_pad / K.nr;
  unsigned* bp = t_bf16_b.get(static_cast<size_t>(n_pad) * ((k + 1) / 2));
  if (bp == nullptr) std::abort();
  const bool parallel = static_cast<double>(m) * n * k >= 5e5 && pool_threads() > 1;
  auto pack_task = [&](int t) {
    const long pc = (t / n_jr) * K.kc, jr = (t % n_jr) * K.nr;
    const long kc = std::min<long>(K.kc, k - pc), kq = (kc + 1) / 2;
    pack_b_panel(K, b, ldb, tb, pc, kc, jr, static_cast<int>(std::min<long>(K.nr, n - jr)),
                 bp + (pc / 2) * n_pad + jr * kq);
  };
  const int pack_tasks = static_cast<int>(n_pc * n_jr);
  if (parallel) {
    parallel_for(pack_tasks, [&](int t) { pack_task(t); });
  } else {
    for (int t = 0; t < pack_tasks; t++) pack_task(t);
  }
  const long tiles = (m + K.mr - 1) / K.mr;
  const long chunks = parallel ? std::max<long>(1, std::min<long>(4L * pool_threads(), tiles / 2)) : 1;
  auto row_task = [&](int t) {
    const long i0 = tiles * t / chunks * K.mr, i1 = std::min(m, tiles * (t + 1) / chunks * K.mr);
    rows_bf16(K, ta, n, k, alpha, a, lda, bp, n_pad, beta, c, ldc, i0, i1);
  };
  if (chunks > 1) {
    parallel_for(static_cast<int>(chunks), [&](int t) { row_task(t); });
  } else {
    row_task(0);
  }
}

}  // namespace wn
