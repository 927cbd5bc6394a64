/**
 * Impressions for the ranker on small synthetic data: THE leakage test (for every training list,
 * no model that produced it saw an event of that user at or after the point; for validation / test
 * lists, nothing beyond the list's input history), lists exactly as specified (points, history,
 * positives and weights, union of the sources' top-N with their scores and ranks), earlier
 * impression chains, the temporal protocol's earlier cuts, and the opt-in cache.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../src/data/dataset.js";
import { loadDataset } from "../src/data/load.js";
import { writeSynthetic } from "../src/data/synth.js";
import { userEventOrder } from "../src/eval/user-order.js";
import type { ImpressionSet } from "../src/features/impressions.js";
import {
  buildImpressions,
  type ImpressionOptions,
  type RankingImpressions,
} from "../src/models/ranking/impression-builder.js";
import { EarlierImpressions, IMPRESSION_SETS } from "../src/models/ranking/impression-history.js";
import { sourceFactory } from "../src/models/sources/registry.js";

const options: ImpressionOptions = {
  topN: { dnn: 30, ease: 15, itemknn: 15, pop7: 10, pop30: 10 },
  points: 4,
  positiveWindow: 2,
  seed: 5,
  cache: false,
  settings: {
    dnn: {
      config: {
        network: { outputDim: 16 },
        train: { batchSize: 128, epochs: 2, patience: 1 },
        features: { embeddingDim: { item: 16, token: 8 } },
      },
    },
    ease: { lambdas: [20, 200] },
  },
};

let dir: string;
let data: Dataset;
let loo: RankingImpressions;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "wn-impressions-"));
  await writeSynthetic(join(dir, "data"), { users: 90, items: 120, events: 3000, seed: 6, years: 2 });
  data = await loadDataset(join(dir, "data"));
  loo = await buildImpressions(data, options);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function listItems(set: ImpressionSet, l: number): number[] {
  return Array.from(set.items.subarray(set.listOffsets[l], set.listOffsets[l + 1]));
}

function history(set: ImpressionSet, l: number): number[] {
  return Array.from(set.historyItems.subarray(set.historyOffsets[l], set.historyOffsets[l + 1]));
}

/** Every model of every list's group saw no event of the list's user outside its input history. */
function expectNoLeakage(imp: RankingImpressions, strictTraining: boolean): void {
  let checked = 0;
  for (const name of IMPRESSION_SETS) {
    const set = imp[name];
    for (let l = 0; l < set.users.length; l++) {
      const g = name === "train" ? imp.trainGroup[l] : name === "valid" ? imp.validGroup : imp.testGroup;
      const group = imp.groups[g];
      expect(group.fitRecords.map((r) => r.source)).toEqual(imp.sources);
      const u = set.users[l];
      const hs = set.historyOffsets[l];
      const he = set.historyOffsets[l + 1];
      const lastInput = he > hs ? set.historyTimes[he - 1] : -Infinity;
      for (const r of group.fitRecords) {
        const seen = r.lastSeenTime[u];
        // Nothing at or after the point ...
        if (name === "train" && strictTraining) expect(seen).toBeLessThan(set.times[l]);
        // ... and nothing the list's input history does not hold.
        expect(seen).toBeLessThanOrEqual(lastInput);
        checked++;
      }
    }
  }
  expect(checked).toBeGreaterThan(1000);
}

