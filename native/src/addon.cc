// N-API binding: thin synchronous wrappers that take raw pointers out of the typed arrays (no
// copies), check every length against the dimensions so bad input throws instead of corrupting
// memory, and call the kernels. JavaScript face: src/engine/kernels/native.ts.
#include <napi.h>

#include <cmath>
#include <string>

#include "dispatch.h"
#include "gemm.h"
#include "kernels.h"
#include "pool.h"
#include "sgns.h"

namespace {

using Info = Napi::CallbackInfo;

struct Call {
  const Info& info;
  const char* kernel;

  [[noreturn]] void fail_type(const std::string& msg) const {
    throw Napi::TypeError::New(info.Env(), std::string(kernel) + ": " + msg);
  }
  [[noreturn]] void fail_range(const std::string& msg) const {
    throw Napi::RangeError::New(info.Env(), std::string(kernel) + ": " + msg);
  }

  double num(size_t i, const char* name) const {
    double x;
    if (napi_get_value_double(info.Env(), info[i], &x) != napi_ok) fail_type(std::string(name) + " must be a number");
    return x;
  }
  // A non-negative integer dimension or stride.
  long dim(size_t i, const char* name) const {
    const double x = num(i, name);
    if (!(x >= 0) || x != std::floor(x) || x > 9.0e15) {
      fail_range(std::string(name) + " must be a non-negative integer, got " + std::to_string(x));
    }
    return static_cast<long>(x);
  }
  bool flag(size_t i, const char* name) const {
    bool b;
    if (napi_get_value_bool(info.Env(), info[i], &b) != napi_ok) fail_type(std::string(name) + " must be a boolean");
    return b;
  }
  bool is_null(size_t i) const { return info[i].IsNull() || info[i].IsUndefined(); }

  template <typename T>
  T* array(size_t i, const char* name, napi_typedarray_type want, const char* type_name, double need) const {
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value buffer;
    size_t offset;
    if (napi_get_typedarray_info(info.Env(), info[i], &type, &length, &data, &buffer, &offset) != napi_ok ||
        type != want) {
      fail_type(std::string(name) + " must be a " + type_name);
    }
    if (static_cast<double>(length) < need) {
      fail_range(std::string(name) + " holds " + std::to_string(length) + " elements, needs at least " +
                 std::to_string(static_cast<long>(need)));
    }
    return static_cast<T*>(data);
  }
  float* f32(size_t i, const char* name, double need) const {
    return array<float>(i, name, napi_float32_array, "Float32Array", need);
  }
  int* i32(size_t i, const char* name, double need) const {
    return array<int>(i, name, napi_int32_array, "Int32Array", need);
  }
  size_t length(size_t i) const {
    napi_typedarray_type type;
    size_t len = 0;
    napi_get_typedarray_info(info.Env(), info[i], &type, &len, nullptr, nullptr, nullptr);
    return len;
  }
  void stride(long ld, long cols, const char* name) const {
    if (ld < cols) {
      fail_range(std::string(name) + " " + std::to_string(ld) + " is below the row width " + std::to_string(cols));
    }
  }
};

// Elements a rows×cols matrix with row stride ld spans.
double span(long rows, long cols, long ld) {
  return rows == 0 || cols == 0 ? 0 : static_cast<double>(rows - 1) * ld + cols;
}

template <typename F>
Napi::Value guarded(const Info& info, F&& body) {
  try {
    return body();
  } catch (const wn::KernelError& e) {
    throw Napi::RangeError::New(info.Env(), e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(info.Env(), "native kernel: out of memory");
  }
}

Napi::Value GemmWith(const Info& info, const char* name, bool bf16) {
  Call c{info, name};
  const bool ta = c.flag(0, "transA"), tb = c.flag(1, "transB");
  const long m = c.dim(2, "m"), n = c.dim(3, "n"), k = c.dim(4, "k");
  const float alpha = static_cast<float>(c.num(5, "alpha"));
  const long lda = c.dim(7, "lda"), ldb = c.dim(9, "ldb"), ldc = c.dim(12, "ldc");
  const float beta = static_cast<float>(c.num(10, "beta"));
  const long ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
  if (ar > 0 && ac > 0) c.stride(lda, ac, "lda");
  if (br > 0 && bc > 0) c.stride(ldb, bc, "ldb");
  if (m > 0 && n > 0) c.stride(ldc, n, "ldc");
  const float* a = c.f32(6, "a", span(ar, ac, lda));
  const float* b = c.f32(8, "b", span(br, bc, ldb));
  float* cm = c.f32(11, "c", span(m, n, ldc));
  if (bf16) {
    // Never reach bf16 code on a CPU (or SIMD level) without it, and never fall back silently.
    if (wn::gemm_bf16_kernel() == nullptr) {
      throw Napi::Error::New(info.Env(), std::string(name) + ": needs AVX512_BF16 at SIMD level avx512 (CPU has it: " +
                                             (wn::cpu_has_avx512_bf16() ? "yes" : "no") +
                                             ", level: " + wn::simd_level() + ")");
    }
    wn::gemm_bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc);
  } else {
    wn::gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cm, ldc);
  }
  return info.Env().Undefined();
}

