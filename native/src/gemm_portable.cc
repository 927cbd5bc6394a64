// Portable GEMM micro-kernel (baseline x86-64 / any CPU): a 4×8 tile in plain loops that the
// compiler vectorises with the baseline instruction set.
#include "dispatch.h"

namespace wn {
namespace {

constexpr int MR = 4;
constexpr int NR = 8;

void micro(long kc, const float* ap, const float* bp, float* c, long ldc, float beta, int mv, int nv) {
  float acc[MR][NR] = {};
  for (long p = 0; p < kc; p++) {
    for (int r = 0; r < MR; r++) {
      const float av = ap[r];
      for (int j = 0; j < NR; j++) acc[r][j] += av * bp[j];
    }
    ap += MR;
    bp += NR;
  }
  for (int r = 0; r < mv; r++) {
    float* cr = c + r * ldc;
    for (int j = 0; j < nv; j++) cr[j] = beta == 0.0f ? acc[r][j] : acc[r][j] + beta * cr[j];
  }
}

}  // namespace

extern const GemmKernel gemm_portable = {"portable-4x8", MR, NR, 256, 128, 4096, micro};

}  // namespace wn
