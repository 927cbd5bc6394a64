// SGNS driver: validates the corpus and tables, splits the sentences into one contiguous chunk per
// pool thread (balanced by token count), and runs the epochs, each a parallel_for over the chunks
// with the ISA-specific loop of sgns_impl.inc. Each chunk has its own xorshift32 stream seeded
// from (seed, chunk), so with one thread the result is a function of the seed alone.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "dispatch.h"
#include "kernels.h"
#include "pool.h"
#include "sgns.h"

namespace wn {
namespace {

const SgnsOps& sgns_ops() {
#ifdef WATCHNEXT_X86
  if (std::strcmp(simd_level(), "avx512") == 0) return sgns_avx512;
  if (std::strcmp(simd_level(), "avx2") == 0) return sgns_avx2;
#endif
  return sgns_portable;
}

// murmur3's finalizer: decorrelates the streams of consecutive chunk indices.
unsigned mix(unsigned h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

const float* sigmoid_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(kSigmoidTable);
    for (int i = 0; i < kSigmoidTable; i++) {
      const double e = std::exp((static_cast<double>(i) / kSigmoidTable * 2.0 - 1.0) * kMaxExp);
      t[i] = static_cast<float>(e / (e + 1.0));
    }
    return t;
  }();
  return table.data();
}

unsigned chunk_seed(unsigned seed, int chunk) {
  const unsigned s = mix(seed ^ mix(static_cast<unsigned>(chunk) + 0x9e3779b9u));
  return s == 0 ? 1u : s;
}

}  // namespace

double sgns_train(float* input, float* output, long vocab, long dim, const int* tokens, long num_tokens,
                  const int* offsets, long num_sentences, const float* keep, const int* table, long table_len,
                  int window, int negatives, int epochs, double start_lr, unsigned seed) {
  if (dim < 1) throw KernelError("sgnsTrain: dim must be at least 1");
  if (window < 1) throw KernelError("sgnsTrain: window must be at least 1");
  if (negatives < 0) throw KernelError("sgnsTrain: negatives must be non-negative");
  if (table_len < 1) throw KernelError("sgnsTrain: the negative table is empty");
  if (offsets[0] != 0 || offsets[num_sentences] != num_tokens) {
    throw KernelError("sgnsTrain: offsets must run from 0 to the " + std::to_string(num_tokens) + " tokens");
  }
  long longest = 0;
  for (long s = 0; s < num_sentences; s++) {
    const long len = static_cast<long>(offsets[s + 1]) - offsets[s];
    if (len < 0) throw KernelError("sgnsTrain: offsets[" + std::to_string(s + 1) + "] is below offsets[" +
                                   std::to_string(s) + "]");
    if (len > longest) longest = len;
  }
  for (long i = 0; i < num_tokens; i++) {
    if (tokens[i] < 0 || tokens[i] >= vocab) {
      throw KernelError("sgnsTrain: token " + std::to_string(tokens[i]) + " at " + std::to_string(i) +
                        " is outside the vocabulary of " + std::to_string(vocab));
    }
  }
  for (long i = 0; i < table_len; i++) {
    if (table[i] < 0 || table[i] >= vocab) {
      throw KernelError("sgnsTrain: negative table entry " + std::to_string(table[i]) + " at " + std::to_string(i) +
                        " is outside the vocabulary of " + std::to_string(vocab));
    }
  }

  // Chunk boundaries: chunk t starts at the first sentence whose start passes t/T of the tokens.
  const int chunks = static_cast<int>(std::max<long>(1, std::min<long>(pool_threads(), num_sentences)));
  std::vector<long> bounds(chunks + 1, num_sentences);
  bounds[0] = 0;
  for (int t = 1, s = 0; t < chunks; t++) {
    const double target = static_cast<double>(num_tokens) * t / chunks;
    while (s < num_sentences && offsets[s] < target) s++;
    bounds[t] = s;
  }
  std::vector<unsigned> rng(chunks);
  for (int t = 0; t < chunks; t++) rng[t] = chunk_seed(seed, t);
  // Each thread's scratch in its own cache lines (16 floats = 64 bytes), so no two threads write
  // the same line.
  auto lines = [](long floats) { return (floats + 15) / 16 * 16; };
  const long ctx_n = lines(2L * window), target_n = lines(negatives + 1L);
  const long grad_n = lines(2L * window * (negatives + 1L)), err_n = lines(2L * window * dim);
  const long buf_n = lines(std::max<long>(1, longest));
  const long per_thread = ctx_n + target_n + grad_n + err_n + buf_n + 16;
  std::vector<unsigned char> scratch_mem(static_cast<size_t>(chunks * per_thread + 16) * 4);
  const uintptr_t raw = reinterpret_cast<uintptr_t>(scratch_mem.data());
  float* base = reinterpret_cast<float*>(scratch_mem.data() + (64 - raw % 64) % 64);  // 64-byte aligned
  std::vector<SgnsScratch> scratch(chunks);
  std::vector<int*> bufs(chunks);
  for (int t = 0; t < chunks; t++) {
    float* p = base + t * per_thread;
    scratch[t].ctx = reinterpret_cast<int*>(p);
    scratch[t].target = reinterpret_cast<int*>(p + ctx_n);
    scratch[t].grad = p + ctx_n + target_n;
    scratch[t].err = p + ctx_n + target_n + grad_n;
    bufs[t] = reinterpret_cast<int*>(p + ctx_n + target_n + grad_n + err_n);
  }

  long processed = 0;
  const SgnsArgs args{input,  output,   dim,      tokens,    offsets,
                      keep,   table,    sigmoid_table(), table_len, window,
                      negatives, start_lr, static_cast<double>(epochs) * num_tokens + 1.0, &processed};
  const SgnsOps& ops = sgns_ops();
  std::vector<long> kept(chunks, 0);
  for (int e = 0; e < epochs; e++) {
    parallel_for(chunks, [&](int t) {
      kept[t] += ops.train_chunk(args, bounds[t], bounds[t + 1], &rng[t], bufs[t], scratch[t]);
    });
  }
  double total = 0;
  for (long k : kept) total += static_cast<double>(k);
  return total;
}

}  // namespace wn
