/**
 * The TypeScript reference of every engine kernel (see kernels.ts for the contract of each). It is
 * the fallback backend when the native addon is unavailable and the oracle the native kernels are
 * tested against, so it favours plain loops with the obvious meaning, in a cache-friendly order,
 * with sums accumulated in float64 where a dot product is formed.
 */
import type { Kernels } from "./kernels.js";
import { sgnsTrain } from "./sgns-reference.js";
import {
  addInPlace,
  causalAttentionBackward,
  causalAttentionForward,
  dropout,
  gelu,
  geluBackward,
  layerNormBackward,
  layerNormForward,
} from "./transformer-reference.js";

function gemm(
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
  // beta = 0 overwrites C, so NaN/garbage in an uninitialised output never leaks through.
  for (let i = 0; i < m; i++) {
    const ci = i * ldc;
    if (beta === 0) c.fill(0, ci, ci + n);
    else if (beta !== 1) for (let j = 0; j < n; j++) c[ci + j] *= beta;
  }
  if (alpha === 0 || k === 0) return;
  if (!transB) {
    // Rows of B are contiguous: the i-k-j order streams B and C rows (axpy in the inner loop).
    if (!transA) {
      for (let i = 0; i < m; i++) {
        const ci = i * ldc;
        const ai = i * lda;
        for (let p = 0; p < k; p++) {
          const s = alpha * a[ai + p];
          if (s === 0) continue;
          const bp = p * ldb;
          for (let j = 0; j < n; j++) c[ci + j] += s * b[bp + j];
        }
      }
    } else {
      // op(A) = Aᵀ with A stored k×m: walk A row by row (p outer) so its reads stay contiguous.
      for (let p = 0; p < k; p++) {
        const ap = p * lda;
        const bp = p * ldb;
        for (let i = 0; i < m; i++) {
          const s = alpha * a[ap + i];
          if (s === 0) continue;
          const ci = i * ldc;
          for (let j = 0; j < n; j++) c[ci + j] += s * b[bp + j];
        }
      }
    }
    return;
  }
  // op(B) = Bᵀ with B stored n×k: each C entry is a dot product of two contiguous rows.
  for (let i = 0; i < m; i++) {
    const ci = i * ldc;
    for (let j = 0; j < n; j++) {
      const bj = j * ldb;
      let s = 0;
      if (!transA) {
        const ai = i * lda;
        for (let p = 0; p < k; p++) s += a[ai + p] * b[bj + p];
      } else {
        for (let p = 0; p < k; p++) s += a[p * lda + i] * b[bj + p];
      }
      c[ci + j] += alpha * s;
    }
  }
}

function biasAct(
  x: Float32Array,
  rows: number,
  cols: number,
  ld: number,
  bias: Float32Array,
  relu: boolean,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * ld;
    if (relu) {
      for (let c = 0; c < cols; c++) {
        const v = x[o + c] + bias[c];
        x[o + c] = v > 0 ? v : 0;
      }
    } else {
      for (let c = 0; c < cols; c++) x[o + c] += bias[c];
    }
  }
}

function reluBackward(grad: Float32Array, out: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) if (!(out[i] > 0)) grad[i] = 0;
}

function colSums(
  x: Float32Array,
  rows: number,
  cols: number,
  ld: number,
  out: Float32Array,
  beta: number,
): void {
  if (beta === 0) out.fill(0, 0, cols);
  else if (beta !== 1) for (let c = 0; c < cols; c++) out[c] *= beta;
  for (let r = 0; r < rows; r++) {
    const o = r * ld;
    for (let c = 0; c < cols; c++) out[c] += x[o + c];
  }
}

function checkRow(index: number, numRows: number, kernel: string): void {
  if (!(index >= 0 && index < numRows)) {
    throw new RangeError(`${kernel}: index ${index} is outside the table's ${numRows} rows`);
  }
}

/**
 * The loop both embedding-bag kernels share. Entry i of a bag pairs table row indices[i] with the
 * bag's dense row (at bag·ld + offset), weighted by weights[i] or 1/(bag size) for a mean. Forward
 * adds w·table[row] into the dense row (cleared first unless accumulating); backward adds w·dense
 * row into table[row].
 */
