/**
 * Ranking features against a naive oracle on a tiny fixture: every categorical and bag input, and
 * every continuous value (recomputed here with plain loops over the dataset and the lists, then
 * passed through the fitted quantiles) of every candidate of every list.
 */
import { describe, expect, it } from "vitest";
import { EngagementLookup, ImpressionLog, ItemTimeline } from "../src/features/ranking-context.js";
import {
  RANKING_FEATURES as F,
  RankingFeatures,
  type RankingInput,
} from "../src/features/ranking-features.js";
import { plantedImpressions, rankingDataset } from "./ranking-fixtures.js";

const data = rankingDataset(7, 12, 30, 8);
const timeline = ItemTimeline.fromDataset(data);
const lookup = new EngagementLookup(data);
const set = plantedImpressions(data, 3, 3, 10);
const log = ImpressionLog.fromLists(12, [set]);
const input: RankingInput = { set, historyWeights: lookup.historyWeights(set), impressions: log };
const DAY = 86400;

function genresOf(item: number): string[] {
  const info = data.itemInfo;
  return Array.from(
    info.genreIds.subarray(info.genreOffsets[item], info.genreOffsets[item + 1]),
    (g) => info.genreNames[g],
  );
}

/** The oracle's raw impression values of candidate c of list l, by column name. */
function naiveRaw(l: number, c: number): Record<string, number> {
  const t = set.times[l];
  const u = set.users[l];
  const item = set.items[c];
  const out: Record<string, number> = {};
  const g = genresOf(item);
  let cnt = 0;
  let sum = 0;
  let last = -Infinity;
  for (const genre of g) {
    for (let h = set.historyOffsets[l]; h < set.historyOffsets[l + 1]; h++) {
      const hi = set.historyItems[h];
      if (!genresOf(hi).includes(genre)) continue;
      cnt++;
      let w = NaN;
      for (let e = 0; e < data.events.user.length; e++)
        if (data.events.user[e] === u && data.events.item[e] === hi) w = data.events.weight[e];
      sum += w;
      last = Math.max(last, set.historyTimes[h]);
    }
  }
  out.genre_watch_count = cnt / g.length;
  out.genre_mean_engagement = cnt > 0 ? sum / cnt : NaN;
  out.since_genre_watch = last > -Infinity ? t - last : NaN;
  let n = 0;
  let lastImp = -Infinity;
  for (let m = 0; m < set.users.length; m++) {
    if (set.users[m] !== u || !(set.times[m] < t)) continue;
    for (let k = set.listOffsets[m]; k < set.listOffsets[m + 1]; k++)
      if (set.items[k] === item) {
        n++;
        lastImp = Math.max(lastImp, set.times[m]);
      }
  }
  out.earlier_impressions = n;
  out.since_impression = n > 0 ? t - lastImp : NaN;
  let p7 = 0;
  let p30 = 0;
  let all = 0;
  let first = Infinity;
  for (let e = 0; e < data.events.item.length; e++) {
    if (data.events.item[e] !== item) continue;
    const et = data.events.time[e];
    first = Math.min(first, et);
    if (et < t) {
      all++;
      if (et >= t - 7 * DAY) p7++;
      if (et >= t - 30 * DAY) p30++;
    }
  }
  out.popularity_7d = p7;
  out.popularity_30d = p30;
  out.popularity_all = all;
  out.item_age = first < t ? t - first : 0;
  set.sources.forEach((s, j) => {
    const rank = set.sourceRanks[c * 2 + j];
    const vals: number[] = [];
    for (let k = set.listOffsets[l]; k < set.listOffsets[l + 1]; k++)
      if (set.sourceRanks[k * 2 + j] > 0) vals.push(set.sourceScores[k * 2 + j]);
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const sd = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
    out[`${s}.rank`] = rank > 0 ? rank : NaN;
    out[`${s}.list_z`] = rank > 0 ? (set.sourceScores[c * 2 + j] - mean) / sd : NaN;
    out[`${s}.score`] = rank > 0 ? set.sourceScores[c * 2 + j] : NaN;
    out[`${s}.not_proposed`] = rank > 0 ? 0 : 1;
  });
  return out;
}

