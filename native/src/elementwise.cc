// Dense elementwise kernels: bias + ReLU, ReLU backward, column sums, Adam and lazy Adam. Large
// inputs are split into contiguous ranges over the thread pool; the loops themselves are the
// dispatched VecOps.
#include <algorithm>
#include <cmath>
#include <string>

#include "dispatch.h"
#include "kernels.h"
#include "pool.h"

namespace wn {
namespace {

// Work below this many elements stays on the calling thread: memory-bound loops gain little from
// a second core until the data leaves L2.
constexpr long kParallelElems = 1L << 16;

int tasks_for(long work) {
  if (work < kParallelElems) return 1;
  return static_cast<int>(std::min<long>(pool_threads(), work / (kParallelElems / 2)));
}

// Per-step Adam constants, computed in double (1 − β in float would be off by ~1e-5 relative).
struct AdamConstants {
  float b1, c1, b2, c2, step_size, inv_sqrt_bc2, eps;
  AdamConstants(double lr, double beta1, double beta2, double eps_, double step)
      : b1(static_cast<float>(beta1)),
        c1(static_cast<float>(1.0 - beta1)),
        b2(static_cast<float>(beta2)),
        c2(static_cast<float>(1.0 - beta2)),
        step_size(static_cast<float>(lr / (1.0 - std::pow(beta1, step)))),
        inv_sqrt_bc2(static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(beta2, step)))),
        eps(static_cast<float>(eps_)) {}
};

}  // namespace

void bias_act(float* x, long rows, long cols, long ld, const float* bias, bool relu) {
  const VecOps& V = vec_ops();
  const int tasks = std::max(1, std::min<int>(tasks_for(rows * cols), static_cast<int>(rows)));
  parallel_for(tasks, [&](int t) {
    for (long r = rows * t / tasks; r < rows * (t + 1) / tasks; r++) V.bias_act(cols, x + r * ld, bias, relu);
  });
}

void relu_backward(float* grad, const float* out, long n) {
  const int tasks = tasks_for(n);
  parallel_for(tasks, [&](int t) {
    for (long i = n * t / tasks; i < n * (t + 1) / tasks; i++) grad[i] = out[i] > 0.0f ? grad[i] : 0.0f;
  });
}

void col_sums(const float* x, long rows, long cols, long ld, float* out, float beta) {
  const VecOps& V = vec_ops();
  if (beta == 0.0f) {
    std::fill(out, out + cols, 0.0f);
  } else if (beta != 1.0f) {
    for (long c = 0; c < cols; c++) out[c] *= beta;
  }
  // Split by column ranges so threads never write the same output.
  const int tasks = cols >= 64 ? std::min<int>(tasks_for(rows * cols), static_cast<int>(cols / 32)) : 1;
  parallel_for(std::max(1, tasks), [&](int t) {
    const int nt = std::max(1, tasks);
    const long c0 = cols * t / nt / 16 * 16, c1 = t + 1 == nt ? cols : cols * (t + 1) / nt / 16 * 16;
    for (long r = 0; r < rows; r++) V.add(c1 - c0, x + r * ld + c0, out + c0);
  });
}

void adam(float* param, float* grad, float* m, float* v, long n, double lr, double beta1, double beta2, double eps,
          double step, double weight_decay) {
  const VecOps& V = vec_ops();
  const AdamConstants c(lr, beta1, beta2, eps, step);
  const float decay = weight_decay > 0 ? static_cast<float>(1.0 - lr * weight_decay) : 1.0f;
  const int tasks = tasks_for(n);
  parallel_for(tasks, [&](int t) {
    const long i0 = n * t / tasks / 16 * 16, i1 = t + 1 == tasks ? n : n * (t + 1) / tasks / 16 * 16;
    V.adam(i1 - i0, param + i0, grad + i0, m + i0, v + i0, c.b1, c.c1, c.b2, c.c2, c.step_size, c.inv_sqrt_bc2, c.eps,
           decay, false);
  });
}

void lazy_adam(float* table, float* grad, float* m, float* v, long dim, long table_rows, const int* rows,
               long num_rows, double lr, double beta1, double beta2, double eps, double step) {
  for (long r = 0; r < num_rows; r++) {
    if (rows[r] < 0 || rows[r] >= table_rows) {
      throw KernelError("lazyAdam: index " + std::to_string(rows[r]) + " is outside the table's " +
                        std::to_string(table_rows) + " rows");
    }
  }
  const VecOps& V = vec_ops();
  const AdamConstants c(lr, beta1, beta2, eps, step);
  // Rows are unique, so threads updating different rows never touch the same memory.
  const int tasks = std::max(1, std::min<int>(tasks_for(num_rows * dim), static_cast<int>(num_rows)));
  parallel_for(tasks, [&](int t) {
    const long r0 = num_rows * t / tasks, r1 = num_rows * (t + 1) / tasks;
    for (long r = r0; r < r1; r++) {
      const long o = static_cast<long>(rows[r]) * dim;
      // Rows are scattered over a large table: fetch the next one while this one is updated.
      if (r + 1 < r1) {
        const long q = static_cast<long>(rows[r + 1]) * dim;
        for (long d = 0; d < dim; d += 16) {
          __builtin_prefetch(table + q + d, 1);
          __builtin_prefetch(grad + q + d, 1);
          __builtin_prefetch(m + q + d, 1);
          __builtin_prefetch(v + q + d, 1);
        }
      }
      V.adam(dim, table + o, grad + o, m + o, v + o, c.b1, c.c1, c.b2, c.c2, c.step_size, c.inv_sqrt_bc2, c.eps, 1.0f,
             true);
    }
  });
}

}  // namespace wn
