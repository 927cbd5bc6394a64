/**
 * The TypeScript reference kernels against naive float64 formulas on random data, and the seeded
 * RNG's determinism and distributions. The native kernels are tested against this reference.
 */
import { describe, expect, it } from "vitest";
import { referenceKernels as K } from "../src/engine/kernels/reference.js";
import { Rng } from "../src/engine/rng.js";
import { expectClose } from "./support/tolerance.js";

function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

describe("reference gemm", () => {
  const rng = new Rng(11);
  for (const [transA, transB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    it(`matches the naive product (transA=${transA}, transB=${transB}) with strides, alpha, beta`, () => {
      const m = 7;
      const n = 5;
      const k = 9;
      const pad = 3;
      // Stored shapes: A is m×k (k×m when transposed), B is k×n (n×k when transposed).
      const aRows = transA ? k : m;
      const aCols = transA ? m : k;
      const bRows = transB ? n : k;
      const bCols = transB ? k : n;
      const lda = aCols + pad;
      const ldb = bCols + pad;
      const ldc = n + pad;
      const a = randomArray(rng, aRows * lda);
      const b = randomArray(rng, bRows * ldb);
      const c = randomArray(rng, m * ldc);
      const alpha = 0.7;
      const beta = -0.3;
      const expected = Float64Array.from(c);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) {
            const av = transA ? a[p * lda + i] : a[i * lda + p];
            const bv = transB ? b[j * ldb + p] : b[p * ldb + j];
            s += av * bv;
          }
          expected[i * ldc + j] = alpha * s + beta * c[i * ldc + j];
        }
      }
      K.gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
      expectClose(c, expected, 1e-5);
    });
  }

  it("with beta = 0 overwrites C, ignoring NaN already there", () => {
    const a = Float32Array.of(1, 2, 3, 4);
    const b = Float32Array.of(5, 6, 7, 8);
    const c = new Float32Array(4).fill(NaN);
    K.gemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2);
    expect(Array.from(c)).toEqual([19, 22, 43, 50]);
  });
});

describe("reference elementwise kernels", () => {
  const rng = new Rng(12);

  it("biasAct adds the bias and applies ReLU only when asked, respecting the row stride", () => {
    const rows = 4;
    const cols = 3;
    const ld = 5;
    const x = randomArray(rng, rows * ld);
    const bias = randomArray(rng, cols);
    const linear = x.slice();
    const relu = x.slice();
    K.biasAct(linear, rows, cols, ld, bias, false);
    K.biasAct(relu, rows, cols, ld, bias, true);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < ld; c++) {
        const i = r * ld + c;
        if (c >= cols) {
          expect(linear[i]).toBe(x[i]);
          expect(relu[i]).toBe(x[i]);
          continue;
        }
        const v = Math.fround(x[i] + bias[c]);
        expect(linear[i]).toBe(v);
        expect(relu[i]).toBe(Math.max(0, v));
      }
    }
  });

  it("reluBackward zeroes the gradient where the output is not positive", () => {
    const out = Float32Array.of(0, 1.5, 0, 2, 0.1);
    const grad = Float32Array.of(1, 2, 3, 4, 5);
    K.reluBackward(grad, out, 4);
    expect(Array.from(grad)).toEqual([0, 2, 0, 4, 5]);
  });

  it("colSums sums columns over a strided matrix, with beta", () => {
    const rows = 6;
    const cols = 4;
    const ld = 7;
    const x = randomArray(rng, rows * ld);
    const out = randomArray(rng, cols);
    const expected = Array.from(out, (o, c) => {
      let s = 0.5 * o;
      for (let r = 0; r < rows; r++) s += x[r * ld + c];
      return s;
    });
    K.colSums(x, rows, cols, ld, out, 0.5);
    expectClose(out, expected);
  });
});

