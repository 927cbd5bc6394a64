/**
 * The plain-JSON form of fitted candidate features (stored in a model manifest) and back: the
 * resolved config with its auto-off reasons, the time range, the vocabularies, year buckets and
 * normalizers. A stored config is checked again on the way in (same rules as a user's config).
 */
import { mergeCandidateConfig, type ResolvedCandidateConfig } from "./candidate-config.js";
import { columnsFromJSON, columnsToJSON, type FittedColumnsJSON } from "./candidate-columns.js";
import type { FittedCandidateFeatures } from "./candidate-fit.js";
import type { YearBuckets } from "./candidate-side-info.js";
import { QuantileNormalizer, type QuantileNormalizerJSON } from "./quantile.js";
import { Vocabulary, type VocabularyJSON } from "./vocabulary.js";

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
  /** Named side-file columns; absent when there are none (and in manifests that predate them). */
  readonly columns?: FittedColumnsJSON;
}

export function fittedToJSON(f: FittedCandidateFeatures): CandidateFeaturesJSON {
  const vj = (v: Vocabulary | null): VocabularyJSON | null => (v === null ? null : v.toJSON());
  const c = f.continuous;
  const k = f.columns;
  const hasColumns = k.item.length + k.userCategorical.length + k.userNumeric.length > 0;
  return {
    version: 1,
    config: f.config,
    numItems: f.numItems,
    numUsers: f.numUsers,
    minTrainTime: f.minTrainTime,
    maxTrainTime: f.maxTrainTime,
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
      c === null
        ? null
        : { numPrev: c.numPrev.toJSON(), sinceFirst: c.sinceFirst.toJSON(), sinceLast: c.sinceLast.toJSON() },
    ...(hasColumns ? { columns: columnsToJSON(f.columns) } : {}),
  };
}

/** The fitted state of a JSON form (its version and config checked; `where` names it in errors). */
export function fittedFromJSON(
  json: CandidateFeaturesJSON,
  where = "candidate features JSON",
): FittedCandidateFeatures {
  if (json?.version !== 1) throw new TypeError(`${where}: unsupported version ${String(json?.version)}`);
  const { autoOff, ...rest } = json.config;
  const config: ResolvedCandidateConfig = {
    ...mergeCandidateConfig(rest, `${where}.config`),
    autoOff: { ...autoOff },
  };
  const v = json.vocabularies;
  const vocab = (j: VocabularyJSON | null): Vocabulary | null => (j === null ? null : Vocabulary.fromJSON(j));
  const n = json.normalizers;
  return {
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
    continuous:
      n === null
        ? null
        : {
            numPrev: QuantileNormalizer.fromJSON(n.numPrev),
            sinceFirst: QuantileNormalizer.fromJSON(n.sinceFirst),
            sinceLast: QuantileNormalizer.fromJSON(n.sinceLast),
          },
    columns: columnsFromJSON(json.columns),
  };
}
