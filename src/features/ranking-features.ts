/**
 * The ranking features (the paper's Section 4.1 mapped to MovieLens), declared once in a ranking
 * schema built on the stage-one mechanism (TableSpec / BagFeature / CategoricalFeature /
 * ContinuousFeature, Vocabulary, QuantileNormalizer, packed CandidateBatch): the same declaration
 * drives the batch filling here and the ranking network's input layers. Query features (the user
 * and the request: watched ids, last watched ids, demographics, time since the last watch) are
 * computed once per impression list and broadcast by the network over the list's candidates;
 * impression features (the item id, genres and year, genre affinity, earlier impressions, recent
 * popularity and age, each source's score and rank) are computed per candidate. Continuous values
 * are fed as x̃ = F(x) (quantiles gathered in one pass over the training impressions), x̃², √x̃.
 */
import type { Dataset } from "../data/dataset.js";
import type { CandidateBatch } from "./batch.js";
import {
  emptyDemographicRows,
  encodeDemographics,
  fitDemographics,
  fitGenreVocabulary,
  fitYearBuckets,
  itemGenreRows,
  itemYearRows,
  userDemographics,
  type DemographicFit,
  type ItemGenreRows,
  type UserDemographics,
  type YearBuckets,
} from "./candidate-side-info.js";
import type { ImpressionSet } from "./impressions.js";
import { QuantileNormalizer, type QuantileNormalizerJSON } from "./quantile.js";
import { embeddingDim, resolveRankingFeatureConfig, type RankingFeatureConfig } from "./ranking-config.js";
import type { ItemTimeline } from "./ranking-context.js";
import type { ContinuousFeature, FeatureSchema, FeatureSpec, TableSpec } from "./schema.js";
import { Counter, Vocabulary, type VocabularyJSON } from "./vocabulary.js";

/** Table and feature names of the ranking schema. */
export const RANKING_FEATURES = {
  itemTable: "item",
  watched: "watched",
  lastWatched: "last_watched",
  impressionItem: "impression_item",
  genres: "item_genres",
  year: "item_year",
  gender: "gender",
  age: "age",
  occupation: "occupation",
  zip: "zip",
} as const;

/** Earlier impressions per user, for the impression-history features. */
export interface ImpressionHistory {
  readonly items: Int32Array;
  readonly times: Float64Array;
  /** Positions [start(u), end(u)) of user u's impressions, sorted by time. */
  start(user: number): number;
  end(user: number): number;
}

/** What the features of a set of impression lists are computed from. */
export interface RankingInput {
  readonly set: ImpressionSet;
  /** Engagement of each history event (parallel to set.historyItems). */
  readonly historyWeights: Float32Array;
  readonly impressions: ImpressionHistory | null;
}

/** The ranking schema: shared tables, and the query and impression inputs over them. */
export interface RankingSchema {
  readonly tables: readonly TableSpec[];
  /** Inputs computed once per list (CandidateBatch of size = lists). */
  readonly query: FeatureSchema;
  /** Inputs per candidate (CandidateBatch of size = candidates). */
  readonly impression: FeatureSchema;
}

/**
 * A packed batch of impression lists. List l's candidates are rows listOffsets[l] − listOffsets[0]
 * .. listOffsets[l + 1] − listOffsets[0] of the impression batch (views into a larger store keep
 * absolute offsets).
 */
export interface RankingBatch {
  lists: number;
  size: number;
  listOffsets: Int32Array;
  query: CandidateBatch;
  impression: CandidateBatch;
  /** Per candidate: 1 positive, 0 negative. */
  labels: Float32Array;
  weights: Float32Array;
  /** Per candidate: dataset item index. */
  items: Int32Array;
}

const DAY = 86400;

/** Raw continuous columns of the impression side, in dense order (sources appended). */
interface DenseColumn {
  readonly name: string;
  /** Index into the raw value vector. */
  readonly raw: number;
  /** "quantile": x̃ (and powers); "indicator": the raw 0/1 value. */
  readonly kind: "quantile" | "indicator";
}

