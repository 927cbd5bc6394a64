import { describe, expect, it } from "vitest";
import type { QueryBatch } from "../src/eval/types.js";
import {
  combineCandidateConfigs,
  figure6FeatureSet,
  resolveCandidateConfig,
} from "../src/features/candidate-config.js";
import {
  buildCandidateFeatures,
  candidateFeaturesFromJSON,
  CANDIDATE_FEATURES,
  ITEM_TABLE,
  WATCH_SLOT,
  type CandidateFeatures,
} from "../src/features/candidate-features.js";
import { makeDataset, randomDataset } from "./features-fixtures.js";
import { DEFAULT_CANDIDATE_CONFIG } from "../src/features/candidate-config.js";

/** The recent-watch bag names the default config declares, in schema order. */
function defaultRecentBags(): string[] {
  return DEFAULT_CANDIDATE_CONFIG.recentWatches.counts.map((r) => `recentWatches${r}`);
}
import { naiveFit, naiveRow, naiveSequence, readRow, type Row } from "./features-naive.js";
import type { Dataset } from "../src/data/dataset.js";

function expectSameRow(got: Row, want: Row, where: string): void {
  expect(got.watches, where).toEqual(want.watches);
  expect(got.recent, where).toEqual(want.recent);
  expect(got.years, where).toEqual(want.years);
  expect(got.tokens, where).toEqual(want.tokens);
  expect(got.categorical, where).toEqual(want.categorical);
  expect(Object.keys(got.genres).sort(), where).toEqual(Object.keys(want.genres).sort());
  for (const k of Object.keys(want.genres)) expect(got.genres[k], where).toBeCloseTo(want.genres[k], 6);
  expect(got.dense.length, where).toBe(want.dense.length);
  for (let i = 0; i < want.dense.length; i++)
    expect(got.dense[i], `${where} dense ${i}`).toBeCloseTo(want.dense[i], 6);
}

/** Every user's full training history as one query at `time = last event + offset`. */
function queriesOf(
  d: Dataset,
  offset: number,
): { q: QueryBatch; histories: Array<Array<{ item: number; time: number }>> } {
  const users: number[] = [];
  const histories: Array<Array<{ item: number; time: number }>> = [];
  for (let u = 0; u < d.users.ids.length; u++) {
    users.push(u);
    histories.push(naiveSequence(d, u));
  }
  const offsets = [0];
  for (const h of histories) offsets.push(offsets[offsets.length - 1] + h.length);
  return {
    histories,
    q: {
      users: Int32Array.from(users),
      times: Float64Array.from(histories, (h) => (h.length > 0 ? h[h.length - 1].time : 1000) + offset),
      historyOffsets: Int32Array.from(offsets),
      historyItems: Int32Array.from(histories.flat(), (e) => e.item),
      historyTimes: Float64Array.from(histories.flat(), (e) => e.time),
    },
  };
}