describe("ranking features", () => {
  for (const powers of [true, false]) {
    it(`match a naive oracle for every candidate (powers ${powers})`, () => {
      const f = RankingFeatures.fit(data, timeline, input, { powers, itemVocabulary: 15 });
      expect(f.itemVocabulary.size).toBeLessThanOrEqual(15);
      const batch = f.allocBatch(set.users.length, set.items.length);
      f.clear(batch);
      for (let l = 0; l < set.users.length; l++) f.append(input, l, batch);
      expect(batch.size).toBe(set.items.length);
      const per = powers ? 3 : 1;
      let checkedContinuous = 0;
      for (let l = 0; l < set.users.length; l++) {
        // Query side: watched bag = the history's in-vocabulary rows, last-watched the last 3.
        const hist = Array.from(set.historyItems.subarray(set.historyOffsets[l], set.historyOffsets[l + 1]));
        const rows = (items: number[]) => items.map((i) => f.itemRow[i]).filter((r) => r > 0);
        const bag = (name: string) => {
          const b = batch.query.bags[name];
          return Array.from(b.indices.subarray(b.offsets[l], b.offsets[l + 1]));
        };
        expect(bag(F.watched)).toEqual(rows(hist.slice(-50)));
        expect(bag(F.lastWatched)).toEqual(rows(hist.slice(-3)));
        const u = set.users[l];
        expect(batch.query.categorical[F.gender][l]).toBe(data.userInfo?.gender?.[u]);
        const zip = data.userInfo?.zip?.[u].slice(0, 2) ?? "";
        expect(f.demographicFit.zip?.values[batch.query.categorical[F.zip][l] - 1]).toBe(zip);
        const qd = batch.query.dense.subarray(l * f.queryDenseWidth, (l + 1) * f.queryDenseWidth);
        const since = set.times[l] - set.historyTimes[set.historyOffsets[l + 1] - 1];
        expect(qd[0]).toBeCloseTo(f.normalizers.get("since_last_watch")?.transform(since) ?? -1, 5);
        for (let c = set.listOffsets[l]; c < set.listOffsets[l + 1]; c++) {
          const item = set.items[c];
          expect(batch.impression.categorical[F.impressionItem][c]).toBe(
            f.itemVocabulary.lookup(data.items.ids[item]),
          );
          const gb = batch.impression.bags[F.genres];
          const genreNames = Array.from(
            gb.indices.subarray(gb.offsets[c], gb.offsets[c + 1]),
            (r) => f.genreVocabulary.values[r - 1],
          );
          expect(genreNames.sort()).toEqual(genresOf(item).sort());
          expect(batch.impression.categorical[F.year][c]).toBe(
            1 + Math.floor((data.itemInfo.year[item] - 1980) / 5),
          );
          const raw = naiveRaw(l, c);
          const dense = batch.impression.dense.subarray(c * f.impressionDenseWidth);
          let o = 0;
          for (const col of f.impressionColumns) {
            const x = raw[col.name];
            expect(x, col.name).not.toBeUndefined();
            if (col.kind === "indicator") {
              expect(dense[o++], col.name).toBe(x);
              continue;
            }
            const xt = f.normalizers.get(col.name)?.transform(x) ?? NaN;
            expect(dense[o], `${col.name} list ${l} candidate ${c}`).toBeCloseTo(xt, 5);
            if (powers) {
              expect(dense[o + 1]).toBeCloseTo(xt * xt, 5);
              expect(dense[o + 2]).toBeCloseTo(Math.sqrt(xt), 5);
            }
            o += per;
            checkedContinuous++;
          }
          expect(o).toBe(f.impressionDenseWidth);
          expect(batch.labels[c]).toBe(set.positive[c]);
          expect(batch.weights[c]).toBe(set.weight[c]);
        }
      }
      expect(checkedContinuous).toBeGreaterThan(set.items.length * 10);
    });
  }

  it("leaves out excluded sources and the impression-history group when configured off", () => {
    const f = RankingFeatures.fit(data, timeline, input, { excludeSources: ["b"], impressionHistory: false });
    const names = f.impressionColumns.map((c) => c.name);
    expect(names.some((n) => n.startsWith("b."))).toBe(false);
    expect(names).not.toContain("earlier_impressions");
    expect(names).toContain("a.rank");
  });

  it("round-trips through JSON with identical batches", () => {
    const f = RankingFeatures.fit(data, timeline, input);
    const g = RankingFeatures.fromJSON(JSON.parse(JSON.stringify(f.toJSON())), data, timeline);
    const a = f.allocBatch(2, 40);
    const b = g.allocBatch(2, 40);
    f.clear(a);
    g.clear(b);
    f.append(input, 4, a);
    g.append(input, 4, b);
    expect(Array.from(b.impression.dense.subarray(0, a.size * f.impressionDenseWidth))).toEqual(
      Array.from(a.impression.dense.subarray(0, a.size * f.impressionDenseWidth)),
    );
  });
});

describe("ItemTimeline", () => {
  it("counts observed serving events, arriving in any order, as if they were in the log", () => {
    const base = new ItemTimeline(Int32Array.of(0, 1, 0, 2), Float64Array.of(10, 20, 30, 40), 3);
    const times = [50, 5, 35, 50, 45, 31, 60];
    base.observe(new Int32Array(times.length), Float64Array.from(times));
    base.observe(Int32Array.of(1), Float64Array.of(15));
    const all0 = [10, 30, ...times];
    for (const t of [0, 5, 6, 10, 30, 31, 32, 35, 45, 50, 51, 60, 61]) {
      expect(base.countBefore(0, t)).toBe(all0.filter((x) => x < t).length);
      expect(base.countBefore(1, t)).toBe([20, 15].filter((x) => x < t).length);
    }
    expect(base.firstSeen[0]).toBe(5);
    expect(base.firstSeen[1]).toBe(15);
    expect(base.countBefore(2, 41)).toBe(1);
  });
});