/** Dense columns with their normalizers resolved (null: indicator, or no quantiles → 0). */
interface DensePlan {
  readonly raw: Int32Array;
  readonly indicator: Uint8Array;
  readonly normalizers: readonly (QuantileNormalizer | null)[];
}

export interface RankingFeaturesJSON {
  readonly config: RankingFeatureConfig;
  readonly sources: readonly string[];
  readonly numItems: number;
  readonly numUsers: number;
  readonly itemVocabulary: VocabularyJSON;
  readonly genreVocabulary: VocabularyJSON;
  readonly yearBuckets: YearBuckets;
  readonly demographics: {
    ageCode: VocabularyJSON | null;
    occupation: VocabularyJSON | null;
    zip: VocabularyJSON | null;
    ageYears: { min: number; max: number } | null;
  };
  readonly normalizers: Record<string, QuantileNormalizerJSON>;
}

export class RankingFeatures {
  readonly schema: RankingSchema;
  readonly queryColumns: readonly DenseColumn[];
  readonly impressionColumns: readonly DenseColumn[];
  readonly queryDenseWidth: number;
  readonly impressionDenseWidth: number;
  /** Dataset item → item-table row (0 = out of vocabulary). */
  readonly itemRow: Int32Array;
  private readonly genres: ItemGenreRows;
  private readonly years: Int32Array;
  private readonly demo: UserDemographics;
  /** Source column index in the ImpressionSet for each featured source. */
  private sourceColumns: Int32Array = new Int32Array(0);
  private readonly numGenreRows: number;
  // Per-list scratch (no allocation per list).
  private readonly genreCount: Float64Array;
  private readonly genreSum: Float64Array;
  private readonly genreLast: Float64Array;
  private readonly impCount: Int32Array;
  private readonly impLast: Float64Array;
  private readonly impStamp: Int32Array;
  private stamp = 0;
  private rawImp = new Float64Array(0);
  private readonly rawQuery: Float64Array;
  /** Resolved dense columns (built on first use, after the quantiles are fitted). */
  private readonly plans = new Map<readonly DenseColumn[], DensePlan>();
  /** Scratch for request-time demographics. */
  private readonly given = emptyDemographicRows();

