// Single-precision GEMM on row-major matrices: C = alpha·op(A)·op(B) + beta·C, with packed panels
// and the register-blocked micro-kernel of the active SIMD level (dispatch.h).
#pragma once

namespace wn {

// Spread over the thread pool when the product is large enough to pay for it.
void gemm(bool trans_a, bool trans_b, long m, long n, long k, float alpha, const float* a, long lda,
          const float* b, long ldb, float beta, float* c, long ldc);

// The same on the calling thread only (for callers that already run inside a pool task).
void gemm_serial(bool trans_a, bool trans_b, long m, long n, long k, float alpha, const float* a,
                 long lda, const float* b, long ldb, float beta, float* c, long ldc);

// The same product with op(A) and op(B) rounded to bf16 (nearest-even) and fp32 accumulation:
// C = alpha·(bf16(op(A))·bf16(op(B))) + beta·C. Requires gemm_bf16_kernel() (dispatch.h); without
// it this is the fp32 gemm. Results do not depend on the thread count.
void gemm_bf16(bool trans_a, bool trans_b, long m, long n, long k, float alpha, const float* a, long lda,
               const float* b, long ldb, float beta, float* c, long ldc);

}  // namespace wn
