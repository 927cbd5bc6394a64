/**
 * The candidate network's trainable tensors with their Adam state. Dense tensors (tower weights,
 * biases) are updated whole every step; embedding tables are updated lazily, only on the rows a
 * batch touched, which are tracked here without allocation (a stamp per row).
 */
import type { Kernels } from "../../engine/kernels/kernels.js";
import type { Rng } from "../../engine/rng.js";

export interface AdamSettings {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** A dense tensor: value, gradient (overwritten by each backward), Adam moments. */
export class DenseParam {
  readonly value: Float32Array;
  readonly grad: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;

  constructor(
    readonly name: string,
    readonly shape: readonly number[],
  ) {
    const n = shape.reduce((a, b) => a * b, 1);
    this.value = new Float32Array(n);
    this.grad = new Float32Array(n);
    this.m = new Float32Array(n);
    this.v = new Float32Array(n);
  }

  initNormal(rng: Rng, std: number): void {
    for (let i = 0; i < this.value.length; i++) this.value[i] = std * rng.normal();
  }

  step(k: Kernels, opt: AdamSettings, t: number): void {
    k.adam(
      this.value,
      this.grad,
      this.m,
      this.v,
      this.value.length,
      opt.lr,
      opt.beta1,
      opt.beta2,
      opt.eps,
      t,
      opt.weightDecay,
    );
  }
}

/**
 * An embedding table [rows × dim]; row 0 is the out-of-vocabulary row and stays zero. The gradient
 * table is kept all-zero between steps: backward adds into touched rows, and lazy Adam clears them.
 */
export class TableParam {
  readonly value: Float32Array;
  readonly grad: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  /** Rows touched since the last step (unique), and a per-row stamp to keep them unique. */
  readonly touched: Int32Array;
  numTouched = 0;
  private readonly stamp: Int32Array;
  private epoch = 1;

  constructor(
    readonly name: string,
    readonly rows: number,
    readonly dim: number,
    /** Row 0 is the out-of-vocabulary row (input tables); false for output tables indexed by item. */
    readonly oovRow0 = true,
  ) {
    this.value = new Float32Array(rows * dim);
    this.grad = new Float32Array(rows * dim);
    this.m = new Float32Array(rows * dim);
    this.v = new Float32Array(rows * dim);
    this.touched = new Int32Array(rows);
    this.stamp = new Int32Array(rows);
  }

  initNormal(rng: Rng, std: number): void {
    for (let i = 0; i < this.value.length; i++) this.value[i] = std * rng.normal();
    if (this.oovRow0) this.value.fill(0, 0, this.dim);
  }

  /** Records that rows indices[from .. to) received gradient. */
  touch(indices: Int32Array, from: number, to: number): void {
    const stamp = this.stamp;
    const e = this.epoch;
    const first = this.oovRow0 ? 1 : 0;
    for (let i = from; i < to; i++) {
      const r = indices[i];
      if (r >= first && stamp[r] !== e) {
        stamp[r] = e;
        this.touched[this.numTouched++] = r;
      }
    }
  }

  touchAll(): void {
    this.numTouched = 0;
    for (let r = this.oovRow0 ? 1 : 0; r < this.rows; r++) this.touched[this.numTouched++] = r;
  }

  /** Lazy Adam over the touched rows (with an optional L2 pull on them), then forgets them. */
  step(k: Kernels, opt: AdamSettings, t: number, l2: number): void {
    const d = this.dim;
    if (l2 > 0) {
      for (let i = 0; i < this.numTouched; i++) {
        const o = this.touched[i] * d;
        for (let c = 0; c < d; c++) this.grad[o + c] += l2 * this.value[o + c];
      }
    }
    k.lazyAdam(
      this.value,
      this.grad,
      this.m,
      this.v,
      d,
      this.touched,
      this.numTouched,
      opt.lr,
      opt.beta1,
      opt.beta2,
      opt.eps,
      t,
    );
    // Row 0 (out of vocabulary) never learns: drop whatever gradient reached it.
    if (this.oovRow0) this.grad.fill(0, 0, d);
    this.numTouched = 0;
    this.epoch++;
    if (this.epoch === 0x7fffffff) {
      this.stamp.fill(0);
      this.epoch = 1;
    }
  }
}
