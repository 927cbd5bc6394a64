/**
 * Recall@k of an approximate search against exact ground truth (both numQueries rows of k): the
 * share of the exact top-k items (ignoring −1 padding) that the approximate rows also contain.
 */
export function recallAgainstExact(
  approx: Int32Array,
  exact: Int32Array,
  numQueries: number,
  k: number,
): number {
  let hits = 0;
  let relevant = 0;
  const truth = new Set<number>();
  for (let q = 0; q < numQueries; q++) {
    truth.clear();
    for (let i = 0; i < k; i++) if (exact[q * k + i] >= 0) truth.add(exact[q * k + i]);
    relevant += truth.size;
    for (let i = 0; i < k; i++) if (truth.has(approx[q * k + i])) hits++;
  }
  return relevant === 0 ? 1 : hits / relevant;
}
