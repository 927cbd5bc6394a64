/**
 * A tower of fully connected ReLU layers ("tower" in the paper: 1024 → 512 → 256 ReLU), the body
 * of both the candidate generator (input: concatenated embeddings and features; output: the user
 * vector) and the ranking network. Optional seeded dropout on the input and after each hidden
 * layer; the last layer is ReLU or linear as configured.
 */
import type { Initializer } from "../init.js";
import type { Kernels } from "../kernels/kernels.js";
import type { Rng } from "../rng.js";
import { Dropout } from "./dropout.js";
import { Linear } from "./linear.js";
import type { Parameter } from "./parameter.js";

export interface ReluTowerOptions {
  /** ReLU on the last layer too (the paper's user vector); default true. */
  finalRelu?: boolean;
  /** Dropout rate after each hidden layer (not after the last); default 0. */
  dropout?: number;
  /** Dropout rate on the input, applied in place to the caller's buffer; default 0. */
  inputDropout?: number;
  /**
   * Weight initialization: "uniform" (default) = He uniform for ReLU layers, Glorot uniform for a
   * linear last layer; "normal" = He normal for ReLU layers, N(0, 1/fanIn) for a linear last layer.
   */
  init?: "uniform" | "normal";
}

export class ReluTower {
  /** [inDim, hidden..., outDim]. */
  readonly widths: readonly number[];
  readonly layers: readonly Linear[];
  private readonly dropouts: readonly Dropout[];
  private readonly inputDropout: Dropout;
  /**
   * The one stream every dropout mask of the tower is drawn from (forked from the constructor's
   * rng); checkpoint it with getState/setState to replay the same masks.
   */
  readonly dropoutRng: Rng;
  private input: Float32Array | null = null;

  /** `widths` = [inDim, h1, ..., outDim] (at least two entries); layers are named `${name}.${i}`. */
  constructor(
    kernels: Kernels,
    name: string,
    widths: readonly number[],
    maxBatch: number,
    rng: Rng,
    options: ReluTowerOptions = {},
  ) {
    if (widths.length < 2)
      throw new RangeError(`ReluTower ${name}: needs [inDim, ..., outDim], got [${widths.join(", ")}]`);
    this.widths = [...widths];
    const finalRelu = options.finalRelu ?? true;
    const last = widths.length - 2;
    const normal = options.init === "normal";
    this.layers = widths.slice(1).map((w, i) => {
      const relu = i < last || finalRelu;
      const init: Initializer | undefined = normal
        ? { kind: "normal", std: Math.sqrt((relu ? 2 : 1) / widths[i]) }
        : undefined;
      return new Linear(kernels, `${name}.${i}`, widths[i], w, maxBatch, rng, { relu, init });
    });
    const rate = options.dropout ?? 0;
    this.dropoutRng = rng.fork(-1);
    this.dropouts = widths.slice(1, -1).map((w) => new Dropout(w, maxBatch, rate, this.dropoutRng));
    this.inputDropout = new Dropout(widths[0], maxBatch, options.inputDropout ?? 0, this.dropoutRng);
  }

  get inDim(): number {
    return this.widths[0];
  }

  get outDim(): number {
    return this.widths[this.widths.length - 1];
  }

  /** The output of the last forward pass (maxBatch×outDim). */
  get output(): Float32Array {
    return this.layers[this.layers.length - 1].output;
  }

  parameters(): Parameter[] {
    return this.layers.flatMap((l) => l.parameters());
  }

  /** Runs x (batch×inDim; kept by reference for backward, not copied) through the tower. */
  forward(x: Float32Array, batch: number, training: boolean): Float32Array {
    this.inputDropout.forward(x, batch, training);
    this.input = x;
    let h = x;
    for (let i = 0; i < this.layers.length; i++) {
      h = this.layers[i].forward(h, batch);
      if (i < this.dropouts.length) this.dropouts[i].forward(h, batch, training);
    }
    return h;
  }

  /**
   * Backpropagates gradOut (batch×outDim, modified in place) through the tower, adding parameter
   * gradients; returns dLoss/dX (batch×inDim) unless needGradInput is false.
   */
  backward(gradOut: Float32Array, batch: number, needGradInput = true): Float32Array {
    if (this.input === null) throw new Error("ReluTower.backward: call forward first");
    let g = gradOut;
    for (let i = this.layers.length - 1; i >= 0; i--) {
      if (i < this.dropouts.length) this.dropouts[i].backward(g, batch);
      const x = i === 0 ? this.input : this.layers[i - 1].output;
      g = this.layers[i].backward(x, g, batch, i > 0 || needGradInput);
    }
    if (needGradInput) this.inputDropout.backward(g, batch);
    return g;
  }
}