describe("loo impressions", () => {
  it("THE leakage test: no model saw an event of a list's user at or after its point", () => {
    expectNoLeakage(loo, true);
    // Fold models were fitted on the other folds only: their users are seen, the fold's are not.
    const folds = loo.groups.filter((g) => g.label.startsWith("fold"));
    expect(folds).toHaveLength(3);
    for (let l = 0; l < loo.train.users.length; l++) {
      const u = loo.train.users[l];
      const own = loo.groups[loo.trainGroup[l]];
      for (const r of own.fitRecords) expect(r.lastSeenTime[u]).toBe(-Infinity);
      // The same user is seen by the other folds' models (so the record is not trivially empty).
      const other = folds.find((g) => g !== own);
      expect(other?.fitRecords[0].lastSeenTime[u]).toBeGreaterThan(-Infinity);
    }
  });

  it("training lists: the M most recent points of each user, history before the point, W positives", () => {
    const train = loo.split.train;
    const order = userEventOrder(train.events, train.users.ids.length);
    const ev = train.events;
    const byUser = new Map<number, number[]>();
    for (let l = 0; l < loo.train.users.length; l++) {
      const u = loo.train.users[l];
      byUser.set(u, [...(byUser.get(u) ?? []), l]);
    }
    for (const [u, ls] of byUser) {
      const start = order.offsets[u];
      const len = order.offsets[u + 1] - start;
      expect(ls).toHaveLength(Math.min(4, len - 1));
      ls.forEach((l, k) => {
        const j = len - ls.length + k;
        expect(loo.train.times[l]).toBe(ev.time[order.order[start + j]]);
        expect(history(loo.train, l)).toEqual(
          Array.from({ length: j }, (_, i) => ev.item[order.order[start + i]]),
        );
        // Positives: the watches j, j+1 (W = 2) that made it into the list, weight = rating.
        const want = new Map<number, number>();
        for (let i = j; i < Math.min(len, j + 2); i++) {
          const e = order.order[start + i];
          if (!want.has(ev.item[e])) want.set(ev.item[e], ev.weight[e]);
        }
        for (let c = loo.train.listOffsets[l]; c < loo.train.listOffsets[l + 1]; c++) {
          const i = loo.train.items[c];
          if (loo.train.positive[c] === 1) {
            expect(want.has(i)).toBe(true);
            expect(loo.train.weight[c]).toBe(want.get(i));
          } else {
            expect(want.has(i) && !history(loo.train, l).includes(i)).toBe(false);
            expect(loo.train.weight[c]).toBe(1);
          }
        }
      });
    }
    expect(byUser.size).toBeGreaterThan(80);
  });

  it("validation / test lists use the protocol's queries, and are the union of the sources' top-N", () => {
    for (const name of ["valid", "test"] as const) {
      const set = loo[name];
      const q = loo.split[name];
      expect(Array.from(set.users)).toEqual(Array.from(q.users));
      expect(Array.from(set.historyItems)).toEqual(Array.from(q.historyItems));
      expect(Array.from(set.times)).toEqual(Array.from(q.times));
      const S = loo.sources.length;
      const tops = loo.validSources.map((s, k) => s.topN(q, loo.options.topN[k]));
      for (let l = 0; l < set.users.length; l++) {
        const items = listItems(set, l);
        expect(new Set(items).size).toBe(items.length);
        const hist = new Set(history(set, l));
        for (const i of items) expect(hist.has(i)).toBe(false);
        const union = new Set<number>();
        tops.forEach((t, s) => {
          for (let r = 0; r < t.n; r++) {
            const i = t.items[l * t.n + r];
            if (i < 0) continue;
            union.add(i);
            const c = set.listOffsets[l] + items.indexOf(i);
            expect(set.sourceRanks[c * S + s]).toBe(r + 1);
            expect(set.sourceScores[c * S + s]).toBe(t.scores[l * t.n + r]);
          }
        });
        expect(new Set(items)).toEqual(union);
        // Not proposed → rank 0, score NaN.
        for (let c = set.listOffsets[l]; c < set.listOffsets[l + 1]; c++)
          for (let s = 0; s < S; s++)
            if (set.sourceRanks[c * S + s] === 0) expect(set.sourceScores[c * S + s]).toBeNaN();
        // The target is the one positive when proposed; its weight is the rating of that event.
        const target = q.targetItems[q.targetOffsets[l]];
        const pos = items.filter((_, k) => set.positive[set.listOffsets[l] + k] === 1);
        expect(pos).toEqual(items.includes(target) ? [target] : []);
      }
      expect(set.historyWeights?.length).toBe(set.historyItems.length);
    }
    // EASE's λ came from validation and was reused by every fold model.
    const lambda = loo.testSources.find((s) => s.name === "ease")?.params.lambda;
    expect([20, 200]).toContain(lambda);
  });

  it("earlier impressions: each list sees exactly the same user's earlier lists", () => {
    const out = new EarlierImpressions();
    const trainOf = new Map<number, number[]>();
    for (let l = 0; l < loo.train.users.length; l++)
      trainOf.set(loo.train.users[l], [...(trainOf.get(loo.train.users[l]) ?? []), l]);
    for (let l = 0; l < loo.valid.users.length; l++) {
      const u = loo.valid.users[l];
      const mine = trainOf.get(u) ?? [];
      out.collect(loo, loo.previous, "valid", l);
      expect(Array.from(out.items.subarray(0, out.count))).toEqual(
        mine.flatMap((t) => listItems(loo.train, t)),
      );
      expect(Array.from(out.times.subarray(0, out.count))).toEqual(
        mine.flatMap((t) => listItems(loo.train, t).map(() => loo.train.times[t])),
      );
      // Test: the training lists and the validation list.
      const t = Array.from(loo.test.users).indexOf(u);
      out.collect(loo, loo.previous, "test", t);
      expect(out.count).toBe(
        mine.reduce((a, x) => a + listItems(loo.train, x).length, 0) + listItems(loo.valid, l).length,
      );
      // A user's first training list has none.
      if (mine.length > 0) expect(out.collect(loo, loo.previous, "train", mine[0]).count).toBe(0);
    }
  });
});

