/**
 * A fully connected layer Y = X·W + b (optionally followed by ReLU), with W stored [in×out] so
 * the forward pass is one GEMM over a batch. Output and input-gradient buffers are allocated once
 * for a maximum batch size (the gradient on the first backward pass); forward/backward only run
 * kernels over them.
 */
import { initialize, type Initializer } from "../init.js";
import { layerGemm, type GemmFn } from "../kernels/index.js";
import type { Kernels } from "../kernels/kernels.js";
import type { Rng } from "../rng.js";
import { Parameter } from "./parameter.js";

export interface LinearOptions {
  /** ReLU after the affine map (fused into the bias kernel). */
  relu?: boolean;
  /** Weight initializer; default He uniform with ReLU, Glorot uniform without. */
  init?: Initializer;
}

export class Linear {
  readonly inDim: number;
  readonly outDim: number;
  readonly maxBatch: number;
  readonly relu: boolean;
  /** [inDim×outDim]. */
  readonly weight: Parameter;
  /** [outDim], initialised to zero. */
  readonly bias: Parameter;
  /** maxBatch×outDim: the activations of the last forward pass. */
  readonly output: Float32Array;
  private gradInputBuffer: Float32Array | null = null;
  private readonly kernels: Kernels;
  /** kernels.gemm, or the bf16 GEMM under WATCHNEXT_GEMM=bf16 (kernels/index.ts layerGemm). */
  private readonly gemm: GemmFn;
  /** forwardShared's per-group products (grown on demand). */
  private sharedOut = new Float32Array(0);

  constructor(
    kernels: Kernels,
    name: string,
    inDim: number,
    outDim: number,
    maxBatch: number,
    rng: Rng,
    options: LinearOptions = {},
  ) {
    this.kernels = kernels;
    this.gemm = layerGemm(kernels);
    this.inDim = inDim;
    this.outDim = outDim;
    this.maxBatch = maxBatch;
    this.relu = options.relu ?? false;
    this.weight = new Parameter(`${name}.weight`, [inDim, outDim]);
    this.bias = new Parameter(`${name}.bias`, [outDim]);
    initialize(
      this.weight.data,
      options.init ?? (this.relu ? "he-uniform" : "glorot-uniform"),
      inDim,
      outDim,
      rng,
    );
    this.output = new Float32Array(maxBatch * outDim);
  }

  /**
   * maxBatch×inDim: dLoss/dX of the last backward pass, allocated on first use so that a model
   * that only serves never holds it.
   */
  get gradInput(): Float32Array {
    this.gradInputBuffer ??= new Float32Array(this.maxBatch * this.inDim);
    return this.gradInputBuffer;
  }

  parameters(): Parameter[] {
    return [this.weight, this.bias];
  }

  /** Computes output[0..batch) from x (batch×inDim, row stride inDim) and returns `output`. */
  forward(x: Float32Array, batch: number): Float32Array {
    this.checkBatch(batch);
    const { inDim, outDim } = this;
    this.gemm(
      false,
      false,
      batch,
      outDim,
      inDim,
      1,
      x,
      inDim,
      this.weight.data,
      outDim,
      0,
      this.output,
      outDim,
    );
    this.kernels.biasAct(this.output, batch, outDim, outDim, this.bias.data, this.relu);
    return this.output;
  }

  /**
   * forward() at inference of rows whose input is [shared | own]: row r of group g (rows
   * groupOffsets[g] − groupOffsets[0] .. groupOffsets[g + 1] − groupOffsets[0]) has shared part
   * shared[g] (sharedWidth wide) and own part own[r] (inDim − sharedWidth wide). The shared part's
   * product is computed once per group instead of once per row; the result equals forward() of
   * the concatenated rows up to float rounding (the two partial sums are added, not one sum).
   */
  forwardShared(
    shared: Float32Array,
    sharedWidth: number,
    groups: number,
    groupOffsets: Int32Array,
    own: Float32Array,
    batch: number,
  ): Float32Array {
    this.checkBatch(batch);
    const { inDim, outDim } = this;
    if (!(sharedWidth > 0 && sharedWidth < inDim))
      throw new RangeError(`Linear ${this.weight.name}: shared width ${sharedWidth} outside 1..${inDim - 1}`);
    if (this.sharedOut.length < groups * outDim) this.sharedOut = new Float32Array(groups * outDim);
    const w = this.weight.data;
    const g = this.sharedOut;
    this.gemm(false, false, groups, outDim, sharedWidth, 1, shared, sharedWidth, w, outDim, 0, g, outDim);
    const out = this.output;
    const base = groupOffsets[0];
    for (let k = 0; k < groups; k++) {
      const row = g.subarray(k * outDim, (k + 1) * outDim);
      for (let r = groupOffsets[k] - base; r < groupOffsets[k + 1] - base; r++) out.set(row, r * outDim);
    }
    const ownWidth = inDim - sharedWidth;
    this.gemm(
      false,
      false,
      batch,
      outDim,
      ownWidth,
      1,
      own,
      ownWidth,
      w.subarray(sharedWidth * outDim),
      outDim,
      1,
      out,
      outDim,
    );
    this.kernels.biasAct(out, batch, outDim, outDim, this.bias.data, this.relu);
    return out;
  }

  /**
   * Given x (the forward input) and gradOut = dLoss/dY (batch×outDim; modified in place by the
   * ReLU mask), adds dW = Xᵀ·dY and db = colSums(dY) into the parameter gradients and, unless
   * `needGradInput` is false (first layer over raw inputs), writes dX = dY·Wᵀ into gradInput.
   */
  backward(x: Float32Array, gradOut: Float32Array, batch: number, needGradInput = true): Float32Array {
    this.checkBatch(batch);
    const { inDim, outDim, kernels, gemm } = this;
    if (this.relu) kernels.reluBackward(gradOut, this.output, batch * outDim);
    gemm(true, false, inDim, outDim, batch, 1, x, inDim, gradOut, outDim, 1, this.weight.grad, outDim);
    kernels.colSums(gradOut, batch, outDim, outDim, this.bias.grad, 1);
    if (needGradInput) {
      gemm(
        false,
        true,
        batch,
        inDim,
        outDim,
        1,
        gradOut,
        outDim,
        this.weight.data,
        outDim,
        0,
        this.gradInput,
        inDim,
      );
    }
    return this.gradInput;
  }

  private checkBatch(batch: number): void {
    if (!(batch >= 0 && batch <= this.maxBatch)) {
      throw new RangeError(`Linear ${this.weight.name}: batch ${batch} exceeds the maximum ${this.maxBatch}`);
    }
  }
}
