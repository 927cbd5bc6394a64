// In-place inverse of a symmetric positive-definite matrix, blocked so that almost all the work is
// GEMM (EASE inverts item Gram matrices of 10k+ items): (1) right-looking blocked Cholesky
// A = L·Lᵀ, (2) X = L⁻¹ from the last block column backwards, (3) A⁻¹ = Xᵀ·X one block row at a
// time, then the lower triangle is mirrored. Only the lower triangle of the input is read. The
// nb×nb diagonal blocks are factored and inverted in double; everything else runs in float32 GEMM.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "gemm.h"
#include "kernels.h"

namespace wn {
namespace {

constexpr long kBlock = 256;

// Cholesky of the jb×jb diagonal block at d (row stride n) in double, lower factor written back.
void factor_diagonal(float* d, long jb, long n, long pivot0, std::vector<double>& w) {
  w.assign(jb * jb, 0.0);
  for (long i = 0; i < jb; i++)
    for (long j = 0; j <= i; j++) w[i * jb + j] = d[i * n + j];
  for (long i = 0; i < jb; i++) {
    for (long j = 0; j <= i; j++) {
      // Four running sums so the dot product vectorises (a single double sum would not).
      double part[4] = {0, 0, 0, 0};
      const double* wi = &w[i * jb];
      const double* wj = &w[j * jb];
      long p = 0;
      for (; p + 4 <= j; p += 4)
        for (int q = 0; q < 4; q++) part[q] += wi[p + q] * wj[p + q];
      for (; p < j; p++) part[0] += wi[p] * wj[p];
      const double s = w[i * jb + j] - ((part[0] + part[1]) + (part[2] + part[3]));
      if (j < i) {
        w[i * jb + j] = s / w[j * jb + j];
      } else {
        if (!(s > 0)) {
          throw KernelError("spdInverse: matrix is not positive definite (pivot " + std::to_string(pivot0 + i) +
                            " is " + std::to_string(s) + ")");
        }
        w[i * jb + i] = std::sqrt(s);
      }
    }
  }
  for (long i = 0; i < jb; i++)
    for (long j = 0; j < jb; j++) d[i * n + j] = j <= i ? static_cast<float>(w[i * jb + j]) : 0.0f;
}

// Inverse of the lower-triangular jb×jb block at d (row stride n) in double, written to out
// (row stride jb) with zeros above the diagonal.
void invert_lower(const float* d, long jb, long n, float* out, std::vector<double>& w) {
  w.assign(jb * jb, 0.0);
  // Row i: W[i, j] = −(Σ_{j ≤ p < i} L[i, p]·W[p, j]) / L[i, i], accumulated row-wise so the
  // inner loop runs over contiguous memory.
  for (long i = 0; i < jb; i++) {
    double* wi = &w[i * jb];
    for (long p = 0; p < i; p++) {
      const double lip = d[i * n + p];
      const double* wp = &w[p * jb];
      for (long j = 0; j <= p; j++) wi[j] += lip * wp[j];
    }
    const double inv = 1.0 / d[i * n + i];
    for (long j = 0; j < i; j++) wi[j] *= -inv;
    wi[i] = inv;
  }
  for (long i = 0; i < jb * jb; i++) out[i] = static_cast<float>(w[i]);
}

}  // namespace

void spd_inverse(float* a, long n) {
  if (n <= 0) return;
  const long nb = std::min(kBlock, n);
  std::vector<double> w;
  // Inverses of the diagonal blocks of L, computed in step 1 and reused in step 2.
  std::vector<float> diag_inv(n * nb);
  std::vector<float> panel(n * nb);
  // The strict upper triangle is cleared so triangular blocks can enter GEMM as dense blocks.
  for (long i = 0; i < n; i++) std::memset(a + i * n + i + 1, 0, sizeof(float) * (n - i - 1));

  // 1. Cholesky, one block column at a time.
  for (long j0 = 0; j0 < n; j0 += nb) {
    const long jb = std::min(nb, n - j0), r0 = j0 + jb, rows = n - r0;
    factor_diagonal(a + j0 * n + j0, jb, n, j0, w);
    float* inv = &diag_inv[j0 * nb];
    invert_lower(a + j0 * n + j0, jb, n, inv, w);
    if (rows == 0) break;
    // L21 = A21 · L11⁻ᵀ.
    for (long i = 0; i < rows; i++) std::memcpy(&panel[i * jb], a + (r0 + i) * n + j0, sizeof(float) * jb);
    gemm(false, true, rows, jb, jb, 1.0f, panel.data(), jb, inv, jb, 0.0f, a + r0 * n + j0, n);
    // A22 −= L21·L21ᵀ on the lower block triangle (each block row up to and including its diagonal).
    for (long i0 = r0; i0 < n; i0 += nb) {
      const long ib = std::min(nb, n - i0);
      gemm(false, true, ib, i0 + ib - r0, jb, -1.0f, a + i0 * n + j0, n, a + r0 * n + j0, n, 1.0f, a + i0 * n + r0,
           n);
    }
    // The diagonal-block updates also wrote above the diagonal; clear it again.
    for (long i0 = r0; i0 < n; i0 += nb) {
      const long ib = std::min(nb, n - i0);
      for (long i = 0; i < ib; i++) std::memset(a + (i0 + i) * n + i0 + i + 1, 0, sizeof(float) * (ib - i - 1));
    }
  }

  // 2. X = L⁻¹, block columns from last to first: X21 = −X22·L21·X11 with X22 already in place.
  const long last = (n - 1) / nb * nb;
  for (long j0 = last; j0 >= 0; j0 -= nb) {
    const long jb = std::min(nb, n - j0), r0 = j0 + jb, rows = n - r0;
    const float* inv = &diag_inv[j0 * nb];
    for (long i = 0; i < jb; i++) std::memcpy(a + (j0 + i) * n + j0, inv + i * jb, sizeof(float) * jb);
    if (rows == 0) continue;
    // panel ← X22·L21, block row by block row (X22 is lower triangular).
    float* q = panel.data();
    for (long i0 = r0; i0 < n; i0 += nb) {
      const long ib = std::min(nb, n - i0);
      gemm(false, false, ib, jb, i0 + ib - r0, 1.0f, a + i0 * n + r0, n, a + r0 * n + j0, n, 0.0f, q + (i0 - r0) * jb,
           jb);
    }
    gemm(false, false, rows, jb, jb, -1.0f, q, jb, inv, jb, 0.0f, a + r0 * n + j0, n);
  }

  // 3. A⁻¹ = Xᵀ·X: block row i needs only rows ≥ i0 of X, so rows are overwritten in increasing order.
  for (long i0 = 0; i0 < n; i0 += nb) {
    const long ib = std::min(nb, n - i0), width = i0 + ib;
    float* t = panel.data();
    gemm(true, false, ib, width, n - i0, 1.0f, a + i0 * n + i0, n, a + i0 * n, n, 0.0f, t, width);
    for (long i = 0; i < ib; i++) std::memcpy(a + (i0 + i) * n, t + i * width, sizeof(float) * (i0 + i + 1));
  }

  // Mirror the lower triangle into the upper one, in tiles for cache locality.
  constexpr long T = 64;
  for (long i0 = 0; i0 < n; i0 += T)
    for (long j0 = 0; j0 <= i0; j0 += T)
      for (long i = i0; i < std::min(i0 + T, n); i++)
        for (long j = j0; j < std::min(j0 + T, i); j++) a[j * n + i] = a[i * n + j];
}

}  // namespace wn
