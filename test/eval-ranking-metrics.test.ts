/**
 * Ranking metrics on held-out impression lists: hand-checked weighted per-user loss, AUC and list
 * HR/NDCG (ties and NaN count against the positive, weights scale only positives), agreement with a
 * naive all-pairs loop on random lists with many ties, and the union recall report.
 */
import { describe, expect, it } from "vitest";
import { Rng } from "../src/engine/rng.js";
import {
  listRankingMetrics,
  pairLoss,
  rankingReport,
  sourceScoreColumn,
  unionRecall,
  weightedPerUserLoss,
  type LabeledLists,
} from "../src/eval/ranking-metrics.js";

/** Lists from [positive, weight, score] rows. */
function lists(rows: Array<Array<[0 | 1, number, number]>>): { lists: LabeledLists; scores: Float32Array } {
  const flat = rows.flat();
  const listOffsets = new Int32Array(rows.length + 1);
  rows.forEach((r, l) => (listOffsets[l + 1] = listOffsets[l] + r.length));
  return {
    lists: {
      listOffsets,
      positive: Uint8Array.from(flat, (r) => r[0]),
      weight: Float32Array.from(flat, (r) => r[1]),
    },
    scores: Float32Array.from(flat, (r) => r[2]),
  };
}

describe("weighted per-user loss and AUC", () => {
  const { lists: l, scores } = lists([
    // p (w 4, 0.9) vs 0.5 (right), 0.9 (tie: wrong), 1.0 (wrong): 8 of 12.
    [
      [1, 4, 0.9],
      [0, 1, 0.5],
      [0, 1, 0.9],
      [0, 1, 1.0],
    ],
    // p (w 2, 0.3) beats 0.1; p (w 1, 0.05) loses: 1 of 3. Positives are not paired together.
    [
      [0, 1, 0.1],
      [1, 2, 0.3],
      [1, 1, 0.05],
    ],
    // Negatives only: no pairs.
    [
      [0, 1, 0.2],
      [0, 1, 0.7],
    ],
  ]);

  it("pools mispredicted positive weight over all pairs", () => {
    const p = pairLoss(l, scores);
    expect(p.mispredicted).toBe(9);
    expect(p.total).toBe(15);
    expect(p.pairs).toBe(5);
    expect(p.loss).toBeCloseTo(0.6, 12);
    expect(weightedPerUserLoss(l, scores)).toBeCloseTo(0.6, 12);
    // AUC: 1 right + ½ tie in list 0, 1 right in list 1, of 5 pairs.
    expect(p.auc).toBeCloseTo(2.5 / 5, 12);
  });

  it("weights only the positives: doubling a negative's weight changes nothing", () => {
    const w = Float32Array.from(l.weight);
    w[1] = 7;
    expect(weightedPerUserLoss({ ...l, weight: w }, scores)).toBeCloseTo(0.6, 12);
    const w2 = Float32Array.from(l.weight);
    w2[0] = 1; // first positive weight 4 → 1: (2 + 1) / (3 + 3)
    expect(weightedPerUserLoss({ ...l, weight: w2 }, scores)).toBeCloseTo(3 / 6, 12);
  });

  it("a constant score mispredicts every pair; NaN counts against the positive", () => {
    expect(weightedPerUserLoss(l, new Float32Array(scores.length).fill(3))).toBe(1);
    const nanPos = lists([
      [
        [1, 1, NaN],
        [0, 1, -100],
      ],
    ]);
    expect(weightedPerUserLoss(nanPos.lists, nanPos.scores)).toBe(1);
    const nanNeg = lists([
      [
        [1, 1, 100],
        [0, 1, NaN],
      ],
    ]);
    expect(weightedPerUserLoss(nanNeg.lists, nanNeg.scores)).toBe(1);
    expect(pairLoss(nanNeg.lists, nanNeg.scores).auc).toBe(0);
  });

  it("NaN without any pair, and a clear error for a wrong score length", () => {
    const none = lists([[[0, 1, 1]]]);
    expect(weightedPerUserLoss(none.lists, none.scores)).toBeNaN();
    expect(() => weightedPerUserLoss(l, new Float32Array(3))).toThrow(/3 scores for 9 candidates/);
  });

  it("matches a naive all-pairs loop on random lists with ties", () => {
    const rng = new Rng(5);
    const rows: Array<Array<[0 | 1, number, number]>> = [];
    for (let k = 0; k < 60; k++) {
      const n = 1 + rng.nextInt(30);
      rows.push(
        Array.from({ length: n }, (): [0 | 1, number, number] => {
          const pos = rng.nextFloat() < 0.2;
          return [pos ? 1 : 0, pos ? 1 + rng.nextInt(5) : 1, rng.nextInt(6)];
        }),
      );
    }
    let mis = 0;
    let total = 0;
    let correct = 0;
    let pairs = 0;
    for (const r of rows)
      for (const p of r)
        for (const n of r) {
          if (p[0] !== 1 || n[0] !== 0) continue;
          total += p[1];
          pairs++;
          if (n[2] >= p[2]) mis += p[1];
          correct += n[2] < p[2] ? 1 : n[2] === p[2] ? 0.5 : 0;
        }
    const { lists: l2, scores: s2 } = lists(rows);
    const got = pairLoss(l2, s2);
    expect(got.mispredicted).toBe(mis);
    expect(got.total).toBe(total);
    expect(got.auc).toBeCloseTo(correct / pairs, 12);
  });
});

