/**
 * Ranking metrics from pessimistic ranks (see ranks.ts), accumulated over queries and reported as
 * means over evaluated users.
 *  - loo (one target): HR@K (= Recall@K), NDCG@K = 1/log2(rank+1) within K, MRR = 1/rank.
 *  - temporal (a target set): Recall@K = hits/|targets|; NDCG@K with binary relevance and the
 *    ideal DCG over min(|targets|, K); MAP@K with AP@K = (1/min(|targets|, K))·Σ_{k≤K} P@k·rel(k).
 */
import type { Metrics } from "./types.js";

export type MetricFamily = "loo" | "temporal";

export const DEFAULT_KS: readonly number[] = [10, 50, 100];

/** Metric names in report order, e.g. HR@10, NDCG@10, HR@50, ..., MRR for loo. */
export function metricNames(family: MetricFamily, ks: readonly number[]): string[] {
  const names: string[] = [];
  for (const k of ks) {
    if (family === "loo") names.push(`HR@${k}`, `NDCG@${k}`);
    else names.push(`Recall@${k}`, `NDCG@${k}`, `MAP@${k}`);
  }
  if (family === "loo") names.push("MRR");
  return names;
}

/** Sums per-query metric values; `means()` divides by the number of queries added. */
export class MetricAccumulator {
  private readonly sums: Float64Array;
  private queries = 0;
  private readonly ks: readonly number[];

  constructor(
    readonly family: MetricFamily,
    ks: readonly number[],
  ) {
    for (const k of ks)
      if (!Number.isInteger(k) || k < 1)
        throw new RangeError(`metric cutoff K must be a positive integer, got ${k}`);
    this.ks = ks;
    this.sums = new Float64Array(metricNames(family, ks).length);
  }

  /** Adds one query given its target ranks sorted ascending (Infinity = missed). */
  add(ranks: Float64Array, m: number): void {
    this.queries++;
    const s = this.sums;
    const ks = this.ks;
    if (this.family === "loo") {
      const r = ranks[0];
      for (let i = 0; i < ks.length; i++) {
        if (r > ks[i]) continue;
        s[2 * i] += 1;
        s[2 * i + 1] += 1 / Math.log2(r + 1);
      }
      s[2 * ks.length] += 1 / r;
      return;
    }
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i];
      let hits = 0;
      let dcg = 0;
      let ap = 0;
      for (let p = 0; p < m && ranks[p] <= k; p++) {
        hits++;
        dcg += 1 / Math.log2(ranks[p] + 1);
        ap += hits / ranks[p];
      }
      const ideal = Math.min(m, k);
      let idcg = 0;
      for (let p = 1; p <= ideal; p++) idcg += 1 / Math.log2(p + 1);
      s[3 * i] += hits / m;
      s[3 * i + 1] += dcg / idcg;
      s[3 * i + 2] += ap / ideal;
    }
  }

  get count(): number {
    return this.queries;
  }

  means(): Metrics {
    const out: Metrics = {};
    metricNames(this.family, this.ks).forEach((name, i) => {
      out[name] = this.queries > 0 ? this.sums[i] / this.queries : 0;
    });
    return out;
  }
}