  private constructor(
    readonly config: RankingFeatureConfig,
    readonly sources: readonly string[],
    readonly numItems: number,
    readonly numUsers: number,
    readonly itemVocabulary: Vocabulary,
    readonly genreVocabulary: Vocabulary,
    readonly yearBuckets: YearBuckets,
    readonly demographicFit: DemographicFit,
    data: Dataset,
    readonly timeline: ItemTimeline,
    readonly normalizers: Map<string, QuantileNormalizer>,
  ) {
    this.itemRow = new Int32Array(numItems);
    for (let i = 0; i < numItems; i++) this.itemRow[i] = itemVocabulary.lookup(data.items.ids[i]);
    this.genres = itemGenreRows(data, genreVocabulary, numItems);
    this.numGenreRows = genreVocabulary.rows;
    this.years = itemYearRows(data, yearBuckets, numItems);
    this.demo = config.demographics
      ? userDemographics(
          data.userInfo,
          demographicFit,
          { gender: true, zipPrefix: config.zipPrefix },
          numUsers,
        )
      : { gender: null, ageCode: null, ageYears: null, occupation: null, zip: null };
    this.genreCount = new Float64Array(this.numGenreRows);
    this.genreSum = new Float64Array(this.numGenreRows);
    this.genreLast = new Float64Array(this.numGenreRows);
    this.impCount = new Int32Array(numItems);
    this.impLast = new Float64Array(numItems);
    this.impStamp = new Int32Array(numItems);

    const F = RANKING_FEATURES;
    const tables: TableSpec[] = [];
    const table = (name: string, rows: number) => {
      tables.push({ name, rows, dim: embeddingDim(config, rows) });
      return name;
    };
    const q: FeatureSpec[] = [];
    const imp: FeatureSpec[] = [];
    table(F.itemTable, itemVocabulary.rows);
    q.push({ kind: "bag", name: F.watched, table: F.itemTable });
    if (config.lastWatched > 0) q.push({ kind: "bag", name: F.lastWatched, table: F.itemTable });
    imp.push({ kind: "categorical", name: F.impressionItem, table: F.itemTable });
    if (config.itemSideInfo) {
      if (genreVocabulary.size > 0)
        imp.push({ kind: "bag", name: F.genres, table: table("genre", genreVocabulary.rows) });
      if (yearBuckets.rows > 1)
        imp.push({ kind: "categorical", name: F.year, table: table("year", yearBuckets.rows) });
    }
    if (this.demo.gender) q.push({ kind: "categorical", name: F.gender, table: table("gender", 3) });
    if (this.demo.ageCode && demographicFit.ageCode)
      q.push({ kind: "categorical", name: F.age, table: table("age", demographicFit.ageCode.rows) });
    if (this.demo.occupation && demographicFit.occupation)
      q.push({
        kind: "categorical",
        name: F.occupation,
        table: table("occupation", demographicFit.occupation.rows),
      });
    if (this.demo.zip && demographicFit.zip)
      q.push({ kind: "categorical", name: F.zip, table: table("zip", demographicFit.zip.rows) });

    const qCols: DenseColumn[] = [
      { name: "since_last_watch", raw: 0, kind: "quantile" },
      { name: "history_length", raw: 1, kind: "quantile" },
    ];
    if (this.demo.ageYears) qCols.push({ name: "age_years", raw: 2, kind: "quantile" });
    this.rawQuery = new Float64Array(3);
    const iCols: DenseColumn[] = [];
    const addImp = (name: string, kind: DenseColumn["kind"] = "quantile") =>
      iCols.push({ name, raw: iCols.length, kind });
    if (config.genreAffinity && genreVocabulary.size > 0) {
      addImp("genre_watch_count");
      addImp("genre_mean_engagement");
      addImp("since_genre_watch");
    }
    if (config.impressionHistory) {
      addImp("earlier_impressions");
      addImp("since_impression");
    }
    if (config.itemStatistics) {
      addImp("popularity_7d");
      addImp("popularity_30d");
      addImp("popularity_all");
      addImp("item_age");
    }
    const featured = sources.filter((s) => !config.excludeSources.includes(s));
    this.sourceColumns = Int32Array.from(featured, (s) => sources.indexOf(s));
    for (const s of featured) {
      addImp(`${s}.rank`);
      if (config.sourceScore !== "raw") addImp(`${s}.list_z`);
      if (config.sourceScore !== "list-z") addImp(`${s}.score`);
      addImp(`${s}.not_proposed`, "indicator");
    }
    this.queryColumns = qCols;
    this.impressionColumns = iCols;
    const width = (cols: readonly DenseColumn[]) =>
      cols.reduce((n, c) => n + (c.kind === "quantile" && config.powers ? 3 : 1), 0);
    const dense = (cols: readonly DenseColumn[], into: FeatureSpec[]) => {
      let o = 0;
      for (const c of cols) {
        const w = c.kind === "quantile" && config.powers ? 3 : 1;
        into.push({ kind: "continuous", name: c.name, offset: o, width: w } satisfies ContinuousFeature);
        o += w;
      }
    };
    dense(qCols, q);
    dense(iCols, imp);
    this.queryDenseWidth = width(qCols);
    this.impressionDenseWidth = width(iCols);
    this.schema = {
      tables,
      query: { tables, features: q, denseWidth: this.queryDenseWidth },
      impression: { tables, features: imp, denseWidth: this.impressionDenseWidth },
    };
    this.rawImp = new Float64Array(64 * Math.max(1, iCols.length));
  }

