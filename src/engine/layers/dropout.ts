/**
 * Inverted dropout: during training each activation is kept with probability 1 − rate and scaled
 * by 1/(1 − rate), so inference needs no rescaling. The mask comes from a seeded Rng and is kept
 * for the backward pass. Works in place on a caller's buffer.
 */
import type { Rng } from "../rng.js";

export class Dropout {
  readonly rate: number;
  readonly width: number;
  readonly maxBatch: number;
  private readonly mask: Float32Array;
  private readonly rng: Rng;
  /** Whether the last forward pass applied a mask (training with rate > 0). */
  private active = false;

  constructor(width: number, maxBatch: number, rate: number, rng: Rng) {
    if (!(rate >= 0 && rate < 1)) throw new RangeError(`Dropout: rate must be in [0, 1), got ${rate}`);
    this.rate = rate;
    this.width = width;
    this.maxBatch = maxBatch;
    this.rng = rng;
    this.mask = new Float32Array(rate > 0 ? maxBatch * width : 0);
  }

  /** Masks x[0..batch×width) in place when training; identity otherwise. */
  forward(x: Float32Array, batch: number, training: boolean): void {
    this.active = training && this.rate > 0;
    if (!this.active) return;
    if (batch > this.maxBatch)
      throw new RangeError(`Dropout: batch ${batch} exceeds the maximum ${this.maxBatch}`);
    const keep = 1 - this.rate;
    const scale = 1 / keep;
    const n = batch * this.width;
    const mask = this.mask;
    for (let i = 0; i < n; i++) {
      const m = this.rng.nextFloat() < keep ? scale : 0;
      mask[i] = m;
      x[i] *= m;
    }
  }

  /** Applies the last forward mask to grad[0..batch×width) in place. */
  backward(grad: Float32Array, batch: number): void {
    if (!this.active) return;
    const n = batch * this.width;
    const mask = this.mask;
    for (let i = 0; i < n; i++) grad[i] *= mask[i];
  }
}
