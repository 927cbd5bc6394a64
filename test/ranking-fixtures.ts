/**
 * Synthetic impression lists for the ranking tests: a small dataset with genres, years and
 * demographics, and ImpressionSets whose positives follow a planted rule (the candidate with the
 * highest hidden value, seen by source "a" through a noisy score; source "b" is noise and proposes
 * only part of each list), plus a naive weighted per-user pairwise loss to score them.
 */
import type { Dataset } from "../src/data/dataset.js";
import { Rng } from "../src/engine/rng.js";
import type { ImpressionSet } from "../src/features/impressions.js";
import { makeDataset } from "./features-fixtures.js";

export const GENRES = ["Action", "Comedy", "Drama"];

export function rankingDataset(seed: number, numUsers = 40, numItems = 60, perUser = 12): Dataset {
  const rng = new Rng(seed);
  const events: Array<[number, number, number]> = [];
  for (let u = 0; u < numUsers; u++) {
    let t = 1_000_000 + rng.nextInt(1000) * 3600;
    const seen = new Set<number>();
    while (seen.size < perUser) {
      const i = rng.nextInt(numItems);
      if (seen.has(i)) continue;
      seen.add(i);
      t += 3600 * (1 + rng.nextInt(48));
      events.push([u, i, t]);
    }
  }
  const d = makeDataset({
    numUsers,
    numItems,
    events,
    itemGenres: Array.from({ length: numItems }, (_, i) =>
      i % 5 === 0 ? [GENRES[i % 3], GENRES[(i + 1) % 3]] : [GENRES[i % 3]],
    ),
    itemYears: Array.from({ length: numItems }, (_, i) => 1980 + (i % 20)),
    userInfo: {
      gender: Uint8Array.from({ length: numUsers }, (_, u) => 1 + (u % 2)),
      age: Int16Array.from({ length: numUsers }, (_, u) => 18 + (u % 40)),
      ageKind: "years",
      occupation: Int32Array.from({ length: numUsers }, (_, u) => u % 4),
      occupationNames: ["a", "b", "c", "d"],
      zip: Array.from({ length: numUsers }, (_, u) => `${10 + (u % 7)}123`),
    },
  });
  // Ratings 1..5 as engagement.
  for (let e = 0; e < d.events.weight.length; e++)
    d.events.weight[e] = 1 + ((d.events.item[e] * 7 + d.events.user[e]) % 5);
  return d;
}

/**
 * `points` lists per user at their last events (history = the events before the point), each of
 * `listSize` candidates: the point's item (positive) and random unseen items.
 */
export function plantedImpressions(
  data: Dataset,
  seed: number,
  points = 3,
  listSize = 16,
  users?: number[],
): ImpressionSet {
  const rng = new Rng(seed);
  const numUsers = data.users.ids.length;
  const numItems = data.items.ids.length;
  const byUser: Array<Array<[number, number, number]>> = Array.from({ length: numUsers }, () => []);
  for (let e = 0; e < data.events.user.length; e++)
    byUser[data.events.user[e]].push([data.events.item[e], data.events.time[e], data.events.weight[e]]);
  const U: number[] = [];
  const T: number[] = [];
  const hOff = [0];
  const hItems: number[] = [];
  const hTimes: number[] = [];
  const lOff = [0];
  const items: number[] = [];
  const pos: number[] = [];
  const w: number[] = [];
  const scores: number[] = [];
  const ranks: number[] = [];
  for (const u of users ?? Array.from({ length: numUsers }, (_, i) => i)) {
    const ev = byUser[u].sort((a, b) => a[1] - b[1]);
    for (let p = Math.max(1, ev.length - points); p < ev.length; p++) {
      U.push(u);
      T.push(ev[p][1]);
      for (let h = 0; h < p; h++) {
        hItems.push(ev[h][0]);
        hTimes.push(ev[h][1]);
      }
      hOff.push(hItems.length);
      const history = new Set(ev.slice(0, p).map((x) => x[0]));
      const cands = [ev[p][0]];
      while (cands.length < listSize) {
        const i = rng.nextInt(numItems);
        if (!history.has(i) && !cands.includes(i)) cands.push(i);
      }
      const a = cands.map((_, k) => (k === 0 ? 2.5 : 0) + rng.normal());
      const b = cands.map(() => rng.normal());
      const rankOf = (s: number[], proposed: boolean[]) => {
        const idx = s
          .map((_, k) => k)
          .filter((k) => proposed[k])
          .sort((x, y) => s[y] - s[x]);
        const r = s.map(() => 0);
        idx.forEach((k, j) => (r[k] = j + 1));
        return r;
      };
      const propA = cands.map(() => true);
      const propB = cands.map((_, k) => k % 3 !== 1);
      const ra = rankOf(a, propA);
      const rb = rankOf(b, propB);
      // Shuffle candidate order so the positive is not always first.
      const perm = Int32Array.from(cands, (_, k) => k);
      rng.shuffle(perm);
      for (const k of perm) {
        items.push(cands[k]);
        pos.push(k === 0 ? 1 : 0);
        w.push(k === 0 ? ev[p][2] : 1);
        scores.push(a[k], propB[k] ? b[k] : NaN);
        ranks.push(ra[k], rb[k]);
      }
      lOff.push(items.length);
    }
  }
  return {
    users: Int32Array.from(U),
    times: Float64Array.from(T),
    historyOffsets: Int32Array.from(hOff),
    historyItems: Int32Array.from(hItems),
    historyTimes: Float64Array.from(hTimes),
    sources: ["a", "b"],
    listOffsets: Int32Array.from(lOff),
    items: Int32Array.from(items),
    positive: Uint8Array.from(pos),
    weight: Float32Array.from(w),
    sourceScores: Float32Array.from(scores),
    sourceRanks: Int32Array.from(ranks),
  };
}

/** protocol.md §Ranking: Σ mispredicted-pair weight(p) / Σ all-pair weight(p), pooled. */
export function naivePairLoss(set: ImpressionSet, scores: Float32Array): number {
  let bad = 0;
  let all = 0;
  for (let l = 0; l < set.users.length; l++)
    for (let p = set.listOffsets[l]; p < set.listOffsets[l + 1]; p++) {
      if (set.positive[p] !== 1) continue;
      for (let n = set.listOffsets[l]; n < set.listOffsets[l + 1]; n++) {
        if (set.positive[n] === 1) continue;
        all += set.weight[p];
        if (scores[n] >= scores[p]) bad += set.weight[p];
      }
    }
  return all > 0 ? bad / all : 0;
}