  /**
   * Fits the vocabularies (items: top N by frequency in the positive impressions of `train`) and
   * the quantiles of every continuous feature (one pass over `train`, sampled).
   */
  static fit(
    data: Dataset,
    timeline: ItemTimeline,
    train: RankingInput,
    configInput: Partial<RankingFeatureConfig> = {},
  ): RankingFeatures {
    const config = resolveRankingFeatureConfig(configInput);
    const set = train.set;
    const counts = new Counter();
    for (let c = 0; c < set.items.length; c++)
      if (set.positive[c] === 1) counts.add(data.items.ids[set.items[c]]);
    const itemVocabulary = Vocabulary.fromCounts(counts, { maxSize: config.itemVocabulary });
    const demographicFit =
      config.demographics && data.userInfo
        ? fitDemographics(data.userInfo, {
            age: true,
            occupation: true,
            zip: true,
            zipPrefix: config.zipPrefix,
          })
        : { ageCode: null, occupation: null, zip: null, ageYears: null };
    const f = new RankingFeatures(
      config,
      set.sources,
      data.items.ids.length,
      data.users.ids.length,
      itemVocabulary,
      fitGenreVocabulary(data),
      fitYearBuckets(data, config.yearBucket),
      demographicFit,
      data,
      timeline,
      new Map(),
    );
    f.fitQuantiles(train);
    return f;
  }

  static fromJSON(json: RankingFeaturesJSON, data: Dataset, timeline: ItemTimeline): RankingFeatures {
    const config = resolveRankingFeatureConfig(json.config, "ranker features config");
    const v = (j: VocabularyJSON | null) => (j === null ? null : Vocabulary.fromJSON(j));
    const f = new RankingFeatures(
      config,
      json.sources,
      json.numItems,
      json.numUsers,
      Vocabulary.fromJSON(json.itemVocabulary),
      Vocabulary.fromJSON(json.genreVocabulary),
      json.yearBuckets,
      {
        ageCode: v(json.demographics.ageCode),
        occupation: v(json.demographics.occupation),
        zip: v(json.demographics.zip),
        ageYears: json.demographics.ageYears,
      },
      data,
      timeline,
      new Map(Object.entries(json.normalizers).map(([k, n]) => [k, QuantileNormalizer.fromJSON(n)])),
    );
    for (const c of [...f.queryColumns, ...f.impressionColumns])
      if (c.kind === "quantile" && !f.normalizers.has(c.name))
        throw new Error(`ranker features: no quantiles stored for "${c.name}"`);
    return f;
  }

  toJSON(): RankingFeaturesJSON {
    const d = this.demographicFit;
    return {
      config: this.config,
      sources: this.sources,
      numItems: this.numItems,
      numUsers: this.numUsers,
      itemVocabulary: this.itemVocabulary.toJSON(),
      genreVocabulary: this.genreVocabulary.toJSON(),
      yearBuckets: this.yearBuckets,
      demographics: {
        ageCode: d.ageCode?.toJSON() ?? null,
        occupation: d.occupation?.toJSON() ?? null,
        zip: d.zip?.toJSON() ?? null,
        ageYears: d.ageYears,
      },
      normalizers: Object.fromEntries([...this.normalizers].map(([k, n]) => [k, n.toJSON()])),
    };
  }

  /** A batch with room for `lists` lists and `candidates` candidates. */
  allocBatch(lists: number, candidates: number): RankingBatch {
    const F = RANKING_FEATURES;
    const c = this.config;
    const qBags: CandidateBatch["bags"] = {
      [F.watched]: {
        offsets: new Int32Array(lists + 1),
        indices: new Int32Array(lists * c.watchedBag),
        weights: null,
      },
    };
    if (c.lastWatched > 0)
      qBags[F.lastWatched] = {
        offsets: new Int32Array(lists + 1),
        indices: new Int32Array(lists * c.lastWatched),
        weights: null,
      };
    const qCat: Record<string, Int32Array> = {};
    const iCat: Record<string, Int32Array> = {};
    const iBags: CandidateBatch["bags"] = {};
    for (const f of this.schema.query.features)
      if (f.kind === "categorical") qCat[f.name] = new Int32Array(lists);
    for (const f of this.schema.impression.features) {
      if (f.kind === "categorical") iCat[f.name] = new Int32Array(candidates);
      if (f.kind === "bag")
        iBags[f.name] = {
          offsets: new Int32Array(candidates + 1),
          indices: new Int32Array(candidates * Math.max(1, this.genres.maxPerItem)),
          weights: null,
        };
    }
    return {
      lists: 0,
      size: 0,
      listOffsets: new Int32Array(lists + 1),
      query: {
        size: 0,
        labels: new Int32Array(lists),
        labelTimes: new Float64Array(lists),
        bags: qBags,
        categorical: qCat,
        dense: new Float32Array(lists * this.queryDenseWidth),
        denseWidth: this.queryDenseWidth,
      },
      impression: {
        size: 0,
        labels: new Int32Array(candidates),
        labelTimes: new Float64Array(candidates),
        bags: iBags,
        categorical: iCat,
        dense: new Float32Array(candidates * this.impressionDenseWidth),
        denseWidth: this.impressionDenseWidth,
      },
      labels: new Float32Array(candidates),
      weights: new Float32Array(candidates),
      items: new Int32Array(candidates),
    };
  }

