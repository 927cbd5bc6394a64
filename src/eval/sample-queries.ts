/**
 * A seeded uniform sample of a query set's queries, for evaluating large datasets (200k users of
 * a MovieLens-32M-sized log) on a subset. Selection sampling keeps the queries in their order, and
 * the choice depends only on the seed and the number of queries: two query sets listing the same
 * users in the same order (loo's validation and test) give the same users.
 */
import { Rng } from "../engine/rng.js";
import type { QuerySet } from "./types.js";

/** The indices of `n` of `total` queries, chosen uniformly by `seed`, ascending (all when n ≥ total). */
export function sampleQueryIndices(total: number, n: number, seed: number): Int32Array {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`sample size: expected an integer >= 1, got ${n}`);
  const k = Math.min(n, total);
  const out = new Int32Array(k);
  const rng = new Rng(seed);
  let need = k;
  for (let i = 0, w = 0; i < total && need > 0; i++) {
    // Knuth's algorithm S: query i is taken with probability need / (total − i).
    if (rng.nextFloat() * (total - i) < need) {
      out[w++] = i;
      need--;
    }
  }
  return out;
}

/** The queries at `indices` (ascending) as a QuerySet of their own (CSR rebased). */
export function selectQueries(queries: QuerySet, indices: Int32Array): QuerySet {
  const n = indices.length;
  let histories = 0;
  let targets = 0;
  for (let j = 0; j < n; j++) {
    const q = indices[j];
    if (!(q >= 0 && q < queries.users.length))
      throw new RangeError(`selectQueries: index ${q} outside the ${queries.users.length} queries`);
    histories += queries.historyOffsets[q + 1] - queries.historyOffsets[q];
    targets += queries.targetOffsets[q + 1] - queries.targetOffsets[q];
  }
  const users = new Int32Array(n);
  const times = new Float64Array(n);
  const historyOffsets = new Int32Array(n + 1);
  const historyItems = new Int32Array(histories);
  const historyTimes = new Float64Array(histories);
  const targetOffsets = new Int32Array(n + 1);
  const targetItems = new Int32Array(targets);
  for (let j = 0; j < n; j++) {
    const q = indices[j];
    users[j] = queries.users[q];
    times[j] = queries.times[q];
    const h0 = queries.historyOffsets[q];
    const h1 = queries.historyOffsets[q + 1];
    historyItems.set(queries.historyItems.subarray(h0, h1), historyOffsets[j]);
    historyTimes.set(queries.historyTimes.subarray(h0, h1), historyOffsets[j]);
    historyOffsets[j + 1] = historyOffsets[j] + h1 - h0;
    const t0 = queries.targetOffsets[q];
    const t1 = queries.targetOffsets[q + 1];
    targetItems.set(queries.targetItems.subarray(t0, t1), targetOffsets[j]);
    targetOffsets[j + 1] = targetOffsets[j] + t1 - t0;
  }
  const demographics = queries.demographics;
  return {
    users,
    times,
    historyOffsets,
    historyItems,
    historyTimes,
    targetOffsets,
    targetItems,
    ...(demographics ? { demographics: Array.from(indices, (q) => demographics[q]) } : {}),
  };
}

/** A seeded uniform sample of `n` queries of `queries` (all of them, unchanged, when n ≥ their count). */
export function sampleQueries(queries: QuerySet, n: number, seed: number): QuerySet {
  const total = queries.users.length;
  const indices = sampleQueryIndices(total, n, seed);
  return indices.length === total ? queries : selectQueries(queries, indices);
}
