// The bf16 GEMM (WATCHNEXT_GEMM=bf16): bf16 rounding against known values, the native AVX512_BF16
// kernel against the TypeScript reference (same rounded inputs, so only the float32 summation
// order differs: the fp32 GEMM's bound applies), thread-count independence, and the guard that
// keeps a CPU or SIMD level without AVX512_BF16 away from the kernel.
import { afterAll, describe, expect, it } from "vitest";
import { gemmBf16Reference, roundToBf16 } from "../src/engine/kernels/bf16-reference.js";
import {
  gemmPrecision,
  getNativeKernels,
  getReferenceKernels,
  layerGemm,
} from "../src/engine/kernels/index.js";
import type { Kernels } from "../src/engine/kernels/kernels.js";
import { Linear } from "../src/engine/layers/linear.js";
import {
  nativeGemmBf16,
  nativeSimdInfo,
  nativeThreads,
  setNativeSimdLevel,
  setNativeThreads,
} from "../src/engine/kernels/native.js";
import { Rng } from "../src/engine/rng.js";
import { worstRatio } from "./support/tolerance.js";

const F32_EPS = 2 ** -23;
const ref = getReferenceKernels();
let native: Kernels | null = null;
try {
  native = getNativeKernels();
} catch {
  native = null; // engine-native.test.ts fails when the addon should have loaded
}
const cpuBf16 = native !== null && nativeSimdInfo().cpuBf16;

// [input, its bf16 rounding]
const KNOWN: [number, number][] = [
  [1, 1],
  [1 + 2 ** -8, 1], // halfway between 1 and 1 + 2^-7: ties to the even mantissa
  [1 + 3 * 2 ** -8, 1 + 2 ** -6], // halfway, the even neighbour is above
  [1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -7], // just above halfway
  [-(1 + 3 * 2 ** -8), -(1 + 2 ** -6)],
  [Math.fround(Math.PI), 3.140625], // 0x40490fdb → 0x4049
  [Math.fround(0.1), 0.10009765625], // 0x3dcccccd → 0x3dcd
  [-2.5, -2.5],
  [3.4028234663852886e38, Infinity], // the largest float32 rounds up into ∞
  [65504, 65536],
  [1e-40, 0], // subnormal: treated as zero
  [0, 0],
];

function randomArray(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.uniform(lo, hi);
  return x;
}