  /** Resets a batch to empty (fill appends lists). */
  clear(batch: RankingBatch): void {
    batch.lists = 0;
    batch.size = 0;
    batch.query.size = 0;
    batch.impression.size = 0;
    batch.listOffsets[0] = 0;
    for (const b of Object.values(batch.query.bags)) b.offsets[0] = 0;
    for (const b of Object.values(batch.impression.bags)) b.offsets[0] = 0;
  }

  /**
   * Appends list l of `input` to the batch: its candidates `select[0..count)` (indices into the
   * set's candidate columns), or all of them when select is null. Returns the candidates written.
   */
  append(
    input: RankingInput,
    l: number,
    batch: RankingBatch,
    select: Int32Array | null = null,
    count = 0,
  ): number {
    const set = input.set;
    const c0 = set.listOffsets[l];
    const n = select === null ? set.listOffsets[l + 1] - c0 : count;
    const L = batch.lists;
    const base = batch.size;
    if (L + 1 >= batch.listOffsets.length || base + n > batch.labels.length)
      throw new RangeError(`ranking batch: no room for list ${l} (${n} candidates)`);
    this.fillQuery(input, l, batch, L);
    const iw = this.impressionDenseWidth;
    const ncol = this.impressionColumns.length;
    if (this.rawImp.length < n * ncol) this.rawImp = new Float64Array(n * ncol * 2);
    const raw = this.rawImp;
    this.rawImpressions(input, l, select, n, raw);
    const F = RANKING_FEATURES;
    const item = batch.impression.categorical[F.impressionItem];
    const year = batch.impression.categorical[F.year];
    const genres = batch.impression.bags[F.genres];
    const dense = batch.impression.dense;
    const positive = set.positive;
    const weight = set.weight;
    for (let k = 0; k < n; k++) {
      const c = select === null ? c0 + k : c0 + select[k];
      const r = base + k;
      const it = set.items[c];
      batch.items[r] = it;
      batch.labels[r] = positive.length > 0 ? positive[c] : 0;
      batch.weights[r] = weight.length > 0 ? weight[c] : 1;
      batch.impression.labels[r] = it;
      batch.impression.labelTimes[r] = set.times[l];
      item[r] = this.itemRow[it];
      if (year) year[r] = this.years[it];
      if (genres) {
        let w = genres.offsets[r];
        for (let g = this.genres.offsets[it]; g < this.genres.offsets[it + 1]; g++)
          genres.indices[w++] = this.genres.rows[g];
        genres.offsets[r + 1] = w;
      }
    }
    this.writeDenseColumns(this.densePlan(this.impressionColumns), raw, ncol, n, dense, base * iw, iw);
    batch.size = base + n;
    batch.impression.size = base + n;
    batch.lists = L + 1;
    batch.query.size = L + 1;
    batch.listOffsets[L + 1] = base + n;
    return n;
  }

