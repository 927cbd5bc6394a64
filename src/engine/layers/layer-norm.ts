/**
 * Layer normalisation over the last dimension (Ba, Kiros, Hinton 2016) with a learned gain
 * (gamma, initialised to 1) and bias (beta, 0): the normaliser of each Transformer block. Output,
 * per-row statistics and the input gradient live in buffers allocated once for maxRows rows.
 */
import type { Kernels } from "../kernels/kernels.js";
import { Parameter } from "./parameter.js";

export class LayerNorm {
  readonly dim: number;
  readonly maxRows: number;
  readonly eps: number;
  readonly gamma: Parameter;
  readonly beta: Parameter;
  /** maxRows×dim: the normalised rows of the last forward pass. */
  readonly output: Float32Array;
  private readonly mean: Float32Array;
  private readonly rstd: Float32Array;
  private readonly kernels: Kernels;

  constructor(kernels: Kernels, name: string, dim: number, maxRows: number, eps = 1e-6) {
    if (!(eps > 0)) throw new RangeError(`LayerNorm ${name}: eps must be > 0, got ${eps}`);
    this.kernels = kernels;
    this.dim = dim;
    this.maxRows = maxRows;
    this.eps = eps;
    this.gamma = new Parameter(`${name}.gamma`, [dim], "dense", -1, { decay: false });
    this.beta = new Parameter(`${name}.beta`, [dim], "dense", -1, { decay: false });
    this.gamma.data.fill(1);
    this.output = new Float32Array(maxRows * dim);
    this.mean = new Float32Array(maxRows);
    this.rstd = new Float32Array(maxRows);
  }

  parameters(): Parameter[] {
    return [this.gamma, this.beta];
  }

  /** Normalises rows [0, rows) of x (row stride dim; kept by the caller for backward) into output. */
  forward(x: Float32Array, rows: number): Float32Array {
    this.checkRows(rows);
    const { kernels, dim } = this;
    kernels.layerNormForward(
      x,
      rows,
      dim,
      this.gamma.data,
      this.beta.data,
      this.eps,
      this.output,
      this.mean,
      this.rstd,
    );
    return this.output;
  }

  /**
   * Given the forward input x and gradOut = dLoss/dOutput, adds the gamma and beta gradients and
   * writes dLoss/dx into gradX, or adds it there when `accumulate` (a residual stream's gradient).
   */
  backward(
    x: Float32Array,
    gradOut: Float32Array,
    rows: number,
    gradX: Float32Array,
    accumulate: boolean,
  ): void {
    this.checkRows(rows);
    this.kernels.layerNormBackward(
      x,
      rows,
      this.dim,
      this.gamma.data,
      this.mean,
      this.rstd,
      gradOut,
      gradX,
      accumulate,
      this.gamma.grad,
      this.beta.grad,
    );
  }

  private checkRows(rows: number): void {
    if (!(rows >= 0 && rows <= this.maxRows)) {
      throw new RangeError(`LayerNorm ${this.gamma.name}: ${rows} rows exceed the maximum ${this.maxRows}`);
    }
  }
}
