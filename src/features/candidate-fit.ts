/**
 * Fitting the candidate features on the training split: the time range (for example age), the
 * genre / token / demographic vocabularies, the release-year buckets and the continuous-feature
 * normalizers. Everything a saved model must carry is in FittedCandidateFeatures; the rest (side
 * information tables, user sequences) is derived again from a dataset with the same dictionaries.
 */
import type { Dataset } from "../data/dataset.js";
import type { ResolvedCandidateConfig } from "./candidate-config.js";
import {
  fitDemographics,
  fitGenreVocabulary,
  fitTokenVocabulary,
  fitYearBuckets,
  type DemographicFit,
  type YearBuckets,
} from "./candidate-side-info.js";
import { fitColumns, type FittedColumns } from "./candidate-columns.js";
import { fitUserContinuous, type UserContinuousNormalizers } from "./user-continuous.js";
import type { UserSequences } from "./user-sequences.js";
import type { Vocabulary } from "./vocabulary.js";

/** Everything fitted on the training split. */
export interface FittedCandidateFeatures {
  readonly config: ResolvedCandidateConfig;
  readonly numItems: number;
  readonly numUsers: number;
  readonly minTrainTime: number;
  readonly maxTrainTime: number;
  readonly genreVocab: Vocabulary | null;
  readonly tokenVocab: Vocabulary | null;
  readonly years: YearBuckets | null;
  readonly demographics: DemographicFit;
  readonly continuous: UserContinuousNormalizers | null;
  /** The side files' named columns (none for MovieLens). */
  readonly columns: FittedColumns;
}

/** The earliest and latest event time (both 0 without events). */
export function timeRange(time: Float64Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const t of time) {
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return time.length === 0 ? { min: 0, max: 0 } : { min, max };
}

/** Fits on `train` (its events only) with the resolved config; `seq` = its users' sorted sequences. */
export function fitCandidateFeatures(
  train: Dataset,
  cfg: ResolvedCandidateConfig,
  seq: UserSequences,
): FittedCandidateFeatures {
  const numItems = train.items.ids.length;
  const numUsers = train.users.ids.length;
  const range = timeRange(train.events.time);

  const genreVocab = cfg.itemSideInfo.genres ? fitGenreVocabulary(train) : null;
  const years = cfg.itemSideInfo.year ? fitYearBuckets(train, cfg.itemSideInfo.yearBucketSize) : null;

  let tokenVocab: Vocabulary | null = null;
  if (cfg.search.enabled && train.tags !== null) {
    const lastTrainTime = new Float64Array(numUsers).fill(-Infinity);
    for (let u = 0; u < numUsers; u++) {
      if (seq.offsets[u + 1] > seq.offsets[u]) lastTrainTime[u] = seq.times[seq.offsets[u + 1] - 1];
    }
    // word2vec knows every training token (min count 1): the ones the truncation would drop keep
    // rows (after the top vocabSize, by count) so they can hold their word2vec vectors.
    const w2v = cfg.search.init === "word2vec";
    tokenVocab = fitTokenVocabulary(train.tags, lastTrainTime, {
      maxSize: w2v ? Number.MAX_SAFE_INTEGER : cfg.search.vocabSize,
      minCount: w2v ? 1 : cfg.search.minCount,
    });
  }

  const d = cfg.demographics;
  const demographics: DemographicFit =
    d.enabled && train.userInfo !== null
      ? fitDemographics(train.userInfo, d)
      : { ageCode: null, occupation: null, zip: null, ageYears: null };

  const continuous = cfg.userContinuous.enabled
    ? fitUserContinuous(seq.offsets, seq.times, cfg.userContinuous.numQuantiles)
    : null;

  return {
    config: cfg,
    numItems,
    numUsers,
    minTrainTime: range.min,
    maxTrainTime: range.max,
    genreVocab,
    tokenVocab,
    years,
    demographics,
    continuous,
    columns: fitColumns(train, cfg),
  };
}
