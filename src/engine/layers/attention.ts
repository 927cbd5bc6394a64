/**
 * Multi-head causal self-attention over batches of slot sequences (up to maxLen each) (Vaswani et al.
 * 2017, as SASRec uses it for next-item prediction): one projection to queries, keys and values
 * ([d → 3d], a single GEMM), the fused masked attention kernel (slot i sees slots 0..i of its own
 * sequence), then the output projection [d → d]. Sequences are packed without padding: sequence b
 * is rows offsets[b] .. offsets[b+1] of the input, so no work is spent on empty slots. Optional dropout on the
 * attention probabilities, with a mask the kernel regenerates from a per-call seed in backward.
 */
import type { Kernels } from "../kernels/kernels.js";
import type { Rng } from "../rng.js";
import { Linear } from "./linear.js";
import type { Parameter } from "./parameter.js";

export class CausalSelfAttention {
  readonly dim: number;
  readonly heads: number;
  readonly headDim: number;
  readonly maxLen: number;
  readonly maxSequences: number;
  readonly dropout: number;
  readonly qkv: Linear;
  readonly proj: Linear;
  /** [maxSequences, heads, maxLen, maxLen]: the attention probabilities of the last forward pass. */
  readonly probs: Float32Array;
  /** [maxSequences·maxLen, d]: heads side by side, the input of the output projection. */
  private readonly context: Float32Array;
  private gradQkv: Float32Array | null = null;
  private readonly kernels: Kernels;
  private readonly dropoutRng: Rng;
  private offsets: Int32Array = new Int32Array(1);
  private numSeqs = 0;
  private rows = 0;
  private seed = 0;
  private rate = 0;

  /** Projections are initialised from `rng`; dropout seeds are drawn from `dropoutRng` per forward. */
  constructor(
    kernels: Kernels,
    name: string,
    dim: number,
    heads: number,
    maxLen: number,
    maxSequences: number,
    rng: Rng,
    dropoutRng: Rng,
    dropout = 0,
  ) {
    if (!(Number.isInteger(heads) && heads >= 1 && dim % heads === 0)) {
      throw new RangeError(`CausalSelfAttention ${name}: dim ${dim} must be a multiple of heads ${heads}`);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new RangeError(`CausalSelfAttention ${name}: dropout must be in [0, 1), got ${dropout}`);
    }
    this.kernels = kernels;
    this.dim = dim;
    this.heads = heads;
    this.headDim = dim / heads;
    this.maxLen = maxLen;
    this.maxSequences = maxSequences;
    this.dropout = dropout;
    this.dropoutRng = dropoutRng;
    const rows = maxSequences * maxLen;
    this.qkv = new Linear(kernels, `${name}.qkv`, dim, 3 * dim, rows, rng);
    this.proj = new Linear(kernels, `${name}.proj`, dim, dim, rows, rng);
    this.probs = new Float32Array(maxSequences * heads * maxLen * maxLen);
    this.context = new Float32Array(rows * dim);
  }

  parameters(): Parameter[] {
    return [...this.qkv.parameters(), ...this.proj.parameters()];
  }

  /**
   * x: [rows, d] (kept by reference for backward) holding numSeqs sequences, sequence b at rows
   * offsets[b] .. offsets[b+1] (≤ maxLen slots; kept by reference too). Returns the output
   * projection's buffer [rows, d].
   */
  forward(
    x: Float32Array,
    rows: number,
    numSeqs: number,
    offsets: Int32Array,
    training: boolean,
  ): Float32Array {
    if (!(numSeqs >= 0 && numSeqs <= this.maxSequences)) {
      throw new RangeError(
        `CausalSelfAttention: ${numSeqs} sequences exceed the maximum ${this.maxSequences}`,
      );
    }
    if (offsets[numSeqs] !== rows) {
      throw new RangeError(
        `CausalSelfAttention: offsets end at ${offsets[numSeqs]}, not at the ${rows} rows`,
      );
    }
    const qkv = this.qkv.forward(x, rows);
    this.rate = training ? this.dropout : 0;
    this.seed = this.rate > 0 ? this.dropoutRng.nextUint32() : 0;
    this.offsets = offsets;
    this.numSeqs = numSeqs;
    this.rows = rows;
    this.kernels.causalAttentionForward(
      qkv,
      numSeqs,
      this.maxLen,
      this.heads,
      this.headDim,
      offsets,
      this.rate,
      this.seed,
      this.probs,
      this.context,
    );
    return this.proj.forward(this.context, rows);
  }

  /**
   * Given the forward input x and gradOut = dLoss/dOutput ([rows, d], not modified), adds the
   * parameter gradients and returns dLoss/dx (the qkv projection's gradInput buffer).
   */
  backward(x: Float32Array, gradOut: Float32Array, rows: number): Float32Array {
    if (rows !== this.rows)
      throw new Error(`CausalSelfAttention.backward: ${rows} rows ≠ forward's ${this.rows}`);
    const gradContext = this.proj.backward(this.context, gradOut, rows);
    // Backward-only buffer, allocated on the first backward pass (a serving model never needs it).
    this.gradQkv ??= new Float32Array(this.maxSequences * this.maxLen * 3 * this.dim);
    this.kernels.causalAttentionBackward(
      this.qkv.output,
      this.numSeqs,
      this.maxLen,
      this.heads,
      this.headDim,
      this.offsets,
      this.rate,
      this.seed,
      this.probs,
      gradContext,
      this.gradQkv,
    );
    return this.qkv.backward(x, this.gradQkv, rows);
  }
}
