/**
 * EASE (Steck, WWW 2019): a closed-form item-item linear model. With X the binary training matrix
 * (users × items), G = XᵀX and P = (G + λI)⁻¹, the weights are B[i, j] = −P[i, j] / P[j, j] off the
 * diagonal and 0 on it; a user's score for item j is Σ over distinct history items i of B[i, j].
 *
 * Two exact ways to get there, picked by the smaller dimension:
 *  - "items": invert the n×n matrix G + λI (spdInverse kernel) and keep B dense;
 *  - "users" (when there are fewer users than items): the Woodbury identity
 *    P = (I − Xᵀ K⁻¹ X) / λ with K = λI + XXᵀ, only users × users. Then for a history vector x,
 *    with w = Xᵀ K⁻¹ X x and q_j = X[:, j]ᵀ K⁻¹ X[:, j], score_j = (w_j − x_j)/(1 − q_j) + x_j
 *    (the + x_j removes the zeroed diagonal). ml-latest-small (610 users, 9,724 items) then needs a
 *    610² inverse instead of a 9,724² one. Up to MATERIALIZE_MAX items² the users form then
 *    builds B once (B = Xᵀ K⁻¹ X diag(1/(1 − q)), diagonal zeroed) and scores as the items form does.
 * The Gram matrix (either side) is computed once and shared by every λ tried.
 */
import type { Dataset } from "../../data/dataset.js";
import { getKernels } from "../../engine/kernels/index.js";
import type { QueryBatch, Scorer } from "../types.js";
import { binaryInteractions, DistinctHistories, type BinaryInteractions } from "./interactions.js";

/**
 * Largest n² (items) for which the users form keeps B dense (32M floats, 128 MB): a user's scores
 * are then a sum of |history| rows, ~100× cheaper than the per-query K⁻¹ product and scatter.
 */
const MATERIALIZE_MAX = 2 ** 25;

/** The λ grid tuned on validation. */
export const EASE_LAMBDAS: readonly number[] = [50, 100, 200, 500, 1000];

export type EaseForm = "items" | "users";

/** What every λ shares: the binary matrix and the Gram matrix of the chosen side. */
export interface EaseGram {
  readonly form: EaseForm;
  readonly x: BinaryInteractions;
  /** XᵀX (items form, n×n) or XXᵀ (users form, users×users), row-major. */
  readonly gram: Float32Array;
}

/** Prepares EASE for a training set; `form` defaults to the smaller side. */
export function easeGram(train: Dataset, form?: EaseForm): EaseGram {
  const x = binaryInteractions(train);
  const chosen = form ?? (x.numUsers < x.numItems ? "users" : "items");
  const side = chosen === "items" ? x.numItems : x.numUsers;
  if (side * side > 2 ** 31) throw new RangeError(`EASE: a ${side}×${side} dense matrix is too large`);
  const gram = new Float32Array(side * side);
  // Pairs of ones in the same row of X (items form) or the same column (users form).
  const [offsets, members] = chosen === "items" ? [x.userOffsets, x.userItems] : [x.itemOffsets, x.itemUsers];
  for (let r = 0; r + 1 < offsets.length; r++) {
    for (let a = offsets[r]; a < offsets[r + 1]; a++) {
      const row = members[a] * side;
      for (let b = offsets[r]; b < offsets[r + 1]; b++) gram[row + members[b]] += 1;
    }
  }
  return { form: chosen, x, gram };
}

export interface EaseParams {
  readonly lambda: number;
  readonly form?: EaseForm;
  /** Users form: keep B dense up to this many items² (default MATERIALIZE_MAX; 0 = never). */
  readonly materializeMax?: number;
}

export function fitEase(train: Dataset | EaseGram, params: EaseParams): Scorer {
  const prepared = "gram" in train ? train : easeGram(train, params.form);
  const lambda = params.lambda;
  if (!(lambda > 0)) throw new RangeError(`EASE: lambda must be positive, got ${lambda}`);
  const score =
    prepared.form === "items"
      ? itemsForm(prepared, lambda)
      : usersForm(prepared, lambda, params.materializeMax ?? MATERIALIZE_MAX);
  return { name: "EASE", params: { lambda }, score };
}

/** (G + λI)⁻¹ of a Gram matrix, via the engine's Cholesky kernel. */
function inverse(gram: Float32Array, side: number, lambda: number): Float32Array {
  const a = Float32Array.from(gram);
  for (let i = 0; i < side; i++) a[i * side + i] += lambda;
  getKernels().spdInverse(a, side);
  return a;
}

function itemsForm({ x, gram }: EaseGram, lambda: number): Scorer["score"] {
  const n = x.numItems;
  const b = inverse(gram, n, lambda);
  const negInvDiag = new Float32Array(n);
  for (let j = 0; j < n; j++) negInvDiag[j] = -1 / b[j * n + j];
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) b[row + j] *= negInvDiag[j];
    b[row + i] = 0;
  }
  return rowSums(b, n);
}

