/**
 * EASE (Steck, WWW 2019): a closed-form item-item linear model. With G = XᵀX the Gram matrix of the
 * binary training matrix and P = (G + λI)⁻¹, the weights are B = I − P·diag(1/diag(P)), i.e.
 * B[i, j] = −P[i, j] / P[j, j] off the diagonal and 0 on it. A user's scores are the sum of the rows
 * of B of their distinct history items. The inverse runs on the engine's spdInverse kernel (native
 * SIMD when built); the Gram matrix is computed once and shared by every λ tried.
 */
import type { Dataset } from "../../data/dataset.js";
import { getKernels } from "../../engine/kernels/index.js";
import type { QueryBatch, Scorer } from "../types.js";
import { binaryInteractions, DistinctHistories } from "./interactions.js";

/** The λ grid tuned on validation. */
export const EASE_LAMBDAS: readonly number[] = [50, 100, 200, 500, 1000];

/** G = XᵀX of a training set (n×n, row-major), reused for every λ. */
export interface EaseGram {
  readonly numItems: number;
  readonly gram: Float32Array;
}

export function easeGram(train: Dataset): EaseGram {
  const x = binaryInteractions(train);
  const n = x.numItems;
  if (n * n > 2 ** 31) throw new RangeError(`EASE: a ${n}×${n} dense item matrix is too large`);
  const gram = new Float32Array(n * n);
  for (let u = 0; u < x.numUsers; u++) {
    const start = x.userOffsets[u];
    const end = x.userOffsets[u + 1];
    for (let a = start; a < end; a++) {
      const row = x.userItems[a] * n;
      for (let b = start; b < end; b++) gram[row + x.userItems[b]] += 1;
    }
  }
  return { numItems: n, gram };
}

export function fitEase(train: Dataset | EaseGram, params: { lambda: number }): Scorer {
  const { numItems: n, gram } = "gram" in train ? train : easeGram(train);
  const lambda = params.lambda;
  if (!(lambda > 0)) throw new RangeError(`EASE: lambda must be positive, got ${lambda}`);
  const b = Float32Array.from(gram);
  for (let i = 0; i < n; i++) b[i * n + i] += lambda;
  const kernels = getKernels();
  kernels.spdInverse(b, n);
  const invDiag = new Float32Array(n);
  for (let j = 0; j < n; j++) invDiag[j] = -1 / b[j * n + j];
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) b[row + j] *= invDiag[j];
    b[row + i] = 0;
  }

  const histories = new DistinctHistories(n);
  let ones = new Float32Array(0);
  return {
    name: "EASE",
    params: { lambda },
    score(batch: QueryBatch, out: Float32Array): void {
      const nq = histories.load(batch.historyOffsets, batch.historyItems);
      const count = histories.offsets[nq];
      if (ones.length < count) ones = new Float32Array(count).fill(1);
      // A weighted embedding bag with weight 1 is the sum of B's rows over each history.
      kernels.embeddingBagForward(b, n, histories.offsets.subarray(0, nq + 1), histories.items, ones, out, n, 0, false);
    },
  };
}
