// Skip-gram with negative sampling (word2vec's SGNS): the per-ISA training loop and the driver
// that splits a corpus over the engine pool (Hogwild: threads update the shared tables without
// locks, so results depend on scheduling when more than one thread runs; one thread is
// deterministic for a seed and matches the TypeScript reference, src/engine/kernels/sgns-reference.ts).
#pragma once

namespace wn {

// One training call's inputs: tables (vocab×dim, row-major), a corpus of sentences in CSR form
// (tokens[offsets[s] .. offsets[s+1])), per-word keep probabilities (sub-sampling, 1 = always
// kept), the unigram^0.75 table negatives are drawn from, and the learning-rate schedule
// lr = start_lr · max(1e-4, 1 − processed / total_work) with processed counted in raw tokens.
constexpr double kMaxExp = 6.0;
constexpr int kSigmoidTable = 1000;

struct SgnsArgs {
  float* input;
  float* output;
  long dim;
  const int* tokens;
  const int* offsets;
  const float* keep;
  const int* table;
  const float* sigmoid;  // kSigmoidTable entries of σ over (−kMaxExp, kMaxExp), see sgns_sigmoid_table
  long table_len;
  int window;
  int negatives;
  double start_lr;
  double total_work;
  long* processed;  // shared progress in raw tokens, updated atomically after each sentence
};

// One thread's scratch for a window: its contexts (≤ 2·window), its targets (the word and up to
// `negatives` draws), the contexts × targets gradients and the contexts' input errors (× dim).
struct SgnsScratch {
  int* ctx;
  int* target;
  float* grad;
  float* err;
};

// Trains on sentences [s0, s1) once. rng: the thread's xorshift32 state; buf: scratch of the
// longest sentence's length. Returns the tokens kept by sub-sampling.
struct SgnsOps {
  const char* name;
  long (*train_chunk)(const SgnsArgs& a, long s0, long s1, unsigned* rng, int* buf, SgnsScratch& scratch);
};

extern const SgnsOps sgns_portable;
#ifdef WATCHNEXT_X86
extern const SgnsOps sgns_avx2;
extern const SgnsOps sgns_avx512;
#endif

// Runs `epochs` passes over the corpus on the pool; the tables are updated in place. Validates
// every index first (KernelError). Returns the tokens trained on (after sub-sampling, all epochs).
double sgns_train(float* input, float* output, long vocab, long dim, const int* tokens, long num_tokens,
                  const int* offsets, long num_sentences, const float* keep, const int* table, long table_len,
                  int window, int negatives, int epochs, double start_lr, unsigned seed);

}  // namespace wn