describe("reference embedding bag", () => {
  const rng = new Rng(13);
  const rows = 10;
  const dim = 4;
  const table = randomArray(rng, rows * dim);
  // Bags: {1, 3, 3}, {}, {0}, {9, 2}.
  const offsets = Int32Array.of(0, 3, 3, 4, 6);
  const indices = Int32Array.of(1, 3, 3, 0, 9, 2);
  const weights = Float32Array.of(0.5, 2, -1, 3, 0.25, 1);

  function naiveForward(w: Float32Array | null): Float64Array {
    const out = new Float64Array(4 * dim);
    for (let b = 0; b < 4; b++) {
      const n = offsets[b + 1] - offsets[b];
      for (let i = offsets[b]; i < offsets[b + 1]; i++) {
        const wi = w === null ? 1 / n : w[i];
        for (let d = 0; d < dim; d++) out[b * dim + d] += wi * table[indices[i] * dim + d];
      }
    }
    return out;
  }

  for (const weighted of [false, true]) {
    it(`forward writes the ${weighted ? "weighted sum" : "mean"} into the output slot (empty bag = 0)`, () => {
      const w = weighted ? weights : null;
      const ld = 3 + dim + 2;
      const out = new Float32Array(4 * ld).fill(7);
      K.embeddingBagForward(table, dim, offsets, indices, w, out, ld, 3, false);
      const expected = naiveForward(w);
      for (let b = 0; b < 4; b++) {
        for (let c = 0; c < ld; c++) {
          const v = out[b * ld + c];
          if (c < 3 || c >= 3 + dim) expect(v).toBe(7);
          else expect(v).toBeCloseTo(expected[b * dim + c - 3], 5);
        }
      }
      // accumulate adds onto what the slot holds.
      K.embeddingBagForward(table, dim, offsets, indices, w, out, ld, 3, true);
      for (let b = 0; b < 4; b++) {
        for (let d = 0; d < dim; d++) expect(out[b * ld + 3 + d]).toBeCloseTo(2 * expected[b * dim + d], 5);
      }
    });

    it(`backward scatters ${weighted ? "weighted" : "mean"} gradients, summing repeated rows`, () => {
      const w = weighted ? weights : null;
      const ld = dim + 1;
      const gradOut = randomArray(rng, 4 * ld);
      const gradTable = randomArray(rng, rows * dim);
      const expected = Float64Array.from(gradTable);
      for (let b = 0; b < 4; b++) {
        const n = offsets[b + 1] - offsets[b];
        for (let i = offsets[b]; i < offsets[b + 1]; i++) {
          const wi = w === null ? 1 / n : w[i];
          for (let d = 0; d < dim; d++) expected[indices[i] * dim + d] += wi * gradOut[b * ld + 1 + d];
        }
      }
      K.embeddingBagBackward(gradOut, ld, 1, dim, offsets, indices, w, gradTable);
      expectClose(gradTable, expected);
    });
  }

  it("rejects an index outside the table", () => {
    const out = new Float32Array(dim);
    expect(() =>
      K.embeddingBagForward(table, dim, Int32Array.of(0, 1), Int32Array.of(rows), null, out, dim, 0, false),
    ).toThrow(/outside the table/);
  });
});