  /** Query inputs of list l into batch row L. */
  private fillQuery(input: RankingInput, l: number, batch: RankingBatch, L: number): void {
    const set = input.set;
    const F = RANKING_FEATURES;
    const h0 = set.historyOffsets[l];
    const h1 = set.historyOffsets[l + 1];
    const u = set.users[l];
    const t = set.times[l];
    const fillBag = (name: string, max: number) => {
      const bag = batch.query.bags[name];
      let w = bag.offsets[L];
      for (let h = Math.max(h0, h1 - max); h < h1; h++) {
        const r = this.itemRow[set.historyItems[h]];
        if (r > 0) bag.indices[w++] = r;
      }
      bag.offsets[L + 1] = w;
    };
    fillBag(F.watched, this.config.watchedBag);
    if (this.config.lastWatched > 0) fillBag(F.lastWatched, this.config.lastWatched);
    const cat = batch.query.categorical;
    const d = this.demo;
    const known = u >= 0 && u < this.numUsers;
    if (cat[F.gender] && d.gender) cat[F.gender][L] = known ? d.gender[u] : 0;
    if (cat[F.age] && d.ageCode) cat[F.age][L] = known ? d.ageCode[u] : 0;
    if (cat[F.occupation] && d.occupation) cat[F.occupation][L] = known ? d.occupation[u] : 0;
    if (cat[F.zip] && d.zip) cat[F.zip][L] = known ? d.zip[u] : 0;
    batch.query.labels[L] = -1;
    batch.query.labelTimes[L] = t;
    const raw = this.rawQuery;
    raw[0] = h1 > h0 ? t - set.historyTimes[h1 - 1] : NaN;
    raw[1] = h1 - h0;
    raw[2] = known && d.ageYears ? d.ageYears[u] : NaN;
    // Request-time demographics replace the users file's, through the same mapping.
    const given = set.demographics?.[l];
    if (given) {
      const r = encodeDemographics(given, this.demographicFit, this.config.zipPrefix, this.given);
      if (cat[F.gender] && d.gender) cat[F.gender][L] = r.gender;
      if (cat[F.age] && d.ageCode) cat[F.age][L] = r.ageCode;
      if (cat[F.occupation] && d.occupation) cat[F.occupation][L] = r.occupation;
      if (cat[F.zip] && d.zip) cat[F.zip][L] = r.zip;
      if (d.ageYears) raw[2] = r.ageYears;
    }
    this.writeDense(this.queryColumns, raw, 0, batch.query.dense, L * this.queryDenseWidth);
  }

  /** Raw impression values of the selected candidates of list l, [n × columns] into raw. */
  private rawImpressions(
    input: RankingInput,
    l: number,
    select: Int32Array | null,
    n: number,
    raw: Float64Array,
  ): void {
    const set = input.set;
    const cfg = this.config;
    const ncol = this.impressionColumns.length;
    const c0 = set.listOffsets[l];
    const t = set.times[l];
    const candidate = (k: number) => (select === null ? c0 + k : c0 + select[k]);
    let col = 0;
    if (cfg.genreAffinity && this.genreVocabulary.size > 0) {
      this.genreStats(input, l);
      const gc = this.genreCount;
      const gs = this.genreSum;
      const gl = this.genreLast;
      for (let k = 0; k < n; k++) {
        const it = set.items[candidate(k)];
        let cnt = 0;
        let sum = 0;
        let last = -Infinity;
        const a = this.genres.offsets[it];
        const b = this.genres.offsets[it + 1];
        for (let g = a; g < b; g++) {
          const r = this.genres.rows[g];
          cnt += gc[r];
          sum += gs[r];
          if (gl[r] > last) last = gl[r];
        }
        const o = k * ncol + col;
        raw[o] = b > a ? cnt / (b - a) : NaN;
        raw[o + 1] = cnt > 0 ? sum / cnt : NaN;
        raw[o + 2] = last > -Infinity ? t - last : NaN;
      }
      col += 3;
    }
    if (cfg.impressionHistory) {
      const s = ++this.stamp;
      const imp = input.impressions;
      const u = set.users[l];
      if (imp !== null && u >= 0) {
        for (let p = imp.start(u); p < imp.end(u) && imp.times[p] < t; p++) {
          const it = imp.items[p];
          if (this.impStamp[it] !== s) {
            this.impStamp[it] = s;
            this.impCount[it] = 0;
          }
          this.impCount[it]++;
          this.impLast[it] = imp.times[p];
        }
      }
      for (let k = 0; k < n; k++) {
        const it = set.items[candidate(k)];
        const seen = this.impStamp[it] === s;
        const o = k * ncol + col;
        raw[o] = seen ? this.impCount[it] : 0;
        raw[o + 1] = seen ? t - this.impLast[it] : NaN;
      }
      col += 2;
    }
    if (cfg.itemStatistics) {
      const tl = this.timeline;
      for (let k = 0; k < n; k++) {
        const it = set.items[candidate(k)];
        const all = tl.countBefore(it, t);
        const o = k * ncol + col;
        raw[o] = all - tl.countBefore(it, t - 7 * DAY);
        raw[o + 1] = all - tl.countBefore(it, t - 30 * DAY);
        raw[o + 2] = all;
        raw[o + 3] = tl.firstSeen[it] < t ? t - tl.firstSeen[it] : 0;
      }
      col += 4;
    }
    const ns = set.sources.length;
    for (let j = 0; j < this.sourceColumns.length; j++) {
      const sc = this.sourceColumns[j];
      let sum = 0;
      let sq = 0;
      let m = 0;
      for (let c = c0; c < set.listOffsets[l + 1]; c++) {
        if (set.sourceRanks[c * ns + sc] > 0) {
          const v = set.sourceScores[c * ns + sc];
          sum += v;
          sq += v * v;
          m++;
        }
      }
      const mean = m > 0 ? sum / m : 0;
      const sd = m > 1 ? Math.sqrt(Math.max(sq / m - mean * mean, 0)) : 0;
      for (let k = 0; k < n; k++) {
        const c = candidate(k);
        const rank = set.sourceRanks[c * ns + sc];
        const v = set.sourceScores[c * ns + sc];
        let o = k * ncol + col;
        raw[o++] = rank > 0 ? rank : NaN;
        if (cfg.sourceScore !== "raw") raw[o++] = rank > 0 ? (sd > 0 ? (v - mean) / sd : 0) : NaN;
        if (cfg.sourceScore !== "list-z") raw[o++] = rank > 0 ? v : NaN;
        raw[o] = rank > 0 ? 0 : 1;
      }
      col += (cfg.sourceScore === "both" ? 3 : 2) + 1;
    }
  }

