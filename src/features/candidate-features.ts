/**
 * The candidate generator's features: fitted on the training split only (vocabularies, quantile
 * normalizers, time range), they declare the network's inputs (a FeatureSchema) and fill packed
 * CandidateBatches, both for training examples (rollback next-watch, capped per user) and for
 * evaluation / serving queries. See candidate-config.ts for the groups and their switches.
 *
 * Equal timestamps: each user's training events are sorted by time, ties in file order (stable),
 * exactly as the evaluation protocol orders a history. A rollback example with its label at
 * position p of that sequence takes positions 0..p-1 as its input, so an event with the same
 * timestamp as the label but earlier in the file is an input — as it is in an evaluation query's
 * history. Tags (search tokens) count only when applied strictly before the label time.
 */
import type { Dataset } from "../data/dataset.js";
import type { QueryBatch } from "../eval/types.js";
import type { BagInput, CandidateBatch } from "./batch.js";
import {
  categoricalDim,
  mergeCandidateConfig,
  resolveCandidateConfig,
  type CandidateFeatureConfigInput,
  type ResolvedCandidateConfig,
} from "./candidate-config.js";
import { selectExamples, type ExampleSet } from "./candidate-examples.js";
import {
  fitDemographics,
  fitGenreVocabulary,
  fitTokenVocabulary,
  fitYearBuckets,
  itemGenreRows,
  itemYearRows,
  userDemographics,
  userTokens,
  type DemographicFit,
  type ItemGenreRows,
  type UserDemographics,
  type UserTokens,
  type YearBuckets,
} from "./candidate-side-info.js";
import { QuantileNormalizer, type QuantileNormalizerJSON } from "./quantile.js";
import type { FeatureSchema, FeatureSpec, TableSpec } from "./schema.js";
import { buildUserSequences, countAtOrBefore, countBefore } from "./user-sequences.js";
import { Vocabulary, type VocabularyJSON } from "./vocabulary.js";

export type { ExampleSet } from "./candidate-examples.js";

/** Feature and table names the schema uses (the network reads them from the schema, not from here). */
export const CANDIDATE_FEATURES = {
  /** Bag of watched item ids (table "item", row = item + 1), slot "watch", plain mean. */
  watches: "watches",
  /** Prefix of the recent-watch bags: "recentWatches3" = the 3 most recent watched ids (table "item"), own slot, plain mean. */
  recentWatches: "recentWatches",
  /** Bag of the watched items' genres (table "genre"), slot "watch": weights give the mean over items of each item's mean genre. */
  watchGenres: "watchGenres",
  /** Bag of the watched items' release-year buckets (table "year"), slot "watch", plain mean (unknown year = row 0). */
  watchYears: "watchYears",
  /** Bag of search tokens (table "token"), plain mean (out of vocabulary = row 0). */
  searchTokens: "searchTokens",
  gender: "gender",
  /** Age code bucket (ml-1m style age codes). */
  ageBucket: "ageBucket",
  occupation: "occupation",
  zip: "zip",
  /** Dense, width 1. */
  exampleAge: "exampleAge",
  /** Dense, width 1: age in years, min-max normalized to [0, 1] (ml-100k style ages; unknown = 0). */
  age: "age",
  /** Dense, width 9: (x̃, x̃², √x̃) of number of previous watches, time since first, time since last watch. */
  userContinuous: "userContinuous",
} as const;

/** The slot where an item's id, genre and year embeddings are summed. */
export const WATCH_SLOT = "watch";
/** Name of the watched-item id table (rows = numItems + 1; row i + 1 = dataset item i; row 0 = out of vocabulary). */
export const ITEM_TABLE = "item";

/** Width of the userContinuous dense block: 3 features × (x̃, x̃², √x̃). */
const USER_CONTINUOUS_WIDTH = 9;
/** The continuous-feature normalizers are fitted on at most this many (strided) positions. */
const MAX_NORMALIZER_SAMPLE = 1_000_000;

