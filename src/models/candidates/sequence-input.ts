/**
 * The ordered watch input of the candidate network (FeatureSchema.sequence): each slot's embedding
 * is the sum of its part bags through the input layer's own tables (an item's id + genre + year
 * embeddings, as in the watch slot), scaled by √dim as SASRec does; the engine's causal
 * TransformerEncoder (learned positions, pre-LN blocks) encodes the sequences, and every example
 * row of the batch takes the encoder output at its slot (the last watch before its label) into
 * one slot of the concatenated input. Backward gathers the row gradients back onto the slots, runs
 * the encoder backward and scatters the slot gradients into the tables' rows.
 */
import type { Kernels } from "../../engine/kernels/kernels.js";
import { EmbeddingBag, type EmbeddingTable } from "../../engine/layers/embedding.js";
import type { Parameter } from "../../engine/layers/parameter.js";
import { TransformerEncoder } from "../../engine/layers/transformer-encoder.js";
import type { Rng } from "../../engine/rng.js";
import type { BagInput, CandidateBatch, SequenceBatch } from "../../features/batch.js";
import type { SequenceSpec } from "../../features/schema.js";

interface Part {
  readonly bag: string;
  readonly layer: EmbeddingBag;
}

export class SequenceInput {
  readonly spec: SequenceSpec;
  readonly encoder: TransformerEncoder;
  private readonly parts: readonly Part[];
  private readonly scale: number;
  /** [capacity·maxLen × dim]: the slot embeddings, then their gradient. */
  private readonly x: Float32Array;
  private readonly gradOut: Float32Array;
  private readonly views = new Map<string, BagInput>();

  /** `tables` = the input layer's tables (the parts' tables must be there, width spec.dim). */
  constructor(
    kernels: Kernels,
    spec: SequenceSpec,
    tables: ReadonlyMap<string, EmbeddingTable>,
    capacity: number,
    rng: Rng,
  ) {
    this.spec = spec;
    if (spec.parts.length === 0) throw new Error(`feature schema: sequence "${spec.name}" has no parts`);
    this.parts = spec.parts.map((p) => {
      const table = tables.get(p.table);
      if (!table) throw new Error(`feature schema: sequence part "${p.bag}" uses unknown table "${p.table}"`);
      if (table.dim !== spec.dim) {
        throw new Error(
          `feature schema: sequence part "${p.bag}" has table "${p.table}" of dim ${table.dim}, the sequence needs ${spec.dim}`,
        );
      }
      return { bag: p.bag, layer: new EmbeddingBag(kernels, table) };
    });
    this.scale = Math.sqrt(spec.dim);
    this.encoder = new TransformerEncoder(
      kernels,
      spec.name,
      {
        dim: spec.dim,
        heads: spec.heads,
        blocks: spec.blocks,
        maxLen: spec.maxLen,
        ffnDim: spec.ffnDim,
        dropout: spec.dropout,
      },
      capacity,
      rng,
    );
    this.x = new Float32Array(capacity * spec.maxLen * spec.dim);
    this.gradOut = new Float32Array(capacity * spec.maxLen * spec.dim);
  }

  get width(): number {
    return this.spec.dim;
  }

  /** The encoder's parameters (dense). */
  parameters(): Parameter[] {
    return this.encoder.parameters();
  }

  /** Writes each example row's encoder output into out[b·ld + offset, +dim). */
  forward(batch: CandidateBatch, out: Float32Array, ld: number, offset: number, training: boolean): void {
    const seq = this.sequenceOf(batch);
    const { dim, maxLen } = this.spec;
    const n = seq.count;
    const size = n * maxLen * dim;
    this.parts.forEach((p, k) => p.layer.forward(this.view(seq, p.bag), this.x, dim, 0, k > 0));
    const x = this.x;
    for (let i = 0; i < size; i++) x[i] *= this.scale;
    const h = this.encoder.forward(x, n, seq.lengths, training);
    for (let b = 0; b < batch.size; b++) {
      const o = b * ld + offset;
      const j = seq.rowSlot[b];
      if (j < 0) out.fill(0, o, o + dim);
      else {
        const r = (seq.rowSequence[b] * maxLen + j) * dim;
        for (let c = 0; c < dim; c++) out[o + c] = h[r + c];
      }
    }
  }

  /** Backward of forward: gradIn[b·ld + offset, +dim) into the encoder and the part tables (except `frozen`). */
  backward(
    batch: CandidateBatch,
    gradIn: Float32Array,
    ld: number,
    offset: number,
    frozen: ReadonlySet<string>,
  ): void {
    const seq = this.sequenceOf(batch);
    const { dim, maxLen } = this.spec;
    const n = seq.count;
    const g = this.gradOut;
    g.fill(0, 0, n * maxLen * dim);
    for (let b = 0; b < batch.size; b++) {
      const j = seq.rowSlot[b];
      if (j < 0) continue;
      const r = (seq.rowSequence[b] * maxLen + j) * dim;
      const o = b * ld + offset;
      for (let c = 0; c < dim; c++) g[r + c] += gradIn[o + c];
    }
    const dx = this.encoder.backward(g, n);
    const size = n * maxLen * dim;
    for (let i = 0; i < size; i++) dx[i] *= this.scale;
    for (const p of this.parts)
      if (!frozen.has(p.layer.table.param.name)) p.layer.backward(this.view(seq, p.bag), dx, dim, 0);
  }

  private sequenceOf(batch: CandidateBatch): SequenceBatch {
    const seq = batch.sequence;
    if (!seq) throw new Error(`candidate batch: missing the sequence input "${this.spec.name}"`);
    if (seq.count > this.encoder.maxSequences)
      throw new RangeError(
        `candidate batch: ${seq.count} sequences exceed the capacity ${this.encoder.maxSequences}`,
      );
    return seq;
  }

  /** The part's bag cut to the batch's count·maxLen slot rows (rebuilt only when its arrays change). */
  private view(seq: SequenceBatch, name: string): BagInput {
    const bag = seq.bags[name];
    if (!bag) throw new Error(`candidate batch: missing sequence part "${name}"`);
    const rows = seq.count * this.spec.maxLen;
    let view = this.views.get(name);
    if (
      view === undefined ||
      view.offsets.buffer !== bag.offsets.buffer ||
      view.offsets.length !== rows + 1 ||
      view.indices !== bag.indices ||
      view.weights !== bag.weights
    ) {
      view = { offsets: bag.offsets.subarray(0, rows + 1), indices: bag.indices, weights: bag.weights };
      this.views.set(name, view);
    }
    return view;
  }
}
