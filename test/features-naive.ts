/**
 * An object-based, obviously-correct construction of candidate inputs, and a reader that turns a
 * packed CandidateBatch row back into the same shape, so tests can compare the two. The oracle
 * fits its own state from the training data (`naiveFit`: genre, token, occupation and zip
 * vocabularies, the quantile knots of the user-continuous features, the training time range)
 * from the documented rules, so a fitting bug cannot hide behind being reused by its own check.
 */
import type { Dataset } from "../src/data/dataset.js";
import type { CandidateBatch } from "../src/features/batch.js";
import type { CandidateFeatures } from "../src/features/candidate-features.js";
import { QuantileNormalizer } from "../src/features/quantile.js";
import { tagTokens } from "../src/features/tokenize.js";

/** The resolved feature config (what `buildCandidateFeatures(...).config` holds). */
type Config = CandidateFeatures["config"];

/** Everything the oracle fits on the training data, each by the rule the docs state. */
export interface NaiveFit {
  readonly config: Config;
  /** Earliest and latest training event times (example age is (max − t) / (max − min)). */
  readonly minTime: number;
  readonly maxTime: number;
  /** Genre names by row (row = index + 1), counted over catalog items. */
  readonly genres: string[];
  readonly tokens: string[];
  readonly occupations: string[];
  readonly zips: string[];
  /** Quantile knots of (#previous watches, time since first, time since last) over training positions. */
  readonly knots: { numPrev: number[]; sinceFirst: number[]; sinceLast: number[] } | null;
}

/**
 * Keeps the values counted at least `minCount` times, most frequent first, ties by value (code
 * unit order), at most `maxSize` of them; value i gets row i + 1 (row 0 = out of vocabulary).
 */
function naiveVocabulary(counts: Map<string, number>, maxSize = Infinity, minCount = 1): string[] {
  return [...counts.entries()]
    .filter(([, c]) => c >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, maxSize)
    .map(([v]) => v);
}

function count(values: Iterable<string>): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

/** Row of `value` in a naive vocabulary (0 when absent). */
function rowOf(vocab: string[], value: string): number {
  return vocab.indexOf(value) + 1;
}

