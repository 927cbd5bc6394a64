/**
 * An object-based, obviously-correct construction of candidate inputs, and a reader that turns a
 * packed CandidateBatch row back into the same shape, so tests can compare the two.
 */
import type { Dataset } from "../src/data/dataset.js";
import type { CandidateBatch } from "../src/features/batch.js";
import type { CandidateFeatures } from "../src/features/candidate-features.js";
import { QuantileNormalizer } from "../src/features/quantile.js";
import { tagTokens } from "../src/features/tokenize.js";
import { Vocabulary } from "../src/features/vocabulary.js";

export interface Row {
  watches: number[];
  /** Recent-watch bag name -> its ids (the last R watches). */
  recent: Record<string, number[]>;
  /** Genre name -> total weight in the watch slot. */
  genres: Record<string, number>;
  years: number[];
  tokens: number[];
  categorical: Record<string, number>;
  dense: number[];
}

export interface Ev {
  item: number;
  time: number;
  file: number;
}

/** User u's events sorted by time, ties in file order. */
export function naiveSequence(d: Dataset, u: number): Ev[] {
  const out: Ev[] = [];
  for (let i = 0; i < d.events.user.length; i++) {
    if (d.events.user[i] === u) out.push({ item: d.events.item[i], time: d.events.time[i], file: i });
  }
  return out.sort((a, b) => a.time - b.time || a.file - b.file);
}

/** Inputs built from a list of history items, a context time and the user's tags before `tagLimit`. */
export function naiveRow(
  d: Dataset,
  f: CandidateFeatures,
  u: number,
  history: Array<{ item: number; time: number }>,
  context: {
    time: number;
    exampleAge: number;
    tagLimit: (t: number) => boolean;
    numPrev: number;
    sinceFirst: number;
    sinceLast: number;
  },
): Row {
  const cfg = f.config;
  const json = f.toJSON();
  const recent = history.slice(Math.max(0, history.length - cfg.watches.maxLen));
  const watches = recent.map((e) => e.item + 1);
  const recentBags: Record<string, number[]> = {};
  if (cfg.recentWatches.enabled)
    for (const r of cfg.recentWatches.counts) recentBags[`recentWatches${r}`] = watches.slice(-r);
  const row: Row = {
    watches,
    recent: recentBags,
    genres: {},
    years: [],
    tokens: [],
    categorical: {},
    dense: [],
  };
  if (cfg.itemSideInfo.genres) {
    for (const e of recent) {
      const a = d.itemInfo.genreOffsets[e.item];
      const b = d.itemInfo.genreOffsets[e.item + 1];
      for (let k = a; k < b; k++) {
        const name = d.itemInfo.genreNames[d.itemInfo.genreIds[k]];
        row.genres[name] = (row.genres[name] ?? 0) + 1 / recent.length / (b - a);
      }
    }
  }
  if (cfg.itemSideInfo.year) {
    const known = Array.from(d.itemInfo.year).filter((y) => y > 0);
    const min = Math.min(...known);
    row.years = recent.map((e) => {
      const y = d.itemInfo.year[e.item];
      return y > 0 ? Math.floor((y - min) / cfg.itemSideInfo.yearBucketSize) + 1 : 0;
    });
  }
  if (cfg.search.enabled && d.tags !== null) {
    const vocab = Vocabulary.fromJSON(json.vocabularies.token!);
    const apps: Array<{ time: number; file: number; text: string }> = [];
    for (let i = 0; i < d.tags.user.length; i++) {
      if (d.tags.user[i] === u && context.tagLimit(d.tags.time[i])) {
        apps.push({ time: d.tags.time[i], file: i, text: d.tags.texts[d.tags.textIndex[i]] });
      }
    }
    apps.sort((a, b) => a.time - b.time || a.file - b.file);
    const toks = apps.flatMap((a) => tagTokens(a.text)).map((t) => vocab.lookup(t));
    row.tokens = toks.slice(Math.max(0, toks.length - cfg.search.maxTokens));
  }
  const ui = d.userInfo;
  if (cfg.demographics.gender && ui?.gender) row.categorical.gender = ui.gender[u];
  if (cfg.demographics.occupation && ui?.occupation && ui.occupationNames) {
    const v = Vocabulary.fromJSON(json.vocabularies.occupation!);
    row.categorical.occupation = ui.occupation[u] < 0 ? 0 : v.lookup(ui.occupationNames[ui.occupation[u]]);
  }
  if (cfg.demographics.zip && ui?.zip) {
    const v = Vocabulary.fromJSON(json.vocabularies.zip!);
    row.categorical.zip = v.lookup(ui.zip[u].slice(0, cfg.demographics.zipPrefix));
  }
  if (cfg.exampleAge.enabled) row.dense.push(Math.fround(context.exampleAge));
  if (cfg.demographics.age && ui?.age && ui.ageKind === "years") {
    const known = Array.from(ui.age).filter((a) => a > 0);
    const min = Math.min(...known);
    const max = Math.max(...known);
    row.dense.push(Math.fround(ui.age[u] > 0 ? (ui.age[u] - min) / (max - min) : 0));
  }
  if (cfg.userContinuous.enabled) {
    const n = json.normalizers!;
    for (const [norm, x] of [
      [n.numPrev, context.numPrev],
      [n.sinceFirst, context.sinceFirst],
      [n.sinceLast, context.sinceLast],
    ] as const) {
      const t = QuantileNormalizer.fromJSON(norm).transform(x);
      row.dense.push(Math.fround(t), Math.fround(t * t), Math.fround(Math.sqrt(t)));
    }
  }
  return row;
}

/** Reads row b of a packed batch back into the naive shape. */
export function readRow(f: CandidateFeatures, batch: CandidateBatch, b: number): Row {
  const slice = (name: string): number[] => {
    const bag = batch.bags[name];
    return bag === undefined ? [] : Array.from(bag.indices.subarray(bag.offsets[b], bag.offsets[b + 1]));
  };
  const recentBags: Record<string, number[]> = {};
  for (const name of Object.keys(batch.bags))
    if (name.startsWith("recentWatches")) recentBags[name] = slice(name);
  const row: Row = {
    watches: slice("watches"),
    recent: recentBags,
    genres: {},
    years: slice("watchYears"),
    tokens: slice("searchTokens"),
    categorical: {},
    dense: Array.from(batch.dense.subarray(b * batch.denseWidth, (b + 1) * batch.denseWidth)),
  };
  const gb = batch.bags.watchGenres;
  if (gb !== undefined) {
    const names = f.toJSON().vocabularies.genre!.values;
    for (let k = gb.offsets[b]; k < gb.offsets[b + 1]; k++) {
      const name = names[gb.indices[k] - 1];
      row.genres[name] = (row.genres[name] ?? 0) + gb.weights![k];
    }
  }
  for (const [name, arr] of Object.entries(batch.categorical)) row.categorical[name] = arr[b];
  return row;
}
