// Embedding bags over CSR bags (offsets + indices, optional per-entry weights, mean otherwise).
// Forward splits bags across the pool. Backward scatters into the dense gradient table; bags may
// share rows, so threads split the embedding dimension instead of the bags and never collide.
#include <algorithm>
#include <cstring>
#include <string>

#include "dispatch.h"
#include "kernels.h"
#include "pool.h"

namespace wn {
namespace {

constexpr long kParallelWork = 1L << 16;

void check_bags(const char* kernel, const int* offsets, long num_bags, const int* indices, long table_rows) {
  for (long b = 0; b < num_bags; b++) {
    for (long i = offsets[b]; i < offsets[b + 1]; i++) {
      if (indices[i] < 0 || indices[i] >= table_rows) {
        throw KernelError(std::string(kernel) + ": index " + std::to_string(indices[i]) + " is outside the table's " +
                          std::to_string(table_rows) + " rows");
      }
    }
  }
}

}  // namespace

void embedding_bag_forward(const float* table, long table_rows, long dim, const int* offsets, long num_bags,
                           const int* indices, const float* weights, float* out, long ld_out, long out_offset,
                           bool accumulate) {
  check_bags("embeddingBagForward", offsets, num_bags, indices, table_rows);
  const VecOps& V = vec_ops();
  const long work = (num_bags > 0 ? offsets[num_bags] - offsets[0] : 0) * dim;
  const int tasks = work < kParallelWork ? 1 : static_cast<int>(std::min<long>(pool_threads(), num_bags));
  parallel_for(tasks, [&](int t) {
    for (long b = num_bags * t / tasks; b < num_bags * (t + 1) / tasks; b++) {
      float* o = out + b * ld_out + out_offset;
      if (!accumulate) std::memset(o, 0, sizeof(float) * dim);
      const long start = offsets[b], end = offsets[b + 1];
      if (end <= start) continue;
      const float mean = 1.0f / static_cast<float>(end - start);
      for (long i = start; i < end; i++) {
        if (i + 1 < offsets[num_bags]) {
          const float* next = table + static_cast<long>(indices[i + 1]) * dim;
          for (long d = 0; d < dim; d += 16) __builtin_prefetch(next + d);
        }
        V.axpy(dim, weights == nullptr ? mean : weights[i], table + static_cast<long>(indices[i]) * dim, o);
      }
    }
  });
}

void embedding_bag_backward(const float* grad_out, long ld_grad, long grad_offset, long dim, const int* offsets,
                            long num_bags, const int* indices, const float* weights, float* grad_table,
                            long table_rows) {
  check_bags("embeddingBagBackward", offsets, num_bags, indices, table_rows);
  const VecOps& V = vec_ops();
  const long work = (num_bags > 0 ? offsets[num_bags] - offsets[0] : 0) * dim;
  const long slices = dim / 16;
  const int tasks =
      work < kParallelWork ? 1 : static_cast<int>(std::max<long>(1, std::min<long>(pool_threads(), slices)));
  parallel_for(tasks, [&](int t) {
    const long d0 = t == 0 ? 0 : slices * t / tasks * 16, d1 = t + 1 == tasks ? dim : slices * (t + 1) / tasks * 16;
    for (long b = 0; b < num_bags; b++) {
      const float* g = grad_out + b * ld_grad + grad_offset + d0;
      const long start = offsets[b], end = offsets[b + 1];
      if (end <= start) continue;
      const float mean = 1.0f / static_cast<float>(end - start);
      for (long i = start; i < end; i++) {
        float* row = grad_table + static_cast<long>(indices[i]) * dim + d0;
        // Rows are scattered over a large table: fetch the next one while this one is updated.
        if (i + 1 < offsets[num_bags]) {
          const float* next = grad_table + static_cast<long>(indices[i + 1]) * dim + d0;
          for (long d = 0; d < d1 - d0; d += 16) __builtin_prefetch(next + d, 1);
        }
        V.axpy(d1 - d0, weights == nullptr ? mean : weights[i], g, row);
      }
    }
  });
}

}  // namespace wn