/** Knot k = the order statistic at fraction k / q of the sorted values, linearly interpolated. */
function naiveKnots(values: number[], q: number): number[] {
  if (values.length === 0) return [0, 0];
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  return Array.from({ length: q + 1 }, (_, k) => {
    const r = (k * (n - 1)) / q;
    const lo = Math.floor(r);
    const hi = Math.min(lo + 1, n - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (r - lo);
  });
}

/** The zip prefix rule: trimmed, upper-cased, first `length` characters. */
function zipPrefix(zip: string, length: number): string {
  return zip.trim().toUpperCase().slice(0, length);
}

/** Fits the oracle's state on the training data `train` under the resolved `config`. */
export function naiveFit(train: Dataset, config: Config): NaiveFit {
  const times = Array.from(train.events.time);
  const minTime = times.length > 0 ? Math.min(...times) : 0;
  const maxTime = times.length > 0 ? Math.max(...times) : 0;
  const info = train.itemInfo;
  const genres = naiveVocabulary(count(Array.from(info.genreIds, (g) => info.genreNames[g])));

  let tokens: string[] = [];
  if (config.search.enabled && train.tags !== null) {
    // Tag applications no later than the user's last training event, each counted once per token.
    const tags = train.tags;
    const applied: string[] = [];
    for (let i = 0; i < tags.user.length; i++) {
      const u = tags.user[i];
      const last = Math.max(...naiveSequence(train, u).map((e) => e.time));
      if (tags.time[i] <= last) applied.push(...tagTokens(tags.texts[tags.textIndex[i]]));
    }
    tokens = naiveVocabulary(count(applied), config.search.vocabSize, config.search.minCount);
  }

  const ui = train.userInfo;
  const occupationNames = ui?.occupationNames;
  const occupations =
    ui?.occupation && occupationNames
      ? naiveVocabulary(
          count(
            Array.from(ui.occupation)
              .filter((o) => o >= 0)
              .map((o) => occupationNames[o]),
          ),
        )
      : [];
  const zips = ui?.zip
    ? naiveVocabulary(
        count(ui.zip.map((z) => zipPrefix(z, config.demographics.zipPrefix)).filter((z) => z !== "")),
      )
    : [];

  let knots: NaiveFit["knots"] = null;
  if (config.userContinuous.enabled) {
    // The raw values at every position of every user's training sequence.
    const numPrev: number[] = [];
    const sinceFirst: number[] = [];
    const sinceLast: number[] = [];
    for (let u = 0; u < train.users.ids.length; u++) {
      const seq = naiveSequence(train, u);
      seq.forEach((e, k) => {
        numPrev.push(k);
        sinceFirst.push(e.time - seq[0].time);
        sinceLast.push(k > 0 ? e.time - seq[k - 1].time : 0);
      });
    }
    const q = config.userContinuous.numQuantiles;
    knots = {
      numPrev: naiveKnots(numPrev, q),
      sinceFirst: naiveKnots(sinceFirst, q),
      sinceLast: naiveKnots(sinceLast, q),
    };
  }
  return { config, minTime, maxTime, genres, tokens, occupations, zips, knots };
}

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
  fit: NaiveFit,
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
  const cfg = fit.config;
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
    const apps: Array<{ time: number; file: number; text: string }> = [];
    for (let i = 0; i < d.tags.user.length; i++) {
      if (d.tags.user[i] === u && context.tagLimit(d.tags.time[i])) {
        apps.push({ time: d.tags.time[i], file: i, text: d.tags.texts[d.tags.textIndex[i]] });
      }
    }
    apps.sort((a, b) => a.time - b.time || a.file - b.file);
    const toks = apps.flatMap((a) => tagTokens(a.text)).map((t) => rowOf(fit.tokens, t));
    row.tokens = toks.slice(Math.max(0, toks.length - cfg.search.maxTokens));
  }
  const ui = d.userInfo;
  if (cfg.demographics.gender && ui?.gender) row.categorical.gender = ui.gender[u];
  if (cfg.demographics.occupation && ui?.occupation && ui.occupationNames) {
    row.categorical.occupation =
      ui.occupation[u] < 0 ? 0 : rowOf(fit.occupations, ui.occupationNames[ui.occupation[u]]);
  }
  if (cfg.demographics.zip && ui?.zip) {
    row.categorical.zip = rowOf(fit.zips, zipPrefix(ui.zip[u], cfg.demographics.zipPrefix));
  }
  if (cfg.exampleAge.enabled) row.dense.push(Math.fround(context.exampleAge));
  if (cfg.demographics.age && ui?.age && ui.ageKind === "years") {
    const known = Array.from(ui.age).filter((a) => a > 0);
    const min = Math.min(...known);
    const max = Math.max(...known);
    row.dense.push(Math.fround(ui.age[u] > 0 ? (ui.age[u] - min) / (max - min) : 0));
  }
  if (fit.knots !== null) {
    const k = fit.knots;
    for (const [knots, x] of [
      [k.numPrev, context.numPrev],
      [k.sinceFirst, context.sinceFirst],
      [k.sinceLast, context.sinceLast],
    ] as const) {
      const t = new QuantileNormalizer(knots).transform(x);
      row.dense.push(Math.fround(t), Math.fround(t * t), Math.fround(Math.sqrt(t)));
    }
  }
  return row;
}

/** Reads row b of a packed batch back into the naive shape. */
export function readRow(fit: NaiveFit, batch: CandidateBatch, b: number): Row {
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
    const names = fit.genres;
    for (let k = gb.offsets[b]; k < gb.offsets[b + 1]; k++) {
      const name = names[gb.indices[k] - 1];
      row.genres[name] = (row.genres[name] ?? 0) + gb.weights![k];
    }
  }
  for (const [name, arr] of Object.entries(batch.categorical)) row.categorical[name] = arr[b];
  return row;
}
