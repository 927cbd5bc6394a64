/**
 * Multi-head causal self-attention over batches of fixed-length slot sequences (Vaswani et al.
 * 2017, as SASRec uses it for next-item prediction): one projection to queries, keys and values
 * ([d → 3d], a single GEMM), the fused masked attention kernel (slot i sees slots 0..i of its own
 * sequence, padded slots see nothing), then the output projection [d → d]. Optional dropout on the
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
  private readonly gradQkv: Float32Array;
  private readonly kernels: Kernels;
  private readonly dropoutRng: Rng;
  private lengths: Int32Array = new Int32Array(0);
  private batch = 0;
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
    this.gradQkv = new Float32Array(rows * 3 * dim);
  }

  parameters(): Parameter[] {
    return [...this.qkv.parameters(), ...this.proj.parameters()];
  }

  /**
   * x: [batch·maxLen, d] (kept by reference for backward); lengths[b] valid slots of sequence b.
   * Returns the output projection's buffer [batch·maxLen, d] (rows of padded slots hold its bias).
   */
  forward(x: Float32Array, batch: number, lengths: Int32Array, training: boolean): Float32Array {
    if (!(batch >= 0 && batch <= this.maxSequences)) {
      throw new RangeError(`CausalSelfAttention: batch ${batch} exceeds the maximum ${this.maxSequences}`);
    }
    const rows = batch * this.maxLen;
    const qkv = this.qkv.forward(x, rows);
    this.rate = training ? this.dropout : 0;
    this.seed = this.rate > 0 ? this.dropoutRng.nextUint32() : 0;
    this.lengths = lengths;
    this.batch = batch;
    this.kernels.causalAttentionForward(
      qkv,
      batch,
      this.maxLen,
      this.heads,
      this.headDim,
      lengths,
      this.rate,
      this.seed,
      this.probs,
      this.context,
    );
    return this.proj.forward(this.context, rows);
  }

  /**
   * Given the forward input x and gradOut = dLoss/dOutput ([batch·maxLen, d], not modified), adds
   * the parameter gradients and returns dLoss/dx (the qkv projection's gradInput buffer).
   */
  backward(x: Float32Array, gradOut: Float32Array, batch: number): Float32Array {
    if (batch !== this.batch)
      throw new Error(`CausalSelfAttention.backward: batch ${batch} ≠ forward's ${this.batch}`);
    const rows = batch * this.maxLen;
    const gradContext = this.proj.backward(this.context, gradOut, rows);
    this.kernels.causalAttentionBackward(
      this.qkv.output,
      batch,
      this.maxLen,
      this.heads,
      this.headDim,
      this.lengths,
      this.rate,
      this.seed,
      this.probs,
      gradContext,
      this.gradQkv,
    );
    return this.qkv.backward(x, this.gradQkv, rows);
  }
}