/** The plain-JSON form of fitted features (stored in a model manifest). */
export interface CandidateFeaturesJSON {
  readonly version: 1;
  readonly config: ResolvedCandidateConfig;
  readonly numItems: number;
  readonly numUsers: number;
  readonly minTrainTime: number;
  readonly maxTrainTime: number;
  readonly vocabularies: {
    readonly genre: VocabularyJSON | null;
    readonly token: VocabularyJSON | null;
    readonly ageCode: VocabularyJSON | null;
    readonly occupation: VocabularyJSON | null;
    readonly zip: VocabularyJSON | null;
  };
  readonly years: YearBuckets | null;
  readonly ageYears: { readonly min: number; readonly max: number } | null;
  readonly normalizers: {
    readonly numPrev: QuantileNormalizerJSON;
    readonly sinceFirst: QuantileNormalizerJSON;
    readonly sinceLast: QuantileNormalizerJSON;
  } | null;
}

export interface CandidateFeatures {
  readonly config: ResolvedCandidateConfig;
  readonly schema: FeatureSchema;
  readonly numItems: number;
  readonly numUsers: number;
  /** Each user's training events sorted by time (stable): user u's are seqItems[seqOffsets[u] .. seqOffsets[u+1]). */
  readonly seqOffsets: Int32Array;
  readonly seqItems: Int32Array;
  readonly seqTimes: Float64Array;
  readonly minTrainTime: number;
  readonly maxTrainTime: number;

  /**
   * The training examples. `epoch` re-seeds random choices (uniform selection, heldout labels) so
   * each epoch may see a different sample; the same (config seed, epoch) always gives the same set.
   */
  examples(epoch?: number): ExampleSet;
  /** A batch with room for maxSize examples; fill it with fillTrainBatch / fillQueryBatch. */
  allocBatch(maxSize: number): CandidateBatch;
  /**
   * Fills `batch` with examples order[start..end) of `set` (end − start ≤ the batch's capacity) and
   * returns the batch size. Bag offsets beyond `size` repeat the last offset (empty bags), and dense
   * rows beyond `size` are zero, so a consumer may process the full capacity or only `size` rows.
   */
  fillTrainBatch(
    set: ExampleSet,
    order: Int32Array,
    start: number,
    end: number,
    batch: CandidateBatch,
  ): number;
  /**
   * Fills `batch` with queries start..end of `queries` for evaluation / serving: watches = the ≤ maxLen
   * most recent history items, tags applied strictly before the query time, example age 0,
   * continuous user features relative to the query time. Labels are −1.
   */
  fillQueryBatch(queries: QueryBatch, start: number, end: number, batch: CandidateBatch): number;
  toJSON(): CandidateFeaturesJSON;
}

/** Everything fitted on the training split; the rest is derived from a dataset with the same dictionaries. */
interface Fitted {
  readonly config: ResolvedCandidateConfig;
  readonly numItems: number;
  readonly numUsers: number;
  readonly minTrainTime: number;
  readonly maxTrainTime: number;
  readonly genreVocab: Vocabulary | null;
  readonly tokenVocab: Vocabulary | null;
  readonly years: YearBuckets | null;
  readonly demographics: DemographicFit;
  readonly numPrev: QuantileNormalizer | null;
  readonly sinceFirst: QuantileNormalizer | null;
  readonly sinceLast: QuantileNormalizer | null;
}