Napi::Value Gemm(const Info& info) { return GemmWith(info, "gemm", false); }
Napi::Value GemmBf16(const Info& info) { return GemmWith(info, "gemmBf16", true); }

Napi::Value BiasAct(const Info& info) {
  Call c{info, "biasAct"};
  const long rows = c.dim(1, "rows"), cols = c.dim(2, "cols"), ld = c.dim(3, "ld");
  if (rows > 0 && cols > 0) c.stride(ld, cols, "ld");
  float* x = c.f32(0, "x", span(rows, cols, ld));
  const float* bias = c.f32(4, "bias", cols);
  wn::bias_act(x, rows, cols, ld, bias, c.flag(5, "relu"));
  return info.Env().Undefined();
}

Napi::Value ReluBackward(const Info& info) {
  Call c{info, "reluBackward"};
  const long n = c.dim(2, "n");
  wn::relu_backward(c.f32(0, "grad", n), c.f32(1, "out", n), n);
  return info.Env().Undefined();
}

Napi::Value ColSums(const Info& info) {
  Call c{info, "colSums"};
  const long rows = c.dim(1, "rows"), cols = c.dim(2, "cols"), ld = c.dim(3, "ld");
  if (rows > 0 && cols > 0) c.stride(ld, cols, "ld");
  const float* x = c.f32(0, "x", span(rows, cols, ld));
  wn::col_sums(x, rows, cols, ld, c.f32(4, "out", cols), static_cast<float>(c.num(5, "beta")));
  return info.Env().Undefined();
}

// Rows of `dim` floats a table of `len` floats holds.
long table_rows(size_t len, long dim) { return dim == 0 ? 0 : static_cast<long>(len) / dim; }

// The CSR bag arguments of both embedding-bag kernels, at consecutive positions first (offsets),
// first + 1 (indices), first + 2 (weights or null): offsets checked non-decreasing and within the
// indices array, weights long enough.
struct Bags {
  const int* offsets;
  const int* indices;
  const float* weights;
  long count;
};

Bags read_bags(const Call& c, size_t first) {
  const int* offsets = c.i32(first, "offsets", 1);
  const int* indices = c.i32(first + 1, "indices", 0);
  const float* weights = c.is_null(first + 2) ? nullptr : c.f32(first + 2, "weights", 0);
  const size_t num_offsets = c.length(first), num_indices = c.length(first + 1);
  if (num_offsets == 0) c.fail_range("offsets must hold at least one entry (numBags + 1)");
  const long bags = static_cast<long>(num_offsets) - 1;
  for (long b = 0; b <= bags; b++) {
    if (offsets[b] < 0 || static_cast<size_t>(offsets[b]) > num_indices || (b > 0 && offsets[b] < offsets[b - 1])) {
      c.fail_range("offsets[" + std::to_string(b) + "] = " + std::to_string(offsets[b]) +
                   " is not a non-decreasing position within the " + std::to_string(num_indices) + " indices");
    }
  }
  if (weights != nullptr && c.length(first + 2) < static_cast<size_t>(offsets[bags])) {
    c.fail_range("weights holds " + std::to_string(c.length(first + 2)) + " entries, needs " +
                 std::to_string(offsets[bags]));
  }
  return {offsets, indices, weights, bags};
}

