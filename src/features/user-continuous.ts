/**
 * The continuous user features of the paper's Section 3.3 (number of previous watches, time since
 * the first and since the last watch), each normalized to x̃ = F(x) by quantiles fitted on the
 * training sequences and fed as (x̃, x̃², √x̃). Shared by the candidate and ranking features.
 */
import { QuantileNormalizer } from "./quantile.js";

/** Width of the dense block: 3 features × (x̃, x̃², √x̃). */
export const USER_CONTINUOUS_WIDTH = 9;
/** The normalizers are fitted on at most this many (strided) positions. */
const MAX_NORMALIZER_SAMPLE = 1_000_000;

export interface UserContinuousNormalizers {
  readonly numPrev: QuantileNormalizer;
  readonly sinceFirst: QuantileNormalizer;
  readonly sinceLast: QuantileNormalizer;
}

/**
 * Fits the normalizers on the raw values at every position of every training sequence (as a
 * rollback label would see them); offsets/times: CSR of each user's time-sorted training events.
 */
export function fitUserContinuous(
  offsets: Int32Array,
  times: Float64Array,
  numQuantiles: number,
): UserContinuousNormalizers {
  const numUsers = offsets.length - 1;
  const stride = Math.max(1, Math.ceil(times.length / MAX_NORMALIZER_SAMPLE));
  const cap = Math.ceil(times.length / stride);
  const a = new Float64Array(cap);
  const b = new Float64Array(cap);
  const c = new Float64Array(cap);
  let n = 0;
  for (let u = 0; u < numUsers; u++) {
    const lo = offsets[u];
    for (let k = lo; k < offsets[u + 1]; k++) {
      if (k % stride !== 0 || n >= cap) continue;
      a[n] = k - lo;
      b[n] = times[k] - times[lo];
      c[n] = k > lo ? times[k] - times[k - 1] : 0;
      n++;
    }
  }
  return {
    numPrev: QuantileNormalizer.fit(a, numQuantiles, n),
    sinceFirst: QuantileNormalizer.fit(b, numQuantiles, n),
    sinceLast: QuantileNormalizer.fit(c, numQuantiles, n),
  };
}

/** Writes the 9 normalized values into out[col .. col + 9). */
export function writeUserContinuous(
  f: UserContinuousNormalizers,
  numPrev: number,
  sinceFirst: number,
  sinceLast: number,
  out: Float32Array,
  col: number,
): void {
  f.numPrev.transformInto(numPrev, out, col);
  f.sinceFirst.transformInto(sinceFirst, out, col + 3);
  f.sinceLast.transformInto(sinceLast, out, col + 6);
}
