// Native kernels against the TypeScript reference on seeded random data, at ordinary and awkward
// shapes (1x1, 7x13, 257x1031, ...), on every SIMD level this CPU runs and with 1 and 2 threads.
// Tolerances are stated per kernel: exact where both sides round the same float operations,
// otherwise a bound scaled by the size of the sum (float32 accumulation in a different order).
// The addon must load unless WATCHNEXT_BACKEND=ts (the run without the native build); the
// comparisons run whenever it loads, also under WATCHNEXT_BACKEND=ts (README "Set up").
import { afterAll, describe, expect, it, vi } from "vitest";
import { getKernels, getNativeKernels, getReferenceKernels } from "../src/engine/kernels/index.js";
import type { Kernels } from "../src/engine/kernels/kernels.js";
import {
  nativeSimdInfo,
  nativeThreads,
  setNativeSimdLevel,
  setNativeThreads,
  type NativeSimdInfo,
} from "../src/engine/kernels/native.js";
import { Rng } from "../src/engine/rng.js";
import { worstRatio } from "./support/tolerance.js";

const forcedTs = process.env.WATCHNEXT_BACKEND === "ts";
let native: Kernels | null = null;
let loadError: unknown = null;
try {
  native = getNativeKernels();
} catch (err) {
  loadError = err;
}
const ref = getReferenceKernels();
const F32_EPS = 2 ** -23;

function randomArray(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.uniform(lo, hi);
  return x;
}

function randomInts(rng: Rng, n: number, bound: number): Int32Array {
  const x = new Int32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.nextInt(bound);
  return x;
}

/** Bitwise-equal arrays, reporting the first differing index (fast on large typed arrays). */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) expect(actual[i], `${what} [${i}]`).toBe(expected[i]);
  }
}

/** Scale for an Adam result: |old parameter| + |step taken| per entry. */
function adamScale(before: Float32Array, after: Float32Array): Float64Array {
  const s = new Float64Array(before.length);
  for (let i = 0; i < s.length; i++) s[i] = Math.abs(before[i]) + Math.abs(after[i] - before[i]) + 1e-30;
  return s;
}

/** The m×n output of a row-major matrix with row stride ld, and the padding columns n..ld−1. */
function splitPadding(c: Float32Array, m: number, n: number, ld: number): [Float32Array, Float32Array] {
  const out = new Float32Array(m * n);
  const pad = new Float32Array(m * (ld - n));
  for (let i = 0; i < m; i++) {
    out.set(c.subarray(i * ld, i * ld + n), i * n);
    pad.set(c.subarray(i * ld + n, (i + 1) * ld), i * (ld - n));
  }
  return [out, pad];
}

/** Query q's float64 score u_q·v_j + b_j for every item j. */
function exactScores(
  u: Float32Array,
  v: Float32Array,
  bias: Float32Array,
  q: number,
  dim: number,
  numItems: number,
): Float64Array {
  const s = new Float64Array(numItems);
  for (let j = 0; j < numItems; j++) {
    let dot = bias[j];
    for (let d = 0; d < dim; d++) dot += u[q * dim + d] * v[j * dim + d];
    s[j] = dot;
  }
  return s;
}

function absolute(x: Float32Array): Float32Array {
  return x.map(Math.abs);
}

describe("native backend", () => {
  it("loads the addon (set WATCHNEXT_BACKEND=ts to run the suite without it)", () => {
    if (forcedTs) {
      expect(getKernels().backend).toBe("ts");
      return;
    }
    expect(loadError).toBeNull();
    expect(native?.backend).toBe("native");
    expect(getKernels().backend).toBe("native");
    expect(nativeThreads()).toBeGreaterThanOrEqual(1);
  });
});