describe("bf16 rounding (reference)", () => {
  it("rounds to nearest even at known values", () => {
    for (const [x, want] of KNOWN) expect(roundToBf16(x), `bf16(${x})`).toBe(want);
    expect(Number.isNaN(roundToBf16(NaN))).toBe(true);
    expect(roundToBf16(-Infinity)).toBe(-Infinity);
  });

  it("keeps 8 significant bits: the error is at most half a unit in the 8th bit", () => {
    const rng = new Rng(5);
    for (let i = 0; i < 10000; i++) {
      const x = Math.fround(rng.uniform(-1000, 1000));
      const r = roundToBf16(x);
      expect(Math.abs(r - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -8);
      expect(roundToBf16(r)).toBe(r);
    }
  });

  it("the reference gemm multiplies the rounded operands", () => {
    const a = new Float32Array([1 + 3 * 2 ** -8, 0.1]);
    const b = new Float32Array([Math.PI, 2]);
    const c = new Float32Array(1);
    gemmBf16Reference(false, false, 1, 1, 2, 1, a, 2, b, 1, 0, c, 1);
    expect(c[0]).toBe(Math.fround((1 + 2 ** -6) * 3.140625 + 0.10009765625 * 2));
  });
});

describe("gemm precision option", () => {
  it("reads WATCHNEXT_GEMM and rejects unknown values", () => {
    const saved = process.env.WATCHNEXT_GEMM;
    try {
      delete process.env.WATCHNEXT_GEMM;
      expect(gemmPrecision()).toBe("fp32");
      process.env.WATCHNEXT_GEMM = "bf16";
      expect(gemmPrecision()).toBe("bf16");
      process.env.WATCHNEXT_GEMM = "fp16";
      expect(() => gemmPrecision()).toThrow(/WATCHNEXT_GEMM/);
    } finally {
      if (saved === undefined) delete process.env.WATCHNEXT_GEMM;
      else process.env.WATCHNEXT_GEMM = saved;
    }
  });

  it("layers use kernels.gemm in fp32 and the emulation on the ts backend in bf16", () => {
    expect(layerGemm(ref, "fp32")).toBe(ref.gemm);
    expect(layerGemm(ref, "bf16")).toBe(gemmBf16Reference);
  });

  it("a Linear layer built under WATCHNEXT_GEMM=bf16 multiplies in bf16", () => {
    const saved = process.env.WATCHNEXT_GEMM;
    const [batch, inDim, outDim] = [5, 40, 24];
    const x = randomArray(new Rng(8), batch * inDim);
    const outputs: Float32Array[] = [];
    try {
      for (const precision of ["fp32", "bf16"]) {
        process.env.WATCHNEXT_GEMM = precision;
        const layer = new Linear(ref, "l", inDim, outDim, batch, new Rng(9));
        outputs.push(layer.forward(x, batch).slice(0, batch * outDim));
        const want = new Float32Array(batch * outDim);
        const gemm = precision === "bf16" ? gemmBf16Reference : ref.gemm;
        gemm(false, false, batch, outDim, inDim, 1, x, inDim, layer.weight.data, outDim, 0, want, outDim);
        expect(Array.from(outputs[outputs.length - 1]), precision).toEqual(Array.from(want)); // bias is 0
      }
    } finally {
      if (saved === undefined) delete process.env.WATCHNEXT_GEMM;
      else process.env.WATCHNEXT_GEMM = saved;
    }
    expect(Array.from(outputs[1])).not.toEqual(Array.from(outputs[0]));
  });
});

describe.runIf(native !== null)("bf16 guard", () => {
  it("offers the native bf16 GEMM exactly when the CPU reports AVX512_BF16", () => {
    const info = nativeSimdInfo();
    if (info.cpuBf16 && info.level === "avx512") {
      expect(info.gemmBf16).toMatch(/bf16/);
      expect(typeof layerGemm(native as Kernels, "bf16")).toBe("function");
    } else {
      expect(info.gemmBf16).toBeNull();
      expect(() => layerGemm(native as Kernels, "bf16")).toThrow(/AVX512_BF16/);
    }
  });
});

describe.runIf(cpuBf16)("native bf16 GEMM (AVX512_BF16)", () => {
  const nat = native as Kernels;
  const bf16 = nativeGemmBf16();
  const initialThreads = nativeThreads();
  const best = nativeSimdInfo().best;
  afterAll(() => {
    setNativeSimdLevel(best);
    setNativeThreads(initialThreads);
  });

  it("rounds A and B to bf16 exactly like the reference (k = 1 products with 1)", () => {
    const rng = new Rng(3);
    const xs = new Float32Array([...KNOWN.map(([x]) => x), ...randomArray(rng, 200, -50, 50)]);
    const want = xs.map(roundToBf16);
    const ones = new Float32Array(xs.length).fill(1);
    const n = xs.length;
    for (const ta of [false, true]) {
      // xs as an m×1 op(A) (both A packers), times a 1×1 B of one.
      const c = new Float32Array(n);
      bf16(ta, false, n, 1, 1, 1, xs, ta ? n : 1, ones, 1, 0, c, 1);
      expect(Array.from(c), `A packing, transA=${ta}`).toEqual(Array.from(want));
    }
    for (const tb of [false, true]) {
      // xs as a 1×n op(B) (both B packers), times a 1×1 A of one.
      const c = new Float32Array(n);
      bf16(false, tb, 1, n, 1, 1, ones, 1, xs, tb ? 1 : n, 0, c, n);
      expect(Array.from(c), `B packing, transB=${tb}`).toEqual(Array.from(want));
    }
  });

  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 13, 5],
    [13, 7, 29],
    [33, 65, 300],
    [257, 131, 37],
    [100, 50, 1031], // k past one 512-deep block, odd
    [128, 500, 256], // the sampled head's NT shape, scaled down
  ];
  for (const threads of [1, 2]) {
    it(`matches the reference NN/NT/TN/TT with alpha/beta and padded strides (${threads} thread(s))`, () => {
      setNativeThreads(threads);
      const rng = new Rng(17);
      for (const [m, n, k] of shapes) {
        for (const ta of [false, true]) {
          for (const tb of [false, true]) {
            for (const [alpha, beta] of [
              [1, 0],
              [-0.5, 1.5],
            ]) {
              const lda = (ta ? m : k) + (m % 3);
              const ldb = (tb ? k : n) + 1;
              const ldc = n + 2;
              const a = randomArray(rng, (ta ? k : m) * lda);
              const b = randomArray(rng, (tb ? n : k) * ldb);
              const c0 = randomArray(rng, m * ldc);
              if (beta === 0) c0.fill(Number.NaN); // beta = 0 must overwrite
              const cRef = c0.slice();
              const cNat = c0.slice();
              gemmBf16Reference(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cRef, ldc);
              bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cNat, ldc);
              // S = |α|·Σ|bf16(a)·bf16(b)| + |β·C|: both sides multiply the same rounded values.
              const scale = new Float32Array(m * ldc);
              for (let i = 0; i < m * ldc; i++) scale[i] = beta === 0 ? 0 : Math.abs(beta * c0[i]);
              const absA = a.map((x) => Math.abs(roundToBf16(x)));
              const absB = b.map((x) => Math.abs(roundToBf16(x)));
              ref.gemm(ta, tb, m, n, k, Math.abs(alpha), absA, lda, absB, ldb, 1, scale, ldc);
              const what = `gemmBf16 ${ta ? "T" : "N"}${tb ? "T" : "N"} ${m}x${n}x${k} α=${alpha} β=${beta}`;
              for (let i = 0; i < m; i++) {
                const row = (x: Float32Array): Float32Array => x.subarray(i * ldc, i * ldc + n);
                const ratio = worstRatio(row(cNat), row(cRef), 1e-30, 2 * (k + 2) * F32_EPS, row(scale));
                if (ratio > 1) expect(ratio, `${what} row ${i}`).toBeLessThanOrEqual(1);
                // The padding columns are the caller's: left untouched (NaN for β = 0).
                for (let j = n; j < ldc; j++)
                  expect(Object.is(cNat[i * ldc + j], c0[i * ldc + j]), `${what} pad`).toBe(true);
              }
            }
          }
        }
      }
    });
  }

  it("really computes in bf16: differs from the fp32 GEMM by the rounding of the inputs", () => {
    const rng = new Rng(23);
    const [m, n, k] = [64, 96, 256];
    const a = randomArray(rng, m * k);
    const b = randomArray(rng, k * n);
    const c16 = new Float32Array(m * n);
    const c32 = new Float32Array(m * n);
    bf16(false, false, m, n, k, 1, a, k, b, n, 0, c16, n);
    nat.gemm(false, false, m, n, k, 1, a, k, b, n, 0, c32, n);
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < m * n; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(c16[i] - c32[i]));
      maxAbs = Math.max(maxAbs, Math.abs(c32[i]));
    }
    // Products carry ~2^-8 relative error each: far above fp32 rounding, far below the values.
    expect(maxDiff).toBeGreaterThan(1e-4 * maxAbs);
    expect(maxDiff).toBeLessThan(0.05 * maxAbs);
  });

  it("gives bit-identical results with 1 and 2 threads", () => {
    const rng = new Rng(29);
    const [m, n, k] = [300, 700, 600];
    const a = randomArray(rng, m * k);
    const b = randomArray(rng, n * k);
    const c1 = new Float32Array(m * n);
    const c2 = new Float32Array(m * n);
    setNativeThreads(1);
    bf16(false, true, m, n, k, 1, a, k, b, k, 0, c1, n);
    setNativeThreads(2);
    bf16(false, true, m, n, k, 1, a, k, b, k, 0, c2, n);
    let same = true;
    for (let i = 0; i < m * n; i++) if (!Object.is(c1[i], c2[i])) same = false;
    expect(same).toBe(true);
  });

  it("is refused below SIMD level avx512 (and layerGemm says why)", () => {
    setNativeSimdLevel("avx2");
    try {
      expect(nativeSimdInfo().gemmBf16).toBeNull();
      const c = new Float32Array(1);
      const one = new Float32Array([1]);
      expect(() => bf16(false, false, 1, 1, 1, 1, one, 1, one, 1, 0, c, 1)).toThrow(/AVX512_BF16/);
      expect(() => layerGemm(nat, "bf16")).toThrow(/level: avx2/);
    } finally {
      setNativeSimdLevel(best);
    }
    expect(layerGemm(nat, "bf16")).toBe(bf16);
  });
});
