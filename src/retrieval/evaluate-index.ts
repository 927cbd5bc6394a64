/**
 * Evaluation through a retrieval index: the protocol's metrics computed from each query's top-K
 * list as an index returns it (HNSW at serving time), instead of from a score for every catalog
 * item. It measures what serving would deliver on a large catalog, and its recall against exact
 * top-K says how much the approximation costs. A target outside the top K (K = the largest
 * cutoff) counts as missed, so MRR here is truncated at K; HR/Recall/NDCG/MAP@k for k ≤ K are
 * exact functions of the list.
 */
import { DEFAULT_KS, MetricAccumulator, type MetricFamily } from "../eval/metrics.js";
import type { Metrics, QuerySet } from "../eval/types.js";
import { recallAgainstExact } from "./recall.js";
import type { Exclusion, VectorIndex } from "./vector-index.js";

export interface IndexEvaluationOptions {
  /** "loo" (one target) or "temporal" (a target set); default "loo". */
  readonly metrics?: MetricFamily;
  /** Leave each query's history out of its list (default true, as evaluate()). */
  readonly filterSeen?: boolean;
  /** Cutoffs (default 10, 50, 100); the index is asked for the largest. */
  readonly ks?: readonly number[];
  /** An exact index over the same items: adds the approximate lists' recall@K against it. */
  readonly exact?: VectorIndex;
  /** Queries searched per call (default 256). */
  readonly batchSize?: number;
}

export interface IndexEvaluationResult {
  readonly metrics: Metrics;
  readonly users: number;
  /** Retrieval depth K (the largest cutoff). */
  readonly depth: number;
  /** Recall@K of the index's lists against the exact top K (when `exact` was given). */
  readonly recallAgainstExact: number | null;
  /** Seconds spent in the index's searches (the exact ones excluded). */
  readonly searchSeconds: number;
}

/**
 * Metrics of `index` on `queries`, whose user vectors are `userVectors` (row q = query q,
 * index.dim wide).
 */
export function evaluateIndex(
  index: VectorIndex,
  userVectors: Float32Array,
  queries: QuerySet,
  options: IndexEvaluationOptions = {},
): IndexEvaluationResult {
  const family = options.metrics ?? "loo";
  const ks = options.ks ?? DEFAULT_KS;
  const filterSeen = options.filterSeen ?? true;
  const batchSize = options.batchSize ?? 256;
  const total = queries.users.length;
  const dim = index.dim;
  if (userVectors.length !== total * dim)
    throw new RangeError(
      `evaluateIndex: ${userVectors.length} user-vector floats, expected ${total} queries × ${dim}`,
    );
  const K = Math.max(...ks);
  const acc = new MetricAccumulator(family, ks);
  const offsets = new Int32Array(batchSize + 1);
  let ranks = new Float64Array(16);
  let hits = 0;
  let relevant = 0;
  let searchSeconds = 0;
  for (let b0 = 0; b0 < total; b0 += batchSize) {
    const b1 = Math.min(total, b0 + batchSize);
    const n = b1 - b0;
    const u = userVectors.subarray(b0 * dim, b1 * dim);
    let exclude: Exclusion | undefined;
    if (filterSeen) {
      const base = queries.historyOffsets[b0];
      for (let q = b0; q <= b1; q++) offsets[q - b0] = queries.historyOffsets[q] - base;
      exclude = {
        offsets: offsets.subarray(0, n + 1),
        items: queries.historyItems.subarray(base, queries.historyOffsets[b1]),
      };
    }
    const t0 = performance.now();
    const found = index.search(u, n, K, exclude);
    searchSeconds += (performance.now() - t0) / 1000;
    if (options.exact !== undefined) {
      const truth = options.exact.search(u, n, K, exclude);
      // recallAgainstExact averages over the exact items; weight each batch by its count.
      let inBatch = 0;
      for (let i = 0; i < truth.items.length; i++) if (truth.items[i] >= 0) inBatch++;
      hits += recallAgainstExact(found.items, truth.items, n, K) * inBatch;
      relevant += inBatch;
    }
    for (let q = b0; q < b1; q++) {
      const t0q = queries.targetOffsets[q];
      const m = queries.targetOffsets[q + 1] - t0q;
      if (m === 0) throw new RangeError(`evaluateIndex: query ${q} (user ${queries.users[q]}) has no target`);
      if (ranks.length < m) ranks = new Float64Array(m);
      const row = (q - b0) * K;
      for (let j = 0; j < m; j++) {
        const target = queries.targetItems[t0q + j];
        let r = Infinity;
        for (let p = 0; p < K; p++) {
          if (found.items[row + p] === target) {
            r = p + 1;
            break;
          }
        }
        ranks[j] = r;
      }
      ranks.subarray(0, m).sort();
      acc.add(ranks, m);
    }
  }
  return {
    metrics: acc.means(),
    users: acc.count,
    depth: K,
    recallAgainstExact: options.exact === undefined ? null : relevant === 0 ? 1 : hits / relevant,
    searchSeconds,
  };
}
