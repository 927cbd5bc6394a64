/**
 * The candidate network's inputs, declared from what was fitted: the feature and table names, and
 * `candidateSchema`, which lists the tables, bags, categorical and continuous inputs (with their
 * dense columns) that the batch packer fills and the network's input layer embeds.
 */
import {
  NUMBER_COLUMN_WIDTH,
  itemColumnFeature,
  userColumnFeature,
  userNumberFeature,
} from "./candidate-columns.js";
import { categoricalDim } from "./candidate-config.js";
import type { FittedCandidateFeatures } from "./candidate-fit.js";
import type { UserDemographics } from "./candidate-side-info.js";
import { itemTableRows } from "./item-index.js";
import type { FeatureSchema, FeatureSpec, TableSpec } from "./schema.js";
import { USER_CONTINUOUS_WIDTH } from "./user-continuous.js";

/** Feature and table names the schema uses (the network reads them from the schema, not from here). */
export const CANDIDATE_FEATURES = {
  /** Bag of watched item ids (table "item", rows by src/features/item-index.ts), slot "watch", plain mean. */
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
/** Name of the watched-item id table (itemTableRows(numItems) rows; item i at itemInputRow(i)). */
export const ITEM_TABLE = "item";
/** The search-token table (rows by the fitted token vocabulary, row 0 out of vocabulary). */
export const TOKEN_TABLE = "token";

/** Name of the ordered watch input (FeatureSchema.sequence). */
export const SEQUENCE_INPUT = "sequence";

/** The per-slot bag of the ordered input that mirrors watch-slot feature `feature` (e.g. "sequence:watches"). */
export function sequencePartBag(feature: string): string {
  return `${SEQUENCE_INPUT}:${feature}`;
}

/** Name of the bag of the R most recent watches. */
export function recentWatchesFeature(r: number): string {
  return `${CANDIDATE_FEATURES.recentWatches}${r}`;
}

/** The schema and the dense column of each continuous input (−1 when absent). */
export interface CandidateSchema {
  readonly schema: FeatureSchema;
  readonly exampleAgeCol: number;
  readonly ageCol: number;
  readonly continuousCol: number;
  /** Dense column of each numeric user column (fitted.columns.userNumeric order). */
  readonly numberCols: readonly number[];
}

/**
 * The inputs the fitted features feed, in a fixed order: the item table and watch bag, genre,
 * year and named item-column bags (same slot), search tokens, demographics, named user-column
 * bags, recent-watch bags, then the dense block (named numeric user columns last); with the
 * `sequence` group on, the ordered input whose slots reuse the watch slot's tables.
 * `users` says which demographic columns exist (the schema depends only on what was fitted).
 */
export function candidateSchema(fitted: FittedCandidateFeatures, users: UserDemographics): CandidateSchema {
  const cfg = fitted.config;
  const dims = cfg.embeddingDim;
  const dm = fitted.demographics;
  const tables: TableSpec[] = [];
  const features: FeatureSpec[] = [];
  const F = CANDIDATE_FEATURES;
  tables.push({ name: ITEM_TABLE, rows: itemTableRows(fitted.numItems), dim: dims.item });
  features.push({ kind: "bag", name: F.watches, table: ITEM_TABLE, slot: WATCH_SLOT });
  if (fitted.genreVocab !== null) {
    tables.push({ name: "genre", rows: fitted.genreVocab.rows, dim: dims.item });
    features.push({ kind: "bag", name: F.watchGenres, table: "genre", slot: WATCH_SLOT });
  }
  if (fitted.years !== null) {
    tables.push({ name: "year", rows: fitted.years.rows, dim: dims.item });
    features.push({ kind: "bag", name: F.watchYears, table: "year", slot: WATCH_SLOT });
  }
  for (const c of fitted.columns.item) {
    const name = itemColumnFeature(c.name);
    tables.push({ name, rows: c.vocab.rows, dim: dims.item });
    features.push({ kind: "bag", name, table: name, slot: WATCH_SLOT });
  }
  if (fitted.tokenVocab !== null) {
    tables.push({ name: TOKEN_TABLE, rows: fitted.tokenVocab.rows, dim: dims.token });
    features.push({ kind: "bag", name: F.searchTokens, table: TOKEN_TABLE });
  }
  const categorical = (name: string, rows: number): void => {
    tables.push({ name, rows, dim: categoricalDim(rows, dims) });
    features.push({ kind: "categorical", name, table: name });
  };
  if (users.gender !== null) categorical(F.gender, 3);
  if (users.ageCode !== null && dm.ageCode !== null) categorical(F.ageBucket, dm.ageCode.rows);
  if (users.occupation !== null && dm.occupation !== null) categorical(F.occupation, dm.occupation.rows);
  if (users.zip !== null && dm.zip !== null) categorical(F.zip, dm.zip.rows);
  for (const c of fitted.columns.userCategorical) {
    const name = userColumnFeature(c.name);
    tables.push({ name, rows: c.vocab.rows, dim: categoricalDim(c.vocab.rows, dims) });
    features.push({ kind: "bag", name, table: name });
  }
  if (cfg.recentWatches.enabled) {
    for (const r of cfg.recentWatches.counts)
      features.push({ kind: "bag", name: recentWatchesFeature(r), table: ITEM_TABLE });
  }

  let dense = 0;
  const continuous = (name: string, width: number): number => {
    features.push({ kind: "continuous", name, offset: dense, width });
    dense += width;
    return dense - width;
  };
  const exampleAgeCol = cfg.exampleAge.enabled ? continuous(F.exampleAge, 1) : -1;
  const ageCol = users.ageYears !== null ? continuous(F.age, 1) : -1;
  const continuousCol = fitted.continuous !== null ? continuous(F.userContinuous, USER_CONTINUOUS_WIDTH) : -1;
  const numberCols = fitted.columns.userNumeric.map((c) =>
    continuous(userNumberFeature(c.name), NUMBER_COLUMN_WIDTH),
  );
  const q = cfg.sequence;
  const sequence = q.enabled
    ? {
        name: SEQUENCE_INPUT,
        maxLen: q.maxLen,
        dim: dims.item,
        // Each slot = one watched item's watch-slot embedding: the same tables, one item per bag.
        parts: features.flatMap((f) =>
          f.kind === "bag" && f.slot === WATCH_SLOT ? [{ bag: sequencePartBag(f.name), table: f.table }] : [],
        ),
        blocks: q.blocks,
        heads: q.heads,
        ffnDim: q.ffnDim > 0 ? q.ffnDim : dims.item,
        dropout: q.dropout,
      }
    : undefined;
  return {
    schema: { tables, features, denseWidth: dense, ...(sequence ? { sequence } : {}) },
    exampleAgeCol,
    ageCol,
    continuousCol,
    numberCols,
  };
}