/** Fits features on the training split `train` (its events only; side info is shared with the full dataset). */
export function buildCandidateFeatures(
  train: Dataset,
  config: CandidateFeatureConfigInput = {},
): CandidateFeatures {
  const cfg = resolveCandidateConfig(train, config);
  const numItems = train.items.ids.length;
  const numUsers = train.users.ids.length;
  const ev = train.events;
  const seq = buildUserSequences(ev.user, ev.time, numUsers);
  const seqItems = Int32Array.from(seq.eventIndex, (i) => ev.item[i]);

  let minTrainTime = Infinity;
  let maxTrainTime = -Infinity;
  for (const t of ev.time) {
    if (t < minTrainTime) minTrainTime = t;
    if (t > maxTrainTime) maxTrainTime = t;
  }
  if (ev.time.length === 0) minTrainTime = maxTrainTime = 0;

  const genreVocab = cfg.itemSideInfo.genres ? fitGenreVocabulary(train) : null;
  const years = cfg.itemSideInfo.year ? fitYearBuckets(train, cfg.itemSideInfo.yearBucketSize) : null;

  let tokenVocab: Vocabulary | null = null;
  if (cfg.search.enabled && train.tags !== null) {
    const lastTrainTime = new Float64Array(numUsers).fill(-Infinity);
    for (let u = 0; u < numUsers; u++) {
      if (seq.offsets[u + 1] > seq.offsets[u]) lastTrainTime[u] = seq.times[seq.offsets[u + 1] - 1];
    }
    tokenVocab = fitTokenVocabulary(train.tags, lastTrainTime, {
      maxSize: cfg.search.vocabSize,
      minCount: cfg.search.minCount,
    });
  }

  const d = cfg.demographics;
  const demographics: DemographicFit =
    d.enabled && train.userInfo !== null
      ? fitDemographics(train.userInfo, d)
      : { ageCode: null, occupation: null, zip: null, ageYears: null };

  let numPrev: QuantileNormalizer | null = null;
  let sinceFirst: QuantileNormalizer | null = null;
  let sinceLast: QuantileNormalizer | null = null;
  if (cfg.userContinuous.enabled) {
    // The raw values at every position of every training sequence (as a rollback label would see them).
    const stride = Math.max(1, Math.ceil(seq.times.length / MAX_NORMALIZER_SAMPLE));
    const cap = Math.ceil(seq.times.length / stride);
    const a = new Float64Array(cap);
    const b = new Float64Array(cap);
    const c = new Float64Array(cap);
    let n = 0;
    for (let u = 0; u < numUsers; u++) {
      const lo = seq.offsets[u];
      for (let k = lo; k < seq.offsets[u + 1]; k++) {
        if (k % stride !== 0 || n >= cap) continue;
        a[n] = k - lo;
        b[n] = seq.times[k] - seq.times[lo];
        c[n] = k > lo ? seq.times[k] - seq.times[k - 1] : 0;
        n++;
      }
    }
    const q = cfg.userContinuous.numQuantiles;
    numPrev = QuantileNormalizer.fit(a, q, n);
    sinceFirst = QuantileNormalizer.fit(b, q, n);
    sinceLast = QuantileNormalizer.fit(c, q, n);
  }

  const fitted: Fitted = {
    config: cfg,
    numItems,
    numUsers,
    minTrainTime,
    maxTrainTime,
    genreVocab,
    tokenVocab,
    years,
    demographics,
    numPrev,
    sinceFirst,
    sinceLast,
  };
  return new CandidateFeatureSet(fitted, train, seq.offsets, seqItems, seq.times);
}

/**
 * Rebuilds fitted features for serving from their JSON and a dataset with the same dictionaries
 * (same items and users, in the same order): vocabularies, normalizers and time range come from the
 * JSON; side information (genres, years, demographics, tags) and the users' event sequences from
 * `data`.
 */
