/**
 * Quantile normalization of continuous features (the paper's Section 4.1): x̃ = F(x), the empirical
 * cumulative distribution, interpolated linearly between quantiles gathered in one pass over the
 * training values; x̃² and √x̃ are fed too so the network gets super- and sub-linear shapes cheaply.
 * x̃ lies in [0, 1): values below the smallest quantile map to 0, above the largest to just under 1.
 */

export interface QuantileNormalizerJSON {
  /** Non-decreasing knots q_0 .. q_Q; q_k is the value at cumulative fraction k / Q. */
  readonly knots: readonly number[];
}

/** The largest float32 below 1, so x̃ stays in [0, 1) after storage in a Float32Array. */
const BELOW_ONE = 1 - 2 ** -24;

/** Integers 0 .. SMALL_INTS − 1 (ranks, counts: most ranking inputs) are looked up once each. */
const SMALL_INTS = 1024;

export class QuantileNormalizer {
  readonly knots: Float64Array;
  /** transform() of the small integers, NaN until computed (allocated on first use). */
  private small: Float64Array | null = null;

  constructor(knots: ArrayLike<number>) {
    if (knots.length < 2)
      throw new RangeError(`QuantileNormalizer: need at least 2 knots, got ${knots.length}`);
    for (let k = 0; k < knots.length; k++) {
      if (!Number.isFinite(knots[k]) || (k > 0 && knots[k] < knots[k - 1])) {
        throw new RangeError(
          `QuantileNormalizer: knots must be finite and non-decreasing (knot ${k} = ${knots[k]})`,
        );
      }
    }
    this.knots = Float64Array.from(knots);
  }

  /**
   * Fits Q = numQuantiles quantiles of `values` (sorted copy of the first `count` values; default all).
   * With no values every x maps to 0.
   */
  static fit(values: ArrayLike<number>, numQuantiles = 1000, count = values.length): QuantileNormalizer {
    if (!Number.isInteger(numQuantiles) || numQuantiles < 1) {
      throw new RangeError(
        `QuantileNormalizer.fit: numQuantiles must be a positive integer, got ${numQuantiles}`,
      );
    }
    if (count === 0) return new QuantileNormalizer([0, 0]);
    const sorted = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (!Number.isFinite(v))
        throw new RangeError(`QuantileNormalizer.fit: value ${i} is not finite (${v})`);
      sorted[i] = v;
    }
    sorted.sort();
    const knots = new Float64Array(numQuantiles + 1);
    for (let k = 0; k <= numQuantiles; k++) {
      // Linear interpolation between order statistics at fraction k / Q.
      const r = (k * (count - 1)) / numQuantiles;
      const lo = Math.floor(r);
      const hi = Math.min(lo + 1, count - 1);
      knots[k] = sorted[lo] + (sorted[hi] - sorted[lo]) * (r - lo);
    }
    return new QuantileNormalizer(knots);
  }

  static fromJSON(json: QuantileNormalizerJSON): QuantileNormalizer {
    if (!Array.isArray(json?.knots))
      throw new TypeError("QuantileNormalizer.fromJSON: expected { knots: number[] }");
    return new QuantileNormalizer(json.knots);
  }

  /**
   * x̃ = F(x) in [0, 1), non-decreasing in x. Where several knots are equal (a value that fills
   * several quantiles, e.g. many zeros), x at that value maps to the middle of its run.
   */
  transform(x: number): number {
    if (x >= 0 && x < SMALL_INTS && (x | 0) === x) {
      this.small ??= new Float64Array(SMALL_INTS).fill(NaN);
      let v = this.small[x];
      if (v !== v) v = this.small[x] = this.search(x);
      return v;
    }
    return this.search(x);
  }

  /** transform() by binary search over the knots. */
  private search(x: number): number {
    const q = this.knots;
    const n = q.length - 1;
    if (!(x >= q[0]) || q[0] === q[n]) return 0; // below the range, NaN, or a constant feature
    if (x > q[n]) return BELOW_ONE;
    // lo = first knot >= x, hi = last knot <= x
    let a = 0;
    let b = n + 1;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (q[m] < x) a = m + 1;
      else b = m;
    }
    const lo = a;
    let f: number;
    if (q[lo] === x) {
      let c = lo;
      let d = n + 1;
      while (c < d) {
        const m = (c + d) >>> 1;
        if (q[m] <= x) c = m + 1;
        else d = m;
      }
      f = (lo + c - 1) / 2 / n;
    } else {
      // q[lo - 1] < x < q[lo]
      f = (lo - 1 + (x - q[lo - 1]) / (q[lo] - q[lo - 1])) / n;
    }
    return f < BELOW_ONE ? f : BELOW_ONE;
  }

  /** Writes (x̃, x̃², √x̃) at out[offset .. offset + 3). */
  transformInto(x: number, out: Float32Array, offset: number): void {
    const t = this.transform(x);
    out[offset] = t;
    out[offset + 1] = t * t;
    out[offset + 2] = Math.sqrt(t);
  }

  toJSON(): QuantileNormalizerJSON {
    return { knots: Array.from(this.knots) };
  }
}
