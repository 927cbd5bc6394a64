/**
 * An order-aware encoder of slot sequences (SASRec, Kang & McAuley 2018): learned position
 * embeddings added to the inputs, B pre-LN Transformer blocks of causal self-attention, and a
 * final layer norm. Sequence b holds lengths[b] valid slots from slot 0 (the oldest) on, padding
 * after; the output at slot i depends on the inputs at slots 0..i only, so every slot can be
 * trained to predict the next one without seeing it. Padded slots output exactly 0.
 *
 * Inside, the valid slots are packed without padding (sequence b at rows offsets[b] ..
 * offsets[b+1]), so every layer runs over the watches actually there: a batch of short histories
 * costs in proportion to its watches, not to maxLen. The embedding-bag kernels do the gathers and
 * scatters between the caller's padded layout and the packed one (bags of one row; an empty bag
 * writes the zeros of a padded slot). Buffers are sized once for maxSequences×maxLen rows (the
 * backward-only ones on the first backward pass); forward and backward only run kernels.
 */
import type { Kernels } from "../kernels/kernels.js";
import type { Rng } from "../rng.js";
import { initialize } from "../init.js";
import { LayerNorm } from "./layer-norm.js";
import { Parameter } from "./parameter.js";
import { TransformerBlock, type BlockActivation } from "./transformer-block.js";

export interface TransformerEncoderConfig {
  /** Model width d: the width of the inputs, of every block and of the output. */
  dim: number;
  /** Attention heads; dim must be a multiple. */
  heads: number;
  /** Transformer blocks B. */
  blocks: number;
  /** Slots per sequence L (the position table's rows). */
  maxLen: number;
  /** Feed-forward hidden width; default dim (SASRec's point-wise feed-forward). */
  ffnDim?: number;
  /** Dropout on (inputs + positions), on each branch output and the feed-forward hidden layer; default 0. */
  dropout?: number;
  /** Dropout on the attention probabilities; default = dropout. */
  attentionDropout?: number;
  /** Feed-forward activation; default "gelu" (tanh form). */
  activation?: BlockActivation;
  /** Layer-norm epsilon; default 1e-6. */
  layerNormEps?: number;
}

export class TransformerEncoder {
  readonly dim: number;
  readonly maxLen: number;
  readonly maxSequences: number;
  readonly dropout: number;
  /** [maxLen, dim]: row i is added to every sequence's slot i. */
  readonly positions: Parameter;
  readonly blocks: readonly TransformerBlock[];
  readonly finalNorm: LayerNorm;
  /**
   * The one stream every dropout seed of the encoder is drawn from (forked from the constructor's
   * rng); checkpoint it with getState/setState to replay the same masks.
   */
  readonly dropoutRng: Rng;
  /** [maxSequences·maxLen, dim]: the output of the last forward pass (padded rows 0). */
  readonly output: Float32Array;
  /** Packed rows: the block input, then the gradient flowing down the residual stream. */
  private readonly embedded: Float32Array;
  /** Backward-only buffers, allocated on the first backward pass (a serving model never needs them). */
  private grads: {
    packed: Float32Array;
    stream: Float32Array;
    last: Float32Array;
    input: Float32Array;
  } | null = null;
  private readonly lengths: Int32Array;
  /** offsets[b] = first packed row of sequence b (numSeqs + 1 entries used). */
  private readonly offsets: Int32Array;
  /** Bag-of-one CSR over packed rows: 0, 1, 2, … (also the scatter's indices). */
  private readonly identity: Int32Array;
  /** Per packed row: its row in the padded layout, and its slot. */
  private readonly paddedRow: Int32Array;
  private readonly slotOfRow: Int32Array;
  /** CSR over padded rows: one entry (its packed row) for a valid slot, none for padding. */
  private readonly scatterOffsets: Int32Array;
  private readonly kernels: Kernels;
  private batch = -1;
  private rows = 0;
  private inputSeed = 0;
  private inputRate = 0;

