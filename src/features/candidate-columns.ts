/**
 * Side-file columns the user named (`--item-category-cols`, `--user-category-cols`,
 * `--user-number-cols`) as candidate features: each item column becomes a bag summed into the
 * watched item's slot (like genres: id + genres + year + these), each user categorical column a
 * bag of its own, each user numeric column a quantile-normalized dense input (x̃, x̃², √x̃, and a
 * missing flag). Vocabularies and normalizers are fitted on the training split, keyed by column
 * name, so a saved model maps a dataset's side files exactly as it was trained.
 */
import type { CategoricalColumn, Dataset } from "../data/dataset.js";
import type { CandidateFeatureConfig } from "./candidate-config.js";
import { QuantileNormalizer, type QuantileNormalizerJSON } from "./quantile.js";
import { Counter, Vocabulary, type VocabularyJSON } from "./vocabulary.js";

/** Dense width of one numeric user column: x̃, x̃², √x̃ and 1 when the value is unknown. */
export const NUMBER_COLUMN_WIDTH = 4;

export interface FittedColumns {
  readonly item: readonly { readonly name: string; readonly vocab: Vocabulary }[];
  readonly userCategorical: readonly { readonly name: string; readonly vocab: Vocabulary }[];
  readonly userNumeric: readonly { readonly name: string; readonly normalizer: QuantileNormalizer }[];
}

export const NO_COLUMNS: FittedColumns = { item: [], userCategorical: [], userNumeric: [] };

/** Feature (and table) name of an item column's bag. */
export function itemColumnFeature(name: string): string {
  return `itemColumn:${name}`;
}

/** Feature (and table) name of a user categorical column's bag. */
export function userColumnFeature(name: string): string {
  return `userColumn:${name}`;
}

/** Feature name of a user numeric column's dense block. */
export function userNumberFeature(name: string): string {
  return `userNumber:${name}`;
}

function columnVocabulary(c: CategoricalColumn, rows: number, maxSize: number): Vocabulary {
  const counts = new Counter();
  const n = Math.min(rows, c.offsets.length - 1);
  for (let i = 0; i < n; i++)
    for (let k = c.offsets[i]; k < c.offsets[i + 1]; k++) counts.add(c.names[c.values[k]]);
  return Vocabulary.fromCounts(counts, { maxSize });
}

/** Fits every named column the config keeps on (counts over the catalog items / users of `train`). */
export function fitColumns(
  train: Dataset,
  cfg: Pick<CandidateFeatureConfig, "itemSideInfo" | "userColumns">,
): FittedColumns {
  const numItems = train.items.ids.length;
  const numUsers = train.users.ids.length;
  const side = cfg.itemSideInfo;
  const item =
    side.enabled && side.columns
      ? (train.itemInfo.categories ?? []).map((c) => ({
          name: c.name,
          vocab: columnVocabulary(c, numItems, side.columnVocabSize),
        }))
      : [];
  const uc = cfg.userColumns;
  const u = train.userInfo;
  const userCategorical =
    uc.enabled && u !== null
      ? (u.categories ?? []).map((c) => ({
          name: c.name,
          vocab: columnVocabulary(c, numUsers, uc.vocabSize),
        }))
      : [];
  const userNumeric =
    uc.enabled && u !== null
      ? (u.numbers ?? []).map((c) => {
          const known = c.values.subarray(0, numUsers).filter((v) => !Number.isNaN(v));
          return { name: c.name, normalizer: QuantileNormalizer.fit(known, uc.numQuantiles) };
        })
      : [];
  return { item, userCategorical, userNumeric };
}

/** Rows of a CSR bag per entity: entity e's table rows are rows[offsets[e] .. offsets[e+1]). */
export interface BagRows {
  readonly offsets: Int32Array;
  readonly rows: Int32Array;
  readonly maxPerRow: number;
}

/**
 * The table rows of column `name` for entities 0..n-1 of `columns` (values outside the
 * vocabulary are left out; a dataset without the column gives empty bags).
 */
export function columnBagRows(
  columns: readonly CategoricalColumn[] | undefined,
  name: string,
  vocab: Vocabulary,
  n: number,
): BagRows {
  const c = columns?.find((x) => x.name === name);
  const offsets = new Int32Array(n + 1);
  if (c === undefined) return { offsets, rows: new Int32Array(0), maxPerRow: 0 };
  const byValue = Int32Array.from(c.names, (v) => vocab.lookup(v));
  const rows: number[] = [];
  let maxPerRow = 0;
  for (let e = 0; e < n; e++) {
    if (e + 1 < c.offsets.length) {
      for (let k = c.offsets[e]; k < c.offsets[e + 1]; k++) {
        const r = byValue[c.values[k]];
        if (r > 0) rows.push(r);
      }
    }
    offsets[e + 1] = rows.length;
    maxPerRow = Math.max(maxPerRow, offsets[e + 1] - offsets[e]);
  }
  return { offsets, rows: Int32Array.from(rows), maxPerRow };
}

/**
 * The dense block of numeric column `name` for users 0..n-1, NUMBER_COLUMN_WIDTH floats per user
 * (a dataset without the column gives "unknown" for everyone).
 */
export function numberColumnBlock(
  data: Dataset,
  name: string,
  normalizer: QuantileNormalizer,
  n: number,
): Float32Array {
  const c = data.userInfo?.numbers?.find((x) => x.name === name);
  const out = new Float32Array(n * NUMBER_COLUMN_WIDTH);
  for (let u = 0; u < n; u++) {
    const v = c !== undefined && u < c.values.length ? c.values[u] : NaN;
    if (Number.isNaN(v)) out[u * NUMBER_COLUMN_WIDTH + 3] = 1;
    else normalizer.transformInto(v, out, u * NUMBER_COLUMN_WIDTH);
  }
  return out;
}

export interface FittedColumnsJSON {
  readonly item: readonly { readonly name: string; readonly vocab: VocabularyJSON }[];
  readonly userCategorical: readonly { readonly name: string; readonly vocab: VocabularyJSON }[];
  readonly userNumeric: readonly { readonly name: string; readonly normalizer: QuantileNormalizerJSON }[];
}

export function columnsToJSON(f: FittedColumns): FittedColumnsJSON {
  return {
    item: f.item.map((c) => ({ name: c.name, vocab: c.vocab.toJSON() })),
    userCategorical: f.userCategorical.map((c) => ({ name: c.name, vocab: c.vocab.toJSON() })),
    userNumeric: f.userNumeric.map((c) => ({ name: c.name, normalizer: c.normalizer.toJSON() })),
  };
}

/** Manifests written before named columns existed have none. */
export function columnsFromJSON(j: FittedColumnsJSON | undefined): FittedColumns {
  if (j === undefined) return NO_COLUMNS;
  return {
    item: j.item.map((c) => ({ name: c.name, vocab: Vocabulary.fromJSON(c.vocab) })),
    userCategorical: j.userCategorical.map((c) => ({ name: c.name, vocab: Vocabulary.fromJSON(c.vocab) })),
    userNumeric: j.userNumeric.map((c) => ({
      name: c.name,
      normalizer: QuantileNormalizer.fromJSON(c.normalizer),
    })),
  };
}
