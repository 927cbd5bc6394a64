/**
 * Metrics of a ranker on held-out impression lists (protocol.md §Ranking), for any per-candidate
 * score column (the ranker's logits, or a source's score as a baseline):
 *  - weighted per-user loss (the paper's Table 1): every (positive p, negative n) pair of the same
 *    list is mispredicted when score(n) ≥ score(p); loss = Σ_mispredicted weight(p) / Σ_pairs weight(p),
 *    pooled over all lists (users);
 *  - AUC: the share of those pairs ordered correctly, pooled, ties counting one half (unweighted);
 *  - HR@K / NDCG@K of each list re-ranked by the score against its watched items (pessimistic
 *    ranks, as src/eval/ranks.ts: a tied negative ranks ahead; a list whose watched item was not
 *    proposed is a miss), averaged over lists;
 *  - the union recall report: HR@|list| of the union and of each source's own top-N.
 * Each list costs one sort of its negatives' scores (pairs are counted by binary search, never
 * enumerated). NaN scores are pessimistic: a NaN negative beats every positive, a NaN positive
 * loses to every negative. The lists are read structurally (an ImpressionSet of src/features fits).
 */
import { MetricAccumulator } from "./metrics.js";
import type { Metrics } from "./types.js";

/** What the metrics read of an impression set (src/features/impressions.ts ImpressionSet). */
export interface LabeledLists {
  readonly listOffsets: Int32Array;
  readonly positive: Uint8Array;
  readonly weight: Float32Array;
}

export interface PairLoss {
  /** Σ weight(p) over mispredicted pairs. */
  readonly mispredicted: number;
  /** Σ weight(p) over all pairs. */
  readonly total: number;
  /** Number of (positive, negative) pairs. */
  readonly pairs: number;
  /** Correctly ordered pairs + ½ tied pairs (for the AUC). */
  readonly correct: number;
  /** mispredicted / total (NaN without pairs). */
  readonly loss: number;
  /** correct / pairs (NaN without pairs). */
  readonly auc: number;
}

class ListScratch {
  neg = new Float64Array(512);
  pos = new Float64Array(64);
  posWeight = new Float64Array(64);

  reserve(n: number): void {
    if (this.neg.length < n) this.neg = new Float64Array(n);
    if (this.pos.length < n) {
      this.pos = new Float64Array(n);
      this.posWeight = new Float64Array(n);
    }
  }
}