// Elements the dense side of an embedding bag spans (one row per bag: dim floats from offset, stride
// ld), after checking that a row fits its stride.
double bag_rows_span(const Call& c, long bags, long dim, long ld, long offset, const char* ld_name,
                     const char* offset_name) {
  if (bags == 0 || dim == 0) return 0;
  if (ld < offset + dim) c.fail_range(std::string(ld_name) + " is below " + offset_name + " + dim");
  return span(bags, offset + dim, ld);
}

Napi::Value EmbeddingBagForward(const Info& info) {
  Call c{info, "embeddingBagForward"};
  return guarded(info, [&] {
    const long dim = c.dim(1, "dim"), ld_out = c.dim(6, "ldOut"), out_offset = c.dim(7, "outOffset");
    const float* table = c.f32(0, "table", 0);
    const Bags b = read_bags(c, 2);
    float* out = c.f32(5, "out", bag_rows_span(c, b.count, dim, ld_out, out_offset, "ldOut", "outOffset"));
    wn::embedding_bag_forward(table, table_rows(c.length(0), dim), dim, b.offsets, b.count, b.indices, b.weights,
                              out, ld_out, out_offset, c.flag(8, "accumulate"));
    return info.Env().Undefined();
  });
}

Napi::Value EmbeddingBagBackward(const Info& info) {
  Call c{info, "embeddingBagBackward"};
  return guarded(info, [&] {
    const long ld_grad = c.dim(1, "ldGrad"), grad_offset = c.dim(2, "gradOffset"), dim = c.dim(3, "dim");
    const Bags b = read_bags(c, 4);
    const float* grad_out =
        c.f32(0, "gradOut", bag_rows_span(c, b.count, dim, ld_grad, grad_offset, "ldGrad", "gradOffset"));
    float* grad_table = c.f32(7, "gradTable", 0);
    wn::embedding_bag_backward(grad_out, ld_grad, grad_offset, dim, b.offsets, b.count, b.indices, b.weights,
                               grad_table, table_rows(c.length(7), dim));
    return info.Env().Undefined();
  });
}

Napi::Value SoftmaxCrossEntropy(const Info& info) {
  Call c{info, "softmaxCrossEntropy"};
  return guarded(info, [&] {
    const long rows = c.dim(1, "rows"), cols = c.dim(2, "cols");
    float* logits = c.f32(0, "logits", static_cast<double>(rows) * cols);
    const int* labels = c.i32(3, "labels", rows);
    const float* weights = c.is_null(5) ? nullptr : c.f32(5, "rowWeights", rows);
    const double loss =
        wn::softmax_cross_entropy(logits, rows, cols, labels, static_cast<float>(c.num(4, "scale")), weights);
    return Napi::Number::New(info.Env(), loss);
  });
}

Napi::Value SampledSoftmax(const Info& info) {
  Call c{info, "sampledSoftmax"};
  const long rows = c.dim(1, "rows"), neg = c.dim(2, "numNeg");
  float* logits = c.f32(0, "logits", static_cast<double>(rows) * (neg + 1));
  const int* labels = c.i32(3, "labels", rows);
  const int* neg_ids = c.i32(4, "negIds", neg);
  const float* logq_true = c.f32(5, "logQTrue", rows);
  const float* logq_neg = c.f32(6, "logQNeg", neg);
  const float* weights = c.is_null(8) ? nullptr : c.f32(8, "rowWeights", rows);
  const double loss = wn::sampled_softmax(logits, rows, neg, labels, neg_ids, logq_true, logq_neg,
                                          static_cast<float>(c.num(7, "scale")), weights);
  return Napi::Number::New(info.Env(), loss);
}