describe("candidate features: schema", () => {
  it("declares every group, with side info summed into the watch slot", () => {
    const d = randomDataset(2);
    const f = buildCandidateFeatures(d, { embeddingDim: { item: 16, token: 8 } });
    const tables = Object.fromEntries(f.schema.tables.map((t) => [t.name, t]));
    expect(tables[ITEM_TABLE]).toEqual({ name: ITEM_TABLE, rows: d.items.ids.length + 1, dim: 16 });
    expect(tables.genre.dim).toBe(16);
    expect(tables.year.dim).toBe(16);
    expect(tables.token.dim).toBe(8);
    expect(tables.gender.rows).toBe(3);
    const slots = f.schema.features
      .filter((x) => x.kind === "bag" && x.slot === WATCH_SLOT)
      .map((x) => x.name);
    expect(slots).toEqual([
      CANDIDATE_FEATURES.watches,
      CANDIDATE_FEATURES.watchGenres,
      CANDIDATE_FEATURES.watchYears,
    ]);
    const dense = f.schema.features.filter((x) => x.kind === "continuous");
    expect(dense.map((x) => [x.name, x.offset, x.width])).toEqual([
      ["exampleAge", 0, 1],
      ["age", 1, 1],
      ["userContinuous", 2, 9],
    ]);
    expect(f.schema.denseWidth).toBe(11);
    expect(Object.keys(f.config.autoOff)).toEqual([]);
  });

  it("turns off groups the dataset lacks, and says why", () => {
    const base = randomDataset(2);
    const noSide: Dataset = { ...base, tags: null, userInfo: null };
    const f = buildCandidateFeatures(noSide);
    expect(f.config.search.enabled).toBe(false);
    expect(f.config.demographics.enabled).toBe(false);
    expect(f.config.autoOff.search).toMatch(/no tag events/);
    expect(f.config.autoOff.demographics).toMatch(/no users file/);
    const names = f.schema.features.map((x) => x.name);
    expect(names).not.toContain("searchTokens");
    expect(names).not.toContain("gender");
    expect(names).not.toContain("age");
    const batch = f.allocBatch(4);
    expect(Object.keys(batch.bags).sort()).toEqual(
      [...defaultRecentBags(), "watchGenres", "watchYears", "watches"].sort(),
    );
    expect(Object.keys(batch.categorical)).toEqual([]);
  });

  it("selects the Figure 6 feature sets by switches", () => {
    const d = randomDataset(2);
    const watchesOnly = buildCandidateFeatures(d, figure6FeatureSet("watches"));
    // The recent-watch bags derive from the watch history, so they stay on in every set.
    const recent = defaultRecentBags();
    expect(watchesOnly.schema.features.map((x) => x.name)).toEqual(["watches", ...recent]);
    expect(watchesOnly.schema.denseWidth).toBe(0);
    const withAge = buildCandidateFeatures(d, figure6FeatureSet("watches+search+age"));
    expect(withAge.schema.features.map((x) => x.name)).toEqual([
      "watches",
      "searchTokens",
      ...recent,
      "exampleAge",
    ]);
    expect(Object.keys(withAge.config.autoOff)).toEqual([]); // switched off by the user, not by the data
    const tuned = combineCandidateConfigs(
      { watches: { maxLen: 9 }, search: { minCount: 1 } },
      figure6FeatureSet("watches"),
    );
    expect(tuned).toMatchObject({ watches: { maxLen: 9 }, search: { minCount: 1, enabled: false } });
  });

  it("rejects unknown keys and bad values with the key path", () => {
    const d = randomDataset(2);
    expect(() => resolveCandidateConfig(d, { search: { vocabsize: 3 } } as never)).toThrow(
      /^features\.search: expected only the keys enabled, maxTokens, vocabSize, minCount, init, pretrained, got unknown key "vocabsize"$/,
    );
    expect(() => resolveCandidateConfig(d, { demographics: { zipPrefix: 9 } })).toThrow(
      /demographics\.zipPrefix/,
    );
    expect(() => resolveCandidateConfig(d, { examples: { selection: "latest" as never } })).toThrow(
      /examples\.selection/,
    );
    expect(() => resolveCandidateConfig(d, { recentWatches: { counts: [3, 0] } })).toThrow(
      /recentWatches\.counts\[1\]/,
    );
    expect(() => resolveCandidateConfig(d, { recentWatches: { counts: [3, 3] } })).toThrow(
      /^features\.recentWatches\.counts: expected a list of distinct values, each an integer >= 1, got \[3,3\] \(a repeated value\)$/,
    );
  });

  it("declares the recent-watch bags on the item table, each its own slot, and switches them off", () => {
    const d = randomDataset(2);
    const f = buildCandidateFeatures(d, { recentWatches: { counts: [2, 5] } });
    const recent = f.schema.features.filter((x) => x.name.startsWith(CANDIDATE_FEATURES.recentWatches));
    expect(recent).toEqual([
      { kind: "bag", name: "recentWatches2", table: ITEM_TABLE },
      { kind: "bag", name: "recentWatches5", table: ITEM_TABLE },
    ]);
    const off = buildCandidateFeatures(d, { recentWatches: { enabled: false } });
    expect(off.schema.features.some((x) => x.name.startsWith(CANDIDATE_FEATURES.recentWatches))).toBe(false);
    expect(Object.keys(off.allocBatch(2).bags).some((n) => n.startsWith("recentWatches"))).toBe(false);
  });
});