describe("list HR/NDCG", () => {
  it("re-ranks each list pessimistically; a list without a positive is a miss", () => {
    const { lists: l, scores } = lists([
      [
        [1, 4, 0.9],
        [0, 1, 0.5],
        [0, 1, 0.9],
        [0, 1, 1.0],
      ], // rank 3 (tie ahead)
      [
        [0, 1, 0.1],
        [1, 2, 0.3],
        [1, 1, 0.05],
      ], // rank 1
      [[0, 1, 0.2]], // miss
    ]);
    const m = listRankingMetrics(l, scores, [1, 3]);
    expect(m["HR@1"]).toBeCloseTo(1 / 3, 12);
    expect(m["HR@3"]).toBeCloseTo(2 / 3, 12);
    expect(m["NDCG@3"]).toBeCloseTo((0.5 + 1) / 3, 12);
    expect(m.MRR).toBeCloseTo((1 / 3 + 1) / 3, 12);
    const r = rankingReport(l, scores, [3]);
    expect(r.weightedLoss).toBeCloseTo(0.6, 12);
    expect(r["HR@3"]).toBeCloseTo(2 / 3, 12);
  });
});

describe("source columns and union recall", () => {
  // Sources a, b; list 0: positive proposed by a only; list 1: by both; list 2: positive in no list.
  const set = {
    sources: ["a", "b"],
    listOffsets: Int32Array.of(0, 2, 4, 5),
    positive: Uint8Array.of(1, 0, 0, 1, 0),
    weight: Float32Array.of(5, 1, 1, 3, 1),
    sourceScores: Float32Array.of(0.7, NaN, 0.2, 9, 0.5, 8, 0.1, 7, NaN, 6),
    sourceRanks: Int32Array.of(1, 0, 2, 1, 1, 2, 2, 1, 0, 1),
  };

  it("reports HR@|list| of the union and of each source", () => {
    const r = unionRecall(set);
    expect(r.lists).toBe(3);
    expect(r.meanListSize).toBeCloseTo(5 / 3, 12);
    expect(r.union).toBeCloseTo(2 / 3, 12);
    expect(r.perSource.a).toBeCloseTo(2 / 3, 12);
    expect(r.perSource.b).toBeCloseTo(1 / 3, 12);
  });

  it("extracts a source's scores with a value for absent candidates", () => {
    expect(Array.from(sourceScoreColumn(set, "b"))).toEqual([-Infinity, 9, 8, 7, 6]);
    expect(Array.from(sourceScoreColumn(set, "a", -1))).toEqual([
      Math.fround(0.7),
      Math.fround(0.2),
      Math.fround(0.5),
      Math.fround(0.1),
      -1,
    ]);
    expect(() => sourceScoreColumn(set, "c")).toThrow(/not among the lists' sources/);
  });
});