  constructor(
    kernels: Kernels,
    name: string,
    config: TransformerEncoderConfig,
    maxSequences: number,
    rng: Rng,
  ) {
    const { dim, heads, blocks, maxLen } = config;
    for (const [key, value] of [
      ["dim", dim],
      ["heads", heads],
      ["blocks", blocks],
      ["maxLen", maxLen],
      ["maxSequences", maxSequences],
    ] as const) {
      if (!(Number.isInteger(value) && value >= 1)) {
        throw new RangeError(`TransformerEncoder ${name}: ${key} must be a positive integer, got ${value}`);
      }
    }
    const ffnDim = config.ffnDim ?? dim;
    const dropout = config.dropout ?? 0;
    const attentionDropout = config.attentionDropout ?? dropout;
    for (const [key, value] of [
      ["dropout", dropout],
      ["attentionDropout", attentionDropout],
    ] as const) {
      if (!(value >= 0 && value < 1)) {
        throw new RangeError(`TransformerEncoder ${name}: ${key} must be in [0, 1), got ${value}`);
      }
    }
    const activation = config.activation ?? "gelu";
    if (activation !== "gelu" && activation !== "relu") {
      throw new RangeError(
        `TransformerEncoder ${name}: activation must be "gelu" or "relu", got "${String(activation)}"`,
      );
    }
    const layerNormEps = config.layerNormEps ?? 1e-6;
    this.kernels = kernels;
    this.dim = dim;
    this.maxLen = maxLen;
    this.maxSequences = maxSequences;
    this.dropout = dropout;
    this.positions = new Parameter(`${name}.pos`, [maxLen, dim]);
    initialize(this.positions.data, { kind: "normal", std: 1 / Math.sqrt(dim) }, maxLen, dim, rng);
    this.dropoutRng = rng.fork(-1);
    const options = { dim, heads, maxLen, ffnDim, dropout, attentionDropout, activation, layerNormEps };
    this.blocks = Array.from(
      { length: blocks },
      (_, i) => new TransformerBlock(kernels, `${name}.b${i}`, options, maxSequences, rng, this.dropoutRng),
    );
    const rows = maxSequences * maxLen;
    this.finalNorm = new LayerNorm(kernels, `${name}.lnf`, dim, rows, layerNormEps);
    this.output = new Float32Array(rows * dim);
    this.embedded = new Float32Array(rows * dim);
    this.lengths = new Int32Array(maxSequences);
    this.offsets = new Int32Array(maxSequences + 1);
    this.identity = new Int32Array(rows + 1).map((_, i) => i);
    this.paddedRow = new Int32Array(rows);
    this.slotOfRow = new Int32Array(rows);
    this.scatterOffsets = new Int32Array(rows + 1);
  }

  /** [maxSequences·maxLen, dim]: dLoss/dx of the last backward pass (padded rows 0). */
  get gradInput(): Float32Array {
    return this.gradBuffers().input;
  }

  parameters(): Parameter[] {
    return [this.positions, ...this.blocks.flatMap((b) => b.parameters()), ...this.finalNorm.parameters()];
  }

  /**
   * Encodes x ([n·maxLen, dim], slot i of sequence b at row b·maxLen + i; not modified) where
   * sequence b has lengths[b] ∈ [0, maxLen] valid slots. Returns `output`.
   */
  forward(x: Float32Array, n: number, lengths: Int32Array, training: boolean): Float32Array {
    this.setBatch(n, lengths);
    const { kernels, dim, maxLen, rows } = this;
    const size = rows * dim;
    if (x.length < n * maxLen * dim) {
      throw new RangeError(`TransformerEncoder: x holds ${x.length} values, needs ${n * maxLen * dim}`);
    }
    const bags = this.identity.subarray(0, rows + 1);
    const h0 = this.embedded;
    kernels.embeddingBagForward(x, dim, bags, this.paddedRow, null, h0, dim, 0, false);
    kernels.embeddingBagForward(this.positions.data, dim, bags, this.slotOfRow, null, h0, dim, 0, true);
    this.inputRate = training ? this.dropout : 0;
    this.inputSeed = this.inputRate > 0 ? this.dropoutRng.nextUint32() : 0;
    if (this.inputRate > 0) kernels.dropout(h0, size, this.inputRate, this.inputSeed);
    const offsets = this.offsets;
    let h = h0;
    for (const block of this.blocks) h = block.forward(h, rows, n, offsets, training);
    const y = this.finalNorm.forward(h, rows);
    this.scatter(y, this.output);
    return this.output;
  }

