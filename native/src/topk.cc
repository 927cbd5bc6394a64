// Exact top-k of U·Vᵀ (+ item bias) with per-query exclusion lists. Work is split into tasks over
// the pool: query chunks, and — when there are fewer chunks than threads (one query, the serving
// case) — parts of the catalog as well. A task walks its items in blocks, scores a block into a
// per-thread tile (one GEMM, or plain dot products for up to three queries), marks the excluded
// items as NaN (skipped, as the reference skips NaN scores), and feeds each row into that query's
// bounded heap. Catalog parts keep their own partial
// top-k, merged afterwards under the same total order (score descending, ties to the lower item).
// Parts start on item-block boundaries, so every score is computed by the same arithmetic as in
// the unsplit scan: results are bit for bit those of one thread, whatever the split.
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
// Split the catalog only when a task still scores at least this many multiply-adds (waking the
// workers costs tens of µs) and the partial lists stay small.
constexpr double kMinPartWork = 1 << 19;
constexpr double kMaxPartialEntries = 1 << 22;
// Parts per thread: more parts than threads, so a thread that is not scheduled (the machine is
// shared with the load generator, other processes) holds back less of the answer.
constexpr long kPartsPerThread = 4;

// Up to this many queries in a chunk, item scores are plain dot products: the GEMM's register tile
// is several query rows tall, and with one or two queries most of its work (and its packing of
// the item block) would be wasted.
constexpr long kDotMaxQueries = 3;

thread_local std::vector<float> t_tile;
thread_local std::vector<int> t_part_items;
thread_local std::vector<float> t_part_scores;
thread_local std::vector<long> t_part_sizes;

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

// u·v over n floats in eight interleaved float lanes summed in a fixed order: the compiler turns the
// lanes into vector registers, and the order does not depend on the thread count or the split.
inline float dot(const float* a, const float* b, long n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  long d = 0;
  for (; d + 8 <= n; d += 8)
    for (int l = 0; l < 8; l++) acc[l] += a[d + l] * b[d + l];
  float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; d < n; d++) s += a[d] * b[d];
  return s;
}

