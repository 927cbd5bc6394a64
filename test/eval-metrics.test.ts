/** Ranks, ties, seen filtering and the metric formulas on hand-built cases. */
import { describe, expect, it } from "vitest";
import { evaluate } from "../src/eval/evaluate.js";
import { RankScratch } from "../src/eval/ranks.js";
import { Rng } from "../src/engine/rng.js";
import type { QueryBatch, Scorer } from "../src/eval/types.js";
import { fixedScorer, querySet } from "./eval-fixtures.js";

function ranksOf(scores: number[], targets: number[], exclude: number[]): number[] {
  const r = new RankScratch(scores.length);
  const out = new Float64Array(targets.length);
  r.ranks(
    Float32Array.from(scores),
    Int32Array.from(targets),
    0,
    targets.length,
    Int32Array.from(exclude),
    0,
    exclude.length,
    out,
  );
  return [...out];
}

/** Brute force: sort non-excluded items by score, ties with non-targets first; target positions. */
function bruteRanks(scores: number[], targets: number[], exclude: number[]): number[] {
  const t = new Set(targets);
  const ex = new Set(exclude);
  const items = scores.map((_, j) => j).filter((j) => !ex.has(j));
  items.sort((a, b) => scores[b] - scores[a] || Number(t.has(a)) - Number(t.has(b)));
  const ranks = items.flatMap((j, pos) => (t.has(j) ? [pos + 1] : []));
  while (ranks.length < targets.length) ranks.push(Infinity);
  return ranks;
}

describe("pessimistic ranks", () => {
  it("puts every tied item ahead of the target, so a constant scorer ranks last", () => {
    expect(ranksOf([1, 1, 1, 1, 1], [2], [])).toEqual([5]);
    expect(ranksOf([3, 1, 2, 2, 0], [2], [])).toEqual([3]);
    expect(ranksOf([3, 1, 2, 2, 0], [3], [])).toEqual([3]);
  });

  it("does not count excluded items, each only once even when the history repeats", () => {
    expect(ranksOf([5, 4, 3, 2, 1], [3], [0, 0, 1, 4])).toEqual([2]);
  });

  it("treats an excluded target as a miss", () => {
    expect(ranksOf([5, 4, 3], [1], [1])).toEqual([Infinity]);
  });

  it("is pessimistic about NaN scores", () => {
    expect(ranksOf([NaN, 1, 2], [2], [])).toEqual([2]);
    expect(ranksOf([0, NaN, -1], [1], [])).toEqual([3]);
  });

  it("matches a brute-force pessimistic sort for target sets with heavy ties", () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + rng.nextInt(12);
      const scores = Array.from({ length: n }, () => rng.nextInt(3));
      const perm = Array.from({ length: n }, (_, j) => j).sort(() => rng.nextFloat() - 0.5);
      const m = 1 + rng.nextInt(Math.min(4, n - 1));
      const targets = perm.slice(0, m);
      const exclude = perm.slice(m, m + rng.nextInt(n - m));
      expect(ranksOf(scores, targets, exclude)).toEqual(bruteRanks(scores, targets, exclude));
    }
  });
});

