/**
 * The candidate generator's output layer: extreme multiclass classification of the next watch
 * over the catalog, scoring logit(u, i) = u·v_i (+ b_i) with item output embeddings V (an
 * EmbeddingTable, which may be shared with an input, "tied"). Two forms:
 *
 * - FullSoftmaxHead: every item is a class (exact; fine up to tens of thousands of items).
 * - SampledSoftmaxHead: the true item against K negatives shared by the batch, drawn from a
 *   proposal Q; in order: score, subtract log Q (logQ correction), mask accidental hits, then
 *   cross-entropy with the true item in column 0 (see the sampledSoftmax kernel).
 *
 * Each head computes the batch-mean loss (optionally weighted per example: (1/batch)·Σ_b w_b·ℓ_b),
 * writes dLoss/du into the caller's buffer, and adds the gradient into the touched rows of V and
 * of the optional item bias. The classes may be a tail of
 * the table's rows (`firstRow`), so the output can be tied to an input table with an OOV row 0.
 */
import { layerGemm, type GemmFn } from "../kernels/index.js";
import type { Kernels } from "../kernels/kernels.js";
import type { EmbeddingTable } from "./embedding.js";
import { Parameter } from "./parameter.js";

export interface SoftmaxHeadOptions {
  /** A learned per-item bias added to every logit (never weight-decayed); default false. */
  itemBias?: boolean;
  /**
   * Class c is row firstRow + c of the item table; default 0. Lets the output share ("tie") an
   * input table whose first rows are not classes, e.g. row 0 = out of vocabulary, row i + 1 = item i.
   */
  firstRow?: number;
}

/** The class rows of a table: the item vectors and their gradient as views, and the class count. */
class ClassRows {
  readonly table: EmbeddingTable;
  readonly firstRow: number;
  readonly numClasses: number;

  constructor(table: EmbeddingTable, firstRow: number, head: string) {
    if (!Number.isInteger(firstRow) || firstRow < 0 || firstRow >= table.rows) {
      throw new RangeError(
        `${head}: firstRow must be an integer in [0, ${table.rows}), got ${firstRow} (table ${table.param.name})`,
      );
    }
    this.table = table;
    this.firstRow = firstRow;
    this.numClasses = table.rows - firstRow;
  }

  /** numClasses×dim: row c = v_c (a view of the table, no copy). */
  get vectors(): Float32Array {
    return this.table.data.subarray(this.firstRow * this.table.dim);
  }

  get grad(): Float32Array {
    return this.table.param.grad.subarray(this.firstRow * this.table.dim);
  }

  makeBias(enabled: boolean): Parameter | null {
    if (!enabled) return null;
    const p = this.table.param;
    const frozen = p.frozenRow >= this.firstRow ? p.frozenRow - this.firstRow : -1;
    return new Parameter(`${p.name}.bias`, [this.numClasses], "sparse-rows", frozen, { decay: false });
  }
}

export class FullSoftmaxHead {
  readonly items: EmbeddingTable;
  readonly bias: Parameter | null;
  readonly maxBatch: number;
  /** Number of classes: the table's rows from firstRow on. */
  readonly numClasses: number;
  /** maxBatch×numClasses: logits, then their gradient, of the last call. */
  readonly logits: Float32Array;
  private readonly kernels: Kernels;
  /** kernels.gemm, or the bf16 GEMM under WATCHNEXT_GEMM=bf16 (kernels/index.ts layerGemm). */
  private readonly gemm: GemmFn;
  private readonly classes: ClassRows;

  constructor(kernels: Kernels, items: EmbeddingTable, maxBatch: number, options: SoftmaxHeadOptions = {}) {
    this.kernels = kernels;
    this.gemm = layerGemm(kernels);
    this.items = items;
    this.maxBatch = maxBatch;
    this.classes = new ClassRows(items, options.firstRow ?? 0, "FullSoftmaxHead");
    this.numClasses = this.classes.numClasses;
    this.bias = this.classes.makeBias(options.itemBias ?? false);
    this.logits = new Float32Array(maxBatch * this.numClasses);
  }

  /** The head's own parameters (the item table belongs to whoever created it). */
  parameters(): Parameter[] {
    return this.bias === null ? [] : [this.bias];
  }

