// The Transformer kernels (contracts in src/engine/kernels/kernels.ts): layer norm, GELU, the
// counter-based dropout, the residual add, and multi-head causal self-attention with padding masks.
// Row-wise and elementwise loops are the dispatched VecOps; attention runs one task per
// (sequence, head) on the pool, each with its own len×len scratch, and forms Q·Kᵀ, P·V and their
// backward products with the serial GEMM of the active SIMD level. Every output entry is computed
// by one task in a fixed order, so results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

#include "dispatch.h"
#include "gemm.h"
#include "kernels.h"
#include "pool.h"

namespace wn {
namespace {

constexpr long kParallelElems = 1L << 15;

int tasks_for(long work, long max_tasks) {
  if (work < kParallelElems) return 1;
  return static_cast<int>(std::max<long>(1, std::min<long>({pool_threads(), work / (kParallelElems / 2), max_tasks})));
}

unsigned fmix32(unsigned h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

struct DropoutConstants {
  unsigned seed_mix, threshold;
  float scale;
  bool active;
  DropoutConstants(double rate, unsigned seed)
      : seed_mix(fmix32(seed)),
        threshold(static_cast<unsigned>(std::floor(rate * 4294967296.0))),
        scale(static_cast<float>(1.0 / (1.0 - rate))),
        active(rate > 0) {}
};

// Grow-only 64-byte-aligned float scratch, one per thread.
struct Scratch {
  float* p = nullptr;
  size_t cap = 0;
  ~Scratch() { std::free(p); }
  float* get(size_t n) {
    if (n > cap) {
      std::free(p);
      p = static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64));
      cap = p == nullptr ? 0 : n;
      if (p == nullptr) std::abort();
    }
    return p;
  }
};
thread_local Scratch t_scores;
thread_local Scratch t_grad_scores;

// (sequence, head) pairs per pool task: one each when the product is large enough to share.
int attention_tasks(long num_seqs, long heads, long max_len, long head_dim) {
  const double work = static_cast<double>(num_seqs) * heads * max_len * max_len * head_dim;
  return work < 4.0 * kParallelElems ? 1 : static_cast<int>(num_seqs * heads);
}

}  // namespace

void layer_norm_forward(const float* x, long rows, long dim, const float* gamma, const float* beta, float eps,
                        float* out, float* mean, float* rstd) {
  const VecOps& V = vec_ops();
  const int tasks = tasks_for(rows * dim, rows);
  parallel_for(tasks, [&](int t) {
    for (long r = rows * t / tasks; r < rows * (t + 1) / tasks; r++)
      V.layer_norm_row(dim, x + r * dim, gamma, beta, eps, out + r * dim, mean + r, rstd + r);
  });
}

void layer_norm_backward(const float* x, long rows, long dim, const float* gamma, const float* mean, const float* rstd,
                         const float* grad_out, float* grad_x, bool accumulate, float* grad_gamma, float* grad_beta) {
  // Serial: the gamma/beta sums run over rows, and a split by rows would make their rounding
  // depend on the thread count.
  const VecOps& V = vec_ops();
  for (long r = 0; r < rows; r++) {
    V.layer_norm_backward_row(dim, x + r * dim, gamma, mean[r], rstd[r], grad_out + r * dim, grad_x + r * dim,
                              accumulate, grad_gamma, grad_beta);
  }
}

void gelu(const float* x, float* out, long n) {
  const VecOps& V = vec_ops();
  const int tasks = tasks_for(n, 64);
  parallel_for(tasks, [&](int t) {
    const long i0 = n * t / tasks / 16 * 16, i1 = t + 1 == tasks ? n : n * (t + 1) / tasks / 16 * 16;
    V.gelu(i1 - i0, x + i0, out + i0);
  });
}

void gelu_backward(const float* x, float* grad, long n) {
  const VecOps& V = vec_ops();
  const int tasks = tasks_for(n, 64);
  parallel_for(tasks, [&](int t) {
    const long i0 = n * t / tasks / 16 * 16, i1 = t + 1 == tasks ? n : n * (t + 1) / tasks / 16 * 16;
    V.gelu_backward(i1 - i0, x + i0, grad + i0);
  });
}

void dropout(float* x, long n, double rate, unsigned seed) {
  const DropoutConstants dc(rate, seed);
  if (!dc.active) return;
  const VecOps& V = vec_ops();
  const int tasks = tasks_for(n, 64);
  parallel_for(tasks, [&](int t) {
    const long i0 = n * t / tasks / 16 * 16, i1 = t + 1 == tasks ? n : n * (t + 1) / tasks / 16 * 16;
    V.dropout(i1 - i0, x + i0, dc.seed_mix, static_cast<unsigned>(i0), dc.threshold, dc.scale);
  });
}

void add_in_place(const float* x, float* out, long n) {
  const VecOps& V = vec_ops();
  const int tasks = tasks_for(n, 64);
  parallel_for(tasks, [&](int t) {
    const long i0 = n * t / tasks / 16 * 16, i1 = t + 1 == tasks ? n : n * (t + 1) / tasks / 16 * 16;
    V.add(i1 - i0, x + i0, out + i0);
  });
}