export function candidateFeaturesFromJSON(json: CandidateFeaturesJSON, data: Dataset): CandidateFeatures {
  if (json?.version !== 1)
    throw new TypeError(`candidate features JSON: unsupported version ${String(json?.version)}`);
  if (data.items.ids.length !== json.numItems || data.users.ids.length !== json.numUsers) {
    throw new RangeError(
      `candidate features JSON: fitted for ${json.numItems} items / ${json.numUsers} users, but ${data.name} has ` +
        `${data.items.ids.length} items / ${data.users.ids.length} users (the dictionaries must match)`,
    );
  }
  const { autoOff, ...rest } = json.config;
  const config: ResolvedCandidateConfig = { ...mergeCandidateConfig(rest), autoOff: { ...autoOff } };
  const v = json.vocabularies;
  const vocab = (j: VocabularyJSON | null): Vocabulary | null => (j === null ? null : Vocabulary.fromJSON(j));
  const n = json.normalizers;
  const fitted: Fitted = {
    config,
    numItems: json.numItems,
    numUsers: json.numUsers,
    minTrainTime: json.minTrainTime,
    maxTrainTime: json.maxTrainTime,
    genreVocab: vocab(v.genre),
    tokenVocab: vocab(v.token),
    years: json.years,
    demographics: {
      ageCode: vocab(v.ageCode),
      occupation: vocab(v.occupation),
      zip: vocab(v.zip),
      ageYears: json.ageYears,
    },
    numPrev: n === null ? null : QuantileNormalizer.fromJSON(n.numPrev),
    sinceFirst: n === null ? null : QuantileNormalizer.fromJSON(n.sinceFirst),
    sinceLast: n === null ? null : QuantileNormalizer.fromJSON(n.sinceLast),
  };
  const seq = buildUserSequences(data.events.user, data.events.time, fitted.numUsers);
  const seqItems = Int32Array.from(seq.eventIndex, (i) => data.events.item[i]);
  return new CandidateFeatureSet(fitted, data, seq.offsets, seqItems, seq.times);
}

function emptyBag(maxSize: number, indexCapacity: number, weighted: boolean): BagInput {
  return {
    offsets: new Int32Array(maxSize + 1),
    indices: new Int32Array(Math.max(indexCapacity, 1)),
    weights: weighted ? new Float32Array(Math.max(indexCapacity, 1)) : null,
  };
}

/** Makes room for `need` indices in a bag, growing its buffers geometrically (keeps the filled prefix). */
function ensureBag(bag: BagInput, need: number): void {
  if (need <= bag.indices.length) return;
  const cap = Math.max(need, bag.indices.length * 2);
  const indices = new Int32Array(cap);
  indices.set(bag.indices);
  bag.indices = indices;
  if (bag.weights !== null) {
    const weights = new Float32Array(cap);
    weights.set(bag.weights);
    bag.weights = weights;
  }
}

/** Ends a batch of `size` rows: bag offsets past `size` repeat the end (empty bags). */
function closeBags(batch: CandidateBatch, size: number): void {
  for (const bag of Object.values(batch.bags)) {
    const end = bag.offsets[size];
    bag.offsets.fill(end, size + 1);
  }
}

class CandidateFeatureSet implements CandidateFeatures {
  readonly config: ResolvedCandidateConfig;
  readonly schema: FeatureSchema;
  readonly numItems: number;
  readonly numUsers: number;
  readonly minTrainTime: number;
  readonly maxTrainTime: number;

  private readonly fitted: Fitted;
  private readonly genres: ItemGenreRows | null;
  private readonly yearRow: Int32Array | null;
  private readonly tokens: UserTokens | null;
  private readonly users: UserDemographics;
  private readonly maxLen: number;
  private readonly maxTokens: number;
  /** The recent-watch bags' counts R and feature names, in schema order. */
  private readonly recentCounts: readonly number[];
  private readonly recentNames: readonly string[];
  private readonly exampleAgeCol: number;
  private readonly ageCol: number;
  private readonly continuousCol: number;