Napi::Value WeightedLogistic(const Info& info) {
  Call c{info, "weightedLogistic"};
  const long n = c.dim(3, "n");
  const double loss = wn::weighted_logistic(c.f32(0, "logits", n), c.f32(1, "labels", n), c.f32(2, "weights", n), n,
                                            c.f32(4, "grad", n), static_cast<float>(c.num(5, "scale")));
  return Napi::Number::New(info.Env(), loss);
}

Napi::Value Adam(const Info& info) {
  Call c{info, "adam"};
  const long n = c.dim(4, "n");
  wn::adam(c.f32(0, "param", n), c.f32(1, "grad", n), c.f32(2, "m", n), c.f32(3, "v", n), n, c.num(5, "lr"),
           c.num(6, "beta1"), c.num(7, "beta2"), c.num(8, "eps"), c.num(9, "step"), c.num(10, "weightDecay"));
  return info.Env().Undefined();
}

Napi::Value LazyAdam(const Info& info) {
  Call c{info, "lazyAdam"};
  return guarded(info, [&] {
    const long dim = c.dim(4, "dim"), num_rows = c.dim(6, "numRows");
    float* table = c.f32(0, "table", 0);
    const size_t len = c.length(0);
    float* grad = c.f32(1, "grad", static_cast<double>(len));
    float* m = c.f32(2, "m", static_cast<double>(len));
    float* v = c.f32(3, "v", static_cast<double>(len));
    const int* rows = c.i32(5, "rows", num_rows);
    wn::lazy_adam(table, grad, m, v, dim, table_rows(len, dim), rows, num_rows, c.num(7, "lr"), c.num(8, "beta1"),
                  c.num(9, "beta2"), c.num(10, "eps"), c.num(11, "step"));
    return info.Env().Undefined();
  });
}

Napi::Value TopK(const Info& info) {
  Call c{info, "topK"};
  const long nq = c.dim(1, "numQueries"), ni = c.dim(3, "numItems"), dim = c.dim(4, "dim"), k = c.dim(6, "k");
  if (ni > 2147483647L) c.fail_range("numItems must fit an Int32Array item id");
  const float* u = c.f32(0, "u", static_cast<double>(nq) * dim);
  const float* v = c.f32(2, "v", static_cast<double>(ni) * dim);
  const float* bias = c.is_null(5) ? nullptr : c.f32(5, "itemBias", ni);
  const int* ex_off = nullptr;
  const int* ex_items = nullptr;
  if (!c.is_null(7) || !c.is_null(8)) {
    if (c.is_null(7) || c.is_null(8)) c.fail_type("excludeOffsets and excludeItems must both be given or both be null");
    ex_off = c.i32(7, "excludeOffsets", nq + 1);
    const size_t num_ex = c.length(8);
    ex_items = c.i32(8, "excludeItems", 0);
    for (long q = 0; q <= nq; q++) {
      if (ex_off[q] < 0 || static_cast<size_t>(ex_off[q]) > num_ex || (q > 0 && ex_off[q] < ex_off[q - 1])) {
        c.fail_range("excludeOffsets[" + std::to_string(q) + "] = " + std::to_string(ex_off[q]) +
                     " is not a non-decreasing position within the " + std::to_string(num_ex) + " excluded items");
      }
    }
  }
  int* out_items = c.i32(9, "outItems", static_cast<double>(nq) * k);
  float* out_scores = c.f32(10, "outScores", static_cast<double>(nq) * k);
  wn::top_k(u, nq, v, ni, dim, bias, k, ex_off, ex_items, out_items, out_scores);
  return info.Env().Undefined();
}

Napi::Value SpdInverse(const Info& info) {
  Call c{info, "spdInverse"};
  return guarded(info, [&] {
    const long n = c.dim(1, "n");
    wn::spd_inverse(c.f32(0, "a", static_cast<double>(n) * n), n);
    return info.Env().Undefined();
  });
}