describe("candidate features: batches", () => {
  it("fill training batches exactly as a naive object-based construction", () => {
    for (const seed of [4, 6]) {
      const d = randomDataset(seed);
      const f = buildCandidateFeatures(d, {
        watches: { maxLen: 6 },
        search: { maxTokens: 5, minCount: 1, vocabSize: 8 },
        demographics: { zipPrefix: 3 },
        examples: { perUserCap: 0, minHistory: 0 },
      });
      const fit = naiveFit(d, f.config);
      const set = f.examples();
      const order = Int32Array.from({ length: set.size }, (_, i) => set.size - 1 - i);
      const batch = f.allocBatch(16);
      for (let s = 0; s < set.size; s += 16) {
        const n = f.fillTrainBatch(set, order, s, Math.min(set.size, s + 16), batch);
        for (let b = 0; b < n; b++) {
          const e = order[s + b];
          const u = set.user[e];
          const p = set.pos[e];
          const seq = naiveSequence(d, u);
          const t = seq[p].time;
          const want = naiveRow(d, fit, u, seq.slice(0, p), {
            time: t,
            exampleAge: (fit.maxTime - t) / (fit.maxTime - fit.minTime),
            tagLimit: (x) => x < t,
            numPrev: p,
            sinceFirst: p > 0 ? t - seq[0].time : 0,
            sinceLast: p > 0 ? t - seq[p - 1].time : 0,
          });
          expectSameRow(readRow(fit, batch, b), want, `seed ${seed} example ${e}`);
          expect(batch.labels[b]).toBe(seq[p].item);
          expect(batch.labelTimes[b]).toBe(t);
        }
      }
    }
  });

  it("fill heldout batches from the whole history, seen from the user's last training event", () => {
    const d = randomDataset(12);
    const f = buildCandidateFeatures(d, {
      watches: { maxLen: 5 },
      search: { minCount: 1 },
      examples: { mode: "heldout", perUserCap: 0, minHistory: 1 },
    });
    const fit = naiveFit(d, f.config);
    const set = f.examples();
    const order = Int32Array.from({ length: set.size }, (_, i) => i);
    const batch = f.allocBatch(set.size);
    f.fillTrainBatch(set, order, 0, set.size, batch);
    for (let e = 0; e < set.size; e++) {
      const seq = naiveSequence(d, set.user[e]);
      const p = set.pos[e];
      const others = seq.filter((_, k) => k !== p);
      const t = seq[p].time;
      const ref = seq[seq.length - 1].time;
      const want = naiveRow(d, fit, set.user[e], others, {
        time: ref,
        exampleAge: (fit.maxTime - t) / (fit.maxTime - fit.minTime),
        tagLimit: (x) => x <= ref,
        numPrev: others.length,
        sinceFirst: ref - seq[0].time,
        sinceLast: ref - others[others.length - 1].time,
      });
      expectSameRow(readRow(fit, batch, e), want, `heldout example ${e}`);
    }
  });

  it("pads a short batch with empty bags and zero dense rows", () => {
    const d = randomDataset(4);
    const f = buildCandidateFeatures(d);
    const set = f.examples();
    const batch = f.allocBatch(8);
    const order = Int32Array.from({ length: set.size }, (_, i) => i);
    f.fillTrainBatch(set, order, 0, 8, batch);
    expect(f.fillTrainBatch(set, order, 8, 11, batch)).toBe(3);
    expect(batch.size).toBe(3);
    for (const bag of Object.values(batch.bags)) {
      for (let b = 3; b <= 8; b++) expect(bag.offsets[b]).toBe(bag.offsets[3]);
    }
    expect(batch.dense.subarray(3 * batch.denseWidth).every((x) => x === 0)).toBe(true);
    expect(() => f.fillTrainBatch(set, order, 0, 9, batch)).toThrow(/do not fit/);
  });

  it("fill query batches from the history with example age 0 and tags strictly before the query time", () => {
    const d = randomDataset(8);
    const f = buildCandidateFeatures(d, { watches: { maxLen: 7 }, search: { minCount: 1 } });
    const fit = naiveFit(d, f.config);
    for (const offset of [0, 25]) {
      const { q, histories } = queriesOf(d, offset);
      const batch = f.allocBatch(q.users.length);
      f.fillQueryBatch(q, 0, q.users.length, batch);
      const ageCol = f.schema.features.find((x) => x.name === "exampleAge");
      expect(ageCol?.kind).toBe("continuous");
      for (let b = 0; b < q.users.length; b++) {
        const h = histories[b];
        const t = q.times[b];
        const want = naiveRow(d, fit, b, h, {
          time: t,
          exampleAge: 0,
          tagLimit: (x) => x < t,
          numPrev: h.length,
          sinceFirst: h.length > 0 ? t - h[0].time : 0,
          sinceLast: h.length > 0 ? t - h[h.length - 1].time : 0,
        });
        expectSameRow(readRow(fit, batch, b), want, `query ${b}`);
        expect(batch.dense[b * batch.denseWidth]).toBe(0);
        expect(batch.labels[b]).toBe(-1);
      }
    }
  });

  it("rebuild from JSON and featurize identically", () => {
    const d = randomDataset(9);
    const f = buildCandidateFeatures(d, {
      search: { minCount: 1 },
      examples: { perUserCap: 5, selection: "uniform" },
    });
    const g: CandidateFeatures = candidateFeaturesFromJSON(JSON.parse(JSON.stringify(f.toJSON())), d);
    expect(g.schema).toEqual(f.schema);
    expect(g.config).toEqual(f.config);
    const { q } = queriesOf(d, 10);
    const a = f.allocBatch(q.users.length);
    const b = g.allocBatch(q.users.length);
    f.fillQueryBatch(q, 0, q.users.length, a);
    g.fillQueryBatch(q, 0, q.users.length, b);
    expect(b.dense).toEqual(a.dense);
    for (const name of Object.keys(a.bags)) {
      expect(b.bags[name].offsets).toEqual(a.bags[name].offsets);
      expect(b.bags[name].indices).toEqual(a.bags[name].indices);
    }
    expect(b.categorical).toEqual(a.categorical);
    expect(Array.from(g.examples(2).pos)).toEqual(Array.from(f.examples(2).pos));
    const other = makeDataset({ numUsers: 1, numItems: 2, events: [[0, 1, 5]] });
    expect(() => candidateFeaturesFromJSON(f.toJSON(), other)).toThrow(/dictionaries must match/);
  });

  it("fit the token vocabulary only on tags up to each user's last training event", () => {
    const d = makeDataset({
      numUsers: 1,
      numItems: 3,
      events: [
        [0, 0, 10],
        [0, 1, 20],
        [0, 2, 30],
      ],
      tags: [
        [0, 0, 15, "early"],
        [0, 1, 99, "future"],
      ],
    });
    const f = buildCandidateFeatures(d, { search: { minCount: 1 } });
    expect(f.toJSON().vocabularies.token?.values).toEqual(["early"]);
  });

  it("embed ml-1m style age codes as a bucket, and give unknown users empty side inputs", () => {
    const d = makeDataset({
      numUsers: 3,
      numItems: 2,
      events: [
        [0, 0, 10],
        [1, 1, 20],
        [2, 0, 30],
      ],
      userInfo: {
        gender: Uint8Array.of(1, 2, 0),
        age: Int16Array.of(18, 56, 18),
        ageKind: "code",
        occupation: null,
        occupationNames: null,
        zip: null,
      },
    });
    const f = buildCandidateFeatures(d, { examples: { minHistory: 0 } });
    const fit = naiveFit(d, f.config);
    const names = f.schema.features.map((x) => x.name);
    expect(names).toContain("ageBucket");
    expect(names).not.toContain("age");
    expect(f.config.autoOff["demographics.zip"]).toBeDefined();
    expect(f.schema.tables.find((t) => t.name === "ageBucket")?.rows).toBe(3);
    const q: QueryBatch = {
      users: Int32Array.of(0, 1, -1),
      times: Float64Array.of(50, 50, 50),
      historyOffsets: Int32Array.of(0, 1, 1, 2),
      historyItems: Int32Array.of(1, 0),
      historyTimes: Float64Array.of(40, 45),
    };
    const batch = f.allocBatch(3);
    f.fillQueryBatch(q, 0, 3, batch);
    expect(Array.from(batch.categorical.ageBucket)).toEqual([1, 2, 0]); // "18" is the most frequent code
    expect(Array.from(batch.categorical.gender)).toEqual([1, 2, 0]);
    expect(readRow(fit, batch, 2).watches).toEqual([1]);
  });
});
