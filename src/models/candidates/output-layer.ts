/**
 * The softmax over the catalog: item output embeddings v_i (and an optional per-item bias) scored
 * against the user vector u. Training uses either the full softmax over every item (small
 * catalogs) or the paper's sampled softmax — K negatives shared by the batch, drawn from
 * unigram^alpha, logQ-corrected, accidental hits masked — in named steps. Serving is a plain dot
 * product, no softmax.
 */
import type { Kernels } from "../../engine/kernels/kernels.js";
import type { Rng } from "../../engine/rng.js";
import type { NegativeSampler } from "./negative-sampler.js";
import { TableParam } from "./params.js";

export class OutputLayer {
  /** Item vectors [numItems × dim], row i = item i (or, tied, the item's row of an input table). */
  readonly embeddings: TableParam;
  readonly bias: TableParam | null;
  /** Tied: row of the shared table holding item i; null = the item index itself. */
  private readonly rowOf: Int32Array | null;
  private readonly gathered: Float32Array | null;
  private readonly gatheredGrad: Float32Array | null;
  private readonly logits: Float32Array;
  private readonly negIds: Int32Array;
  private readonly logQNeg: Float32Array;
  private readonly logQTrue: Float32Array;
  private readonly negVectors: Float32Array;
  private readonly negGrad: Float32Array;
  private readonly negBiasGrad: Float32Array;
  private readonly rowIds: Int32Array;

  constructor(
    readonly numItems: number,
    readonly dim: number,
    readonly capacity: number,
    readonly mode: "full" | "sampled",
    readonly sampler: NegativeSampler | null,
    options: { itemBias: boolean; tiedTable?: TableParam; tiedRows?: Int32Array },
  ) {
    if (options.tiedTable) {
      if (!options.tiedRows || options.tiedRows.length !== numItems) {
        throw new Error("output layer: a tied table needs the table row of every item");
      }
      if (options.tiedTable.dim !== dim) {
        throw new Error(
          `output layer: tied table "${options.tiedTable.name}" has dim ${options.tiedTable.dim}, the user vector ${dim}`,
        );
      }
      this.embeddings = options.tiedTable;
      this.rowOf = options.tiedRows;
    } else {
      this.embeddings = new TableParam("output.embeddings", numItems, dim, false);
      this.rowOf = null;
    }
    this.bias = options.itemBias ? new TableParam("output.bias", numItems, 1, false) : null;
    const full = mode === "full";
    const k = sampler?.numNegatives ?? 0;
    if (!full && !sampler) throw new Error("output layer: sampled softmax needs a negative sampler");
    this.logits = new Float32Array(capacity * (full ? numItems : 1 + k));
    this.gathered = this.rowOf ? new Float32Array(numItems * dim) : null;
    this.gatheredGrad = this.rowOf && full ? new Float32Array(numItems * dim) : null;
    this.negIds = new Int32Array(k);
    this.logQNeg = new Float32Array(k);
    this.logQTrue = new Float32Array(capacity);
    this.negVectors = new Float32Array(k * dim);
    this.negGrad = new Float32Array(k * dim);
    this.negBiasGrad = new Float32Array(k);
    this.rowIds = new Int32Array(Math.max(k, capacity));
  }

  init(rng: Rng, std: number): void {
    if (!this.rowOf) this.embeddings.initNormal(rng, std);
    this.bias?.value.fill(0);
  }

  /** The item vectors [numItems × dim] in item order (a copy when tied). */
  itemMatrix(): Float32Array {
    if (!this.rowOf || !this.gathered) return this.embeddings.value;
    const t = this.embeddings.value;
    const d = this.dim;
    for (let i = 0; i < this.numItems; i++) {
      const src = this.rowOf[i] * d;
      this.gathered.set(t.subarray(src, src + d), i * d);
    }
    return this.gathered;
  }

  /** Serving scores: out[q, i] = u_q · v_i + b_i for n user vectors. */
  score(k: Kernels, users: Float32Array, n: number, out: Float32Array): void {
    const v = this.itemMatrix();
    k.gemm(false, true, n, this.numItems, this.dim, 1, users, this.dim, v, this.dim, 0, out, this.numItems);
    if (this.bias) k.biasAct(out, n, this.numItems, this.numItems, this.bias.value, false);
  }

  /**
   * Loss of n examples with user vectors u and labels; writes dLoss/du (mean over the batch) into
   * gradUser and adds the item-side gradients to the tables. Returns the summed loss.
   */
  lossAndBackward(
    k: Kernels,
    rng: Rng,
    users: Float32Array,
    labels: Int32Array,
    n: number,
    gradUser: Float32Array,
  ): number {
    return this.mode === "full"
      ? this.fullSoftmax(k, users, labels, n, gradUser)
      : this.sampledSoftmax(k, rng, users, labels, n, gradUser);
  }