/** Index of the first entry ≥ x in sorted a[0..n). */
function lowerBound(a: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first entry > x in sorted a[0..n). */
function upperBound(a: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function checkScores(lists: LabeledLists, scores: Float32Array | Float64Array): void {
  const n = lists.listOffsets[lists.listOffsets.length - 1];
  if (scores.length !== n)
    throw new RangeError(
      `ranking metrics: ${scores.length} scores for ${n} candidates (one score per candidate)`,
    );
}

/** Pair counts of the weighted per-user loss and the AUC. */
export function pairLoss(lists: LabeledLists, scores: Float32Array | Float64Array): PairLoss {
  checkScores(lists, scores);
  const scratch = new ListScratch();
  let mispredicted = 0;
  let total = 0;
  let pairs = 0;
  let correct = 0;
  const nl = lists.listOffsets.length - 1;
  for (let l = 0; l < nl; l++) {
    const from = lists.listOffsets[l];
    const to = lists.listOffsets[l + 1];
    scratch.reserve(to - from);
    let nn = 0;
    let np = 0;
    for (let c = from; c < to; c++) {
      const s = scores[c];
      if (lists.positive[c] === 1) {
        scratch.pos[np] = Number.isNaN(s) ? -Infinity : s;
        scratch.posWeight[np++] = lists.weight[c];
      } else {
        scratch.neg[nn++] = Number.isNaN(s) ? Infinity : s;
      }
    }
    if (nn === 0 || np === 0) continue;
    const neg = scratch.neg.subarray(0, nn).sort();
    for (let p = 0; p < np; p++) {
      const s = scratch.pos[p];
      const w = scratch.posWeight[p];
      const atLeast = nn - lowerBound(neg, nn, s);
      const above = nn - upperBound(neg, nn, s);
      mispredicted += w * atLeast;
      total += w * nn;
      pairs += nn;
      correct += nn - atLeast + 0.5 * (atLeast - above);
    }
  }
  return {
    mispredicted,
    total,
    pairs,
    correct,
    loss: total > 0 ? mispredicted / total : NaN,
    auc: pairs > 0 ? correct / pairs : NaN,
  };
}

/** The paper's weighted per-user loss (lower is better; NaN when no list has a positive and a negative). */
export function weightedPerUserLoss(lists: LabeledLists, scores: Float32Array | Float64Array): number {
  return pairLoss(lists, scores).loss;
}

/**
 * HR@K and NDCG@K (and MRR) of each list re-ranked by `scores`, over all lists: with one watched
 * item per list (loo) the list's best positive counts; a list without a positive is a miss.
 */
export function listRankingMetrics(
  lists: LabeledLists,
  scores: Float32Array | Float64Array,
  ks: readonly number[] = [10],
): Metrics {
  checkScores(lists, scores);
  const acc = new MetricAccumulator("loo", ks);
  const scratch = new ListScratch();
  const rank = new Float64Array(1);
  const nl = lists.listOffsets.length - 1;
  for (let l = 0; l < nl; l++) {
    const from = lists.listOffsets[l];
    const to = lists.listOffsets[l + 1];
    scratch.reserve(to - from);
    let nn = 0;
    let best = -Infinity;
    let hasPositive = false;
    for (let c = from; c < to; c++) {
      const s = scores[c];
      if (lists.positive[c] === 1) {
        hasPositive = true;
        const v = Number.isNaN(s) ? -Infinity : s;
        if (v > best) best = v;
      } else {
        scratch.neg[nn++] = Number.isNaN(s) ? Infinity : s;
      }
    }
    if (!hasPositive) {
      rank[0] = Infinity;
    } else {
      // Pessimistic: every negative scoring at least the best positive ranks ahead of it.
      let ahead = 0;
      for (let k = 0; k < nn; k++) if (scratch.neg[k] >= best) ahead++;
      rank[0] = ahead + 1;
    }
    acc.add(rank, 1);
  }
  return acc.means();
}

/** Everything reported for one score column. */
export function rankingReport(
  lists: LabeledLists,
  scores: Float32Array | Float64Array,
  ks: readonly number[] = [10],
): Metrics {
  const p = pairLoss(lists, scores);
  return { weightedLoss: p.loss, AUC: p.auc, ...listRankingMetrics(lists, scores, ks) };
}

/** Lists with the sources' columns (an ImpressionSet). */
export interface SourcedLists extends LabeledLists {
  readonly sources: readonly string[];
  readonly sourceScores: Float32Array;
  readonly sourceRanks: Int32Array;
}

/** Source `name`'s score of every candidate; `absent` (default −∞) where it did not propose it. */
export function sourceScoreColumn(lists: SourcedLists, name: string, absent = -Infinity): Float32Array {
  const s = lists.sources.indexOf(name);
  if (s < 0)
    throw new Error(`source "${name}" is not among the lists' sources (${lists.sources.join(", ")})`);
  const S = lists.sources.length;
  const n = lists.positive.length;
  const out = new Float32Array(n);
  for (let c = 0; c < n; c++)
    out[c] = lists.sourceRanks[c * S + s] > 0 ? lists.sourceScores[c * S + s] : absent;
  return out;
}

export interface UnionRecall {
  readonly lists: number;
  readonly meanListSize: number;
  /** Share of lists with a watched item among the candidates (HR@|list|). */
  readonly union: number;
  /** Share of lists whose watched item is in that source's own top-N. */
  readonly perSource: Readonly<Record<string, number>>;
}

export function unionRecall(lists: SourcedLists): UnionRecall {
  const S = lists.sources.length;
  const nl = lists.listOffsets.length - 1;
  let union = 0;
  const hits = new Float64Array(S);
  const hit = new Uint8Array(S);
  for (let l = 0; l < nl; l++) {
    hit.fill(0);
    let any = 0;
    for (let c = lists.listOffsets[l]; c < lists.listOffsets[l + 1]; c++) {
      if (lists.positive[c] !== 1) continue;
      any = 1;
      for (let s = 0; s < S; s++) if (lists.sourceRanks[c * S + s] > 0) hit[s] = 1;
    }
    union += any;
    for (let s = 0; s < S; s++) hits[s] += hit[s];
  }
  const perSource: Record<string, number> = {};
  lists.sources.forEach((name, s) => (perSource[name] = nl > 0 ? hits[s] / nl : 0));
  return {
    lists: nl,
    meanListSize: nl > 0 ? lists.listOffsets[nl] / nl : 0,
    union: nl > 0 ? union / nl : 0,
    perSource,
  };
}