// Heapsorts a heap of `size` entries (worst at the root) into best-first order and pads to k.
void finish(int* items, float* scores, long size, long k) {
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

struct Problem {
  const float* u;
  const float* v;
  long num_items, dim;
  const float* item_bias;
  long k;
  const int* exclude_offsets;
  const int* exclude_items;
};

// Scans items [j_begin, j_end) (j_begin a multiple of kItemBlock) for queries [q0, q0 + qn): the
// heap of query qi lives at items/scores + qi·k, its size is returned in sizes[qi].
void scan(const Problem& p, long q0, long qn, long j_begin, long j_end, int* out_items, float* out_scores,
          long* sizes) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const VecOps& V = vec_ops();
  const long k = p.k, dim = p.dim;
  const long ib_max = std::min(kItemBlock, std::max(p.num_items, 1L));
  if (t_tile.size() < static_cast<size_t>(kQueryBlock * ib_max)) t_tile.resize(kQueryBlock * ib_max);
  float* tile = t_tile.data();
  for (long qi = 0; qi < qn; qi++) sizes[qi] = 0;
  for (long j0 = j_begin; j0 < j_end; j0 += kItemBlock) {
    const long ib = std::min(kItemBlock, p.num_items - j0);
    if (qn <= kDotMaxQueries) {
      for (long qi = 0; qi < qn; qi++) {
        const float* uq = p.u + (q0 + qi) * dim;
        float* row = tile + qi * ib;
        for (long j = 0; j < ib; j++) row[j] = dot(uq, p.v + (j0 + j) * dim, dim);
      }
    } else {
      gemm_serial(false, true, qn, ib, dim, 1.0f, p.u + q0 * dim, dim, p.v + j0 * dim, dim, 0.0f, tile, ib);
    }
    for (long qi = 0; qi < qn; qi++) {
      float* row = tile + qi * ib;
      if (p.item_bias != nullptr)
        for (long j = 0; j < ib; j++) row[j] += p.item_bias[j0 + j];
      if (p.exclude_offsets != nullptr && p.exclude_items != nullptr) {
        for (long e = p.exclude_offsets[q0 + qi]; e < p.exclude_offsets[q0 + qi + 1]; e++) {
          const long item = p.exclude_items[e];
          if (item >= j0 && item < j0 + ib) row[item - j0] = nan;
        }
      }
      int* items = out_items + qi * k;
      float* scores = out_scores + qi * k;
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
}

// Merges `parts` best-first lists (list r of query q at (r·nq + q)·k, with sizes) into the output.
void merge_parts(long q, long nq, long k, long parts, const int* part_items, const float* part_scores,
                 const long* part_sizes, int* out_items, float* out_scores) {
  long cursor[64] = {};
  int* items = out_items + q * k;
  float* scores = out_scores + q * k;
  long n = 0;
  for (; n < k; n++) {
    long best = -1;
    int best_item = 0;
    float best_score = 0;
    for (long r = 0; r < parts; r++) {
      const long at = r * nq + q;
      if (cursor[r] >= part_sizes[at]) continue;
      const int item = part_items[at * k + cursor[r]];
      const float score = part_scores[at * k + cursor[r]];
      if (best < 0 || worse(best_score, best_item, score, item)) {
        best = r;
        best_item = item;
        best_score = score;
      }
    }
    if (best < 0) break;
    cursor[best]++;
    items[n] = best_item;
    scores[n] = best_score;
  }
  for (; n < k; n++) {
    items[n] = -1;
    scores[n] = -std::numeric_limits<float>::infinity();
  }
}

}  // namespace

void top_k(const float* u, long num_queries, const float* v, long num_items, long dim, const float* item_bias,
           long k, const int* exclude_offsets, const int* exclude_items, int* out_items, float* out_scores) {
  if (k <= 0 || num_queries <= 0) return;
  const Problem p{u, v, num_items, dim, item_bias, k, exclude_offsets, exclude_items};
  const long chunks = (num_queries + kQueryBlock - 1) / kQueryBlock;
  const long blocks = (num_items + kItemBlock - 1) / kItemBlock;
  const long threads = pool_threads();
  long parts = 1;
  if (chunks < threads && blocks > 1) {
    const double qn = static_cast<double>(std::min(num_queries, kQueryBlock));
    const double work_per_block = qn * static_cast<double>(std::min(num_items, kItemBlock)) * std::max(dim, 1L);
    const long by_work = static_cast<long>(work_per_block * static_cast<double>(blocks) / kMinPartWork);
    const long by_memory = static_cast<long>(kMaxPartialEntries / (static_cast<double>(num_queries) * k));
    parts = std::min({blocks, (threads * kPartsPerThread + chunks - 1) / chunks, by_work, by_memory, 64L});
    if (parts < 2) parts = 1;
  }

  if (parts == 1) {
    parallel_for(static_cast<int>(chunks), [&](int chunk) {
      const long q0 = chunk * kQueryBlock, qn = std::min(kQueryBlock, num_queries - q0);
      long sizes[kQueryBlock];
      scan(p, q0, qn, 0, num_items, out_items + q0 * k, out_scores + q0 * k, sizes);
      for (long qi = 0; qi < qn; qi++) finish(out_items + (q0 + qi) * k, out_scores + (q0 + qi) * k, sizes[qi], k);
    });
    return;
  }

  // Partial lists: part r of query q at (r·num_queries + q)·k.
  const size_t entries = static_cast<size_t>(parts * num_queries * k);
  if (t_part_items.size() < entries) {
    t_part_items.resize(entries);
    t_part_scores.resize(entries);
  }
  if (t_part_sizes.size() < static_cast<size_t>(parts * num_queries)) t_part_sizes.resize(parts * num_queries);
  int* part_items = t_part_items.data();
  float* part_scores = t_part_scores.data();
  long* part_sizes = t_part_sizes.data();
  parallel_for(static_cast<int>(chunks * parts), [&](int task) {
    const long chunk = task / parts, r = task % parts;
    const long q0 = chunk * kQueryBlock, qn = std::min(kQueryBlock, num_queries - q0);
    const long j_begin = (r * blocks / parts) * kItemBlock;
    const long j_end = std::min(num_items, ((r + 1) * blocks / parts) * kItemBlock);
    const long at = r * num_queries + q0;
    scan(p, q0, qn, j_begin, j_end, part_items + at * k, part_scores + at * k, part_sizes + at);
    for (long qi = 0; qi < qn; qi++)
      finish(part_items + (at + qi) * k, part_scores + (at + qi) * k, part_sizes[at + qi], k);
  });
  for (long q = 0; q < num_queries; q++)
    merge_parts(q, num_queries, k, parts, part_items, part_scores, part_sizes, out_items, out_scores);
}

}  // namespace wn