describe("temporal impressions and the cache", () => {
  it("temporal: training lists from earlier cuts, no model saw past a list's cut", async () => {
    const imp = await buildImpressions(data, {
      ...options,
      protocol: "temporal",
      temporal: { windowDays: 30, cutQuantile: 0.85 },
      temporalCuts: 2,
    });
    expectNoLeakage(imp, false);
    const cuts = imp.groups.filter((g) => g.label.startsWith("cut"));
    expect(cuts.length).toBeGreaterThan(0);
    const validCut = imp.split.params.validCutTime as number;
    for (let l = 0; l < imp.train.users.length; l++) {
      const t = imp.train.times[l];
      expect(t).toBeLessThan(validCut);
      for (const r of imp.groups[imp.trainGroup[l]].fitRecords)
        for (let u = 0; u < r.lastSeenTime.length; u++) expect(r.lastSeenTime[u]).toBeLessThanOrEqual(t);
    }
    expect(imp.validSources).not.toBe(imp.testSources);
    expect(imp.test.times.every((t) => t === imp.split.params.cutTime)).toBe(true);
  });

  it("the cache restores identical lists and sources, and is off unless asked", async () => {
    const cache = join(dir, "cache");
    const a = await buildImpressions(data, { ...options, sources: ["ease", "pop30"], cache });
    const lines: string[] = [];
    const b = await buildImpressions(data, {
      ...options,
      sources: ["ease", "pop30"],
      cache,
      log: (x) => lines.push(x),
    });
    expect(lines.some((x) => x.includes("loaded from cache"))).toBe(true);
    expect(readdirSync(cache)).toHaveLength(1);
    for (const name of IMPRESSION_SETS) {
      expect(Array.from(b[name].items)).toEqual(Array.from(a[name].items));
      expect(Array.from(b[name].sourceScores)).toEqual(Array.from(a[name].sourceScores));
      expect(Array.from(b[name].weight)).toEqual(Array.from(a[name].weight));
      expect(Array.from(b[name].historyTimes)).toEqual(Array.from(a[name].historyTimes));
    }
    expect(Array.from(b.trainGroup)).toEqual(Array.from(a.trainGroup));
    expect(b.groups[0].fitRecords[1].lastSeenTime).toEqual(a.groups[0].fitRecords[1].lastSeenTime);
    const top = (x: RankingImpressions) => Array.from(x.testSources[0].topN(a.split.test, 10).items);
    expect(top(b)).toEqual(top(a));
    // Pre-fitted sources are used as given (same lists), and only when fitted on the training part.
    const c = await buildImpressions(data, { ...options, sources: ["ease", "pop30"], fitted: a.testSources });
    expect(c.testSources[0]).toBe(a.testSources[0]);
    expect(Array.from(c.test.items)).toEqual(Array.from(a.test.items));
    const wrong = await sourceFactory("ease", { ease: { lambda: 20 } }).fit(data, { seed: 1 });
    await expect(
      buildImpressions(data, { ...options, sources: ["ease", "pop30"], fitted: [wrong] }),
    ).rejects.toThrow(/pre-fitted ease source/);
    // A memo shares fitted sources across builds without changing them.
    const memo = new Map();
    const logs: string[] = [];
    await buildImpressions(data, { ...options, sources: ["ease", "pop30"], memo });
    const d = await buildImpressions(data, {
      ...options,
      sources: ["pop30"],
      memo,
      log: (x) => logs.push(x),
    });
    const e = await buildImpressions(data, { ...options, sources: ["pop30"] });
    expect(logs.filter((x) => x.includes("reused from the memo"))).toHaveLength(4);
    expect(logs.some((x) => x.includes("fitted in"))).toBe(false);
    for (const name of IMPRESSION_SETS) expect(Array.from(d[name].items)).toEqual(Array.from(e[name].items));
    // Another seed is another entry.
    await buildImpressions(data, { ...options, sources: ["ease", "pop30"], cache, seed: 6 });
    expect(readdirSync(cache)).toHaveLength(2);
  });
});