function bagAxpy(
  table: Float32Array,
  dim: number,
  offsets: Int32Array,
  indices: Int32Array,
  weights: Float32Array | null,
  dense: Float32Array,
  ld: number,
  offset: number,
  backward: boolean,
  clearDense: boolean,
): void {
  const kernel = backward ? "embeddingBagBackward" : "embeddingBagForward";
  const numRows = Math.floor(table.length / dim);
  const numBags = offsets.length - 1;
  for (let bag = 0; bag < numBags; bag++) {
    const o = bag * ld + offset;
    if (clearDense) dense.fill(0, o, o + dim);
    const start = offsets[bag];
    const end = offsets[bag + 1];
    if (end <= start) continue;
    const mean = 1 / (end - start);
    for (let i = start; i < end; i++) {
      const row = indices[i];
      checkRow(row, numRows, kernel);
      const w = weights === null ? mean : weights[i];
      const t = row * dim;
      if (backward) for (let d = 0; d < dim; d++) table[t + d] += w * dense[o + d];
      else for (let d = 0; d < dim; d++) dense[o + d] += w * table[t + d];
    }
  }
}

function embeddingBagForward(
  table: Float32Array,
  dim: number,
  offsets: Int32Array,
  indices: Int32Array,
  weights: Float32Array | null,
  out: Float32Array,
  ldOut: number,
  outOffset: number,
  accumulate: boolean,
): void {
  bagAxpy(table, dim, offsets, indices, weights, out, ldOut, outOffset, false, !accumulate);
}

function embeddingBagBackward(
  gradOut: Float32Array,
  ldGrad: number,
  gradOffset: number,
  dim: number,
  offsets: Int32Array,
  indices: Int32Array,
  weights: Float32Array | null,
  gradTable: Float32Array,
): void {
  bagAxpy(gradTable, dim, offsets, indices, weights, gradOut, ldGrad, gradOffset, true, false);
}

/**
 * Overwrites the row logits[o, o + width) with scale·softmax(row) and returns its log-sum-exp;
 * `max` is the row's maximum (subtracted for stability). The caller subtracts `scale` at the label.
 */
function softmaxInPlace(logits: Float32Array, o: number, width: number, max: number, scale: number): number {
  let sum = 0;
  for (let c = 0; c < width; c++) sum += Math.exp(logits[o + c] - max);
  const logSum = Math.log(sum) + max;
  for (let c = 0; c < width; c++) logits[o + c] = scale * Math.exp(logits[o + c] - logSum);
  return logSum;
}

function softmaxCrossEntropy(
  logits: Float32Array,
  rows: number,
  cols: number,
  labels: Int32Array,
  scale: number,
  rowWeights: Float32Array | null,
): number {
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    const w = rowWeights === null ? 1 : rowWeights[r];
    const label = labels[r];
    if (!(label >= 0 && label < cols)) {
      throw new RangeError(`softmaxCrossEntropy: label ${label} of row ${r} is outside [0, ${cols})`);
    }
    let max = -Infinity;
    for (let c = 0; c < cols; c++) if (logits[o + c] > max) max = logits[o + c];
    const zLabel = logits[o + label]; // read before softmaxInPlace overwrites the row
    loss += w * (softmaxInPlace(logits, o, cols, max, scale * w) - zLabel);
    logits[o + label] -= scale * w;
  }
  return loss;
}

function sampledSoftmax(
  logits: Float32Array,
  rows: number,
  numNeg: number,
  labels: Int32Array,
  negIds: Int32Array,
  logQTrue: Float32Array,
  logQNeg: Float32Array,
  scale: number,
  rowWeights: Float32Array | null,
): number {
  const width = 1 + numNeg;
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    const w = rowWeights === null ? 1 : rowWeights[r];
    const label = labels[r];
    // Corrected logits in place: −logQ on every column, −∞ on accidental hits.
    const z0 = logits[o] - logQTrue[r];
    logits[o] = z0;
    let max = z0;
    for (let j = 0; j < numNeg; j++) {
      const z = negIds[j] === label ? -Infinity : logits[o + 1 + j] - logQNeg[j];
      logits[o + 1 + j] = z;
      if (z > max) max = z;
    }
    loss += w * (softmaxInPlace(logits, o, width, max, scale * w) - z0);
    logits[o] -= scale * w;
  }
  return loss;
}

