// Runtime SIMD dispatch: the tables of target-specific kernels and the choice among them.
// Each table is defined in a translation unit compiled with its own -m flags (see binding.gyp);
// this header and everything that includes it are compiled for baseline x86-64.
#pragma once
#include <cstddef>

namespace wn {

// Register-blocked GEMM micro-kernel and the cache blocking that suits it.
struct GemmKernel {
  const char* name;
  int mr, nr;      // micro-tile: mr rows of A × nr columns of B
  int kc, mc, nc;  // cache blocks (mc multiple of mr, nc multiple of nr)
  // C[mv×nv] = beta·C + Σ_p Ap[p, 0..mr) ⊗ Bp[p, 0..nr) over kc steps, where Ap and Bp are packed
  // panels (mr resp. nr floats per step). mv ≤ mr and nv ≤ nr clip the tile at the matrix edge.
  // beta == 0 overwrites C without reading it.
  void (*micro)(long kc, const float* ap, const float* bp, float* c, long ldc, float beta, int mv, int nv);
};

// bf16 GEMM pieces (AVX512_BF16): operands are rounded to bf16 while packing, as 32-bit words
// holding two consecutive k entries (low half = even k), and multiplied with fp32 accumulation.
struct Bf16GemmKernel {
  const char* name;
  int mr, nr;  // micro-tile
  int kc, mc;  // cache blocks (kc even, so pairs never straddle a block; mc multiple of mr)
  // dst[q·width + r] = pair(src[r·ld + 2q], src[r·ld + 2q + 1]): k contiguous in each row.
  void (*pack_contig)(const float* src, long ld, int rows, long kc, unsigned* dst, int width);
  // dst[q·width + r] = pair(src[2q·ld + r], src[(2q + 1)·ld + r]): k is the strided dimension.
  // Both: rows ≤ width, rows past `rows` and the odd tail's second half are zero.
  void (*pack_strided)(const float* src, long ld, int rows, long kc, unsigned* dst, int width);
  // C[mv×nv] = alpha·Σ_q Ap[q]·Bp[q] + beta·C over kq pairs (beta == 0: C is not read).
  void (*micro)(long kq, const unsigned* ap, const unsigned* bp, float* c, long ldc, float alpha, float beta,
                int mv, int nv);
};

// Memory-bound vector loops used by the non-GEMM kernels.
struct VecOps {
  const char* name;
  // y[i] += a·x[i]
  void (*axpy)(long n, float a, const float* x, float* y);
  // x[i] = x[i] + bias[i], then max(·, 0) when relu
  void (*bias_act)(long n, float* x, const float* bias, bool relu);
  // out[i] += x[i]
  void (*add)(long n, const float* x, float* out);
  // z[i] = exp(z[i] − shift) for z[i] ≤ shift (softmax rows; −∞ gives exactly 0), returns Σ z[i].
  double (*exp_shift_sum)(long n, float* z, float shift);
  // Index of the first x[i] > thr (false for NaN), or n: top-k's scan for heap candidates.
  long (*next_above)(const float* x, long n, float thr);
  // One Adam step over n entries (see elementwise.cc for the formula; c1 = 1 − b1 and c2 = 1 − b2
  // are computed in double by the caller). When zero_grad the gradient
  // entries are cleared after use (lazy Adam).
  void (*adam)(long n, float* p, float* g, float* m, float* v, float b1, float c1, float b2, float c2, float step_size,
               float inv_sqrt_bc2, float eps, float decay, bool zero_grad);
  // Layer norm of one row of n (see transformer.cc): out may alias x; writes the row's mean and rstd.
  void (*layer_norm_row)(long n, const float* x, const float* gamma, const float* beta, float eps, float* out,
                         float* mean, float* rstd);
  // Backward of one row: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·gamma (written, or added
  // when accumulate); gg += dy·x̂ and gb += dy.
  void (*layer_norm_backward_row)(long n, const float* x, const float* gamma, float mean, float rstd, const float* dy,
                                  float* dx, bool accumulate, float* gg, float* gb);
  // GELU (tanh form) out[i] = gelu(x[i]); out may alias x. Backward: grad[i] *= gelu'(x[i]).
  void (*gelu)(long n, const float* x, float* out);
  void (*gelu_backward)(long n, const float* x, float* grad);
  // Counter-based dropout in place: entry i keeps x[i]·scale when fmix32(seed_mix + (index0 + i)·φ) ≥ threshold.
  void (*dropout)(long n, float* x, unsigned seed_mix, unsigned index0, unsigned threshold, float scale);
};

extern const GemmKernel gemm_portable;
extern const VecOps vec_portable;
#ifdef WATCHNEXT_X86
extern const GemmKernel gemm_avx2;
extern const GemmKernel gemm_avx512;
extern const VecOps vec_avx2;
extern const VecOps vec_avx512;
extern const Bf16GemmKernel gemm_avx512bf16;
#endif

// The active tables (chosen at load, or forced with WATCHNEXT_SIMD / set_simd_level).
const GemmKernel& gemm_kernel();
const VecOps& vec_ops();
// Highest level this CPU supports: "avx512", "avx2" or "portable".
const char* best_simd_level();
// Selects a level ≤ the CPU's best; returns false when the CPU lacks it or the name is unknown.
bool set_simd_level(const char* name);
const char* simd_level();
// True when the CPU reports AVX512_BF16 (cpuid 7.1 EAX bit 5) and the OS saves AVX-512 state.
bool cpu_has_avx512_bf16();
// The bf16 kernel when the CPU has AVX512_BF16 and the active level is avx512, else null: a CPU
// (or a WATCHNEXT_SIMD level) without it never reaches bf16 code.
const Bf16GemmKernel* gemm_bf16_kernel();

}  // namespace wn