describe("reference losses", () => {
  const rng = new Rng(14);

  it.each([false, true])(
    "softmaxCrossEntropy: loss and scaled gradient equal the naive formulas (row weights: %s)",
    (weighted) => {
      const rows = 5;
      const cols = 7;
      const logits = randomArray(rng, rows * cols, 3);
      const labels = Int32Array.from({ length: rows }, () => rng.nextInt(cols));
      const weights = weighted ? Float32Array.of(0, 0.5, 1, 2, 3.5) : null;
      const original = logits.slice();
      const scale = 0.25;
      const loss = K.softmaxCrossEntropy(logits, rows, cols, labels, scale, weights);
      let expectedLoss = 0;
      for (let r = 0; r < rows; r++) {
        const w = weights === null ? 1 : weights[r];
        let z = 0;
        for (let c = 0; c < cols; c++) z += Math.exp(original[r * cols + c]);
        expectedLoss += w * (Math.log(z) - original[r * cols + labels[r]]);
        for (let c = 0; c < cols; c++) {
          const p = Math.exp(original[r * cols + c]) / z;
          expect(logits[r * cols + c]).toBeCloseTo(w * scale * (p - (c === labels[r] ? 1 : 0)), 6);
        }
      }
      expect(loss).toBeCloseTo(expectedLoss, 5);
    },
  );

  it("softmaxCrossEntropy is stable for huge logits", () => {
    const logits = Float32Array.of(1000, -1000, 999);
    const loss = K.softmaxCrossEntropy(logits, 1, 3, Int32Array.of(2), 1, null);
    expect(loss).toBeCloseTo(Math.log(1 + Math.exp(-1)) + 1, 5);
    expect(Array.from(logits).every(Number.isFinite)).toBe(true);
  });

  it.each([false, true])(
    "sampledSoftmax: logQ correction, accidental-hit masking, loss and gradient (row weights: %s)",
    (weighted) => {
      const rows = 4;
      const numNeg = 6;
      const width = 1 + numNeg;
      const labels = Int32Array.of(3, 8, 5, 3);
      const negIds = Int32Array.of(1, 3, 9, 5, 2, 3); // 3 and 5 are accidental hits for some rows
      const logQTrue = Float32Array.from(labels, () => Math.log(0.01 + rng.nextFloat() * 0.1));
      const logQNeg = Float32Array.from(negIds, () => Math.log(0.01 + rng.nextFloat() * 0.1));
      const logits = randomArray(rng, rows * width, 2);
      const original = logits.slice();
      const scale = 0.5;
      const weights = weighted ? Float32Array.of(2, 0, 0.25, 1.5) : null;
      const loss = K.sampledSoftmax(logits, rows, numNeg, labels, negIds, logQTrue, logQNeg, scale, weights);
      let expectedLoss = 0;
      for (let r = 0; r < rows; r++) {
        const w = weights === null ? 1 : weights[r];
        const z = [original[r * width] - logQTrue[r]];
        for (let j = 0; j < numNeg; j++) {
          z.push(negIds[j] === labels[r] ? -Infinity : original[r * width + 1 + j] - logQNeg[j]);
        }
        const sum = z.reduce((s, v) => s + Math.exp(v), 0);
        expectedLoss += w * (Math.log(sum) - z[0]);
        for (let c = 0; c < width; c++) {
          const g = w * scale * (Math.exp(z[c]) / sum - (c === 0 ? 1 : 0));
          expect(logits[r * width + c]).toBeCloseTo(g, 6);
          if (c > 0 && negIds[c - 1] === labels[r]) expect(logits[r * width + c]).toBe(0);
        }
      }
      expect(loss).toBeCloseTo(expectedLoss, 4);
    },
  );

  it("weightedLogistic: loss and gradient equal the naive formulas, finite for large |z|", () => {
    const n = 9;
    const logits = randomArray(rng, n, 3);
    logits[7] = 80;
    logits[8] = -80;
    const labels = Float32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : 0));
    labels[8] = 1;
    const weights = Float32Array.from({ length: n }, () => 0.5 + rng.nextFloat() * 3);
    const grad = new Float32Array(n);
    const loss = K.weightedLogistic(logits, labels, weights, n, grad, 0.1);
    let expectedLoss = 0;
    for (let i = 0; i < n; i++) {
      const z = logits[i];
      const sigma = 1 / (1 + Math.exp(-z));
      // log σ(z) = −log(1 + e^{−z}), log(1 − σ(z)) = −log(1 + e^{z}), safe in float64 for |z| ≤ 80.
      expectedLoss +=
        weights[i] * (labels[i] * Math.log1p(Math.exp(-z)) + (1 - labels[i]) * Math.log1p(Math.exp(z)));
      expect(grad[i]).toBeCloseTo(0.1 * weights[i] * (sigma - labels[i]), 6);
    }
    expect(loss).toBeCloseTo(expectedLoss, 4);
    expect(loss).toBeGreaterThan(80 * weights[8] - 1); // label 1 with z = −80 costs ≈ 80·w
  });
});

