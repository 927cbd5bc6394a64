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

namespace wn {
namespace {

constexpr long kParallelElems = 1L << 15;
constexpr int kMaxTasks = 64;

int tasks_for(long rows, long width) {
  if (rows * width < kParallelElems || rows < 2) return 1;
  return static_cast<int>(std::min<long>({static_cast<long>(pool_threads()) * 4, rows, kMaxTasks}));
}

// Softmax cross-entropy of one row whose logits are already corrected; target column `label`.
// Overwrites the row with scale·(softmax − onehot) and returns the loss.
double softmax_row(const VecOps& V, float* z, long width, long label, float scale) {
  float mx = -std::numeric_limits<float>::infinity();
  for (long c = 0; c < width; c++) mx = z[c] > mx ? z[c] : mx;
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

double softmax_cross_entropy(float* logits, long rows, long cols, const int* labels, float scale) {
  for (long r = 0; r < rows; r++) {
    if (labels[r] < 0 || labels[r] >= cols) {
      throw KernelError("softmaxCrossEntropy: label " + std::to_string(labels[r]) + " of row " + std::to_string(r) +
                        " is outside [0, " + std::to_string(cols) + ")");
    }
  }
  const VecOps& V = vec_ops();
  return sum_rows(rows, cols, [&](long r) { return softmax_row(V, logits + r * cols, cols, labels[r], scale); });
}

double sampled_softmax(float* logits, long rows, long num_neg, const int* labels, const int* neg_ids,
                       const float* logq_true, const float* logq_neg, float scale) {
  const long width = 1 + num_neg;
  const VecOps& V = vec_ops();
  const float neg_inf = -std::numeric_limits<float>::infinity();
  return sum_rows(rows, width, [&](long r) {
    float* z = logits + r * width;
    const int label = labels[r];
    z[0] -= logq_true[r];
    for (long j = 0; j < num_neg; j++) z[1 + j] = neg_ids[j] == label ? neg_inf : z[1 + j] - logq_neg[j];
    return softmax_row(V, z, width, 0, scale);
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