void causal_attention_forward(const float* qkv, long num_seqs, long len, long heads, long head_dim, const int* offsets,
                              double rate, unsigned seed, float* probs, float* out) {
  const VecOps& V = vec_ops();
  const DropoutConstants dc(rate, seed);
  const long d = heads * head_dim, ld = 3 * d;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
  const int tasks = attention_tasks(num_seqs, heads, len, head_dim);
  parallel_for(tasks, [&](int t) {
    const long b0 = tasks == 1 ? 0 : t, b1 = tasks == 1 ? num_seqs * heads : t + 1;
    float* s = t_scores.get(static_cast<size_t>(len) * len);
    for (long bh = b0; bh < b1; bh++) {
      const long b = bh / heads, h = bh % heads, r0 = offsets[b], n = offsets[b + 1] - r0;
      const float* q = qkv + r0 * ld + h * head_dim;
      const float* k = q + d;
      const float* v = q + 2 * d;
      float* p = probs + bh * len * len;
      float* o = out + r0 * d + h * head_dim;
      std::memset(p, 0, sizeof(float) * len * len);
      if (n == 0) continue;
      // S = scale·Q·Kᵀ over the sequence's n×n block; row i keeps columns 0..i.
      gemm_serial(false, true, n, n, head_dim, scale, q, ld, k, ld, 0.0f, s, len);
      for (long i = 0; i < n; i++) {
        float* si = s + i * len;
        float mx = si[0];
        for (long j = 1; j <= i; j++) mx = si[j] > mx ? si[j] : mx;
        const double sum = V.exp_shift_sum(i + 1, si, mx);
        const float inv = static_cast<float>(1.0 / sum);
        for (long j = 0; j <= i; j++) si[j] *= inv;
        std::memcpy(p + i * len, si, sizeof(float) * (i + 1));
        if (dc.active) {
          V.dropout(i + 1, si, dc.seed_mix, static_cast<unsigned>((bh * len + i) * len), dc.threshold, dc.scale);
        }
        for (long j = i + 1; j < n; j++) si[j] = 0.0f;
      }
      gemm_serial(false, false, n, head_dim, n, 1.0f, s, len, v, ld, 0.0f, o, d);
    }
  });
}

void causal_attention_backward(const float* qkv, long num_seqs, long len, long heads, long head_dim,
                               const int* offsets, double rate, unsigned seed, const float* probs,
                               const float* grad_out, float* grad_qkv) {
  const VecOps& V = vec_ops();
  const DropoutConstants dc(rate, seed);
  const long d = heads * head_dim, ld = 3 * d;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
  const int tasks = attention_tasks(num_seqs, heads, len, head_dim);
  parallel_for(tasks, [&](int t) {
    const long b0 = tasks == 1 ? 0 : t, b1 = tasks == 1 ? num_seqs * heads : t + 1;
    float* pt = t_scores.get(static_cast<size_t>(len) * len);
    float* ds = t_grad_scores.get(static_cast<size_t>(len) * len);
    for (long bh = b0; bh < b1; bh++) {
      const long b = bh / heads, h = bh % heads, r0 = offsets[b], n = offsets[b + 1] - r0;
      if (n == 0) continue;
      const float* q = qkv + r0 * ld + h * head_dim;
      const float* k = q + d;
      const float* v = q + 2 * d;
      const float* p = probs + bh * len * len;
      const float* go = grad_out + r0 * d + h * head_dim;
      float* gq = grad_qkv + r0 * ld + h * head_dim;
      float* gk = gq + d;
      float* gv = gq + 2 * d;
      // P̃ (the probabilities after dropout) and dV = P̃ᵀ·dO.
      const float* pd = p;
      if (dc.active) {
        for (long i = 0; i < n; i++) {
          std::memcpy(pt + i * len, p + i * len, sizeof(float) * n);
          V.dropout(i + 1, pt + i * len, dc.seed_mix, static_cast<unsigned>((bh * len + i) * len), dc.threshold,
                    dc.scale);
        }
        pd = pt;
      }
      gemm_serial(true, false, n, head_dim, n, 1.0f, pd, len, go, d, 0.0f, gv, ld);
      // dP̃ = dO·Vᵀ, dP = dP̃ ⊙ mask, dS = P ⊙ (dP − rowsum(P ⊙ dP))·scale (scale folded in here).
      gemm_serial(false, true, n, n, head_dim, 1.0f, go, d, v, ld, 0.0f, ds, len);
      for (long i = 0; i < n; i++) {
        float* di = ds + i * len;
        const float* pi = p + i * len;
        if (dc.active) {
          V.dropout(i + 1, di, dc.seed_mix, static_cast<unsigned>((bh * len + i) * len), dc.threshold, dc.scale);
        }
        double dot = 0;
        for (long j = 0; j <= i; j++) dot += static_cast<double>(pi[j]) * di[j];
        const float fdot = static_cast<float>(dot);
        for (long j = 0; j <= i; j++) di[j] = pi[j] * (di[j] - fdot) * scale;
        for (long j = i + 1; j < n; j++) di[j] = 0.0f;
      }
      gemm_serial(false, false, n, head_dim, n, 1.0f, ds, len, k, ld, 0.0f, gq, ld);
      gemm_serial(true, false, n, head_dim, n, 1.0f, ds, len, q, ld, 0.0f, gk, ld);
    }
  });
}

}  // namespace wn