describe("reference optimizers", () => {
  const rng = new Rng(15);

  function textbookAdam(
    p: number[],
    grads: number[][],
    lr: number,
    b1: number,
    b2: number,
    eps: number,
    wd: number,
  ): number[] {
    const m = p.map(() => 0);
    const v = p.map(() => 0);
    const out = [...p];
    grads.forEach((g, s) => {
      const t = s + 1;
      for (let i = 0; i < out.length; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        const mHat = m[i] / (1 - b1 ** t);
        const vHat = v[i] / (1 - b2 ** t);
        out[i] = out[i] * (1 - lr * wd) - (lr * mHat) / (Math.sqrt(vHat) + eps);
      }
    });
    return out;
  }

  for (const wd of [0, 0.1]) {
    it(`adam matches the textbook update over 3 steps (weightDecay ${wd})`, () => {
      const n = 8;
      const param = randomArray(rng, n);
      const start = Array.from(param);
      const grads = [0, 1, 2].map(() => Array.from(randomArray(rng, n)));
      const m = new Float32Array(n);
      const v = new Float32Array(n);
      grads.forEach((g, s) =>
        K.adam(param, Float32Array.from(g), m, v, n, 0.01, 0.9, 0.999, 1e-8, s + 1, wd),
      );
      expectClose(param, textbookAdam(start, grads, 0.01, 0.9, 0.999, 1e-8, wd), 1e-5);
    });
  }

  it("lazyAdam updates listed rows like adam, zeroes their gradient, leaves other rows and moments alone", () => {
    const dim = 3;
    const table = randomArray(rng, 5 * dim);
    const grad = randomArray(rng, 5 * dim);
    const m = randomArray(rng, 5 * dim, 0.1);
    const v = Float32Array.from(randomArray(rng, 5 * dim), (x) => x * x);
    const before = { table: table.slice(), grad: grad.slice(), m: m.slice(), v: v.slice() };
    const rows = Int32Array.of(3, 1, 99);
    K.lazyAdam(table, grad, m, v, dim, rows, 2, 0.01, 0.9, 0.999, 1e-8, 4);
    for (let r = 0; r < 5; r++) {
      const o = r * dim;
      const touched = r === 3 || r === 1;
      if (!touched) {
        for (const key of ["table", "grad", "m", "v"] as const) {
          const now = { table, grad, m, v }[key];
          expect(Array.from(now.subarray(o, o + dim))).toEqual(Array.from(before[key].subarray(o, o + dim)));
        }
        continue;
      }
      const p = before.table.slice(o, o + dim);
      K.adam(
        p,
        before.grad.slice(o, o + dim),
        before.m.slice(o, o + dim),
        before.v.slice(o, o + dim),
        dim,
        0.01,
        0.9,
        0.999,
        1e-8,
        4,
        0,
      );
      expect(Array.from(table.subarray(o, o + dim))).toEqual(Array.from(p));
      expect(Array.from(grad.subarray(o, o + dim))).toEqual([0, 0, 0]);
    }
  });
});

describe("reference topK", () => {
  const rng = new Rng(16);

  function naiveTopK(
    u: Float32Array,
    q: number,
    v: Float32Array,
    numItems: number,
    dim: number,
    bias: Float32Array | null,
    k: number,
    exclude: Set<number>,
  ): { items: number[]; scores: number[] } {
    const all: { item: number; score: number }[] = [];
    for (let j = 0; j < numItems; j++) {
      if (exclude.has(j)) continue;
      let s = bias === null ? 0 : bias[j];
      for (let d = 0; d < dim; d++) s += u[q * dim + d] * v[j * dim + d];
      all.push({ item: j, score: Math.fround(s) });
    }
    all.sort((a, b) => b.score - a.score || a.item - b.item);
    const top = all.slice(0, k);
    while (top.length < k) top.push({ item: -1, score: -Infinity });
    return { items: top.map((t) => t.item), scores: top.map((t) => t.score) };
  }

  it("returns the best k per query, sorted, with exclusions, bias and ties by lower index", () => {
    const numQueries = 4;
    const numItems = 60;
    const dim = 5;
    const k = 10;
    const u = randomArray(rng, numQueries * dim);
    const v = randomArray(rng, numItems * dim);
    // Items 40 and 41 duplicate item 7: exact ties.
    for (const dup of [40, 41]) v.set(v.subarray(7 * dim, 8 * dim), dup * dim);
    const bias = randomArray(rng, numItems, 0.1);
    bias[40] = bias[7];
    bias[41] = bias[7];
    const excludeOffsets = Int32Array.of(0, 3, 3, 5, 6);
    const excludeItems = Int32Array.of(7, 12, 59, 0, 1, 41);
    for (const b of [null, bias]) {
      const outItems = new Int32Array(numQueries * k);
      const outScores = new Float32Array(numQueries * k);
      K.topK(u, numQueries, v, numItems, dim, b, k, excludeOffsets, excludeItems, outItems, outScores);
      for (let q = 0; q < numQueries; q++) {
        const exclude = new Set(excludeItems.subarray(excludeOffsets[q], excludeOffsets[q + 1]));
        const expected = naiveTopK(u, q, v, numItems, dim, b, k, exclude);
        expect(Array.from(outItems.subarray(q * k, (q + 1) * k))).toEqual(expected.items);
        expectClose(outScores.subarray(q * k, (q + 1) * k), expected.scores, 1e-6);
      }
    }
  });

  it("pads with item -1 and score -Infinity when fewer than k items remain", () => {
    const u = Float32Array.of(1, 0);
    const v = Float32Array.of(1, 0, 2, 0, 3, 0);
    const outItems = new Int32Array(5);
    const outScores = new Float32Array(5);
    K.topK(u, 1, v, 3, 2, null, 5, Int32Array.of(0, 1), Int32Array.of(2), outItems, outScores);
    expect(Array.from(outItems)).toEqual([1, 0, -1, -1, -1]);
    expect(Array.from(outScores)).toEqual([2, 1, -Infinity, -Infinity, -Infinity]);
  });
});

