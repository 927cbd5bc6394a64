/**
 * One pre-LN Transformer block (the layout of GPT-2 and of SASRec's reference code): the residual
 * stream h passes through
 *   h ← h + Dropout(Attention(LN₁(h)))        causal multi-head self-attention
 *   h ← h + Dropout(W₂·Dropout(act(W₁·LN₂(h))))  position-wise feed-forward, act = GELU or ReLU
 * Normalising the branch inputs (not the stream) keeps the gradient of the stream an identity
 * path, which trains stably without warm-up. Dropout masks are counter-based (the dropout kernel),
 * so backward replays them from the seeds drawn in forward.
 */
import type { Kernels } from "../kernels/kernels.js";
import type { Rng } from "../rng.js";
import { CausalSelfAttention } from "./attention.js";
import { LayerNorm } from "./layer-norm.js";
import { Linear } from "./linear.js";
import type { Parameter } from "./parameter.js";

export type BlockActivation = "gelu" | "relu";

export interface TransformerBlockOptions {
  dim: number;
  heads: number;
  maxLen: number;
  ffnDim: number;
  /** On the attention and feed-forward branch outputs and on the feed-forward hidden layer. */
  dropout: number;
  /** On the attention probabilities. */
  attentionDropout: number;
  activation: BlockActivation;
  layerNormEps: number;
}

export class TransformerBlock {
  readonly options: TransformerBlockOptions;
  readonly maxSequences: number;
  readonly ln1: LayerNorm;
  readonly attention: CausalSelfAttention;
  readonly ln2: LayerNorm;
  readonly ffn1: Linear;
  readonly ffn2: Linear;
  /** [maxSequences·maxLen, d]: the block's output (the residual stream after both branches), packed as the input. */
  readonly output: Float32Array;

  /** The stream after the attention branch. */
  private readonly mid: Float32Array;
  /** GELU output (the feed-forward hidden activations); ffn1.output itself with ReLU. */
  private readonly hidden: Float32Array;
  /** Backward-only buffers, allocated on the first backward pass (a serving model never needs them). */
  private gradIn: Float32Array | null = null;
  private scratch: Float32Array | null = null;
  private readonly kernels: Kernels;
  private readonly dropoutRng: Rng;
  private input: Float32Array | null = null;
  private rows = -1;
  private rate = 0;
  private seedAttnOut = 0;
  private seedHidden = 0;
  private seedFfnOut = 0;

  constructor(
    kernels: Kernels,
    name: string,
    options: TransformerBlockOptions,
    maxSequences: number,
    rng: Rng,
    dropoutRng: Rng,
  ) {
    const { dim, heads, maxLen, ffnDim, dropout, attentionDropout, activation, layerNormEps } = options;
    if (!(dropout >= 0 && dropout < 1)) {
      throw new RangeError(`TransformerBlock ${name}: dropout must be in [0, 1), got ${dropout}`);
    }
    this.kernels = kernels;
    this.options = { ...options };
    this.maxSequences = maxSequences;
    this.dropoutRng = dropoutRng;
    const rows = maxSequences * maxLen;
    this.ln1 = new LayerNorm(kernels, `${name}.ln1`, dim, rows, layerNormEps);
    this.attention = new CausalSelfAttention(
      kernels,
      `${name}.attn`,
      dim,
      heads,
      maxLen,
      maxSequences,
      rng,
      dropoutRng,
      attentionDropout,
    );
    this.ln2 = new LayerNorm(kernels, `${name}.ln2`, dim, rows, layerNormEps);
    this.ffn1 = new Linear(kernels, `${name}.ffn1`, dim, ffnDim, rows, rng, { relu: activation === "relu" });
    this.ffn2 = new Linear(kernels, `${name}.ffn2`, ffnDim, dim, rows, rng);
    this.output = new Float32Array(rows * dim);
    this.mid = new Float32Array(rows * dim);
    this.hidden = activation === "gelu" ? new Float32Array(rows * ffnDim) : this.ffn1.output;
  }

