/**
 * The candidate generation network of the paper (Section 3), assembled from engine layers: the
 * schema-driven input layer (embedding bags and lookups concatenated into a wide first layer), a
 * ReLU tower to the user vector u, and a softmax head over item output embeddings v_i (full, or
 * sampled with logQ correction). One training step = forward, loss, backward, one Adam step (lazy
 * on embedding rows). Every buffer is sized for the largest batch when the network is built.
 */
import type { Kernels } from "../../engine/kernels/kernels.js";
import { EmbeddingTable } from "../../engine/layers/embedding.js";
import type { Parameter } from "../../engine/layers/parameter.js";
import { ReluTower } from "../../engine/layers/relu-tower.js";
import { FullSoftmaxHead, SampledSoftmaxHead } from "../../engine/layers/softmax-head.js";
import { Adam } from "../../engine/optim/adam.js";
import type { Rng } from "../../engine/rng.js";
import type { CandidateBatch } from "../../features/batch.js";
import { itemTableRows, outputFirstRow } from "../../features/item-index.js";
import { TOKEN_TABLE } from "../../features/candidate-schema.js";
import type { FeatureSchema } from "../../features/schema.js";
import { towerWidths, type CandidateConfig } from "./config.js";
import { InputLayer } from "./input-layer.js";
import type { NegativeSampler } from "./negative-sampler.js";

/** The table that holds watched item ids (rows by src/features/item-index.ts), for tying the output to it. */
export interface ItemIdInput {
  readonly table: string;
}

export interface NetworkShape {
  readonly schema: FeatureSchema;
  readonly numItems: number;
  readonly capacity: number;
  readonly mode: "full" | "sampled";
  readonly itemIds: ItemIdInput | null;
}

export class CandidateNetwork {
  readonly input: InputLayer;
  readonly tower: ReluTower;
  /** The item output embeddings: the network's own table, or (tied) the item-id input table. */
  readonly itemTable: EmbeddingTable;
  readonly head: FullSoftmaxHead | SampledSoftmaxHead;
  readonly optimizer: Adam;
  /** Multiplies every learning rate (the training loop's per-epoch schedule). */
  lrScale = 1;
  private readonly kernels: Kernels;
  private readonly sampler: NegativeSampler | null;
  private readonly x: Float32Array;
  private readonly gradUser: Float32Array;
  private readonly negIds: Int32Array;
  private readonly logQNeg: Float32Array;
  private readonly logQTrue: Float32Array;

  /** Builds and initializes every parameter from `rng` (input tables, tower, output table). */
  constructor(
    kernels: Kernels,
    readonly config: CandidateConfig,
    readonly shape: NetworkShape,
    sampler: NegativeSampler | null,
    rng: Rng,
  ) {
    const net = config.network;
    const t = config.train;
    const cap = shape.capacity;
    this.kernels = kernels;
    this.sampler = sampler;
    this.input = new InputLayer(kernels, shape.schema, cap, rng, net.embeddingInitStd);
    this.tower = new ReluTower(kernels, "tower", [this.input.width, ...towerWidths(net)], cap, rng, {
      finalRelu: net.finalRelu,
      dropout: net.dropout,
      inputDropout: net.dropout,
      init: "normal",
    });
    const dim = this.tower.outDim;
    const firstRow = outputFirstRow(net.tieOutput);
    if (net.tieOutput) {
      const tied = shape.itemIds ? this.input.tables.get(shape.itemIds.table) : undefined;
      if (!tied) throw new Error("network.tieOutput: the feature schema has no item id table to tie to");
      const rows = itemTableRows(shape.numItems);
      if (tied.dim !== dim || tied.rows !== rows) {
        throw new Error(
          `network.tieOutput: table "${tied.param.name}" is ${tied.rows}×${tied.dim}, the output needs ${rows}×${dim} (outputDim = its dim)`,
        );
      }
      this.itemTable = tied;
    } else {
      this.itemTable = new EmbeddingTable("output.embeddings", shape.numItems, dim, rng, {
        init: { kind: "normal", std: net.embeddingInitStd },
        zeroRow0: false,
      });
    }
    const headOptions = { itemBias: net.itemBias, firstRow };
    if (shape.mode === "full") {
      this.head = new FullSoftmaxHead(kernels, this.itemTable, cap, headOptions);
    } else {
      if (!sampler) throw new Error("candidate network: sampled softmax needs a negative sampler");
      this.head = new SampledSoftmaxHead(kernels, this.itemTable, cap, sampler.numNegatives, headOptions);
    }
    const k = sampler?.numNegatives ?? 0;
    this.negIds = new Int32Array(k);
    this.logQNeg = new Float32Array(k);
    this.logQTrue = new Float32Array(cap);
    this.x = new Float32Array(cap * this.input.width);
    this.gradUser = new Float32Array(cap * dim);
    // Pre-trained tables used as they are (src/models/candidates/pretrained.ts fills them).
    const f = config.features;
    if (
      f.search.init === "word2vec" &&
      f.search.pretrained === "frozen" &&
      this.input.tables.has(TOKEN_TABLE)
    )
      this.input.freeze(TOKEN_TABLE);
    if (f.itemSideInfo.idInit === "item2vec" && f.itemSideInfo.idPretrained === "frozen" && shape.itemIds)
      this.input.freeze(shape.itemIds.table);
    this.optimizer = new Adam(kernels, this.parameters(), {
      lr: t.lr,
      beta1: t.beta1,
      beta2: t.beta2,
      eps: t.eps,
      weightDecay: t.weightDecay,
      sparseLrScale: (t.embeddingLr ?? t.lr) / t.lr,
      sparseL2: t.embeddingL2,
    });
  }

