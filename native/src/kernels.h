// The engine kernels behind the N-API binding; semantics are those of src/engine/kernels/kernels.ts.
// Every kernel validates indices on the calling thread before any parallel work and reports bad
// input by throwing KernelError, which the binding turns into a JavaScript RangeError.
#pragma once
#include <stdexcept>
#include <string>

namespace wn {

struct KernelError : std::runtime_error {
  explicit KernelError(const std::string& what) : std::runtime_error(what) {}
};

void bias_act(float* x, long rows, long cols, long ld, const float* bias, bool relu);
void relu_backward(float* grad, const float* out, long n);
void col_sums(const float* x, long rows, long cols, long ld, float* out, float beta);

void embedding_bag_forward(const float* table, long table_rows, long dim, const int* offsets, long num_bags,
                           const int* indices, const float* weights, float* out, long ld_out, long out_offset,
                           bool accumulate);
void embedding_bag_backward(const float* grad_out, long ld_grad, long grad_offset, long dim, const int* offsets,
                            long num_bags, const int* indices, const float* weights, float* grad_table,
                            long table_rows);

// row_weights (or null = all 1): row r's loss counts row_weights[r] times and its gradient is
// scale·row_weights[r]·(softmax − onehot).
double softmax_cross_entropy(float* logits, long rows, long cols, const int* labels, float scale,
                             const float* row_weights);
double sampled_softmax(float* logits, long rows, long num_neg, const int* labels, const int* neg_ids,
                       const float* logq_true, const float* logq_neg, float scale, const float* row_weights);
double weighted_logistic(const float* logits, const float* labels, const float* weights, long n, float* grad,
                         float scale);

void adam(float* param, float* grad, float* m, float* v, long n, double lr, double beta1, double beta2, double eps,
          double step, double weight_decay);
void lazy_adam(float* table, float* grad, float* m, float* v, long dim, long table_rows, const int* rows,
               long num_rows, double lr, double beta1, double beta2, double eps, double step);

void top_k(const float* u, long num_queries, const float* v, long num_items, long dim, const float* item_bias,
           long k, const int* exclude_offsets, const int* exclude_items, int* out_items, float* out_scores);

void layer_norm_forward(const float* x, long rows, long dim, const float* gamma, const float* beta, float eps,
                        float* out, float* mean, float* rstd);
void layer_norm_backward(const float* x, long rows, long dim, const float* gamma, const float* mean, const float* rstd,
                         const float* grad_out, float* grad_x, bool accumulate, float* grad_gamma, float* grad_beta);
void gelu(const float* x, float* out, long n);
void gelu_backward(const float* x, float* grad, long n);
void dropout(float* x, long n, double rate, unsigned seed);
void add_in_place(const float* x, float* out, long n);
// Sequence b is rows offsets[b] .. offsets[b+1] (checked by the binding: non-decreasing, ≤ len slots).
void causal_attention_forward(const float* qkv, long num_seqs, long len, long heads, long head_dim, const int* offsets,
                              double rate, unsigned seed, float* probs, float* out);
void causal_attention_backward(const float* qkv, long num_seqs, long len, long heads, long head_dim,
                               const int* offsets, double rate, unsigned seed, const float* probs,
                               const float* grad_out, float* grad_qkv);

// Throws KernelError when the matrix is not positive definite.
void spd_inverse(float* a, long n);

}  // namespace wn
