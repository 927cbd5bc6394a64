/**
 * The candidate generation network of the paper (Section 3): embedded inputs concatenated into a
 * wide first layer, a ReLU tower to the user vector u, and a softmax over item output embeddings
 * v_i. One training step = forward, loss, backward, Adam (lazy on embedding rows). Every buffer is
 * sized for the largest batch when the network is built.
 */
import type { Kernels } from "../../engine/kernels/kernels.js";
import type { Rng } from "../../engine/rng.js";
import type { CandidateBatch } from "../../features/batch.js";
import type { FeatureSchema } from "../../features/schema.js";
import { towerWidths, type CandidateConfig } from "./config.js";
import { InputLayer } from "./input-layer.js";
import type { NegativeSampler } from "./negative-sampler.js";
import { OutputLayer } from "./output-layer.js";
import type { AdamSettings, DenseParam, TableParam } from "./params.js";
import { Tower } from "./tower.js";

/** The feature and table that hold watched item ids (row = item + 1), for tying the output. */
export interface ItemIdInput {
  readonly feature: string;
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
  readonly tower: Tower;
  readonly output: OutputLayer;
  private readonly x: Float32Array;
  private readonly gradX: Float32Array;
  private step = 0;
  /** Multiplies every learning rate (the training loop's per-epoch schedule). */
  lrScale = 1;

  constructor(
    readonly config: CandidateConfig,
    readonly shape: NetworkShape,
    sampler: NegativeSampler | null,
  ) {
    const net = config.network;
    const cap = shape.capacity;
    this.input = new InputLayer(shape.schema, cap, net.recentWatches, shape.itemIds);
    this.tower = new Tower(this.input.width, towerWidths(net), net.finalRelu, cap, net.dropout);
    let tiedTable: TableParam | undefined;
    let tiedRows: Int32Array | undefined;
    if (net.tieOutput) {
      if (!shape.itemIds)
        throw new Error("network.tieOutput: the feature schema has no item id table to tie to");
      tiedTable = this.input.tables.get(shape.itemIds.table);
      tiedRows = new Int32Array(shape.numItems);
      for (let i = 0; i < shape.numItems; i++) tiedRows[i] = i + 1;
    }
    this.output = new OutputLayer(shape.numItems, this.tower.outputWidth, cap, shape.mode, sampler, {
      itemBias: net.itemBias,
      tiedTable,
      tiedRows,
    });
    this.x = new Float32Array(cap * this.input.width);
    this.gradX = new Float32Array(cap * this.input.width);
  }

  get userDim(): number {
    return this.tower.outputWidth;
  }

  init(rng: Rng): void {
    this.input.init(rng, this.config.network.embeddingInitStd);
    this.tower.init(rng);
    this.output.init(rng, this.config.network.embeddingInitStd);
  }

  /** Every trainable tensor by a stable name, with its shape (model files, best-epoch snapshots). */
  namedTensors(): Map<string, { data: Float32Array; shape: number[] }> {
    const out = new Map<string, { data: Float32Array; shape: number[] }>();
    for (const t of this.input.tables.values())
      out.set(`input.${t.name}`, { data: t.value, shape: [t.rows, t.dim] });
    for (const p of this.tower.params()) out.set(p.name, { data: p.value, shape: [...p.shape] });
    const e = this.output.embeddings;
    if (!this.config.network.tieOutput)
      out.set("output.embeddings", { data: e.value, shape: [e.rows, e.dim] });
    if (this.output.bias)
      out.set("output.bias", { data: this.output.bias.value, shape: [this.output.bias.rows] });
    return out;
  }

  tensors(): Map<string, Float32Array> {
    return new Map([...this.namedTensors()].map(([name, t]) => [name, t.data]));
  }

  /** One optimization step on a filled batch; returns the mean loss. */
  trainStep(k: Kernels, batch: CandidateBatch, rng: Rng): number {
    const loss = this.forwardBackward(k, batch, rng);
    this.applyGradients(k);
    return loss;
  }

  /**
   * Forward and backward of one batch: returns the mean loss and leaves the gradients in the
   * parameters (dense gradients overwritten, table gradients added to the touched rows).
   */
  forwardBackward(k: Kernels, batch: CandidateBatch, rng: Rng): number {
    const n = batch.size;
    this.input.forward(k, batch, this.x);
    this.tower.forward(k, this.x, n, this.config.network.dropout > 0 ? rng : null);
    const loss = this.output.lossAndBackward(
      k,
      rng,
      this.tower.output,
      batch.labels,
      n,
      this.tower.gradOutput,
    );
    this.tower.backward(k, this.x, n, this.gradX);
    this.input.backward(k, batch, this.gradX);
    return loss / n;
  }

  /** Adam on the dense weights, lazy Adam on the touched embedding rows; clears table gradients. */
  applyGradients(k: Kernels): void {
    const t = this.config.train;
    this.step++;
    const dense: AdamSettings = {
      lr: t.lr * this.lrScale,
      beta1: t.beta1,
      beta2: t.beta2,
      eps: t.eps,
      weightDecay: t.weightDecay,
    };
    const sparse: AdamSettings = { ...dense, lr: (t.embeddingLr ?? t.lr) * this.lrScale, weightDecay: 0 };
    for (const p of this.tower.params()) p.step(k, dense, this.step);
    for (const table of this.input.tables.values()) table.step(k, sparse, this.step, t.embeddingL2);
    if (!this.config.network.tieOutput) this.output.embeddings.step(k, sparse, this.step, t.embeddingL2);
    this.output.bias?.step(k, sparse, this.step, 0);
  }

  /** User vectors [n × userDim] of a filled batch (no dropout), copied into out. */
  encode(k: Kernels, batch: CandidateBatch, out: Float32Array): void {
    const n = batch.size;
    this.input.forward(k, batch, this.x);
    this.tower.forward(k, this.x, n, null);
    out.set(this.tower.output.subarray(0, n * this.userDim));
  }

  denseParams(): DenseParam[] {
    return this.tower.params();
  }
}
