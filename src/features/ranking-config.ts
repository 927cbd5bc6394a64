/**
 * Configuration of the ranking features (the paper's Section 4.1 mapped to MovieLens): which
 * feature groups feed the ranker, how categorical vocabularies are truncated and sized, and how
 * continuous values are shaped. Defaults live here once; `resolveRankingFeatureConfig` is the one
 * validator, naming the offending key.
 */

export interface RankingFeatureConfig {
  /** Keep the top N items by frequency in positive training impressions (the item id table). */
  itemVocabulary: number;
  /** Embedding dimension ≈ embeddingK · ln(rows), clamped to [minDim, maxDim]. */
  embeddingK: number;
  minDim: number;
  maxDim: number;
  /** Most recent history items in the watched-ids bag. */
  watchedBag: number;
  /** Most recent history items in the last-watched bag (0: off). */
  lastWatched: number;
  /** Demographics and geography (gender, age, occupation, zip prefix) when the data has them. */
  demographics: boolean;
  zipPrefix: number;
  /** Item genres and release year (embedded). */
  itemSideInfo: boolean;
  yearBucket: number;
  /** The user's watch count / mean engagement / time since last watch in the item's genres. */
  genreAffinity: boolean;
  /** Earlier impressions of the item to the user: count and time since the last. */
  impressionHistory: boolean;
  /** Item popularity in the 7 and 30 days before the point, all-time count, and item age. */
  itemStatistics: boolean;
  /**
   * Per source: the rank and the score, standardized within the list ("list-z"), as is ("raw"), or
   * both; plus a "not proposed" indicator. Sources listed in `excludeSources` feed no feature.
   */
  sourceScore: "list-z" | "raw" | "both";
  excludeSources: string[];
  /** Feed x̃² and √x̃ next to x̃ (the paper's powers; off for the ablation). */
  powers: boolean;
  /** Quantiles gathered per continuous feature, and the most values sampled to fit them. */
  quantiles: number;
  quantileSample: number;
}

export const defaultRankingFeatureConfig: RankingFeatureConfig = {
  itemVocabulary: 20000,
  embeddingK: 4,
  minDim: 4,
  maxDim: 32,
  watchedBag: 50,
  lastWatched: 3,
  demographics: true,
  zipPrefix: 2,
  itemSideInfo: true,
  yearBucket: 5,
  genreAffinity: true,
  impressionHistory: true,
  itemStatistics: true,
  sourceScore: "both",
  excludeSources: [],
  powers: true,
  quantiles: 200,
  quantileSample: 200000,
};

export type RankingFeatureConfigInput = Partial<RankingFeatureConfig>;

const positiveIntKeys = [
  "itemVocabulary",
  "minDim",
  "maxDim",
  "watchedBag",
  "quantiles",
  "quantileSample",
  "yearBucket",
] as const;
const nonNegativeIntKeys = ["lastWatched", "zipPrefix"] as const;
const booleanKeys = [
  "demographics",
  "itemSideInfo",
  "genreAffinity",
  "impressionHistory",
  "itemStatistics",
  "powers",
] as const;

/** Merges a partial config over the defaults, rejecting unknown keys and bad values by name. */
export function resolveRankingFeatureConfig(
  input: RankingFeatureConfigInput = {},
  where = "features",
): RankingFeatureConfig {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new Error(`${where}: expected an object`);
  const known = Object.keys(defaultRankingFeatureConfig);
  for (const key of Object.keys(input)) {
    if (!known.includes(key))
      throw new Error(`${where}: unknown key "${key}" (expected ${known.join(", ")})`);
  }
  const c: RankingFeatureConfig = {
    ...defaultRankingFeatureConfig,
    ...input,
    excludeSources: [...(input.excludeSources ?? defaultRankingFeatureConfig.excludeSources)],
  };
  for (const k of positiveIntKeys)
    if (!Number.isInteger(c[k]) || c[k] < 1)
      throw new Error(`${where}.${k}: expected an integer >= 1, got ${c[k]}`);
  for (const k of nonNegativeIntKeys)
    if (!Number.isInteger(c[k]) || c[k] < 0)
      throw new Error(`${where}.${k}: expected an integer >= 0, got ${c[k]}`);
  for (const k of booleanKeys)
    if (typeof c[k] !== "boolean")
      throw new Error(`${where}.${k}: expected true or false, got ${String(c[k])}`);
  if (!(c.embeddingK > 0)) throw new Error(`${where}.embeddingK: expected a number > 0, got ${c.embeddingK}`);
  if (c.minDim > c.maxDim) throw new Error(`${where}.minDim: ${c.minDim} exceeds maxDim ${c.maxDim}`);
  if (!["list-z", "raw", "both"].includes(c.sourceScore))
    throw new Error(`${where}.sourceScore: expected "list-z", "raw" or "both", got ${String(c.sourceScore)}`);
  if (!Array.isArray(c.excludeSources) || !c.excludeSources.every((s) => typeof s === "string"))
    throw new Error(`${where}.excludeSources: expected an array of source names`);
  return c;
}

/** Embedding width for a table of `rows` rows: ≈ k·ln(rows), clamped. */
export function embeddingDim(config: RankingFeatureConfig, rows: number): number {
  const d = Math.round(config.embeddingK * Math.log(Math.max(rows, 2)));
  return Math.min(config.maxDim, Math.max(config.minDim, d));
}