function weightedLogistic(
  logits: Float32Array,
  labels: Float32Array,
  weights: Float32Array,
  n: number,
  grad: Float32Array,
  scale: number,
): number {
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const z = logits[i];
    const y = labels[i];
    const w = weights[i];
    // −y·log σ(z) − (1−y)·log(1−σ(z)) = softplus(z) − y·z, computed without overflow.
    const softplus = Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
    loss += w * (softplus - y * z);
    const sigma = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    grad[i] = scale * w * (sigma - y);
  }
  return loss;
}

/**
 * PyTorch's formulation: p ← p·(1 − lr·wd) (decoupled decay), then
 * p ← p − lr·m̂ / (√v̂ + eps) with m̂ = m/(1−β1^t), v̂ = v/(1−β2^t).
 */
function adam(
  param: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  n: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  step: number,
  weightDecay: number,
): void {
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  const stepSize = lr / bc1;
  const sqrtBc2 = Math.sqrt(bc2);
  const decay = 1 - lr * weightDecay;
  for (let i = 0; i < n; i++) {
    const g = grad[i];
    const mi = beta1 * m[i] + (1 - beta1) * g;
    const vi = beta2 * v[i] + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const p = weightDecay > 0 ? param[i] * decay : param[i];
    param[i] = p - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
  }
}

function lazyAdam(
  table: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  dim: number,
  rows: Int32Array,
  numRows: number,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  step: number,
): void {
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  const stepSize = lr / bc1;
  const sqrtBc2 = Math.sqrt(bc2);
  const tableRows = Math.floor(table.length / dim);
  for (let r = 0; r < numRows; r++) {
    const row = rows[r];
    checkRow(row, tableRows, "lazyAdam");
    const o = row * dim;
    for (let d = o; d < o + dim; d++) {
      const g = grad[d];
      const mi = beta1 * m[d] + (1 - beta1) * g;
      const vi = beta2 * v[d] + (1 - beta2) * g * g;
      m[d] = mi;
      v[d] = vi;
      table[d] -= (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + eps);
      grad[d] = 0;
    }
  }
}

/** Grow-only scratch for topK's exclusion marks: excludeStamp[item] === stamp means "skip". */
let excludeStamp = new Int32Array(0);
let stampCounter = 0;

/** a ranks below b: lower score, or equal score and higher item index. */
function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}

/** Restores the "worst at the root" heap property below position i of a heap of `size` entries. */
function siftDown(items: Int32Array, scores: Float32Array, base: number, size: number, i: number): void {
  const item = items[base + i];
  const score = scores[base + i];
  for (;;) {
    let child = 2 * i + 1;
    if (child >= size) break;
    const right = child + 1;
    if (
      right < size &&
      worse(scores[base + right], items[base + right], scores[base + child], items[base + child])
    ) {
      child = right;
    }
    if (!worse(scores[base + child], items[base + child], score, item)) break;
    items[base + i] = items[base + child];
    scores[base + i] = scores[base + child];
    i = child;
  }
  items[base + i] = item;
  scores[base + i] = score;
}