  constructor(
    fitted: Fitted,
    data: Dataset,
    readonly seqOffsets: Int32Array,
    readonly seqItems: Int32Array,
    readonly seqTimes: Float64Array,
  ) {
    this.fitted = fitted;
    const cfg = fitted.config;
    this.config = cfg;
    this.numItems = fitted.numItems;
    this.numUsers = fitted.numUsers;
    this.minTrainTime = fitted.minTrainTime;
    this.maxTrainTime = fitted.maxTrainTime;
    this.maxLen = cfg.watches.maxLen;
    this.maxTokens = cfg.search.maxTokens;
    this.recentCounts = cfg.recentWatches.enabled ? [...cfg.recentWatches.counts] : [];
    this.recentNames = this.recentCounts.map((r) => `${CANDIDATE_FEATURES.recentWatches}${r}`);

    this.genres = fitted.genreVocab !== null ? itemGenreRows(data, fitted.genreVocab, this.numItems) : null;
    this.yearRow = fitted.years !== null ? itemYearRows(data, fitted.years, this.numItems) : null;
    // The schema depends only on what was fitted; a dataset lacking some side file feeds zeros.
    const nu = this.numUsers;
    this.tokens =
      fitted.tokenVocab === null
        ? null
        : data.tags !== null
          ? userTokens(data.tags, fitted.tokenVocab, nu)
          : { offsets: new Int32Array(nu + 1), rows: new Int32Array(0), times: new Float64Array(0) };
    const us = userDemographics(data.userInfo, fitted.demographics, cfg.demographics, nu);
    const dm = fitted.demographics;
    const orZeros = (on: boolean, a: Int32Array | null): Int32Array | null =>
      on ? (a ?? new Int32Array(nu)) : null;
    this.users = {
      gender: orZeros(cfg.demographics.gender, us.gender),
      ageCode: orZeros(dm.ageCode !== null, us.ageCode),
      ageYears: dm.ageYears !== null ? (us.ageYears ?? new Float32Array(nu)) : null,
      occupation: orZeros(dm.occupation !== null, us.occupation),
      zip: orZeros(dm.zip !== null, us.zip),
    };

    const dims = cfg.embeddingDim;
    const tables: TableSpec[] = [];
    const features: FeatureSpec[] = [];
    const F = CANDIDATE_FEATURES;
    tables.push({ name: ITEM_TABLE, rows: this.numItems + 1, dim: dims.item });
    features.push({ kind: "bag", name: F.watches, table: ITEM_TABLE, slot: WATCH_SLOT });
    if (fitted.genreVocab !== null) {
      tables.push({ name: "genre", rows: fitted.genreVocab.rows, dim: dims.item });
      features.push({ kind: "bag", name: F.watchGenres, table: "genre", slot: WATCH_SLOT });
    }
    if (fitted.years !== null) {
      tables.push({ name: "year", rows: fitted.years.rows, dim: dims.item });
      features.push({ kind: "bag", name: F.watchYears, table: "year", slot: WATCH_SLOT });
    }
    if (fitted.tokenVocab !== null) {
      tables.push({ name: "token", rows: fitted.tokenVocab.rows, dim: dims.token });
      features.push({ kind: "bag", name: F.searchTokens, table: "token" });
    }
    const categorical = (name: string, rows: number): void => {
      tables.push({ name, rows, dim: categoricalDim(rows, dims) });
      features.push({ kind: "categorical", name, table: name });
    };
    if (this.users.gender !== null) categorical(F.gender, 3);
    if (this.users.ageCode !== null && dm.ageCode !== null) categorical(F.ageBucket, dm.ageCode.rows);
    if (this.users.occupation !== null && dm.occupation !== null)
      categorical(F.occupation, dm.occupation.rows);
    if (this.users.zip !== null && dm.zip !== null) categorical(F.zip, dm.zip.rows);
    for (const name of this.recentNames) features.push({ kind: "bag", name, table: ITEM_TABLE });

    let dense = 0;
    const continuous = (name: string, width: number): number => {
      features.push({ kind: "continuous", name, offset: dense, width });
      dense += width;
      return dense - width;
    };
    this.exampleAgeCol = cfg.exampleAge.enabled ? continuous(F.exampleAge, 1) : -1;
    this.ageCol = this.users.ageYears !== null ? continuous(F.age, 1) : -1;
    this.continuousCol = fitted.numPrev !== null ? continuous(F.userContinuous, USER_CONTINUOUS_WIDTH) : -1;
    this.schema = { tables, features, denseWidth: dense };
  }

  examples(epoch = 0): ExampleSet {
    return selectExamples(this.seqOffsets, this.seqItems, this.seqTimes, this.config.examples, epoch);
  }