Napi::Value SgnsTrain(const Info& info) {
  Call c{info, "sgnsTrain"};
  return guarded(info, [&] {
    const long dim = c.dim(2, "dim");
    const float* keep = c.f32(5, "keepProb", 0);
    const long vocab = static_cast<long>(c.length(5));
    float* input = c.f32(0, "input", static_cast<double>(vocab) * dim);
    float* output = c.f32(1, "output", static_cast<double>(vocab) * dim);
    const int* tokens = c.i32(3, "tokens", 0);
    const int* offsets = c.i32(4, "offsets", 1);
    const int* table = c.i32(6, "negTable", 1);
    const long window = c.dim(7, "window"), negatives = c.dim(8, "negatives"), epochs = c.dim(9, "epochs");
    const double seed = c.num(11, "seed");
    if (!(seed >= 0 && seed < 4294967296.0 && seed == std::floor(seed))) {
      c.fail_range("seed must be an integer in [0, 2^32), got " + std::to_string(seed));
    }
    if (window > 1000000 || negatives > 1000000 || epochs > 1000000) c.fail_range("window, negatives and epochs must be at most 1e6");
    const double trained = wn::sgns_train(
        input, output, vocab, dim, tokens, static_cast<long>(c.length(3)), offsets, static_cast<long>(c.length(4)) - 1,
        keep, table, static_cast<long>(c.length(6)), static_cast<int>(window), static_cast<int>(negatives),
        static_cast<int>(epochs), c.num(10, "startLr"), static_cast<unsigned>(seed));
    return Napi::Number::New(info.Env(), trained);
  });
}

// A dropout rate in [0, 1) and a uint32 seed, at positions i and i + 1.
struct DropoutArgs {
  double rate;
  unsigned seed;
};

DropoutArgs dropout_args(const Call& c, size_t i) {
  const double rate = c.num(i, "rate");
  if (!(rate >= 0 && rate < 1)) c.fail_range("dropout rate must be in [0, 1), got " + std::to_string(rate));
  const double seed = c.num(i + 1, "seed");
  if (!(seed >= 0 && seed < 4294967296.0 && seed == std::floor(seed))) {
    c.fail_range("seed must be an integer in [0, 2^32), got " + std::to_string(seed));
  }
  return {rate, static_cast<unsigned>(seed)};
}

Napi::Value LayerNormForward(const Info& info) {
  Call c{info, "layerNormForward"};
  const long rows = c.dim(1, "rows"), dim = c.dim(2, "dim");
  const double eps = c.num(5, "eps");
  if (!(eps > 0)) c.fail_range("eps must be > 0");
  const double n = static_cast<double>(rows) * dim;
  wn::layer_norm_forward(c.f32(0, "x", n), rows, dim, c.f32(3, "gamma", dim), c.f32(4, "beta", dim),
                         static_cast<float>(eps), c.f32(6, "out", n), c.f32(7, "mean", rows), c.f32(8, "rstd", rows));
  return info.Env().Undefined();
}

Napi::Value LayerNormBackward(const Info& info) {
  Call c{info, "layerNormBackward"};
  const long rows = c.dim(1, "rows"), dim = c.dim(2, "dim");
  const double n = static_cast<double>(rows) * dim;
  wn::layer_norm_backward(c.f32(0, "x", n), rows, dim, c.f32(3, "gamma", dim), c.f32(4, "mean", rows),
                          c.f32(5, "rstd", rows), c.f32(6, "gradOut", n), c.f32(7, "gradX", n),
                          c.flag(8, "accumulate"), c.f32(9, "gradGamma", dim), c.f32(10, "gradBeta", dim));
  return info.Env().Undefined();
}

Napi::Value Gelu(const Info& info) {
  Call c{info, "gelu"};
  const long n = c.dim(2, "n");
  wn::gelu(c.f32(0, "x", n), c.f32(1, "out", n), n);
  return info.Env().Undefined();
}

