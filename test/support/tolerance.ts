/**
 * Tolerance checks for comparing numeric arrays (native kernels against the reference, the
 * reference against float64 formulas). Written so that a check can fail: NaN on either side, or an
 * infinity where the other side differs, makes the comparison fail instead of slipping through
 * a comparison that is false for NaN.
 */

/**
 * Largest |a[i] − b[i]| / (abs + rel·scale[i]) over i (scale defaults to |b[i]|); ≤ 1 means within
 * tolerance. Infinity when any entry is NaN or when one side is infinite and the other is not the
 * same infinity; identical infinities (e.g. a −∞ tail both sides write) agree.
 */
export function worstRatio(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  abs: number,
  rel: number,
  scale?: ArrayLike<number>,
): number {
  if (a.length !== b.length) throw new Error(`worstRatio: lengths differ (${a.length} vs ${b.length})`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Number.isNaN(x) || Number.isNaN(y)) return Infinity;
    if (x === y) continue;
    const bound = abs + rel * (scale === undefined ? Math.abs(y) : scale[i]);
    const r = Math.abs(x - y) / bound; // Infinity when one side is infinite, or when bound is 0
    if (Number.isNaN(r)) return Infinity; // a NaN or infinite scale entry
    if (r > worst) worst = r;
  }
  return worst;
}

/** Throws naming the first index where |actual − expected| > tol·max(1, |expected|) or either is NaN. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  if (actual.length !== expected.length)
    throw new Error(`expectClose: lengths differ (${actual.length} vs ${expected.length})`);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i];
    if (a === e) continue;
    if (!(Math.abs(a - e) <= tol * Math.max(1, Math.abs(e))))
      throw new Error(`index ${i}: got ${a}, expected ${e} (tolerance ${tol})`);
  }
}
