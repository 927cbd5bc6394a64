/**
 * The ranking network of the paper (Section 4), on engine layers: two schema-driven input layers
 * over one set of embedding tables (the item table is shared by the impression item, the watched
 * bag and the last-watched bag, which enter as separate inputs), the query input computed once per
 * list and broadcast to its candidates, a ReLU tower ending in one logit, and weighted logistic
 * regression. Serving scores e^logit, the expected engagement. Buffers are sized once for the
 * largest batch; a step allocates nothing.
 */
import type { Kernels } from "../../engine/kernels/kernels.js";
import { EmbeddingTable } from "../../engine/layers/embedding.js";
import { weightedLogisticLoss } from "../../engine/layers/losses.js";
import type { Parameter } from "../../engine/layers/parameter.js";
import { ReluTower } from "../../engine/layers/relu-tower.js";
import { Adam } from "../../engine/optim/adam.js";
import type { Rng } from "../../engine/rng.js";
import type { RankingBatch, RankingSchema } from "../../features/ranking-features.js";
import { InputLayer } from "../candidates/input-layer.js";
import type { RankerConfig } from "./config.js";

export interface RankerCapacity {
  readonly lists: number;
  readonly candidates: number;
}

export class RankingNetwork {
  readonly tables = new Map<string, EmbeddingTable>();
  readonly queryInput: InputLayer;
  readonly impressionInput: InputLayer;
  readonly tower: ReluTower;
  readonly optimizer: Adam;
  readonly width: number;
  private readonly queryOut: Float32Array;
  private readonly impOut: Float32Array;
  private readonly x: Float32Array;
  private readonly grad: Float32Array;
  private readonly gradQuery: Float32Array;
  private readonly gradImp: Float32Array;

  constructor(
    private readonly kernels: Kernels,
    readonly config: RankerConfig,
    readonly schema: RankingSchema,
    readonly capacity: RankerCapacity,
    rng: Rng,
  ) {
    const net = config.network;
    for (const t of schema.tables)
      this.tables.set(
        t.name,
        new EmbeddingTable(t.name, t.rows, t.dim, rng, {
          init: { kind: "normal", std: net.embeddingInitStd },
        }),
      );
    this.queryInput = new InputLayer(
      kernels,
      schema.query,
      capacity.lists,
      rng,
      net.embeddingInitStd,
      this.tables,
    );
    this.impressionInput = new InputLayer(
      kernels,
      schema.impression,
      capacity.candidates,
      rng,
      net.embeddingInitStd,
      this.tables,
    );
    this.width = this.queryInput.width + this.impressionInput.width;
    this.tower = new ReluTower(kernels, "ranker", [this.width, ...net.hidden, 1], capacity.candidates, rng, {
      finalRelu: false,
      dropout: net.dropout,
      init: "normal",
    });
    const t = config.train;
    this.optimizer = new Adam(kernels, this.parameters(), {
      lr: t.lr,
      weightDecay: t.weightDecay,
      sparseL2: t.embeddingL2,
      sparseLrScale: t.embeddingLr === null ? 1 : t.embeddingLr / t.lr,
    });
    this.queryOut = new Float32Array(capacity.lists * this.queryInput.width);
    this.impOut = new Float32Array(capacity.candidates * this.impressionInput.width);
    this.x = new Float32Array(capacity.candidates * this.width);
    this.grad = new Float32Array(capacity.candidates);
    this.gradQuery = new Float32Array(capacity.lists * this.queryInput.width);
    this.gradImp = new Float32Array(capacity.candidates * this.impressionInput.width);
  }

  parameters(): Parameter[] {
    return [...[...this.tables.values()].map((t) => t.param), ...this.tower.parameters()];
  }