describe("backend selection", () => {
  afterAll(() => {
    vi.doUnmock("../src/engine/kernels/native.js");
    vi.resetModules();
  });

  it("falls back to the reference with one warning when the addon cannot load", async () => {
    vi.resetModules();
    vi.doMock("../src/engine/kernels/native.js", () => ({
      loadNativeKernels: () => {
        throw new Error("watchnext native kernels unavailable: test double");
      },
    }));
    const saved = process.env.WATCHNEXT_BACKEND;
    delete process.env.WATCHNEXT_BACKEND;
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const fresh = await import("../src/engine/kernels/index.js");
      expect(fresh.getKernels().backend).toBe("ts");
      expect(fresh.getKernels().backend).toBe("ts");
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toMatch(/test double.*reference/);
      expect(() => fresh.getNativeKernels()).toThrow(/test double/);
    } finally {
      warn.mockRestore();
      if (saved === undefined) delete process.env.WATCHNEXT_BACKEND;
      else process.env.WATCHNEXT_BACKEND = saved;
    }
  });

  it("honours WATCHNEXT_BACKEND and rejects unknown values", async () => {
    const saved = process.env.WATCHNEXT_BACKEND;
    try {
      for (const [value, expected] of [
        ["ts", "ts"],
        ["bogus", null],
      ] as const) {
        vi.resetModules();
        process.env.WATCHNEXT_BACKEND = value;
        const fresh = await import("../src/engine/kernels/index.js");
        if (expected === null) expect(() => fresh.getKernels()).toThrow(/WATCHNEXT_BACKEND/);
        else expect(fresh.getKernels().backend).toBe(expected);
      }
    } finally {
      if (saved === undefined) delete process.env.WATCHNEXT_BACKEND;
      else process.env.WATCHNEXT_BACKEND = saved;
    }
  });
});

const LEVELS: NativeSimdInfo["level"][] = ["portable", "avx2", "avx512"];

