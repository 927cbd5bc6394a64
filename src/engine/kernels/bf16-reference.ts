/**
 * The TypeScript reference of the bf16 GEMM (native/src/gemm_bf16.cc): op(A) and op(B) rounded to
 * bfloat16 (the top 16 bits of a float32, round-to-nearest-even like vcvtne2ps2bf16), multiplied
 * with float32 accumulation. Subnormal inputs count as zero, as vdpbf16ps treats them (DAZ). It is
 * the oracle the native kernel is tested against and the bf16 path of the ts backend.
 */
import { referenceKernels } from "./reference.js";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** x rounded to the nearest bfloat16 (ties to even), as a number; NaN stays NaN, ±subnormal → ±0. */
export function roundToBf16(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7f800000) === 0x7f800000 && (bits & 0x007fffff) !== 0) return NaN;
  if ((bits & 0x7f800000) === 0) {
    u32[0] = bits & 0x80000000; // ±0 and subnormals (DAZ)
    return f32[0];
  }
  // Adding 0x7fff plus the lowest kept bit rounds half to even; an overflow carries into ±∞.
  u32[0] = ((bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000) >>> 0;
  return f32[0];
}

/** The m×k (or k×m when transposed) operand with every entry read rounded to bf16, densely stored. */
function rounded(src: Float32Array, rows: number, cols: number, ld: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[r * cols + c] = roundToBf16(src[r * ld + c]);
  return out;
}

/** C[m×n] = alpha·(bf16(op(A))·bf16(op(B))) + beta·C with float32 accumulation (Kernels.gemm's arguments). */
export function gemmBf16Reference(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
): void {
  const [ar, ac] = transA ? [k, m] : [m, k];
  const [br, bc] = transB ? [n, k] : [k, n];
  const ra = rounded(a, ar, ac, lda);
  const rb = rounded(b, br, bc, ldb);
  referenceKernels.gemm(transA, transB, m, n, k, alpha, ra, ac, rb, bc, beta, c, ldc);
}