  /** The class vectors, numClasses×dim (row c = class c; a view of the table). */
  itemVectors(): Float32Array {
    return this.classes.vectors;
  }

  /**
   * Mean cross-entropy of labels[b] given user vectors user[b] (batch×dim), example b weighted by
   * weights[b] (null: all 1). Writes dLoss/du into gradUser (batch×dim) and adds dLoss/dV,
   * dLoss/dbias into the parameter gradients.
   */
  lossAndGrad(
    user: Float32Array,
    batch: number,
    labels: Int32Array,
    gradUser: Float32Array,
    weights: Float32Array | null = null,
  ): number {
    if (batch > this.maxBatch)
      throw new RangeError(`FullSoftmaxHead: batch ${batch} exceeds the maximum ${this.maxBatch}`);
    if (batch === 0) return 0;
    const { kernels, gemm, logits } = this;
    const v = this.items.param;
    const n = this.numClasses;
    const dim = this.items.dim;
    const first = this.classes.firstRow;
    const vData = this.classes.vectors;
    gemm(false, true, batch, n, dim, 1, user, dim, vData, dim, 0, logits, n);
    if (this.bias !== null) kernels.biasAct(logits, batch, n, n, this.bias.data, false);
    const loss = kernels.softmaxCrossEntropy(logits, batch, n, labels, 1 / batch, weights) / batch;
    gemm(false, false, batch, dim, n, 1, logits, n, vData, dim, 0, gradUser, dim);
    gemm(true, false, n, dim, batch, 1, logits, n, user, dim, 1, this.classes.grad, dim);
    v.markRowRange(first, first + n);
    v.clearFrozenGrad();
    if (this.bias !== null) {
      kernels.colSums(logits, batch, n, n, this.bias.grad, 1);
      this.bias.markAllRows();
      this.bias.clearFrozenGrad();
    }
    return loss;
  }
}

export class SampledSoftmaxHead {
  readonly items: EmbeddingTable;
  readonly bias: Parameter | null;
  readonly maxBatch: number;
  readonly numNegatives: number;
  /** Number of classes: the table's rows from firstRow on. */
  readonly numClasses: number;
  /** maxBatch×(1+K): corrected logits, then their gradient, of the last call. */
  readonly logits: Float32Array;
  private readonly kernels: Kernels;
  /** kernels.gemm, or the bf16 GEMM under WATCHNEXT_GEMM=bf16 (kernels/index.ts layerGemm). */
  private readonly gemm: GemmFn;
  private readonly classes: ClassRows;
  /** Views and scratch, all allocated once. */
  private readonly logitsNeg: Float32Array;
  private readonly negRows: Float32Array;
  private readonly gradNeg: Float32Array;
  private readonly negBias: Float32Array;
  private readonly labelGrad: Float32Array;
  private readonly negOffsets: Int32Array;
  private readonly batchOffsets: Int32Array;

  constructor(
    kernels: Kernels,
    items: EmbeddingTable,
    maxBatch: number,
    numNegatives: number,
    options: SoftmaxHeadOptions = {},
  ) {
    this.kernels = kernels;
    this.gemm = layerGemm(kernels);
    this.items = items;
    this.maxBatch = maxBatch;
    this.numNegatives = numNegatives;
    this.classes = new ClassRows(items, options.firstRow ?? 0, "SampledSoftmaxHead");
    this.numClasses = this.classes.numClasses;
    this.bias = this.classes.makeBias(options.itemBias ?? false);
    const width = 1 + numNegatives;
    this.logits = new Float32Array(maxBatch * width);
    this.logitsNeg = this.logits.subarray(1);
    this.negRows = new Float32Array(numNegatives * items.dim);
    this.gradNeg = new Float32Array(numNegatives * items.dim);
    this.negBias = new Float32Array(numNegatives);
    this.labelGrad = new Float32Array(maxBatch);
    this.negOffsets = new Int32Array(numNegatives + 1).map((_, i) => i);
    this.batchOffsets = new Int32Array(maxBatch + 1).map((_, i) => i);
  }

  parameters(): Parameter[] {
    return this.bias === null ? [] : [this.bias];
  }

  /** The class vectors, numClasses×dim (row c = class c; a view of the table). */
  itemVectors(): Float32Array {
    return this.classes.vectors;
  }