Napi::Value GeluBackward(const Info& info) {
  Call c{info, "geluBackward"};
  const long n = c.dim(2, "n");
  wn::gelu_backward(c.f32(0, "x", n), c.f32(1, "grad", n), n);
  return info.Env().Undefined();
}

Napi::Value Dropout(const Info& info) {
  Call c{info, "dropout"};
  const long n = c.dim(1, "n");
  const DropoutArgs d = dropout_args(c, 2);
  wn::dropout(c.f32(0, "x", n), n, d.rate, d.seed);
  return info.Env().Undefined();
}

Napi::Value AddInPlace(const Info& info) {
  Call c{info, "addInPlace"};
  const long n = c.dim(2, "n");
  wn::add_in_place(c.f32(0, "x", n), c.f32(1, "out", n), n);
  return info.Env().Undefined();
}

// The shape arguments both attention kernels share (positions 1..5), checked: offsets holds
// numSeqs + 1 non-decreasing row positions, each sequence at most len slots.
struct AttentionShape {
  long seqs, len, heads, head_dim;
  const int* offsets;
  double rows;
  long d() const { return heads * head_dim; }
};

AttentionShape attention_shape(const Call& c) {
  AttentionShape s{c.dim(1, "numSeqs"), c.dim(2, "maxLen"), c.dim(3, "heads"), c.dim(4, "headDim"), nullptr, 0};
  if (s.heads < 1 || s.head_dim < 1) c.fail_range("heads and headDim must be at least 1");
  s.offsets = c.i32(5, "offsets", static_cast<double>(s.seqs) + 1);
  if (s.offsets[0] < 0) c.fail_range("offsets[0] = " + std::to_string(s.offsets[0]) + " is negative");
  for (long b = 0; b < s.seqs; b++) {
    const long n = static_cast<long>(s.offsets[b + 1]) - s.offsets[b];
    if (n < 0 || n > s.len) {
      c.fail_range("sequence " + std::to_string(b) + " spans offsets " + std::to_string(s.offsets[b]) + ".." +
                   std::to_string(s.offsets[b + 1]) + ", not 0.." + std::to_string(s.len) + " slots");
    }
  }
  s.rows = s.offsets[s.seqs];
  return s;
}

Napi::Value CausalAttentionForward(const Info& info) {
  Call c{info, "causalAttentionForward"};
  return guarded(info, [&] {
    const AttentionShape s = attention_shape(c);
    const DropoutArgs d = dropout_args(c, 6);
    const float* qkv = c.f32(0, "qkv", s.rows * 3 * s.d());
    float* probs = c.f32(8, "probs", static_cast<double>(s.seqs) * s.heads * s.len * s.len);
    float* out = c.f32(9, "out", s.rows * s.d());
    wn::causal_attention_forward(qkv, s.seqs, s.len, s.heads, s.head_dim, s.offsets, d.rate, d.seed, probs, out);
    return info.Env().Undefined();
  });
}

Napi::Value CausalAttentionBackward(const Info& info) {
  Call c{info, "causalAttentionBackward"};
  return guarded(info, [&] {
    const AttentionShape s = attention_shape(c);
    const DropoutArgs d = dropout_args(c, 6);
    const float* qkv = c.f32(0, "qkv", s.rows * 3 * s.d());
    const float* probs = c.f32(8, "probs", static_cast<double>(s.seqs) * s.heads * s.len * s.len);
    const float* grad_out = c.f32(9, "gradOut", s.rows * s.d());
    float* grad_qkv = c.f32(10, "gradQkv", s.rows * 3 * s.d());
    wn::causal_attention_backward(qkv, s.seqs, s.len, s.heads, s.head_dim, s.offsets, d.rate, d.seed, probs,
                                  grad_out, grad_qkv);
    return info.Env().Undefined();
  });
}

Napi::Value Threads(const Info& info) { return Napi::Number::New(info.Env(), wn::pool_threads()); }