// The comparisons call both backends directly, whatever WATCHNEXT_BACKEND selects: they run whenever
// the addon is built. Without it they are reported as skipped; that is only allowed under
// WATCHNEXT_BACKEND=ts, otherwise "loads the addon" above fails.
describe.skipIf(native === null)("native kernels match the reference", () => {
  const nat = native as Kernels;
  const best = native === null ? "portable" : nativeSimdInfo().best;
  const levels = LEVELS.slice(0, LEVELS.indexOf(best) + 1);
  const initialThreads = native === null ? 1 : nativeThreads();
  afterAll(() => {
    setNativeSimdLevel(best);
    setNativeThreads(initialThreads);
  });

  // GEMM: |native − ref| ≤ 2·(k+2)·ε·S with S = |α|·Σ_p |op(A)_ip·op(B)_pj| + |β·C_ij|, the
  // worst-case float32 bound for two different summation orders.
  const gemmShapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 13, 5],
    [13, 7, 29],
    [33, 65, 300],
    [257, 1031, 37],
    [100, 50, 1031],
    // Narrow outputs (n well below a multiple of the 32-wide tile) take the transposed path.
    [512, 97, 1024],
    [300, 33, 700],
  ];
  // Every level with 2 threads, the best one also with 1.
  const gemmRuns = levels.flatMap((level) =>
    (level === best ? [1, 2] : [2]).map((threads) => [level, threads] as const),
  );
  for (const [level, threads] of gemmRuns) {
    {
      it(`gemm NN/NT/TN/TT with alpha/beta and padded strides (${level}, ${threads} thread(s))`, () => {
        setNativeSimdLevel(level);
        setNativeThreads(threads);
        const rng = new Rng(11);
        for (const [m, n, k] of gemmShapes) {
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
                if (beta === 0) c0.fill(Number.NaN); // beta = 0 must overwrite, not scale
                const cRef = c0.slice();
                const cNat = c0.slice();
                ref.gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cRef, ldc);
                nat.gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, cNat, ldc);
                const scale = new Float32Array(m * ldc);
                for (let i = 0; i < m * ldc; i++) scale[i] = beta === 0 ? 0 : Math.abs(beta * c0[i]);
                ref.gemm(ta, tb, m, n, k, Math.abs(alpha), absolute(a), lda, absolute(b), ldb, 1, scale, ldc);
                const what = `gemm ${ta ? "T" : "N"}${tb ? "T" : "N"} ${m}x${n}x${k} α=${alpha} β=${beta}`;
                const [outNat, padNat] = splitPadding(cNat, m, n, ldc);
                const [outRef] = splitPadding(cRef, m, n, ldc);
                const [outScale] = splitPadding(scale, m, n, ldc);
                const ratio = worstRatio(outNat, outRef, 1e-30, 2 * (k + 2) * F32_EPS, outScale);
                expect(ratio, what).toBeLessThanOrEqual(1);
                // The columns past n are the caller's: both sides leave them as they were (NaN for β = 0).
                expectSame(padNat, splitPadding(c0, m, n, ldc)[1], `${what} padding`);
              }
            }
          }
        }
      });
    }
  }

  it("gemm gives bit-identical results with 1 and 2 threads", () => {
    const rng = new Rng(12);
    const [m, n, k] = [300, 700, 200];
    const a = randomArray(rng, m * k);
    const b = randomArray(rng, k * n);
    const c1 = new Float32Array(m * n);
    const c2 = new Float32Array(m * n);
    setNativeThreads(1);
    nat.gemm(false, true, m, n, k, 1, a, k, b, k, 0, c1, n);
    setNativeThreads(2);
    nat.gemm(false, true, m, n, k, 1, a, k, b, k, 0, c2, n);
    expectSame(c2, c1, "gemm 1 vs 2 threads");
  });

  const denseShapes: [number, number][] = [
    [1, 1],
    [7, 13],
    [257, 1031],
  ];

  for (const level of levels) {
    it(`biasAct, reluBackward and colSums (${level})`, () => {
      setNativeSimdLevel(level);
      const rng = new Rng(21);
      for (const [rows, cols] of denseShapes) {
        const ld = cols + 3;
        const bias = randomArray(rng, cols);
        for (const relu of [false, true]) {
          // Exact: both sides round the same single float addition.
          const x = randomArray(rng, rows * ld);
          const xRef = x.slice();
          ref.biasAct(xRef, rows, cols, ld, bias, relu);
          nat.biasAct(x, rows, cols, ld, bias, relu);
          expectSame(x, xRef, `biasAct ${rows}x${cols} relu=${relu}`);
        }
        const out = randomArray(rng, rows * cols);
        const grad = randomArray(rng, rows * cols);
        const gradRef = grad.slice();
        ref.reluBackward(gradRef, out, rows * cols);
        nat.reluBackward(grad, out, rows * cols);
        expectSame(grad, gradRef, `reluBackward ${rows}x${cols}`);
        for (const beta of [0, 1, 0.5]) {
          // Same per-column summation order on both sides: ≤ rows·ε of Σ|x| covers any reassociation.
          const x = randomArray(rng, rows * ld);
          const o = randomArray(rng, cols);
          const oRef = o.slice();
          ref.colSums(x, rows, cols, ld, oRef, beta);
          nat.colSums(x, rows, cols, ld, o, beta);
          expect(
            worstRatio(o, oRef, 1e-30, (rows + 2) * F32_EPS, new Float64Array(cols).fill(rows + 1)),
          ).toBeLessThanOrEqual(1);
        }
      }
    });
  }

  it("embedding bag forward/backward (mean and weighted, empty bags, offsets, accumulate)", () => {
    const rng = new Rng(31);
    for (const [numBags, dim, tableRows] of [
      [1, 1, 1],
      [7, 13, 5],
      [257, 64, 1031],
      [40, 1031, 50],
    ]) {
      const offsets = new Int32Array(numBags + 1);
      for (let b = 0; b < numBags; b++) offsets[b + 1] = offsets[b] + (b % 5 === 3 ? 0 : 1 + rng.nextInt(50));
      const nnz = offsets[numBags];
      const indices = randomInts(rng, nnz, tableRows);
      const table = randomArray(rng, tableRows * dim);
      for (const weights of [null, randomArray(rng, nnz, 0, 2)]) {
        for (const accumulate of [false, true]) {
          const ldOut = dim + 7;
          const outOffset = 3;
          const out = randomArray(rng, numBags * ldOut);
          const outRef = out.slice();
          ref.embeddingBagForward(
            table,
            dim,
            offsets,
            indices,
            weights,
            outRef,
            ldOut,
            outOffset,
            accumulate,
          );
          nat.embeddingBagForward(table, dim, offsets, indices, weights, out, ldOut, outOffset, accumulate);
          // Σ of ≤ 50 terms of magnitude ≤ 2: bound 1e-5 absolute + 1e-5 relative.
          expect(worstRatio(out, outRef, 1e-5, 1e-5)).toBeLessThanOrEqual(1);
        }
        const gradOut = randomArray(rng, numBags * (dim + 5));
        const gt = randomArray(rng, tableRows * dim);
        const gtRef = gt.slice();
        ref.embeddingBagBackward(gradOut, dim + 5, 2, dim, offsets, indices, weights, gtRef);
        nat.embeddingBagBackward(gradOut, dim + 5, 2, dim, offsets, indices, weights, gt);
        // A row can collect many bags' gradients: bound scales with the hits per row.
        expect(worstRatio(gt, gtRef, 1e-4, 1e-5)).toBeLessThanOrEqual(1);
      }
    }
  });

  for (const level of levels) {
    it(`full softmax cross-entropy, unweighted and row-weighted: loss (rel 1e-5) and scaled gradients (abs 3e-6·scale) (${level})`, () => {
      setNativeSimdLevel(level);
      const rng = new Rng(41);
      for (const [rows, cols] of [...denseShapes, [64, 1]] as [number, number][]) {
        for (const weights of [null, randomArray(rng, rows, 0, 3)]) {
          const logits = randomArray(rng, rows * cols, -8, 8);
          const labels = randomInts(rng, rows, cols);
          const lr = logits.slice();
          const scale = 1 / rows;
          const lossRef = ref.softmaxCrossEntropy(lr, rows, cols, labels, scale, weights);
          const lossNat = nat.softmaxCrossEntropy(logits, rows, cols, labels, scale, weights);
          expect(Math.abs(lossNat - lossRef)).toBeLessThanOrEqual(1e-5 * Math.abs(lossRef) + 1e-6);
          expect(worstRatio(logits, lr, 3e-6 * scale, 1e-5)).toBeLessThanOrEqual(1);
        }
      }
    });

    it(`sampled softmax with logQ correction and accidental-hit masking (${level})`, () => {
      setNativeSimdLevel(level);
      const rng = new Rng(51);
      for (const [rows, numNeg] of [
        [1, 1],
        [7, 13],
        [257, 1031],
      ]) {
        const vocab = 40;
        const logits = randomArray(rng, rows * (1 + numNeg), -6, 6);
        const labels = randomInts(rng, rows, vocab);
        const negIds = randomInts(rng, numNeg, vocab); // small vocabulary: many accidental hits
        if (rows === 1) negIds[0] = labels[0];
        const logQTrue = randomArray(rng, rows, -9, -1);
        const logQNeg = randomArray(rng, numNeg, -9, -1);
        const weights = rows > 1 ? randomArray(rng, rows, 0, 3) : null;
        const lr = logits.slice();
        const lossRef = ref.sampledSoftmax(lr, rows, numNeg, labels, negIds, logQTrue, logQNeg, 0.5, weights);
        const lossNat = nat.sampledSoftmax(
          logits,
          rows,
          numNeg,
          labels,
          negIds,
          logQTrue,
          logQNeg,
          0.5,
          weights,
        );
        expect(Math.abs(lossNat - lossRef)).toBeLessThanOrEqual(1e-5 * Math.abs(lossRef) + 1e-6);
        expect(worstRatio(logits, lr, 1.5e-6, 1e-5)).toBeLessThanOrEqual(1);
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < numNeg; j++)
            if (negIds[j] === labels[r]) expect(logits[r * (1 + numNeg) + 1 + j]).toBe(0);
        }
      }
    });
  }

  it("weighted logistic loss (rel 1e-6) and gradients (abs 1e-7)", () => {
    const rng = new Rng(61);
    for (const n of [1, 13, 1031 * 257]) {
      const z = randomArray(rng, n, -30, 30);
      const y = new Float32Array(n);
      for (let i = 0; i < n; i++) y[i] = rng.nextInt(2);
      const w = randomArray(rng, n, 0, 3);
      const g = new Float32Array(n);
      const gRef = new Float32Array(n);
      const lossRef = ref.weightedLogistic(z, y, w, n, gRef, 0.25);
      const lossNat = nat.weightedLogistic(z, y, w, n, g, 0.25);
      expect(Math.abs(lossNat - lossRef)).toBeLessThanOrEqual(1e-6 * Math.abs(lossRef) + 1e-9);
      expect(worstRatio(g, gRef, 1e-7, 1e-6)).toBeLessThanOrEqual(1);
    }
  });

  for (const level of levels) {
    it(`adam (with and without weight decay) and lazy adam (${level})`, () => {
      setNativeSimdLevel(level);
      const rng = new Rng(71);
      for (const n of [1, 13, 257 * 1031]) {
        for (const [step, wd] of [
          [1, 0],
          [10, 0.01],
        ]) {
          const p = randomArray(rng, n);
          const p0 = p.slice();
          const g = randomArray(rng, n);
          const m = randomArray(rng, n, -0.1, 0.1);
          const v = randomArray(rng, n, 0, 0.01);
          const [pr, gr, mr, vr] = [p.slice(), g.slice(), m.slice(), v.slice()];
          ref.adam(pr, gr, mr, vr, n, 1e-2, 0.9, 0.999, 1e-8, step, wd);
          nat.adam(p, g, m, v, n, 1e-2, 0.9, 0.999, 1e-8, step, wd);
          // Float32 against float64 arithmetic: a few ulp of the magnitudes that enter each update.
          expect(worstRatio(m, mr, 4 * F32_EPS * 0.2, 0)).toBeLessThanOrEqual(1);
          expect(worstRatio(v, vr, 4 * F32_EPS * 0.011, 0)).toBeLessThanOrEqual(1);
          expect(worstRatio(p, pr, 0, 8 * F32_EPS, adamScale(p0, pr))).toBeLessThanOrEqual(1);
        }
      }
      for (const [tableRows, dim, used] of [
        [1, 1, 1],
        [13, 7, 5],
        [1031, 64, 257],
      ]) {
        const rows = new Int32Array(used);
        for (let i = 0; i < used; i++) rows[i] = (i * 7919) % tableRows; // unique: 7919 is prime
        const size = tableRows * dim;
        const t = randomArray(rng, size);
        const g = new Float32Array(size);
        for (const r of rows) for (let d = 0; d < dim; d++) g[r * dim + d] = rng.uniform(-1, 1);
        const m = randomArray(rng, size, -0.1, 0.1);
        const v = randomArray(rng, size, 0, 0.01);
        const [tr, gr, mr, vr] = [t.slice(), g.slice(), m.slice(), v.slice()];
        const t0 = t.slice();
        ref.lazyAdam(tr, gr, mr, vr, dim, rows, used, 1e-2, 0.9, 0.999, 1e-8, 3);
        nat.lazyAdam(t, g, m, v, dim, rows, used, 1e-2, 0.9, 0.999, 1e-8, 3);
        expect(g.every((x) => x === 0)).toBe(true);
        expect(worstRatio(t, tr, 0, 8 * F32_EPS, adamScale(t0, tr))).toBeLessThanOrEqual(1);
        expect(worstRatio(m, mr, 4 * F32_EPS * 0.2, 0)).toBeLessThanOrEqual(1);
        const touched = new Set(rows);
        for (let r = 0; r < tableRows; r++) {
          if (touched.has(r)) continue;
          for (let d = 0; d < dim; d++) expect(t[r * dim + d]).toBe(t0[r * dim + d]);
        }
      }
    });
  }

  it("topK: exact ties and order on integer data, −1/−∞ tail, exclusions", () => {
    const rng = new Rng(81);
    for (const [numQueries, numItems, dim, k] of [
      [1, 1, 1, 1],
      [7, 13, 5, 20],
      [70, 2100, 8, 10],
      [300, 1100, 3, 40],
      [3, 0, 4, 5],
      [2, 5, 0, 3],
    ]) {
      // Small integers: every score is exact in float32, so results must match bit for bit.
      const u = new Float32Array(numQueries * dim).map(() => rng.nextInt(5) - 2);
      const v = new Float32Array(numItems * dim).map(() => rng.nextInt(5) - 2);
      const bias = new Float32Array(numItems).map(() => rng.nextInt(3));
      const exOff = new Int32Array(numQueries + 1);
      const ex: number[] = [];
      for (let q = 0; q < numQueries; q++) {
        const count = rng.nextInt(Math.min(numItems, 12) + 1);
        for (let e = 0; e < count; e++) ex.push(rng.nextInt(numItems));
        exOff[q + 1] = ex.length;
      }
      const exItems = Int32Array.from(ex);
      for (const [b, eo, ei] of [
        [null, null, null],
        [bias, exOff, exItems],
      ] as const) {
        const items = new Int32Array(numQueries * k);
        const scores = new Float32Array(numQueries * k);
        const itemsRef = new Int32Array(numQueries * k);
        const scoresRef = new Float32Array(numQueries * k);
        ref.topK(u, numQueries, v, numItems, dim, b, k, eo, ei, itemsRef, scoresRef);
        nat.topK(u, numQueries, v, numItems, dim, b, k, eo, ei, items, scores);
        expectSame(items, itemsRef, `topK items ${numQueries}x${numItems}`);
        expectSame(scores, scoresRef, `topK scores ${numQueries}x${numItems}`);
      }
    }
  });

  it("topK on real-valued data: scores within 1e-5·dim, items are the float64 top k up to near-ties", () => {
    const rng = new Rng(82);
    const [numQueries, numItems, dim, k] = [257, 1031, 33, 50];
    const u = randomArray(rng, numQueries * dim);
    const v = randomArray(rng, numItems * dim);
    const bias = randomArray(rng, numItems, -0.1, 0.1);
    const items = new Int32Array(numQueries * k);
    const scores = new Float32Array(numQueries * k);
    const itemsRef = new Int32Array(numQueries * k);
    const scoresRef = new Float32Array(numQueries * k);
    ref.topK(u, numQueries, v, numItems, dim, bias, k, null, null, itemsRef, scoresRef);
    nat.topK(u, numQueries, v, numItems, dim, bias, k, null, null, items, scores);
    // |u_d v_d| ≤ 1: float32 accumulation in any order stays within ~dim·2^-24·dim of float64.
    const tol = 1e-5 * dim;
    expect(worstRatio(scores, scoresRef, tol, 0)).toBeLessThanOrEqual(1);
    let swapped = 0;
    for (let q = 0; q < numQueries; q++) {
      const exact = exactScores(u, v, bias, q, dim, numItems);
      const order = Array.from(exact.keys()).sort((a, b) => exact[b] - exact[a] || a - b);
      const kth = exact[order[k - 1]];
      const trueTop = new Set(order.slice(0, k));
      for (const [got, gotScores, side] of [
        [items, scores, "native"],
        [itemsRef, scoresRef, "reference"],
      ] as const) {
        const row = Array.from(got.subarray(q * k, (q + 1) * k));
        expect(new Set(row).size, `${side} query ${q}: distinct items`).toBe(k);
        for (let r = 0; r < k; r++) {
          const item = row[r];
          // Identity: the score reported at rank r is the score of the item reported there.
          expect(Math.abs(gotScores[q * k + r] - exact[item]), `${side} q${q} r${r}`).toBeLessThanOrEqual(
            tol,
          );
          // Membership: an item outside the float64 top k may only stand in for a near-tie at the cut.
          if (!trueTop.has(item))
            expect(kth - exact[item], `${side} q${q} item ${item}`).toBeLessThanOrEqual(2 * tol);
        }
        // ...and a float64 top-k item left out must itself be one of those near-ties.
        const returned = new Set(row);
        for (const item of trueTop)
          if (!returned.has(item))
            expect(exact[item] - kth, `${side} q${q} missing ${item}`).toBeLessThanOrEqual(2 * tol);
      }
      for (let r = 0; r < k; r++) {
        const a = items[q * k + r];
        const b = itemsRef[q * k + r];
        if (a === b) continue;
        // A different item at the same rank: only a swap of two near-tied scores.
        swapped++;
        expect(Math.abs(exact[a] - exact[b]), `q${q} rank ${r}: items ${a} vs ${b}`).toBeLessThanOrEqual(
          2 * tol,
        );
      }
    }
    // Near-ties are rare at this tolerance: identity is really being compared, not excused.
    expect(swapped).toBeLessThan(0.01 * numQueries * k);
  });

  it("spdInverse matches the reference (1e-4 of max|A⁻¹|) and A·A⁻¹ ≈ I", () => {
    const rng = new Rng(91);
    for (const n of [1, 7, 257, 600]) {
      // A = XᵀX/r + I: symmetric positive definite with a moderate condition number.
      const r = n + 10;
      const x = randomArray(rng, r * n);
      const a = new Float32Array(n * n);
      ref.gemm(true, false, n, n, r, 1 / r, x, n, x, n, 0, a, n);
      for (let i = 0; i < n; i++) a[i * n + i] += 1;
      const aRef = a.slice();
      const aNat = a.slice();
      ref.spdInverse(aRef, n);
      nat.spdInverse(aNat, n);
      let maxAbs = 0;
      for (const val of aRef) maxAbs = Math.max(maxAbs, Math.abs(val));
      expect(worstRatio(aNat, aRef, 1e-4 * maxAbs, 0)).toBeLessThanOrEqual(1);
      const prod = new Float32Array(n * n);
      ref.gemm(false, false, n, n, n, 1, a, n, aNat, n, 0, prod, n);
      for (let i = 0; i < n; i++) prod[i * n + i] -= 1;
      let worst = 0;
      for (const e of prod) worst = Math.max(worst, Math.abs(e));
      expect(worst).toBeLessThan(1e-4 * n);
    }
  });

  it("rejects bad input with RangeError instead of touching memory", () => {
    const a = new Float32Array(4);
    expect(() => nat.gemm(false, false, 3, 3, 3, 1, a, 3, a, 3, 0, a, 3)).toThrow(RangeError);
    expect(() => nat.gemm(false, false, 2, 2, 2, 1, a, 1, a, 2, 0, a, 2)).toThrow(/lda/);
    const table = new Float32Array(8);
    const out = new Float32Array(4);
    expect(() =>
      nat.embeddingBagForward(
        table,
        4,
        Int32Array.from([0, 1]),
        Int32Array.from([2]),
        null,
        out,
        4,
        0,
        false,
      ),
    ).toThrow(/index 2 is outside the table's 2 rows/);
    expect(() => nat.softmaxCrossEntropy(new Float32Array(3), 1, 3, Int32Array.from([3]), 1, null)).toThrow(
      RangeError,
    );
    expect(() =>
      nat.lazyAdam(table, table, table, table, 4, Int32Array.from([5]), 1, 0.1, 0.9, 0.99, 1e-8, 1),
    ).toThrow(/lazyAdam: index 5/);
    const notPd = Float32Array.from([1, 2, 2, 1]);
    expect(() => nat.spdInverse(notPd, 2)).toThrow(/not positive definite/);
  });
});
