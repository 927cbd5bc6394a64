// Loss kernels: full softmax cross-entropy, sampled softmax (logQ correction, accidental-hit
// masking, true item in column 0) and weighted logistic loss. Each writes scale·gradient in place
// and returns the summed loss, accumulated in double per row and combined in a fixed order so the
// result does not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "dispatch.h"
#include "kernels.h"
#include "pool.h"

#if defined(__SSE2__)
#include <emmintrin.h>  // baseline on x86-64: no runtime check needed
#endif

namespace wn {
namespace {

constexpr long kParallelElems = 1L << 15;
constexpr int kMaxTasks = 64;

int tasks_for(long rows, long width) {
  if (rows * width < kParallelElems || rows < 2) return 1;
  return static_cast<int>(std::min<long>({static_cast<long>(pool_threads()) * 4, rows, kMaxTasks}));
}

// max(mx, z[0..n)), skipping NaNs like `z > mx ? z : mx`; the maximum is exact in any order.
float row_max(const float* z, long n, float mx) {
  long c = 0;
#if defined(__SSE2__)
  __m128 vm = _mm_set1_ps(mx);
  for (; c + 4 <= n; c += 4) vm = _mm_max_ps(_mm_loadu_ps(z + c), vm);  // NaN in z yields vm's lane
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, vm);
  for (float x : lanes) mx = x > mx ? x : mx;
#endif
  for (; c < n; c++) mx = z[c] > mx ? z[c] : mx;
  return mx;
}

// z[j] = neg_ids[j] == label ? −∞ : z[j] − logq[j] for j < n (the sampled columns' logQ
// correction and accidental-hit mask), returning max(mx, corrected z) in the same pass.
float correct_negatives(float* z, long n, const int* neg_ids, int label, const float* logq, float mx) {
  const float neg_inf = -std::numeric_limits<float>::infinity();
  long j = 0;
#if defined(__SSE2__)
  const __m128i vl = _mm_set1_epi32(label);
  const __m128 vinf = _mm_set1_ps(neg_inf);
  __m128 vm = _mm_set1_ps(mx);
  for (; j + 4 <= n; j += 4) {
    const __m128 hit = _mm_castsi128_ps(
        _mm_cmpeq_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(neg_ids + j)), vl));
    const __m128 x = _mm_sub_ps(_mm_loadu_ps(z + j), _mm_loadu_ps(logq + j));
    const __m128 y = _mm_or_ps(_mm_and_ps(hit, vinf), _mm_andnot_ps(hit, x));
    _mm_storeu_ps(z + j, y);
    vm = _mm_max_ps(y, vm);
  }
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, vm);
  for (float x : lanes) mx = x > mx ? x : mx;
#endif
  for (; j < n; j++) {
    z[j] = neg_ids[j] == label ? neg_inf : z[j] - logq[j];
    mx = z[j] > mx ? z[j] : mx;
  }
  return mx;
}

// Softmax cross-entropy of one row whose logits are already corrected and whose maximum is mx;
// target column `label`. Overwrites the row with scale·(softmax − onehot) and returns the loss.
double softmax_row(const VecOps& V, float* z, long width, long label, float scale, float mx) {
  const double target = z[label];
  const double sum = V.exp_shift_sum(width, z, mx);
  const float inv = static_cast<float>(scale / sum);
  for (long c = 0; c < width; c++) z[c] *= inv;
  z[label] -= scale;
  return std::log(sum) + mx - target;
}

template <typename RowFn>
double sum_rows(long rows, long width, RowFn row_loss) {
  const int tasks = tasks_for(rows, width);
  double partial[kMaxTasks] = {};
  parallel_for(tasks, [&](int t) {
    double s = 0;
    for (long r = rows * t / tasks; r < rows * (t + 1) / tasks; r++) s += row_loss(r);
    partial[t] = s;
  });
  double total = 0;
  for (int t = 0; t < tasks; t++) total += partial[t];
  return total;
}

}  // namespace

double softmax_cross_entropy(float* logits, long rows, long cols, const int* labels, float scale,
                             const float* row_weights) {
  for (long r = 0; r < rows; r++) {
    if (labels[r] < 0 || labels[r] >= cols) {
      throw KernelError("softmaxCrossEntropy: label " + std::to_string(labels[r]) + " of row " + std::to_string(r) +
                        " is outside [0, " + std::to_string(cols) + ")");
    }
  }
  const VecOps& V = vec_ops();
  const float neg_inf = -std::numeric_limits<float>::infinity();
  return sum_rows(rows, cols, [&](long r) {
    float* z = logits + r * cols;
    const float w = row_weights == nullptr ? 1.0f : row_weights[r];
    return w * softmax_row(V, z, cols, labels[r], scale * w, row_max(z, cols, neg_inf));
  });
}

double sampled_softmax(float* logits, long rows, long num_neg, const int* labels, const int* neg_ids,
                       const float* logq_true, const float* logq_neg, float scale, const float* row_weights) {
  const long width = 1 + num_neg;
  const VecOps& V = vec_ops();
  const float neg_inf = -std::numeric_limits<float>::infinity();
  return sum_rows(rows, width, [&](long r) {
    float* z = logits + r * width;
    const int label = labels[r];
    z[0] -= logq_true[r];
    const float mx = correct_negatives(z + 1, num_neg, neg_ids, label, logq_neg, z[0] > neg_inf ? z[0] : neg_inf);
    const float w = row_weights == nullptr ? 1.0f : row_weights[r];
    return w * softmax_row(V, z, width, 0, scale * w, mx);
  });
}

double weighted_logistic(const float* logits, const float* labels, const float* weights, long n, float* grad,
                         float scale) {
  return sum_rows(n, 1, [&](long i) {
    const double z = logits[i], y = labels[i], w = weights[i];
    const double e = std::exp(-std::fabs(z));
    const double softplus = std::max(z, 0.0) + std::log1p(e);
    const double sigma = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    grad[i] = static_cast<float>(scale * w * (sigma - y));
    return w * (softplus - y * z);
  });
}

}  // namespace wn
