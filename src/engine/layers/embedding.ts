/**
 * Embedding tables and the inputs that read them. A table (rows×dim) is a sparse-row parameter:
 * a batch touches few rows, and only those are updated (lazy Adam). One table can be shared by
 * several inputs (the paper shares the video-id embeddings between the watch history, the search
 * history and the label), each input scattering its gradient into the same table.
 *
 * EmbeddingBag reads a CSR bag per example (watch history: the mean, or a weighted sum, of its
 * rows); EmbeddingLookup reads one id per example (user's country, gender). Both write into a
 * slot [offset, offset+dim) of a caller's concatenated input buffer, so the tower sees one row per
 * example without any copy.
 */
import { initialize, type Initializer } from "../init.js";
import type { Kernels } from "../kernels/kernels.js";
import type { Rng } from "../rng.js";
import { Parameter } from "./parameter.js";

export interface EmbeddingTableOptions {
  /** Default N(0, 1/dim) scaled normal: a mean of rows then has roughly unit-scale entries. */
  init?: Initializer;
  /** Row 0 is the out-of-vocabulary row: kept at zero and never trained. Default true. */
  zeroRow0?: boolean;
}

export class EmbeddingTable {
  readonly rows: number;
  readonly dim: number;
  readonly param: Parameter;

  constructor(name: string, rows: number, dim: number, rng: Rng, options: EmbeddingTableOptions = {}) {
    const zeroRow0 = options.zeroRow0 ?? true;
    this.rows = rows;
    this.dim = dim;
    this.param = new Parameter(name, [rows, dim], "sparse-rows", zeroRow0 ? 0 : -1);
    initialize(this.param.data, options.init ?? { kind: "normal", std: 1 / Math.sqrt(dim) }, rows, dim, rng);
    if (zeroRow0) this.param.data.fill(0, 0, dim);
  }

  get data(): Float32Array {
    return this.param.data;
  }
}

/** Per-example CSR bags: bag b = indices[offsets[b] .. offsets[b+1]); weights null = the mean. */
export interface Bags {
  offsets: Int32Array;
  indices: Int32Array;
  weights: Float32Array | null;
}

export class EmbeddingBag {
  readonly table: EmbeddingTable;
  private readonly kernels: Kernels;

  constructor(kernels: Kernels, table: EmbeddingTable) {
    this.kernels = kernels;
    this.table = table;
  }

  /** out[b, outOffset .. +dim) = mean (or weighted sum) of the bag's rows, for every bag. */
  forward(bags: Bags, out: Float32Array, ldOut: number, outOffset: number, accumulate = false): void {
    const t = this.table;
    this.kernels.embeddingBagForward(
      t.data,
      t.dim,
      bags.offsets,
      bags.indices,
      bags.weights,
      out,
      ldOut,
      outOffset,
      accumulate,
    );
  }

  /** Adds each bag row's share of gradOut[b, gradOffset .. +dim) into the table's gradient. */
  backward(bags: Bags, gradOut: Float32Array, ldGrad: number, gradOffset: number): void {
    const p = this.table.param;
    this.kernels.embeddingBagBackward(
      gradOut,
      ldGrad,
      gradOffset,
      this.table.dim,
      bags.offsets,
      bags.indices,
      bags.weights,
      p.grad,
    );
    p.markRows(bags.indices, bags.offsets[0], bags.offsets[bags.offsets.length - 1]);
    p.clearFrozenGrad();
  }
}

/** One id per example, as a bag of one: the embedding bag kernels with offsets 0, 1, 2, … */
export class EmbeddingLookup {
  readonly table: EmbeddingTable;
  private readonly bag: EmbeddingBag;
  private readonly identity: Int32Array;
  private bags: Bags;

  constructor(kernels: Kernels, table: EmbeddingTable, maxBatch: number) {
    this.table = table;
    this.bag = new EmbeddingBag(kernels, table);
    this.identity = new Int32Array(maxBatch + 1).map((_, i) => i);
    this.bags = { offsets: this.identity, indices: new Int32Array(0), weights: null };
  }

  /** out[b, outOffset .. +dim) = table[ids[b]] for b < batch. */
  forward(
    ids: Int32Array,
    batch: number,
    out: Float32Array,
    ldOut: number,
    outOffset: number,
    accumulate = false,
  ): void {
    this.bag.forward(this.bagsOf(ids, batch), out, ldOut, outOffset, accumulate);
  }

  /** table.grad[ids[b]] += gradOut[b, gradOffset .. +dim) for b < batch. */
  backward(ids: Int32Array, batch: number, gradOut: Float32Array, ldGrad: number, gradOffset: number): void {
    this.bag.backward(this.bagsOf(ids, batch), gradOut, ldGrad, gradOffset);
  }

  /** Reuses the CSR view while the batch size and id array stay the same (every step but the last). */
  private bagsOf(ids: Int32Array, batch: number): Bags {
    if (batch + 1 > this.identity.length) {
      throw new RangeError(
        `EmbeddingLookup ${this.table.param.name}: batch ${batch} exceeds the maximum ${this.identity.length - 1}`,
      );
    }
    if (ids.length < batch)
      throw new RangeError(
        `EmbeddingLookup ${this.table.param.name}: ${ids.length} ids for a batch of ${batch}`,
      );
    if (this.bags.offsets.length !== batch + 1 || this.bags.indices !== ids) {
      this.bags = { offsets: this.identity.subarray(0, batch + 1), indices: ids, weights: null };
    }
    return this.bags;
  }
}