  get userDim(): number {
    return this.tower.outDim;
  }

  /** Every trainable parameter, each once (a tied output table is the input's). */
  parameters(): Parameter[] {
    const params = [...this.input.parameters(), ...this.tower.parameters()];
    if (!this.config.network.tieOutput) params.push(this.itemTable.param);
    // A tied output table shares the item input table's fate: frozen with it.
    return [...params, ...this.head.parameters()];
  }

  /** Every trainable tensor by a stable name, with its shape (model files, best-epoch snapshots). */
  namedTensors(): Map<string, { data: Float32Array; shape: number[] }> {
    const out = new Map<string, { data: Float32Array; shape: number[] }>();
    for (const t of this.input.tables.values())
      out.set(`input.${t.param.name}`, { data: t.data, shape: [t.rows, t.dim] });
    for (const p of this.tower.parameters()) out.set(p.name, { data: p.data, shape: [...p.shape] });
    for (const p of this.input.sequence?.parameters() ?? [])
      out.set(p.name, { data: p.data, shape: [...p.shape] });
    if (!this.config.network.tieOutput) {
      const e = this.itemTable;
      out.set("output.embeddings", { data: e.data, shape: [e.rows, e.dim] });
    }
    const bias = this.head.bias;
    if (bias) out.set("output.bias", { data: bias.data, shape: [...bias.shape] });
    return out;
  }

  tensors(): Map<string, Float32Array> {
    return new Map([...this.namedTensors()].map(([name, t]) => [name, t.data]));
  }

  /** One optimization step on a filled batch (weights: per-example loss weights or null); returns the mean loss. */
  trainStep(batch: CandidateBatch, rng: Rng, weights: Float32Array | null = null): number {
    const loss = this.forwardBackward(batch, rng, weights);
    this.optimizer.step(this.config.train.lr * this.lrScale);
    return loss;
  }

  /**
   * Forward and backward of one batch (dropout on; `rng` draws the sampled softmax's negatives):
   * returns the mean loss (example b weighted by weights[b], null = all 1) and adds the gradients
   * into the parameters (see zeroGrad).
   */
  forwardBackward(batch: CandidateBatch, rng: Rng, weights: Float32Array | null = null): number {
    const n = batch.size;
    this.input.forward(batch, this.x, true);
    const user = this.tower.forward(this.x, n, true);
    let loss: number;
    if (this.head instanceof FullSoftmaxHead) {
      loss = this.head.lossAndGrad(user, n, batch.labels, this.gradUser, weights);
    } else {
      const sampler = this.sampler as NegativeSampler;
      sampler.sample(rng, this.negIds, this.logQNeg);
      for (let b = 0; b < n; b++) this.logQTrue[b] = sampler.logQ[batch.labels[b]];
      loss = this.head.lossAndGrad(
        user,
        n,
        batch.labels,
        this.negIds,
        this.logQTrue,
        this.logQNeg,
        this.gradUser,
        weights,
      );
    }
    const gradX = this.tower.backward(this.gradUser, n);
    this.input.backward(batch, gradX);
    return loss;
  }

  /** Clears every accumulated gradient without updating (gradient checks, skipped steps). */
  zeroGrad(): void {
    this.optimizer.zeroGrad();
  }

  /** User vectors [n × userDim] of a filled batch (no dropout), copied into out. */
  encode(batch: CandidateBatch, out: Float32Array): void {
    const n = batch.size;
    this.input.forward(batch, this.x);
    const user = this.tower.forward(this.x, n, false);
    out.set(user.subarray(0, n * this.userDim));
  }

  /** The item vectors [numItems × userDim], row i = item i (a view of the output table). */
  itemMatrix(): Float32Array {
    return this.head.itemVectors().subarray(0, this.shape.numItems * this.userDim);
  }

  /** The per-item logit bias [numItems], or null. */
  itemBias(): Float32Array | null {
    return this.head.bias?.data ?? null;
  }

  /** Serving scores: out[q, i] = u_q · v_i + b_i for n user vectors. */
  score(users: Float32Array, n: number, out: Float32Array): void {
    const N = this.shape.numItems;
    const d = this.userDim;
    this.kernels.gemm(false, true, n, N, d, 1, users, d, this.itemMatrix(), d, 0, out, N);
    const bias = this.itemBias();
    if (bias) this.kernels.biasAct(out, n, N, N, bias, false);
  }
}
