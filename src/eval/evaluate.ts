/**
 * The one scoring path every model goes through: score queries in batches into a reusable
 * [batch × items] buffer, hide each user's history (seen filtering, default on), rank every
 * catalog item pessimistically, and average the protocol's metrics over users.
 */
import { MetricAccumulator, DEFAULT_KS, type MetricFamily } from "./metrics.js";
import { RankScratch } from "./ranks.js";
import type { Metrics, QueryBatch, QuerySet, Scorer, Split } from "./types.js";
import { numItems } from "../data/dataset.js";

export interface EvaluateOptions {
  /** Catalog size: the scorer fills numItems scores per query. */
  readonly numItems: number;
  /** "loo": HR/NDCG@K and MRR of one target; "temporal": Recall/NDCG/MAP@K of a target set. Default "loo". */
  readonly metrics?: MetricFamily;
  /** Remove the items of each query's history from its ranking (default true). */
  readonly filterSeen?: boolean;
  /** Cutoffs (default 10, 50, 100). */
  readonly ks?: readonly number[];
  /** Queries scored per call (default: as many as fit in 16M scores, at most 256). */
  readonly batchSize?: number;
  /** Called after each batch with queries done and total. */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface EvaluationResult {
  readonly metrics: Metrics;
  /** Queries (users) evaluated. */
  readonly users: number;
  /**
   * Users with a target already in their input history (repeat consumption). With seen filtering
   * such a target is hidden and counts as a miss.
   */
  readonly targetInHistory: number;
  readonly seconds: number;
}

export function defaultBatchSize(numItems: number): number {
  return Math.max(1, Math.min(256, Math.floor((1 << 24) / Math.max(1, numItems))));
}

export function evaluate(scorer: Scorer, queries: QuerySet, options: EvaluateOptions): EvaluationResult {
  const start = performance.now();
  const n = options.numItems;
  const filterSeen = options.filterSeen ?? true;
  const family = options.metrics ?? "loo";
  const batchSize = options.batchSize ?? defaultBatchSize(n);
  if (!(Number.isInteger(batchSize) && batchSize > 0))
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  const total = queries.users.length;
  const acc = new MetricAccumulator(family, options.ks ?? DEFAULT_KS);
  const scratch = new RankScratch(n);
  const scores = new Float32Array(Math.min(batchSize, Math.max(total, 1)) * n);
  const offsets = new Int32Array(batchSize + 1);
  const noExclusions = new Int32Array(0);
  let ranks = new Float64Array(16);
  let targetInHistory = 0;
  const historyMark = new Int32Array(n);

  for (let b0 = 0; b0 < total; b0 += batchSize) {
    const b1 = Math.min(total, b0 + batchSize);
    const batch = sliceQueries(queries, b0, b1, offsets);
    const out = scores.subarray(0, (b1 - b0) * n);
    scorer.score(batch, out);
    for (let q = b0; q < b1; q++) {
      const row = out.subarray((q - b0) * n, (q - b0 + 1) * n);
      const h0 = queries.historyOffsets[q];
      const h1 = queries.historyOffsets[q + 1];
      const t0 = queries.targetOffsets[q];
      const t1 = queries.targetOffsets[q + 1];
      const m = t1 - t0;
      if (m === 0) throw new RangeError(`evaluate: query ${q} (user ${queries.users[q]}) has no target`);
      if (ranks.length < m) ranks = new Float64Array(m);
      if (anyTargetInHistory(queries, q, historyMark)) targetInHistory++;
      const exclude = filterSeen ? queries.historyItems : noExclusions;
      scratch.ranks(
        row,
        queries.targetItems,
        t0,
        t1,
        exclude,
        filterSeen ? h0 : 0,
        filterSeen ? h1 : 0,
        ranks,
      );
      acc.add(ranks, m);
    }
    options.onProgress?.(b1, total);
  }
  return {
    metrics: acc.means(),
    users: acc.count,
    targetInHistory,
    seconds: (performance.now() - start) / 1000,
  };
}

/** Evaluates on a split's valid or test queries with the metric family of its protocol. */
export function evaluateSplit(
  scorer: Scorer,
  split: Split,
  part: "valid" | "test",
  options: Omit<EvaluateOptions, "numItems" | "metrics"> = {},
): EvaluationResult {
  return evaluate(scorer, split[part], {
    ...options,
    numItems: numItems(split.train),
    metrics: split.protocol,
  });
}

/** Queries [b0, b1) as a QueryBatch: column views, with offsets rebased to 0 into `offsets`. */
export function sliceQueries(queries: QueryBatch, b0: number, b1: number, offsets: Int32Array): QueryBatch {
  const base = queries.historyOffsets[b0];
  for (let q = b0; q <= b1; q++) offsets[q - b0] = queries.historyOffsets[q] - base;
  const end = queries.historyOffsets[b1];
  return {
    users: queries.users.subarray(b0, b1),
    times: queries.times.subarray(b0, b1),
    historyOffsets: offsets.subarray(0, b1 - b0 + 1),
    historyItems: queries.historyItems.subarray(base, end),
    historyTimes: queries.historyTimes.subarray(base, end),
    ...(queries.demographics ? { demographics: queries.demographics.slice(b0, b1) } : {}),
  };
}

/** Whether query q has a target in its own history; `mark` holds per-item stamps (q + 1). */
function anyTargetInHistory(queries: QuerySet, q: number, mark: Int32Array): boolean {
  const stamp = q + 1;
  for (let h = queries.historyOffsets[q]; h < queries.historyOffsets[q + 1]; h++)
    mark[queries.historyItems[h]] = stamp;
  for (let t = queries.targetOffsets[q]; t < queries.targetOffsets[q + 1]; t++)
    if (mark[queries.targetItems[t]] === stamp) return true;
  return false;
}
