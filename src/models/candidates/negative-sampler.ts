/**
 * Draws the shared negatives of the sampled softmax from unigram^alpha over the training labels
 * (alias method: O(1) per draw) and gives each item's log Q for the logQ correction.
 */
import type { Rng } from "../../engine/rng.js";

export class NegativeSampler {
  private readonly prob: Float64Array;
  private readonly alias: Int32Array;
  /** log of the expected number of times item i appears among K draws: log(K · q_i). */
  readonly logQ: Float32Array;

  constructor(
    labelCounts: Float64Array,
    alpha: number,
    readonly numNegatives: number,
  ) {
    const n = labelCounts.length;
    const q = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      // Unseen items keep a small mass so that they can still be pushed down.
      q[i] = Math.pow(labelCounts[i] + 0.5, alpha);
      total += q[i];
    }
    this.logQ = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      q[i] /= total;
      this.logQ[i] = Math.log(numNegatives * q[i]);
    }
    // Vose's alias method.
    this.prob = new Float64Array(n);
    this.alias = new Int32Array(n);
    const scaled = new Float64Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) {
      scaled[i] = q[i] * n;
      (scaled[i] < 1 ? small : large).push(i);
    }
    while (small.length > 0 && large.length > 0) {
      const s = small.pop() as number;
      const l = large.pop() as number;
      this.prob[s] = scaled[s];
      this.alias[s] = l;
      scaled[l] = scaled[l] + scaled[s] - 1;
      (scaled[l] < 1 ? small : large).push(l);
    }
    for (const i of large) this.prob[i] = 1;
    for (const i of small) this.prob[i] = 1;
  }

  /** Fills out[0 .. numNegatives) with draws (with replacement) and logQOut with their log Q. */
  sample(rng: Rng, out: Int32Array, logQOut: Float32Array): void {
    const n = this.prob.length;
    for (let j = 0; j < this.numNegatives; j++) {
      const i = rng.nextInt(n);
      const item = rng.nextFloat() < this.prob[i] ? i : this.alias[i];
      out[j] = item;
      logQOut[j] = this.logQ[item];
    }
  }
}