describe("reference spdInverse", () => {
  const rng = new Rng(17);

  it("inverts a random SPD matrix: A·A⁻¹ = I and the result is symmetric", () => {
    const n = 40;
    const b = randomArray(rng, n * n);
    const a = new Float32Array(n * n);
    K.gemm(false, true, n, n, n, 1 / n, b, n, b, n, 0, a, n);
    for (let i = 0; i < n; i++) a[i * n + i] += 0.5;
    const inv = a.slice();
    K.spdInverse(inv, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < n; p++) s += a[i * n + p] * inv[p * n + j];
        expect(Math.abs(s - (i === j ? 1 : 0))).toBeLessThan(1e-4);
        expect(inv[i * n + j]).toBe(inv[j * n + i]);
      }
    }
  });

  it("throws on a matrix that is not positive definite", () => {
    const a = Float32Array.of(1, 2, 2, 1); // eigenvalues 3 and −1
    expect(() => K.spdInverse(a, 2)).toThrow(/not positive definite/);
  });
});

describe("Rng", () => {
  it("is deterministic per seed and differs between seeds", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 20 }, () => a.nextUint32());
    const sb = Array.from({ length: 20 }, () => b.nextUint32());
    const sc = Array.from({ length: 20 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    expect(sa.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
  });

  it("nextFloat is uniform on [0, 1) and nextInt(n) hits every value about equally", () => {
    const rng = new Rng(7);
    let sum = 0;
    let min = 1;
    let max = 0;
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      const x = rng.nextFloat();
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / N - 0.5)).toBeLessThan(0.01);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 70_000; i++) counts[rng.nextInt(7)]++;
    // χ² with 6 degrees of freedom: 22.5 is the 0.999 quantile.
    const chi2 = counts.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
    expect(chi2).toBeLessThan(22.5);
    const big = rng.nextInt(3_000_000_000);
    expect(big).toBeGreaterThanOrEqual(0);
    expect(big).toBeLessThan(3_000_000_000);
    expect(() => rng.nextInt(0)).toThrow(/nextInt/);
  });

  it("normal has mean 0 and variance 1", () => {
    const rng = new Rng(8);
    const N = 100_000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < N; i++) {
      const x = rng.normal();
      s += x;
      s2 += x * x;
    }
    expect(Math.abs(s / N)).toBeLessThan(0.02);
    expect(Math.abs(s2 / N - 1)).toBeLessThan(0.02);
  });

  it("shuffle permutes, reproducibly", () => {
    const a = Int32Array.from({ length: 50 }, (_, i) => i);
    const b = a.slice();
    new Rng(3).shuffle(a);
    new Rng(3).shuffle(b);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("permutation is a uniform, reproducible ordering of 0..n-1", () => {
    expect(Array.from(new Rng(4).permutation(30))).toEqual(Array.from(new Rng(4).permutation(30)));
    expect(Array.from(new Rng(4).permutation(30)).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 30 }, (_, i) => i),
    );
    expect(new Rng(4).permutation(0).length).toBe(0);
    // Each of the 6 orders of 3 elements about equally often (expected 1000 each, sd ≈ 29).
    const rng = new Rng(9);
    const counts = new Map<string, number>();
    for (let t = 0; t < 6000; t++) {
      const key = Array.from(rng.permutation(3)).join("");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it("fork gives reproducible, distinct streams; state can be saved and restored", () => {
    const parent1 = new Rng(5);
    const parent2 = new Rng(5);
    const f1 = parent1.fork(1);
    const f2 = parent2.fork(1);
    expect(f1.nextUint32()).toBe(f2.nextUint32());
    const g = new Rng(5).fork(2);
    expect(new Rng(5).fork(1).nextUint32()).not.toBe(g.nextUint32());
    const rng = new Rng(9);
    rng.nextUint32();
    const state = rng.getState();
    const next = [rng.nextUint32(), rng.nextUint32()];
    rng.setState(state);
    expect([rng.nextUint32(), rng.nextUint32()]).toEqual(next);
  });
});
