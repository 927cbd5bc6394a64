/**
 * The candidate network's tower: fully connected layers from the concatenated input to the user
 * vector (the paper's depth 0-4 layouts). Hidden layers are ReLU; the last layer's ReLU is optional
 * and depth 0 is one linear layer. Activations and gradients live in buffers sized for the largest
 * batch, so a training step allocates nothing.
 */
import type { Kernels } from "../../engine/kernels/kernels.js";
import type { Rng } from "../../engine/rng.js";
import { DenseParam } from "./params.js";

interface Layer {
  readonly in: number;
  readonly out: number;
  readonly relu: boolean;
  readonly weight: DenseParam; // [out × in]
  readonly bias: DenseParam; // [out]
  readonly output: Float32Array; // [capacity × out]
  readonly gradOutput: Float32Array; // [capacity × out]
}

export class Tower {
  readonly layers: Layer[] = [];
  /** Dropout masks (already scaled by 1/(1−p)) of each layer's input. */
  private readonly masks: Float32Array[] = [];
  private dropoutActive = false;

  constructor(
    inputWidth: number,
    widths: readonly number[],
    finalRelu: boolean,
    readonly capacity: number,
    readonly dropout: number,
  ) {
    let prev = inputWidth;
    widths.forEach((w, i) => {
      const last = i === widths.length - 1;
      this.layers.push({
        in: prev,
        out: w,
        relu: !last || (finalRelu && widths.length > 0),
        weight: new DenseParam(`tower.${i}.weight`, [w, prev]),
        bias: new DenseParam(`tower.${i}.bias`, [w]),
        output: new Float32Array(capacity * w),
        gradOutput: new Float32Array(capacity * w),
      });
      this.masks.push(new Float32Array(dropout > 0 ? capacity * prev : 0));
      prev = w;
    });
  }

  get outputWidth(): number {
    return this.layers[this.layers.length - 1].out;
  }

  /** The user vectors of the last forward pass, [n × outputWidth]. */
  get output(): Float32Array {
    return this.layers[this.layers.length - 1].output;
  }

  get gradOutput(): Float32Array {
    return this.layers[this.layers.length - 1].gradOutput;
  }

  params(): DenseParam[] {
    return this.layers.flatMap((l) => [l.weight, l.bias]);
  }

  init(rng: Rng): void {
    for (const l of this.layers) {
      // He initialization for ReLU layers, Glorot-like for the linear output layer.
      l.weight.initNormal(rng, Math.sqrt((l.relu ? 2 : 1) / l.in));
      l.bias.value.fill(0);
    }
  }

  /**
   * Forward over n rows of x [n × inputWidth]. With `rng`, dropout is applied to each layer's input
   * in place (x is overwritten for the first layer).
   */
  forward(k: Kernels, x: Float32Array, n: number, rng: Rng | null): void {
    this.dropoutActive = rng !== null && this.dropout > 0;
    let input = x;
    for (let i = 0; i < this.layers.length; i++) {
      const l = this.layers[i];
      if (this.dropoutActive && rng) this.applyDropout(input, this.masks[i], n * l.in, rng);
      k.gemm(false, true, n, l.out, l.in, 1, input, l.in, l.weight.value, l.in, 0, l.output, l.out);
      k.biasAct(l.output, n, l.out, l.out, l.bias.value, l.relu);
      input = l.output;
    }
  }

  /**
   * Backward from gradOutput (the user-vector gradient, filled by the caller) to the gradient of
   * x, written into gradX [n × inputWidth]. Parameter gradients are overwritten.
   */
  backward(k: Kernels, x: Float32Array, n: number, gradX: Float32Array): void {
    for (let i = this.layers.length - 1; i >= 0; i--) {
      const l = this.layers[i];
      const input = i === 0 ? x : this.layers[i - 1].output;
      const gradInput = i === 0 ? gradX : this.layers[i - 1].gradOutput;
      if (l.relu) k.reluBackward(l.gradOutput, l.output, n * l.out);
      k.gemm(true, false, l.out, l.in, n, 1, l.gradOutput, l.out, input, l.in, 0, l.weight.grad, l.in);
      k.colSums(l.gradOutput, n, l.out, l.out, l.bias.grad, 0);
      k.gemm(false, false, n, l.in, l.out, 1, l.gradOutput, l.out, l.weight.value, l.in, 0, gradInput, l.in);
      if (this.dropoutActive) {
        const mask = this.masks[i];
        for (let j = 0; j < n * l.in; j++) gradInput[j] *= mask[j];
      }
    }
  }

  private applyDropout(x: Float32Array, mask: Float32Array, count: number, rng: Rng): void {
    const keep = 1 - this.dropout;
    const scale = 1 / keep;
    for (let j = 0; j < count; j++) {
      const m = rng.nextFloat() < keep ? scale : 0;
      mask[j] = m;
      x[j] *= m;
    }
  }
}