  /**
   * Mean sampled-softmax loss for user vectors user[b] (batch×dim) with true classes labels[b],
   * against the shared negatives negIds (K class ids, repeats allowed) whose proposal
   * log-probabilities are logQNeg, with logQTrue[b] the proposal log-probability of labels[b],
   * example b weighted by weights[b] (null: all 1). Writes dLoss/du into gradUser and adds the
   * gradient of V (and bias) rows of the labels and negatives.
   */
  lossAndGrad(
    user: Float32Array,
    batch: number,
    labels: Int32Array,
    negIds: Int32Array,
    logQTrue: Float32Array,
    logQNeg: Float32Array,
    gradUser: Float32Array,
    weights: Float32Array | null = null,
  ): number {
    const k = this.numNegatives;
    if (batch > this.maxBatch)
      throw new RangeError(`SampledSoftmaxHead: batch ${batch} exceeds the maximum ${this.maxBatch}`);
    if (negIds.length !== k || logQNeg.length < k) {
      throw new RangeError(
        `SampledSoftmaxHead: expected ${k} negatives, got ${negIds.length} ids and ${logQNeg.length} logQ`,
      );
    }
    if (batch === 0) return 0;
    const { kernels, gemm, logits, negRows } = this;
    const v = this.items.param;
    const vData = this.classes.vectors;
    const vGrad = this.classes.grad;
    const first = this.classes.firstRow;
    const dim = this.items.dim;
    const width = 1 + k;
    const bias = this.bias;
    const batchOffsets = this.batchOffsets.subarray(0, batch + 1);

    // Score: column 0 = u_b·v_label(b), columns 1..K = U·V_negᵀ, plus the item bias.
    kernels.embeddingBagForward(vData, dim, this.negOffsets, negIds, null, negRows, dim, 0, false);
    gemm(false, true, batch, k, dim, 1, user, dim, negRows, dim, 0, this.logitsNeg, width);
    for (let b = 0; b < batch; b++) {
      const u = b * dim;
      const t = labels[b] * dim;
      let s = bias === null ? 0 : bias.data[labels[b]];
      for (let d = 0; d < dim; d++) s += user[u + d] * vData[t + d];
      logits[b * width] = s;
    }
    if (bias !== null) {
      for (let j = 0; j < k; j++) this.negBias[j] = bias.data[negIds[j]];
      kernels.biasAct(this.logitsNeg, batch, k, width, this.negBias, false);
    }
    // logQ correction, accidental-hit masking and cross-entropy, in the kernel.
    const loss =
      kernels.sampledSoftmax(logits, batch, k, labels, negIds, logQTrue, logQNeg, 1 / batch, weights) / batch;

    // dU = G[:, 1..K]·V_neg + G[:, 0]·v_label.
    gemm(false, false, batch, dim, k, 1, this.logitsNeg, width, negRows, dim, 0, gradUser, dim);
    for (let b = 0; b < batch; b++) {
      const g0 = logits[b * width];
      this.labelGrad[b] = g0;
      const u = b * dim;
      const t = labels[b] * dim;
      for (let d = 0; d < dim; d++) gradUser[u + d] += g0 * vData[t + d];
    }
    // dV_neg = G[:, 1..K]ᵀ·U scattered to the negative rows; dV_label(b) += G[b, 0]·u_b.
    gemm(true, false, k, dim, batch, 1, this.logitsNeg, width, user, dim, 0, this.gradNeg, dim);
    kernels.embeddingBagBackward(this.gradNeg, dim, 0, dim, this.negOffsets, negIds, null, vGrad);
    kernels.embeddingBagBackward(user, dim, 0, dim, batchOffsets, labels, this.labelGrad, vGrad);
    v.markRows(labels, 0, batch, first);
    v.markRows(negIds, 0, k, first);
    v.clearFrozenGrad();
    if (bias !== null) {
      kernels.colSums(this.logitsNeg, batch, k, width, this.negBias, 0);
      for (let j = 0; j < k; j++) bias.grad[negIds[j]] += this.negBias[j];
      for (let b = 0; b < batch; b++) bias.grad[labels[b]] += this.labelGrad[b];
      bias.markRows(labels, 0, batch);
      bias.markRows(negIds, 0, k);
      bias.clearFrozenGrad();
    }
    return loss;
  }
}
