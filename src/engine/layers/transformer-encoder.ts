/**
 * An order-aware encoder of slot sequences (SASRec, Kang & McAuley 2018): learned position
 * embeddings added to the inputs, B pre-LN Transformer blocks of causal self-attention, and a
 * final layer norm. Sequence b holds lengths[b] valid slots from slot 0 (the oldest) on, padding
 * after; the output at slot i depends on the inputs at slots 0..i only, so every slot can be
 * trained to predict the next one without seeing it. Padded slots output exactly 0.
 *
 * Buffers are sized once for maxSequences×maxLen rows; forward and backward only run kernels.
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
  /** [maxSequences·maxLen, dim]: dLoss/dx of the last backward pass (padded rows 0). */
  readonly gradInput: Float32Array;
  private readonly embedded: Float32Array;
  private readonly gradStream: Float32Array;
  private readonly gradLast: Float32Array;
  private readonly lengths: Int32Array;
  /** Bag-of-one CSR over rows: offsets 0, 1, 2, … and the slot index of every row. */
  private readonly rowOffsets: Int32Array;
  private readonly slotOfRow: Int32Array;
  private readonly kernels: Kernels;
  private batch = -1;
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
    this.gradInput = new Float32Array(rows * dim);
    this.embedded = new Float32Array(rows * dim);
    this.gradStream = new Float32Array(rows * dim);
    this.gradLast = new Float32Array(rows * dim);
    this.lengths = new Int32Array(maxSequences);
    this.rowOffsets = new Int32Array(rows + 1).map((_, i) => i);
    this.slotOfRow = new Int32Array(rows).map((_, i) => i % maxLen);
  }

  /** [maxSequences·maxLen, dim]: the output of the last forward pass (padded rows 0). */
  get output(): Float32Array {
    return this.finalNorm.output;
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
    const { kernels, dim, maxLen } = this;
    const rows = n * maxLen;
    const size = rows * dim;
    if (x.length < size)
      throw new RangeError(`TransformerEncoder: x holds ${x.length} values, needs ${size}`);
    const h0 = this.embedded;
    h0.set(x.subarray(0, size));
    kernels.embeddingBagForward(
      this.positions.data,
      dim,
      this.rowOffsets.subarray(0, rows + 1),
      this.slotOfRow,
      null,
      h0,
      dim,
      0,
      true,
    );
    this.zeroPadding(h0);
    this.inputRate = training ? this.dropout : 0;
    this.inputSeed = this.inputRate > 0 ? this.dropoutRng.nextUint32() : 0;
    if (this.inputRate > 0) kernels.dropout(h0, size, this.inputRate, this.inputSeed);
    let h = h0;
    for (const block of this.blocks) h = block.forward(h, n, this.lengths, training);
    const y = this.finalNorm.forward(h, rows);
    this.zeroPadding(y);
    return y;
  }

  /**
   * Given gradOut = dLoss/dOutput ([n·maxLen, dim]; padded rows are ignored and zeroed in place),
   * adds every parameter gradient and returns dLoss/dx in `gradInput` (padded rows 0).
   */
  backward(gradOut: Float32Array, n: number): Float32Array {
    if (n !== this.batch)
      throw new Error(`TransformerEncoder.backward: batch ${n} ≠ forward's ${this.batch}`);
    const { kernels, dim, maxLen } = this;
    const rows = n * maxLen;
    const size = rows * dim;
    this.zeroPadding(gradOut);
    const last = this.blocks.length > 0 ? this.blocks[this.blocks.length - 1].output : this.embedded;
    this.finalNorm.backward(last, gradOut, rows, this.gradStream, false);
    let g = this.gradStream;
    for (let i = this.blocks.length - 1; i >= 0; i--) g = this.blocks[i].backward(g, n);
    const dx = this.gradInput;
    dx.set(g.subarray(0, size));
    if (this.inputRate > 0) kernels.dropout(dx, size, this.inputRate, this.inputSeed);
    this.zeroPadding(dx);
    kernels.embeddingBagBackward(
      dx,
      dim,
      0,
      dim,
      this.rowOffsets.subarray(0, rows + 1),
      this.slotOfRow,
      null,
      this.positions.grad,
    );
    return dx;
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
    const g = this.gradLast;
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

  private setBatch(n: number, lengths: Int32Array): void {
    if (!(Number.isInteger(n) && n >= 0 && n <= this.maxSequences)) {
      throw new RangeError(`TransformerEncoder: batch ${n} exceeds the maximum ${this.maxSequences}`);
    }
    if (lengths.length < n)
      throw new RangeError(`TransformerEncoder: lengths holds ${lengths.length}, needs ${n}`);
    for (let b = 0; b < n; b++) {
      const len = lengths[b];
      if (!(len >= 0 && len <= this.maxLen)) {
        throw new RangeError(`TransformerEncoder: lengths[${b}] = ${len} is outside [0, ${this.maxLen}]`);
      }
      this.lengths[b] = len;
    }
    this.batch = n;
  }

  /** Zeroes the rows of padded slots (slot ≥ length) of a [batch·maxLen, dim] buffer. */
  private zeroPadding(buf: Float32Array): void {
    const { dim, maxLen } = this;
    for (let b = 0; b < this.batch; b++) {
      const len = this.lengths[b];
      if (len < maxLen) buf.fill(0, (b * maxLen + len) * dim, (b + 1) * maxLen * dim);
    }
  }
}