Napi::Value SetThreads(const Info& info) {
  Call c{info, "setThreads"};
  const long n = c.dim(0, "threads");
  if (n < 1) c.fail_range("threads must be at least 1");
  wn::pool_set_threads(static_cast<int>(n));
  return Napi::Number::New(info.Env(), wn::pool_threads());
}

Napi::Value SimdInfo(const Info& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("level", wn::simd_level());
  o.Set("best", wn::best_simd_level());
  o.Set("gemm", wn::gemm_kernel().name);
  o.Set("vec", wn::vec_ops().name);
  const wn::Bf16GemmKernel* bf16 = wn::gemm_bf16_kernel();
  o.Set("cpuBf16", wn::cpu_has_avx512_bf16());
  o.Set("gemmBf16", bf16 == nullptr ? info.Env().Null() : Napi::String::New(info.Env(), bf16->name));
  return o;
}

Napi::Value SetSimdLevel(const Info& info) {
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(info.Env(), "setSimdLevel: level must be a string");
  }
  const std::string level = info[0].As<Napi::String>().Utf8Value();
  if (!wn::set_simd_level(level.c_str())) {
    throw Napi::RangeError::New(info.Env(), "setSimdLevel: '" + level +
                                                "' is unknown or not supported by this CPU (best: " +
                                                std::string(wn::best_simd_level()) + ")");
  }
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
  exports.Set("gemmBf16", Napi::Function::New(env, GemmBf16, "gemmBf16"));
  exports.Set("biasAct", Napi::Function::New(env, BiasAct, "biasAct"));
  exports.Set("reluBackward", Napi::Function::New(env, ReluBackward, "reluBackward"));
  exports.Set("colSums", Napi::Function::New(env, ColSums, "colSums"));
  exports.Set("layerNormForward", Napi::Function::New(env, LayerNormForward, "layerNormForward"));
  exports.Set("layerNormBackward", Napi::Function::New(env, LayerNormBackward, "layerNormBackward"));
  exports.Set("gelu", Napi::Function::New(env, Gelu, "gelu"));
  exports.Set("geluBackward", Napi::Function::New(env, GeluBackward, "geluBackward"));
  exports.Set("dropout", Napi::Function::New(env, Dropout, "dropout"));
  exports.Set("addInPlace", Napi::Function::New(env, AddInPlace, "addInPlace"));
  exports.Set("causalAttentionForward", Napi::Function::New(env, CausalAttentionForward, "causalAttentionForward"));
  exports.Set("causalAttentionBackward", Napi::Function::New(env, CausalAttentionBackward, "causalAttentionBackward"));
  exports.Set("embeddingBagForward", Napi::Function::New(env, EmbeddingBagForward, "embeddingBagForward"));
  exports.Set("embeddingBagBackward", Napi::Function::New(env, EmbeddingBagBackward, "embeddingBagBackward"));
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, SoftmaxCrossEntropy, "softmaxCrossEntropy"));
  exports.Set("sampledSoftmax", Napi::Function::New(env, SampledSoftmax, "sampledSoftmax"));
  exports.Set("weightedLogistic", Napi::Function::New(env, WeightedLogistic, "weightedLogistic"));
  exports.Set("adam", Napi::Function::New(env, Adam, "adam"));
  exports.Set("lazyAdam", Napi::Function::New(env, LazyAdam, "lazyAdam"));
  exports.Set("topK", Napi::Function::New(env, TopK, "topK"));
  exports.Set("spdInverse", Napi::Function::New(env, SpdInverse, "spdInverse"));
  exports.Set("sgnsTrain", Napi::Function::New(env, SgnsTrain, "sgnsTrain"));
  exports.Set("threads", Napi::Function::New(env, Threads, "threads"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("simdInfo", Napi::Function::New(env, SimdInfo, "simdInfo"));
  exports.Set("setSimdLevel", Napi::Function::New(env, SetSimdLevel, "setSimdLevel"));
  return exports;
}

}  // namespace

NODE_API_MODULE(watchnext_native, Init)