  /**
   * Given gradOut = dLoss/dOutput ([n·maxLen, dim], not modified; padded rows are ignored), adds
   * every parameter gradient and returns dLoss/dx in `gradInput` (padded rows 0).
   */
  backward(gradOut: Float32Array, n: number): Float32Array {
    if (n !== this.batch)
      throw new Error(`TransformerEncoder.backward: batch ${n} ≠ forward's ${this.batch}`);
    const { kernels, dim, rows } = this;
    const size = rows * dim;
    const bags = this.identity.subarray(0, rows + 1);
    const grads = this.gradBuffers();
    const g = grads.packed;
    kernels.embeddingBagForward(gradOut, dim, bags, this.paddedRow, null, g, dim, 0, false);
    const last = this.blocks.length > 0 ? this.blocks[this.blocks.length - 1].output : this.embedded;
    this.finalNorm.backward(last, g, rows, grads.stream, false);
    let stream = grads.stream;
    for (let i = this.blocks.length - 1; i >= 0; i--) stream = this.blocks[i].backward(stream, rows);
    const dx = grads.packed;
    dx.set(stream.subarray(0, size));
    if (this.inputRate > 0) kernels.dropout(dx, size, this.inputRate, this.inputSeed);
    kernels.embeddingBagBackward(dx, dim, 0, dim, bags, this.slotOfRow, null, this.positions.grad);
    this.scatter(dx, grads.input);
    return grads.input;
  }

  /** Copies each sequence's output at its last valid slot into out[b·ld + offset, +dim) (0 when empty). */
  lastOutput(n: number, out: Float32Array, ld: number, offset: number): void {
    this.checkLast(n);
    const { dim, maxLen } = this;
    for (let b = 0; b < n; b++) {
      const o = b * ld + offset;
      const len = this.lengths[b];
      if (len === 0) out.fill(0, o, o + dim);
      else out.set(this.output.subarray((b * maxLen + len - 1) * dim, (b * maxLen + len) * dim), o);
    }
  }

  /**
   * Backward from a gradient at each sequence's last valid slot only (gradLast[b·ld + offset, +dim)),
   * as when only the last slot's output enters the model. Returns dLoss/dx like backward.
   */
  backwardLast(gradLast: Float32Array, ld: number, offset: number, n: number): Float32Array {
    this.checkLast(n);
    const { dim, maxLen } = this;
    const g = this.gradBuffers().last;
    g.fill(0, 0, n * maxLen * dim);
    for (let b = 0; b < n; b++) {
      const len = this.lengths[b];
      if (len > 0)
        g.set(gradLast.subarray(b * ld + offset, b * ld + offset + dim), (b * maxLen + len - 1) * dim);
    }
    return this.backward(g, n);
  }

  private checkLast(n: number): void {
    if (n !== this.batch)
      throw new Error(`TransformerEncoder: batch ${n} ≠ the last forward's ${this.batch}`);
  }

  private gradBuffers(): {
    packed: Float32Array;
    stream: Float32Array;
    last: Float32Array;
    input: Float32Array;
  } {
    if (this.grads === null) {
      const size = this.maxSequences * this.maxLen * this.dim;
      const make = (): Float32Array => new Float32Array(size);
      this.grads = { packed: make(), stream: make(), last: make(), input: make() };
    }
    return this.grads;
  }

  private setBatch(n: number, lengths: Int32Array): void {
    if (!(Number.isInteger(n) && n >= 0 && n <= this.maxSequences)) {
      throw new RangeError(`TransformerEncoder: batch ${n} exceeds the maximum ${this.maxSequences}`);
    }
    if (lengths.length < n)
      throw new RangeError(`TransformerEncoder: lengths holds ${lengths.length}, needs ${n}`);
    const { maxLen, offsets, paddedRow, slotOfRow, scatterOffsets } = this;
    let r = 0;
    for (let b = 0; b < n; b++) {
      const len = lengths[b];
      if (!(Number.isInteger(len) && len >= 0 && len <= maxLen)) {
        throw new RangeError(`TransformerEncoder: lengths[${b}] = ${len} is outside [0, ${maxLen}]`);
      }
      this.lengths[b] = len;
      offsets[b] = r;
      const p0 = b * maxLen;
      for (let i = 0; i < maxLen; i++) {
        if (i < len) {
          paddedRow[r] = p0 + i;
          slotOfRow[r] = i;
          r++;
        }
        scatterOffsets[p0 + i + 1] = r;
      }
    }
    offsets[n] = r;
    this.rows = r;
    this.batch = n;
  }

  /** Writes packed rows into the padded layout [batch·maxLen, dim] with zeros at padded slots. */
  private scatter(packed: Float32Array, padded: Float32Array): void {
    const { dim } = this;
    this.kernels.embeddingBagForward(
      packed,
      dim,
      this.scatterOffsets.subarray(0, this.batch * this.maxLen + 1),
      this.identity.subarray(0, this.rows),
      null,
      padded,
      dim,
      0,
      false,
    );
  }
}