  /** Per-genre watch count, engagement sum and last time over list l's history. */
  private genreStats(input: RankingInput, l: number): void {
    const set = input.set;
    this.genreCount.fill(0);
    this.genreSum.fill(0);
    this.genreLast.fill(-Infinity);
    for (let h = set.historyOffsets[l]; h < set.historyOffsets[l + 1]; h++) {
      const it = set.historyItems[h];
      const w = input.historyWeights[h];
      const time = set.historyTimes[h];
      for (let g = this.genres.offsets[it]; g < this.genres.offsets[it + 1]; g++) {
        const r = this.genres.rows[g];
        this.genreCount[r]++;
        this.genreSum[r] += w;
        if (time > this.genreLast[r]) this.genreLast[r] = time;
      }
    }
  }

  /** The normalizer of each column, resolved once (a Map lookup per value was a hot-path cost). */
  private densePlan(cols: readonly DenseColumn[]): DensePlan {
    let plan = this.plans.get(cols);
    if (plan === undefined) {
      plan = {
        raw: Int32Array.from(cols, (c) => c.raw),
        indicator: Uint8Array.from(cols, (c) => (c.kind === "indicator" ? 1 : 0)),
        normalizers: cols.map((c) =>
          c.kind === "indicator" ? null : (this.normalizers.get(c.name) ?? null),
        ),
      };
      this.plans.set(cols, plan);
    }
    return plan;
  }

  /**
   * writeDense for n rows at once, column by column: raw [n × ncol] into out rows o0 + k·stride
   * (the same values as writeDense row by row).
   */
  private writeDenseColumns(
    plan: DensePlan,
    raw: Float64Array,
    ncol: number,
    n: number,
    out: Float32Array,
    o0: number,
    stride: number,
  ): void {
    const powers = this.config.powers;
    let o = o0;
    for (let j = 0; j < plan.raw.length; j++) {
      const src = plan.raw[j];
      if (plan.indicator[j] === 1) {
        for (let k = 0; k < n; k++) out[o + k * stride] = raw[k * ncol + src];
        o++;
        continue;
      }
      const norm = plan.normalizers[j];
      for (let k = 0; k < n; k++) {
        const t = norm === null ? 0 : norm.transform(raw[k * ncol + src]);
        const w = o + k * stride;
        out[w] = t;
        if (powers) {
          out[w + 1] = t * t;
          out[w + 2] = Math.sqrt(t);
        }
      }
      o += powers ? 3 : 1;
    }
  }