  allocBatch(maxSize: number): CandidateBatch {
    if (!Number.isInteger(maxSize) || maxSize < 1)
      throw new RangeError(`allocBatch: maxSize must be a positive integer, got ${maxSize}`);
    const F = CANDIDATE_FEATURES;
    const bags: Record<string, BagInput> = {};
    bags[F.watches] = emptyBag(maxSize, maxSize * this.maxLen, false);
    if (this.genres !== null)
      bags[F.watchGenres] = emptyBag(maxSize, maxSize * this.maxLen * this.genres.maxPerItem, true);
    if (this.yearRow !== null) bags[F.watchYears] = emptyBag(maxSize, maxSize * this.maxLen, false);
    if (this.tokens !== null) bags[F.searchTokens] = emptyBag(maxSize, maxSize * this.maxTokens, false);
    this.recentNames.forEach((name, j) => {
      bags[name] = emptyBag(maxSize, maxSize * Math.min(this.recentCounts[j], this.maxLen), false);
    });
    const categorical: Record<string, Int32Array> = {};
    for (const f of this.schema.features)
      if (f.kind === "categorical") categorical[f.name] = new Int32Array(maxSize);
    const denseWidth = this.schema.denseWidth;
    return {
      size: 0,
      labels: new Int32Array(maxSize),
      labelTimes: new Float64Array(maxSize),
      bags,
      categorical,
      dense: new Float32Array(maxSize * denseWidth),
      denseWidth,
    };
  }

  fillTrainBatch(
    set: ExampleSet,
    order: Int32Array,
    start: number,
    end: number,
    batch: CandidateBatch,
  ): number {
    const size = end - start;
    this.checkRange(size, batch, "fillTrainBatch");
    const heldout = set.mode === "heldout";
    const L = this.maxLen;
    const span = this.maxTrainTime - this.minTrainTime;
    this.beginBatch(batch);
    for (let b = 0; b < size; b++) {
      const e = order[start + b];
      if (!(e >= 0 && e < set.size))
        throw new RangeError(`fillTrainBatch: order[${start + b}] = ${e} is not an example index`);
      const u = set.user[e];
      const p = set.pos[e];
      const t = set.time[e];
      const base = this.seqOffsets[u];
      const n = this.seqOffsets[u + 1] - base;
      batch.labels[b] = set.label[e];
      batch.labelTimes[b] = t;
      // Input positions [lo, hi) of the user's sequence, minus `skip`.
      let lo: number;
      let hi: number;
      let skip = -1;
      if (!heldout) {
        hi = p;
        lo = Math.max(0, p - L);
      } else {
        hi = n;
        if (p >= n - L) {
          lo = Math.max(0, n - L - 1);
          skip = p;
        } else lo = n - L;
      }
      this.writeWatches(batch, b, this.seqItems, base + lo, base + hi, skip < 0 ? -1 : base + skip);
      this.writeCategorical(batch, b, u);
      const row = b * batch.denseWidth;
      if (this.exampleAgeCol >= 0)
        batch.dense[row + this.exampleAgeCol] =
          span > 0 ? Math.min(Math.max((this.maxTrainTime - t) / span, 0), 1) : 0;
      if (this.ageCol >= 0 && this.users.ageYears !== null)
        batch.dense[row + this.ageCol] = this.users.ageYears[u];
      if (!heldout) {
        // Rollback: everything is seen from the label time, with the p earlier events as history.
        this.writeTokens(batch, b, u, t, true);
        if (this.continuousCol >= 0) {
          const first = p > 0 ? t - this.seqTimes[base] : 0;
          const last = p > 0 ? t - this.seqTimes[base + p - 1] : 0;
          this.writeContinuous(batch, row, p, first, last);
        }
      } else {
        // Heldout: the whole training history is the context, seen from its last event.
        const ref = this.seqTimes[base + n - 1];
        this.writeTokens(batch, b, u, ref, false);
        if (this.continuousCol >= 0) {
          const lastOther = p === n - 1 ? (n > 1 ? this.seqTimes[base + n - 2] : ref) : ref;
          this.writeContinuous(batch, row, n - 1, n > 1 ? ref - this.seqTimes[base] : 0, ref - lastOther);
        }
      }
    }
    this.endBatch(batch, size);
    return size;
  }