  /** Every tensor by name (tables and tower), for saving and snapshots. */
  tensors(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const p of this.parameters()) out.set(p.name, p.data);
    return out;
  }

  /** Logits of the batch's candidates (a view into the tower's output buffer). */
  forward(batch: RankingBatch, training = false): Float32Array {
    this.check(batch);
    const qw = this.queryInput.width;
    const iw = this.impressionInput.width;
    const w = this.width;
    this.queryInput.forward(batch.query, this.queryOut);
    this.impressionInput.forward(batch.impression, this.impOut);
    // Broadcast: row c = [query(list of c), impression(c)].
    const base = batch.listOffsets[0];
    const x = this.x;
    for (let l = 0; l < batch.lists; l++) {
      const q = this.queryOut.subarray(l * qw, (l + 1) * qw);
      for (let c = batch.listOffsets[l] - base; c < batch.listOffsets[l + 1] - base; c++) {
        x.set(q, c * w);
        x.set(this.impOut.subarray(c * iw, (c + 1) * iw), c * w + qw);
      }
    }
    return this.tower.forward(x, batch.size, training).subarray(0, batch.size);
  }

  /**
   * Logits at inference (scoring, explanations): forward() without building the broadcast rows —
   * the query part of the first layer's product is computed once per list (Linear.forwardShared),
   * which is ~45% of the ranker's arithmetic for a 100-wide query input. Dropout is the identity
   * at inference, so the tower's layers run directly. Equal to forward(batch, false) up to float
   * rounding; training and its validation loss keep forward().
   */
  infer(batch: RankingBatch): Float32Array {
    this.check(batch);
    this.queryInput.forward(batch.query, this.queryOut);
    this.impressionInput.forward(batch.impression, this.impOut);
    const layers = this.tower.layers;
    let h = layers[0].forwardShared(
      this.queryOut,
      this.queryInput.width,
      batch.lists,
      batch.listOffsets,
      this.impOut,
      batch.size,
    );
    for (let i = 1; i < layers.length; i++) h = layers[i].forward(h, batch.size);
    return h.subarray(0, batch.size);
  }

  /** One step of weighted logistic regression on the batch; returns the weighted mean loss. */
  trainStep(batch: RankingBatch, lrScale = 1): number {
    const loss = this.lossAndGradients(batch, true);
    this.optimizer.step(this.config.train.lr * lrScale);
    return loss;
  }

  /**
   * Forward, the mean weighted logistic loss, and backward: adds every parameter's gradient
   * (without an optimizer step; `trainStep` applies it). Returns the loss.
   */
  lossAndGradients(batch: RankingBatch, training = false): number {
    const logits = this.forward(batch, training);
    const n = batch.size;
    const loss = weightedLogisticLoss(this.kernels, logits, batch.labels, batch.weights, n, this.grad);
    const gradOut = this.tower.output;
    gradOut.set(this.grad.subarray(0, n));
    const gx = this.tower.backward(gradOut, n, true);
    const qw = this.queryInput.width;
    const iw = this.impressionInput.width;
    const w = this.width;
    const gq = this.gradQuery;
    gq.fill(0, 0, batch.lists * qw);
    const base = batch.listOffsets[0];
    for (let l = 0; l < batch.lists; l++) {
      const qo = l * qw;
      for (let c = batch.listOffsets[l] - base; c < batch.listOffsets[l + 1] - base; c++) {
        const xo = c * w;
        for (let d = 0; d < qw; d++) gq[qo + d] += gx[xo + d];
        this.gradImp.set(gx.subarray(xo + qw, xo + w), c * iw);
      }
    }
    this.queryInput.backward(batch.query, gq);
    this.impressionInput.backward(batch.impression, this.gradImp);
    return loss;
  }

  private check(batch: RankingBatch): void {
    if (batch.lists > this.capacity.lists || batch.size > this.capacity.candidates)
      throw new RangeError(
        `ranking network: batch of ${batch.lists} lists / ${batch.size} candidates exceeds the capacity ${this.capacity.lists} / ${this.capacity.candidates}`,
      );
  }
}