  private fullSoftmax(
    k: Kernels,
    users: Float32Array,
    labels: Int32Array,
    n: number,
    gradUser: Float32Array,
  ): number {
    const d = this.dim;
    const N = this.numItems;
    const logits = this.logits;
    const v = this.itemMatrix();
    k.gemm(false, true, n, N, d, 1, users, d, v, d, 0, logits, N);
    if (this.bias) k.biasAct(logits, n, N, N, this.bias.value, false);
    const loss = k.softmaxCrossEntropy(logits, n, N, labels.subarray(0, n), 1 / n);
    // logits now hold the gradient G [n × N]: du = G·V, dV = Gᵀ·U, db = Σ_rows G.
    k.gemm(false, false, n, d, N, 1, logits, N, v, d, 0, gradUser, d);
    if (this.rowOf && this.gatheredGrad) {
      k.gemm(true, false, N, d, n, 1, logits, N, users, d, 0, this.gatheredGrad, d);
      const g = this.embeddings.grad;
      for (let i = 0; i < N; i++) {
        const dst = this.rowOf[i] * d;
        const src = i * d;
        for (let c = 0; c < d; c++) g[dst + c] += this.gatheredGrad[src + c];
      }
      this.embeddings.touch(this.rowOf, 0, N);
    } else {
      k.gemm(true, false, N, d, n, 1, logits, N, users, d, 1, this.embeddings.grad, d);
      this.embeddings.touchAll();
    }
    if (this.bias) {
      k.colSums(logits, n, N, N, this.bias.grad, 1);
      this.bias.touchAll();
    }
    return loss;
  }

  private sampledSoftmax(
    k: Kernels,
    rng: Rng,
    users: Float32Array,
    labels: Int32Array,
    n: number,
    gradUser: Float32Array,
  ): number {
    const sampler = this.sampler as NegativeSampler;
    const K = sampler.numNegatives;
    const d = this.dim;
    const w = 1 + K;
    const logits = this.logits;
    const table = this.embeddings.value;
    const bias = this.bias?.value ?? null;

    // 1. Draw the shared negatives and gather their vectors.
    sampler.sample(rng, this.negIds, this.logQNeg);
    for (let j = 0; j < K; j++) {
      const src = this.row(this.negIds[j]) * d;
      this.negVectors.set(table.subarray(src, src + d), j * d);
    }
    // 2. Logits: column 0 the label's, columns 1..K the negatives'.
    k.gemm(false, true, n, K, d, 1, users, d, this.negVectors, d, 0, logits.subarray(1), w);
    for (let b = 0; b < n; b++) {
      const label = labels[b];
      const vo = this.row(label) * d;
      const uo = b * d;
      let s = 0;
      for (let c = 0; c < d; c++) s += users[uo + c] * table[vo + c];
      logits[b * w] = s + (bias ? bias[label] : 0);
      this.logQTrue[b] = sampler.logQ[label];
      if (bias) for (let j = 0; j < K; j++) logits[b * w + 1 + j] += bias[this.negIds[j]];
    }
    // 3. logQ correction, accidental-hit masking and cross-entropy (one kernel); logits -> gradient.
    const loss = k.sampledSoftmax(
      logits,
      n,
      K,
      labels.subarray(0, n),
      this.negIds,
      this.logQTrue,
      this.logQNeg,
      1 / n,
    );
    // 4. Backward: du = g0·v_label + G[:,1:]·V_neg; dV_neg = G[:,1:]ᵀ·U; dv_label += g0·u.
    const grads = logits.subarray(1);
    k.gemm(false, false, n, d, K, 1, grads, w, this.negVectors, d, 0, gradUser, d);
    k.gemm(true, false, K, d, n, 1, grads, w, users, d, 0, this.negGrad, d);
    const tg = this.embeddings.grad;
    for (let b = 0; b < n; b++) {
      const g0 = logits[b * w];
      const vo = this.row(labels[b]) * d;
      const uo = b * d;
      for (let c = 0; c < d; c++) {
        gradUser[uo + c] += g0 * table[vo + c];
        tg[vo + c] += g0 * users[uo + c];
      }
    }
    for (let j = 0; j < K; j++) {
      const dst = this.row(this.negIds[j]) * d;
      const src = j * d;
      for (let c = 0; c < d; c++) tg[dst + c] += this.negGrad[src + c];
    }
    const rows = this.rowIds;
    for (let b = 0; b < n; b++) rows[b] = this.row(labels[b]);
    this.embeddings.touch(rows, 0, n);
    for (let j = 0; j < K; j++) rows[j] = this.row(this.negIds[j]);
    this.embeddings.touch(rows, 0, K);
    if (this.bias) {
      const bg = this.bias.grad;
      for (let b = 0; b < n; b++) bg[labels[b]] += logits[b * w];
      k.colSums(grads, n, K, w, this.negBiasGrad, 0);
      for (let j = 0; j < K; j++) bg[this.negIds[j]] += this.negBiasGrad[j];
      this.bias.touch(labels, 0, n);
      this.bias.touch(this.negIds, 0, K);
    }
    return loss;
  }

  private row(item: number): number {
    return this.rowOf ? this.rowOf[item] : item;
  }
}