  fillQueryBatch(queries: QueryBatch, start: number, end: number, batch: CandidateBatch): number {
    const size = end - start;
    this.checkRange(size, batch, "fillQueryBatch");
    if (start < 0 || end > queries.users.length) {
      throw new RangeError(
        `fillQueryBatch: range [${start}, ${end}) outside the ${queries.users.length} queries`,
      );
    }
    const L = this.maxLen;
    this.beginBatch(batch);
    for (let b = 0; b < size; b++) {
      const q = start + b;
      const u = queries.users[q];
      const t = queries.times[q];
      const hs = queries.historyOffsets[q];
      const he = queries.historyOffsets[q + 1];
      const n = he - hs;
      batch.labels[b] = -1;
      batch.labelTimes[b] = t;
      this.writeWatches(batch, b, queries.historyItems, Math.max(hs, he - L), he, -1);
      const known = u >= 0 && u < this.numUsers;
      if (known) {
        this.writeCategorical(batch, b, u);
        this.writeTokens(batch, b, u, t, true);
      } else {
        this.writeCategorical(batch, b, -1);
        this.writeTokens(batch, b, -1, t, true);
      }
      const row = b * batch.denseWidth;
      // Example age stays 0 (the dense row was zeroed): serving predicts "now".
      if (this.ageCol >= 0 && this.users.ageYears !== null && known)
        batch.dense[row + this.ageCol] = this.users.ageYears[u];
      if (this.continuousCol >= 0) {
        const h = queries.historyTimes;
        this.writeContinuous(batch, row, n, n > 0 ? t - h[hs] : 0, n > 0 ? t - h[he - 1] : 0);
      }
    }
    this.endBatch(batch, size);
    return size;
  }

  toJSON(): CandidateFeaturesJSON {
    const f = this.fitted;
    const vj = (v: Vocabulary | null): VocabularyJSON | null => (v === null ? null : v.toJSON());
    return {
      version: 1,
      config: this.config,
      numItems: this.numItems,
      numUsers: this.numUsers,
      minTrainTime: this.minTrainTime,
      maxTrainTime: this.maxTrainTime,
      vocabularies: {
        genre: vj(f.genreVocab),
        token: vj(f.tokenVocab),
        ageCode: vj(f.demographics.ageCode),
        occupation: vj(f.demographics.occupation),
        zip: vj(f.demographics.zip),
      },
      years: f.years,
      ageYears: f.demographics.ageYears,
      normalizers:
        f.numPrev === null || f.sinceFirst === null || f.sinceLast === null
          ? null
          : {
              numPrev: f.numPrev.toJSON(),
              sinceFirst: f.sinceFirst.toJSON(),
              sinceLast: f.sinceLast.toJSON(),
            },
    };
  }

  private checkRange(size: number, batch: CandidateBatch, what: string): void {
    if (!(size >= 0) || size > batch.labels.length) {
      throw new RangeError(`${what}: ${size} rows do not fit a batch allocated for ${batch.labels.length}`);
    }
    if (batch.denseWidth !== this.schema.denseWidth) {
      throw new RangeError(
        `${what}: batch has dense width ${batch.denseWidth}, the schema needs ${this.schema.denseWidth}`,
      );
    }
  }

  private beginBatch(batch: CandidateBatch): void {
    for (const bag of Object.values(batch.bags)) bag.offsets[0] = 0;
    batch.dense.fill(0);
  }

  private endBatch(batch: CandidateBatch, size: number): void {
    batch.size = size;
    closeBags(batch, size);
    for (let b = size; b < batch.labels.length; b++) batch.labels[b] = -1;
  }