  /** Normalized dense columns from raw values (NaN = missing → x̃ = 0). */
  private writeDense(
    cols: readonly DenseColumn[],
    raw: Float64Array,
    ro: number,
    out: Float32Array,
    o: number,
  ): void {
    const powers = this.config.powers;
    for (const c of cols) {
      const x = raw[ro + c.raw];
      if (c.kind === "indicator") {
        out[o++] = x;
        continue;
      }
      const n = this.normalizers.get(c.name);
      const t = n === undefined ? 0 : n.transform(x);
      out[o++] = t;
      if (powers) {
        out[o++] = t * t;
        out[o++] = Math.sqrt(t);
      }
    }
  }

  /** One pass over the training lists gathering each continuous feature's values (strided sample). */
  private fitQuantiles(train: RankingInput): void {
    const set = train.set;
    const lists = set.users.length;
    const total = set.items.length;
    const cfg = this.config;
    const stride = Math.max(1, Math.ceil(total / cfg.quantileSample));
    const listStride = Math.max(1, Math.ceil(lists / cfg.quantileSample));
    const qv = this.queryColumns.map(() => [] as number[]);
    const iv = this.impressionColumns.map(() => [] as number[]);
    const ncol = this.impressionColumns.length;
    const select = new Int32Array(Math.ceil(this.maxList(set) / stride) + 1);
    for (let l = 0; l < lists; l++) {
      if (l % listStride === 0) {
        const h0 = set.historyOffsets[l];
        const h1 = set.historyOffsets[l + 1];
        const vals = [h1 > h0 ? set.times[l] - set.historyTimes[h1 - 1] : NaN, h1 - h0, NaN];
        const u = set.users[l];
        if (this.demo.ageYears && u >= 0 && u < this.numUsers) vals[2] = this.demo.ageYears[u];
        this.queryColumns.forEach((c, i) => {
          if (Number.isFinite(vals[c.raw])) qv[i].push(vals[c.raw]);
        });
      }
      const c0 = set.listOffsets[l];
      const c1 = set.listOffsets[l + 1];
      let m = 0;
      for (let c = c0 + ((stride - (c0 % stride)) % stride); c < c1; c += stride) select[m++] = c - c0;
      if (m === 0) continue;
      if (this.rawImp.length < m * ncol) this.rawImp = new Float64Array(m * ncol * 2);
      this.rawImpressions(train, l, select, m, this.rawImp);
      for (let k = 0; k < m; k++)
        this.impressionColumns.forEach((col, i) => {
          const x = this.rawImp[k * ncol + col.raw];
          if (col.kind === "quantile" && Number.isFinite(x)) iv[i].push(x);
        });
    }
    const fit = (cols: readonly DenseColumn[], vals: number[][]) =>
      cols.forEach((c, i) => {
        if (c.kind === "quantile")
          this.normalizers.set(c.name, QuantileNormalizer.fit(vals[i], cfg.quantiles));
      });
    fit(this.queryColumns, qv);
    fit(this.impressionColumns, iv);
  }

  private maxList(set: ImpressionSet): number {
    let m = 0;
    for (let l = 0; l + 1 < set.listOffsets.length; l++)
      m = Math.max(m, set.listOffsets[l + 1] - set.listOffsets[l]);
    return m;
  }

  /** Which feature group each impression dense column and embedding input belongs to (for explain()). */
  groups(): { query: string[]; impression: string[] } {
    const group = (name: string): string => {
      const dot = name.indexOf(".");
      return dot > 0 ? `source:${name.slice(0, dot)}` : name;
    };
    return {
      query: this.schema.query.features.map((f) => group(f.name)),
      impression: this.schema.impression.features.map((f) => group(f.name)),
    };
  }
}