/**
 * Scores as the sum of B's rows over each distinct history item (B dense, n×n): one user costs
 * |history| rows, never a product with the whole matrix.
 */
function rowSums(b: Float32Array, n: number): Scorer["score"] {
  const kernels = getKernels();
  const histories = new DistinctHistories(n);
  let ones = new Float32Array(0);
  return (batch: QueryBatch, out: Float32Array): void => {
    const nq = histories.load(batch.historyOffsets, batch.historyItems);
    const count = histories.offsets[nq];
    if (ones.length < count) ones = new Float32Array(count).fill(1);
    // A weighted embedding bag with weight 1 is the sum of B's rows over each history.
    kernels.embeddingBagForward(
      b,
      n,
      histories.offsets.subarray(0, nq + 1),
      histories.items,
      ones,
      out,
      n,
      0,
      false,
    );
  };
}

function usersForm({ x, gram }: EaseGram, lambda: number, materializeMax: number): Scorer["score"] {
  const n = x.numItems;
  const nu = x.numUsers;
  const kinv = inverse(gram, nu, lambda);
  // 1 − q_j, with q_j = Σ_{u,v ∈ users(j)} K⁻¹[u, v].
  const oneMinusQ = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let q = 0;
    for (let a = x.itemOffsets[j]; a < x.itemOffsets[j + 1]; a++) {
      const row = x.itemUsers[a] * nu;
      for (let c = x.itemOffsets[j]; c < x.itemOffsets[j + 1]; c++) q += kinv[row + x.itemUsers[c]];
    }
    oneMinusQ[j] = 1 - q;
  }
  const kernels = getKernels();
  const histories = new DistinctHistories(n);
  let y = new Float32Array(0);
  let z = new Float32Array(0);
  const score: Scorer["score"] = (batch, out) => {
    const nq = histories.load(batch.historyOffsets, batch.historyItems);
    if (y.length < nq * nu) {
      y = new Float32Array(nq * nu);
      z = new Float32Array(nq * nu);
    }
    // y = X x per query: how many of the history items each training user has.
    y.fill(0, 0, nq * nu);
    for (let q = 0; q < nq; q++)
      for (let h = histories.offsets[q]; h < histories.offsets[q + 1]; h++) {
        const i = histories.items[h];
        for (let a = x.itemOffsets[i]; a < x.itemOffsets[i + 1]; a++) y[q * nu + x.itemUsers[a]] += 1;
      }
    // z = K⁻¹ y (K⁻¹ is symmetric, so Y·K⁻¹ row-wise).
    kernels.gemm(false, false, nq, nu, nu, 1, y, nu, kinv, nu, 0, z, nu);
    for (let q = 0; q < nq; q++) {
      const row = out.subarray(q * n, (q + 1) * n);
      row.fill(0);
      // w = Xᵀ z, scattered user by user.
      for (let u = 0; u < nu; u++) {
        const zu = z[q * nu + u];
        if (zu === 0) continue;
        for (let a = x.userOffsets[u]; a < x.userOffsets[u + 1]; a++) row[x.userItems[a]] += zu;
      }
      for (let j = 0; j < n; j++) row[j] /= oneMinusQ[j];
      for (let h = histories.offsets[q]; h < histories.offsets[q + 1]; h++) {
        const i = histories.items[h];
        row[i] += 1 - 1 / oneMinusQ[i];
      }
    }
  };
  return n * n <= materializeMax ? rowSums(materialize(x, kinv, oneMinusQ), n) : score;
}

/**
 * B itself from the users form, two products: Z = Xᵀ K⁻¹ (row i: what the per-query path computes
 * for the history {i}), then M = Z X, B[i, j] = M[i, j] / (1 − q_j) off the diagonal, 0 on it.
 */
function materialize(x: BinaryInteractions, kinv: Float32Array, oneMinusQ: Float64Array): Float32Array {
  const n = x.numItems;
  const nu = x.numUsers;
  const kernels = getKernels();
  const dense = new Float32Array(nu * n);
  for (let u = 0; u < nu; u++)
    for (let a = x.userOffsets[u]; a < x.userOffsets[u + 1]; a++) dense[u * n + x.userItems[a]] = 1;
  const z = new Float32Array(n * nu);
  kernels.gemm(true, false, n, nu, nu, 1, dense, n, kinv, nu, 0, z, nu);
  const b = new Float32Array(n * n);
  kernels.gemm(false, false, n, n, nu, 1, z, nu, dense, n, 0, b, n);
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = 0; j < n; j++) b[row + j] /= oneMinusQ[j];
    b[row + i] = 0;
  }
  return b;
}