describe("evaluate (loo metrics)", () => {
  const scores = [
    [9, 8, 7, 6, 5, 4],
    [1, 1, 1, 1, 1, 1],
    [6, 5, 4, 3, 2, 1],
  ];

  it("computes HR, NDCG and MRR from pessimistic ranks after seen filtering", () => {
    // user 0: history {0}, target 2 -> rank 2; user 1: constant -> rank 5 of 5 remaining;
    // user 2: history {1, 1}, target 0 -> rank 1.
    const qs = querySet([[0], [3], [1, 1]], [[2], [4], [0]]);
    const r = evaluate(fixedScorer(scores), qs, { numItems: 6, ks: [1, 2, 5] });
    expect(r.users).toBe(3);
    expect(r.targetInHistory).toBe(0);
    expect(r.metrics["HR@1"]).toBeCloseTo(1 / 3, 12);
    expect(r.metrics["HR@2"]).toBeCloseTo(2 / 3, 12);
    expect(r.metrics["HR@5"]).toBeCloseTo(1, 12);
    expect(r.metrics["NDCG@2"]).toBeCloseTo((1 / Math.log2(3) + 1) / 3, 12);
    expect(r.metrics["NDCG@5"]).toBeCloseTo((1 / Math.log2(3) + 1 / Math.log2(6) + 1) / 3, 12);
    expect(r.metrics.MRR).toBeCloseTo((1 / 2 + 1 / 5 + 1) / 3, 12);
    expect(Object.keys(r.metrics)).toEqual(["HR@1", "NDCG@1", "HR@2", "NDCG@2", "HR@5", "NDCG@5", "MRR"]);
  });

  it("counts a target already in the history as a miss when seen is filtered, and ranks it otherwise", () => {
    const qs = querySet([[0, 2]], [[0]]);
    const filtered = evaluate(fixedScorer(scores), qs, { numItems: 6, ks: [1] });
    expect(filtered.targetInHistory).toBe(1);
    expect(filtered.metrics["HR@1"]).toBe(0);
    expect(filtered.metrics.MRR).toBe(0);
    const unfiltered = evaluate(fixedScorer(scores), qs, { numItems: 6, ks: [1], filterSeen: false });
    expect(unfiltered.targetInHistory).toBe(1);
    expect(unfiltered.metrics["HR@1"]).toBe(1);
  });

  it("gives the same result whatever the batch size, with histories rebased per batch", () => {
    // Scores depend on the batch's own CSR view: item j scores 1 if it is in the history + j/100.
    const historyScorer: Scorer = {
      name: "history",
      params: {},
      score(batch: QueryBatch, out: Float32Array) {
        expect(batch.historyOffsets[0]).toBe(0);
        expect(batch.historyOffsets[batch.users.length]).toBe(batch.historyItems.length);
        for (let q = 0; q < batch.users.length; q++) {
          for (let j = 0; j < 8; j++) out[q * 8 + j] = j / 100;
          for (let h = batch.historyOffsets[q]; h < batch.historyOffsets[q + 1]; h++)
            out[q * 8 + ((batch.historyItems[h] + 1) % 8)] += 1;
        }
      },
    };
    const qs = querySet([[0], [1, 2], [5], [6, 7, 0], [3]], [[1], [4], [6], [1], [4]]);
    const a = evaluate(historyScorer, qs, { numItems: 8, filterSeen: false, ks: [1, 3] });
    for (const batchSize of [1, 2, 3]) {
      expect(
        evaluate(historyScorer, qs, { numItems: 8, filterSeen: false, ks: [1, 3], batchSize }).metrics,
      ).toEqual(a.metrics);
    }
    expect(a.metrics["HR@1"]).toBeCloseTo(3 / 5, 12);
  });
});

describe("evaluate (temporal metrics)", () => {
  it("computes Recall, NDCG (ideal over min(|targets|, K)) and MAP@K", () => {
    // Scores rank items 0..5 in order; history {1}; targets {0, 3, 5} -> ranks 1, 3, 5 after filtering.
    const qs = querySet([[1]], [[0, 3, 5]]);
    const r = evaluate(fixedScorer([[9, 8, 7, 6, 5, 4]]), qs, {
      numItems: 6,
      ks: [1, 3, 10],
      metrics: "temporal",
    });
    expect(r.metrics["Recall@1"]).toBeCloseTo(1 / 3, 12);
    expect(r.metrics["NDCG@1"]).toBeCloseTo(1, 12);
    expect(r.metrics["MAP@1"]).toBeCloseTo(1, 12);
    expect(r.metrics["Recall@3"]).toBeCloseTo(2 / 3, 12);
    const idcg3 = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
    expect(r.metrics["NDCG@3"]).toBeCloseTo((1 + 1 / Math.log2(4)) / idcg3, 12);
    expect(r.metrics["MAP@3"]).toBeCloseTo((1 + 2 / 3) / 3, 12);
    expect(r.metrics["Recall@10"]).toBeCloseTo(1, 12);
    expect(r.metrics["MAP@10"]).toBeCloseTo((1 + 2 / 3 + 3 / 5) / 3, 12);
  });

  it("ranks tied targets pessimistically but never on top of each other", () => {
    const qs = querySet([[]], [[1, 2]]);
    const r = evaluate(fixedScorer([[1, 1, 1, 1]]), qs, { numItems: 4, ks: [4], metrics: "temporal" });
    // Non-targets 0 and 3 go first: target ranks 3 and 4.
    expect(r.metrics["MAP@4"]).toBeCloseTo((1 / 3 + 2 / 4) / 2, 12);
  });
});
