// Exact top-k of U·Vᵀ (+ item bias) with per-query exclusion lists. Queries are split into chunks
// over the pool; each chunk walks the catalog in item blocks, scores a block with one GEMM into a
// per-thread tile, marks its excluded items as NaN (skipped, as the reference skips NaN scores),
// and feeds each row into that query's bounded heap, kept directly in the output slice.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "dispatch.h"
#include "gemm.h"
#include "kernels.h"
#include "pool.h"

namespace wn {
namespace {

constexpr long kQueryBlock = 256;
constexpr long kItemBlock = 1024;

thread_local std::vector<float> t_tile;

// a ranks below b: lower score, or equal score and higher item index.
inline bool worse(float sa, int ia, float sb, int ib) { return sa < sb || (sa == sb && ia > ib); }

void sift_down(int* items, float* scores, long size, long i) {
  const int item = items[i];
  const float score = scores[i];
  for (;;) {
    long child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && worse(scores[child + 1], items[child + 1], scores[child], items[child])) child++;
    if (!worse(scores[child], items[child], score, item)) break;
    items[i] = items[child];
    scores[i] = scores[child];
    i = child;
  }
  items[i] = item;
  scores[i] = score;
}

void push(int* items, float* scores, long& size, long k, float s, int j) {
  if (size < k) {
    long i = size++;
    while (i > 0) {
      const long parent = (i - 1) >> 1;
      if (!worse(s, j, scores[parent], items[parent])) break;
      items[i] = items[parent];
      scores[i] = scores[parent];
      i = parent;
    }
    items[i] = j;
    scores[i] = s;
  } else if (worse(scores[0], items[0], s, j)) {
    items[0] = j;
    scores[0] = s;
    sift_down(items, scores, size, 0);
  }
}

}  // namespace

void top_k(const float* u, long num_queries, const float* v, long num_items, long dim, const float* item_bias,
           long k, const int* exclude_offsets, const int* exclude_items, int* out_items, float* out_scores) {
  if (k <= 0 || num_queries <= 0) return;
  const long chunks = (num_queries + kQueryBlock - 1) / kQueryBlock;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const VecOps& V = vec_ops();
  parallel_for(static_cast<int>(chunks), [&](int chunk) {
    const long q0 = chunk * kQueryBlock, qn = std::min(kQueryBlock, num_queries - q0);
    const long ib_max = std::min(kItemBlock, std::max(num_items, 1L));
    if (t_tile.size() < static_cast<size_t>(kQueryBlock * ib_max)) t_tile.resize(kQueryBlock * ib_max);
    float* tile = t_tile.data();
    long sizes[kQueryBlock] = {};
    for (long j0 = 0; j0 < num_items; j0 += kItemBlock) {
      const long ib = std::min(kItemBlock, num_items - j0);
      gemm_serial(false, true, qn, ib, dim, 1.0f, u + q0 * dim, dim, v + j0 * dim, dim, 0.0f, tile, ib);
      for (long qi = 0; qi < qn; qi++) {
        float* row = tile + qi * ib;
        if (item_bias != nullptr)
          for (long j = 0; j < ib; j++) row[j] += item_bias[j0 + j];
        if (exclude_offsets != nullptr && exclude_items != nullptr) {
          for (long e = exclude_offsets[q0 + qi]; e < exclude_offsets[q0 + qi + 1]; e++) {
            const long item = exclude_items[e];
            if (item >= j0 && item < j0 + ib) row[item - j0] = nan;
          }
        }
        int* items = out_items + (q0 + qi) * k;
        float* scores = out_scores + (q0 + qi) * k;
        long& size = sizes[qi];
        long j = 0;
        for (; j < ib && size < k; j++) {
          if (!std::isnan(row[j])) push(items, scores, size, k, row[j], static_cast<int>(j0 + j));
        }
        // Once the heap is full, items arrive in increasing index, so only a strictly higher score
        // than the current k-th can enter (false for NaN, i.e. excluded items).
        while (j < ib) {
          j += V.next_above(row + j, ib - j, scores[0]);
          if (j >= ib) break;
          push(items, scores, size, k, row[j], static_cast<int>(j0 + j));
          j++;
        }
      }
    }
    for (long qi = 0; qi < qn; qi++) {
      int* items = out_items + (q0 + qi) * k;
      float* scores = out_scores + (q0 + qi) * k;
      const long size = sizes[qi];
      // Heapsort: move the worst remaining entry to the end, leaving the best first.
      for (long end = size - 1; end > 0; end--) {
        std::swap(items[0], items[end]);
        std::swap(scores[0], scores[end]);
        sift_down(items, scores, end, 0);
      }
      for (long i = size; i < k; i++) {
        items[i] = -1;
        scores[i] = -std::numeric_limits<float>::infinity();
      }
    }
  });
}

}  // namespace wn