function topK(
  u: Float32Array,
  numQueries: number,
  v: Float32Array,
  numItems: number,
  dim: number,
  itemBias: Float32Array | null,
  k: number,
  excludeOffsets: Int32Array | null,
  excludeItems: Int32Array | null,
  outItems: Int32Array,
  outScores: Float32Array,
): void {
  if (excludeItems !== null && excludeStamp.length < numItems) excludeStamp = new Int32Array(numItems);
  for (let q = 0; q < numQueries; q++) {
    const stamp = ++stampCounter;
    if (stampCounter === 0x7fffffff) {
      excludeStamp.fill(0);
      stampCounter = 0;
    }
    if (excludeOffsets !== null && excludeItems !== null) {
      for (let e = excludeOffsets[q]; e < excludeOffsets[q + 1]; e++) {
        const item = excludeItems[e];
        if (item >= 0 && item < numItems) excludeStamp[item] = stamp;
      }
    }
    // The output slice of this query is the heap itself (worst kept at the root), then heapsorted.
    const base = q * k;
    const uq = q * dim;
    let size = 0;
    for (let j = 0; j < numItems; j++) {
      if (excludeItems !== null && excludeStamp[j] === stamp) continue;
      const vj = j * dim;
      let s = itemBias === null ? 0 : itemBias[j];
      for (let d = 0; d < dim; d++) s += u[uq + d] * v[vj + d];
      const score = Math.fround(s);
      if (Number.isNaN(score)) continue;
      if (size < k) {
        // Sift up the new entry.
        let i = size++;
        while (i > 0) {
          const parent = (i - 1) >> 1;
          if (!worse(score, j, outScores[base + parent], outItems[base + parent])) break;
          outItems[base + i] = outItems[base + parent];
          outScores[base + i] = outScores[base + parent];
          i = parent;
        }
        outItems[base + i] = j;
        outScores[base + i] = score;
      } else if (k > 0 && worse(outScores[base], outItems[base], score, j)) {
        outItems[base] = j;
        outScores[base] = score;
        siftDown(outItems, outScores, base, size, 0);
      }
    }
    // Heapsort: repeatedly move the worst remaining entry to the end → best first.
    for (let end = size - 1; end > 0; end--) {
      const ti = outItems[base];
      const ts = outScores[base];
      outItems[base] = outItems[base + end];
      outScores[base] = outScores[base + end];
      outItems[base + end] = ti;
      outScores[base + end] = ts;
      siftDown(outItems, outScores, base, end, 0);
    }
    for (let i = size; i < k; i++) {
      outItems[base + i] = -1;
      outScores[base + i] = -Infinity;
    }
  }
}

/**
 * Cholesky A = L·Lᵀ, then L⁻¹, then A⁻¹ = L⁻ᵀ·L⁻¹, all in place in the float32 matrix (lower
 * triangle) with float64 accumulators and an O(n) float64 row of scratch: a full float64 copy would
 * cost 8·n² bytes, too much for the catalogs of 10k+ items EASE inverts.
 */
function spdInverse(a: Float32Array, n: number): void {
  const acc = new Float64Array(n);
  // 1. Cholesky–Banachiewicz, row by row: L[i, j] = (A[i, j] − Σ_p L[i, p]·L[j, p]) / L[j, j].
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j];
      for (let p = 0; p < j; p++) s -= a[ri + p] * a[rj + p];
      if (j < i) {
        a[ri + j] = s / a[rj + j];
      } else {
        if (!(s > 0)) {
          throw new RangeError(`spdInverse: matrix is not positive definite (pivot ${i} is ${s})`);
        }
        a[ri + i] = Math.sqrt(s);
      }
    }
  }
  // 2. L⁻¹ row by row: row i = −(Σ_{p<i} L[i, p]·L⁻¹[p, :]) / L[i, i], diagonal 1 / L[i, i].
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    acc.fill(0, 0, i);
    for (let p = 0; p < i; p++) {
      const lip = a[ri + p];
      const rp = p * n;
      for (let j = 0; j <= p; j++) acc[j] += lip * a[rp + j];
    }
    const inv = 1 / a[ri + i];
    for (let j = 0; j < i; j++) a[ri + j] = -acc[j] * inv;
    a[ri + i] = inv;
  }
  // 3. A⁻¹[i, j] = Σ_{p ≥ i} L⁻¹[p, i]·L⁻¹[p, j] for j ≤ i. Row i of the result only needs rows
  //    p ≥ i of L⁻¹, so rows can be overwritten in increasing order; the upper triangle is mirrored.
  for (let i = 0; i < n; i++) {
    acc.fill(0, 0, i + 1);
    for (let p = i; p < n; p++) {
      const rp = p * n;
      const lpi = a[rp + i];
      if (lpi === 0) continue;
      for (let j = 0; j <= i; j++) acc[j] += lpi * a[rp + j];
    }
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      a[ri + j] = acc[j];
      a[j * n + i] = acc[j];
    }
  }
}

export const referenceKernels: Kernels = {
  backend: "ts",
  gemm,
  biasAct,
  reluBackward,
  colSums,
  layerNormForward,
  layerNormBackward,
  gelu,
  geluBackward,
  dropout,
  addInPlace,
  causalAttentionForward,
  causalAttentionBackward,
  embeddingBagForward,
  embeddingBagBackward,
  softmaxCrossEntropy,
  sampledSoftmax,
  weightedLogistic,
  adam,
  lazyAdam,
  topK,
  spdInverse,
  sgnsTrain,
};