  /** Writes bag row b of the watch bags from items[lo..hi) (skipping position `skip`). */
  private writeWatches(
    batch: CandidateBatch,
    b: number,
    items: Int32Array,
    lo: number,
    hi: number,
    skip: number,
  ): void {
    const F = CANDIDATE_FEATURES;
    const count = hi - lo - (skip >= lo && skip < hi ? 1 : 0);
    const wb = batch.bags[F.watches];
    let w = wb.offsets[b];
    ensureBag(wb, w + count);
    const idx = wb.indices;
    const ni = this.numItems;
    for (let k = lo; k < hi; k++) {
      if (k === skip) continue;
      const it = items[k];
      idx[w++] = it >= 0 && it < ni ? it + 1 : 0; // an item unknown to the model is out of vocabulary
    }
    wb.offsets[b + 1] = w;

    // Recent watches: the last R entries of the watch bag just written (it is oldest first).
    for (let j = 0; j < this.recentNames.length; j++) {
      const rb = batch.bags[this.recentNames[j]];
      let o = rb.offsets[b];
      const from = Math.max(wb.offsets[b], w - this.recentCounts[j]);
      ensureBag(rb, o + w - from);
      for (let k = from; k < w; k++) rb.indices[o++] = idx[k];
      rb.offsets[b + 1] = o;
    }

    const yr = this.yearRow;
    if (yr !== null) {
      const yb = batch.bags[F.watchYears];
      let y = yb.offsets[b];
      ensureBag(yb, y + count);
      const yi = yb.indices;
      for (let k = lo; k < hi; k++) {
        if (k === skip) continue;
        const it = items[k];
        yi[y++] = it >= 0 && it < yr.length ? yr[it] : 0;
      }
      yb.offsets[b + 1] = y;
    }

    const g = this.genres;
    if (g !== null) {
      const gb = batch.bags[F.watchGenres];
      let o = gb.offsets[b];
      ensureBag(gb, o + count * g.maxPerItem);
      const gi = gb.indices;
      const gw = gb.weights as Float32Array;
      for (let k = lo; k < hi; k++) {
        if (k === skip) continue;
        const it = items[k];
        if (it < 0 || it >= this.numItems) continue;
        const a = g.offsets[it];
        const e = g.offsets[it + 1];
        // Mean over the bag's items of each item's mean genre embedding.
        const wt = 1 / (count * (e - a));
        for (let j = a; j < e; j++) {
          gi[o] = g.rows[j];
          gw[o++] = wt;
        }
      }
      gb.offsets[b + 1] = o;
    }
  }

  /** Search tokens of user u applied before t (strictly when `strict`, else at or before), the maxTokens most recent. */
  private writeTokens(batch: CandidateBatch, b: number, u: number, t: number, strict: boolean): void {
    const tk = this.tokens;
    if (tk === null) return;
    const bag = batch.bags[CANDIDATE_FEATURES.searchTokens];
    let w = bag.offsets[b];
    if (u >= 0) {
      const lo = tk.offsets[u];
      const hi = tk.offsets[u + 1];
      const end = lo + (strict ? countBefore(tk.times, lo, hi, t) : countAtOrBefore(tk.times, lo, hi, t));
      const from = Math.max(lo, end - this.maxTokens);
      ensureBag(bag, w + end - from);
      for (let k = from; k < end; k++) bag.indices[w++] = tk.rows[k];
    }
    bag.offsets[b + 1] = w;
  }

  private writeCategorical(batch: CandidateBatch, b: number, u: number): void {
    const F = CANDIDATE_FEATURES;
    const us = this.users;
    const c = batch.categorical;
    if (us.gender !== null) c[F.gender][b] = u >= 0 ? us.gender[u] : 0;
    if (us.ageCode !== null && c[F.ageBucket] !== undefined) c[F.ageBucket][b] = u >= 0 ? us.ageCode[u] : 0;
    if (us.occupation !== null && c[F.occupation] !== undefined)
      c[F.occupation][b] = u >= 0 ? us.occupation[u] : 0;
    if (us.zip !== null && c[F.zip] !== undefined) c[F.zip][b] = u >= 0 ? us.zip[u] : 0;
  }

  private writeContinuous(
    batch: CandidateBatch,
    row: number,
    numPrev: number,
    sinceFirst: number,
    sinceLast: number,
  ): void {
    const f = this.fitted;
    const col = row + this.continuousCol;
    (f.numPrev as QuantileNormalizer).transformInto(numPrev, batch.dense, col);
    (f.sinceFirst as QuantileNormalizer).transformInto(sinceFirst, batch.dense, col + 3);
    (f.sinceLast as QuantileNormalizer).transformInto(sinceLast, batch.dense, col + 6);
  }
}