  parameters(): Parameter[] {
    return [
      ...this.ln1.parameters(),
      ...this.attention.parameters(),
      ...this.ln2.parameters(),
      ...this.ffn1.parameters(),
      ...this.ffn2.parameters(),
    ];
  }

  /**
   * Runs h ([rows, d], kept by reference for backward) through the block into `output`; h holds
   * numSeqs sequences packed without padding, sequence b at rows offsets[b] .. offsets[b+1].
   */
  forward(
    h: Float32Array,
    rows: number,
    numSeqs: number,
    offsets: Int32Array,
    training: boolean,
  ): Float32Array {
    const { kernels } = this;
    const { dim, ffnDim, activation } = this.options;
    const n = rows * dim;
    this.input = h;
    this.rows = rows;
    this.rate = training ? this.options.dropout : 0;
    const drop = this.rate > 0;
    this.seedAttnOut = drop ? this.dropoutRng.nextUint32() : 0;
    this.seedHidden = drop ? this.dropoutRng.nextUint32() : 0;
    this.seedFfnOut = drop ? this.dropoutRng.nextUint32() : 0;

    const a = this.ln1.forward(h, rows);
    const attn = this.attention.forward(a, rows, numSeqs, offsets, training);
    if (drop) kernels.dropout(attn, n, this.rate, this.seedAttnOut);
    this.mid.set(h.subarray(0, n));
    kernels.addInPlace(attn, this.mid, n);

    const c = this.ln2.forward(this.mid, rows);
    const pre = this.ffn1.forward(c, rows);
    if (activation === "gelu") kernels.gelu(pre, this.hidden, rows * ffnDim);
    if (drop) kernels.dropout(this.hidden, rows * ffnDim, this.rate, this.seedHidden);
    const g = this.ffn2.forward(this.hidden, rows);
    if (drop) kernels.dropout(g, n, this.rate, this.seedFfnOut);
    this.output.set(this.mid.subarray(0, n));
    kernels.addInPlace(g, this.output, n);
    return this.output;
  }

  /**
   * Given gradOut = dLoss/d(output) ([rows, d], not modified), adds every parameter gradient and
   * returns dLoss/d(input) in a buffer of the block ([maxSequences·maxLen, d], reused per call).
   */
  backward(gradOut: Float32Array, rows: number): Float32Array {
    const h = this.input;
    if (h === null || rows !== this.rows)
      throw new Error("TransformerBlock.backward: call forward on this batch first");
    const { kernels, rate } = this;
    const { dim, ffnDim, activation } = this.options;
    const n = rows * dim;
    const drop = rate > 0;
    const size = this.maxSequences * this.options.maxLen * dim;
    this.gradIn ??= new Float32Array(size);
    this.scratch ??= new Float32Array(size);
    const gradIn = this.gradIn;

    // Feed-forward branch: d(mid) = gradOut + LN₂ᵀ·W₁ᵀ·act′·W₂ᵀ·Dropout(gradOut).
    const dg = this.scratch;
    dg.set(gradOut.subarray(0, n));
    if (drop) kernels.dropout(dg, n, rate, this.seedFfnOut);
    const dHidden = this.ffn2.backward(this.hidden, dg, rows);
    if (drop) kernels.dropout(dHidden, rows * ffnDim, rate, this.seedHidden);
    if (activation === "gelu") kernels.geluBackward(this.ffn1.output, dHidden, rows * ffnDim);
    const dc = this.ffn1.backward(this.ln2.output, dHidden, rows);
    gradIn.set(gradOut.subarray(0, n));
    this.ln2.backward(this.mid, dc, rows, gradIn, true);

    // Attention branch: d(h) = d(mid) + LN₁ᵀ·Attentionᵀ·Dropout(d(mid)).
    const dAttn = this.scratch;
    dAttn.set(gradIn.subarray(0, n));
    if (drop) kernels.dropout(dAttn, n, rate, this.seedAttnOut);
    const da = this.attention.backward(this.ln1.output, dAttn, rows);
    this.ln1.backward(h, da, rows, gradIn, true);
    return gradIn;
  }
}
