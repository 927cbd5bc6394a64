/**
 * Configuration of the ranker: the features (src/features/ranking-config.ts), the network (the
 * paper's Table 1 towers, none / 256 / 512 / 1024 / 512→256 / 1024→512 / 1024→512→256, ending in
 * one logit) and its training (weighted logistic regression, Adam, early stopping on the
 * validation weighted per-user loss). Defaults are here once; `resolveRankerConfig` is the one
 * validator and names the offending key.
 */
import {
  defaultRankingFeatureConfig,
  resolveRankingFeatureConfig,
  type RankingFeatureConfig,
} from "../../features/ranking-config.js";

export interface RankerNetworkConfig {
  /** Hidden ReLU widths; [] = logistic regression on the inputs (Table 1's "none"). */
  hidden: number[];
  /** Standard deviation of the initial embedding rows. */
  embeddingInitStd: number;
  dropout: number;
}

export interface RankerTrainConfig {
  /** Impression lists per minibatch. */
  listsPerBatch: number;
  /** Negatives kept per training list (a seeded sample, fixed for the run); 0 = all. */
  negativesPerList: number;
  /** Positive weight: "engagement" (the ImpressionSet's weight, e.g. the rating) or "unit" (1). */
  positiveWeight: "engagement" | "unit";
  epochs: number;
  /** Epochs without a validation improvement before stopping. */
  patience: number;
  lr: number;
  embeddingLr: number | null;
  weightDecay: number;
  embeddingL2: number;
}

export interface RankerConfig {
  features: RankingFeatureConfig;
  network: RankerNetworkConfig;
  train: RankerTrainConfig;
}

export const defaultRankerNetworkConfig: RankerNetworkConfig = {
  hidden: [256],
  embeddingInitStd: 0.05,
  dropout: 0,
};

export const defaultRankerTrainConfig: RankerTrainConfig = {
  listsPerBatch: 32,
  negativesPerList: 40,
  positiveWeight: "engagement",
  epochs: 20,
  patience: 3,
  lr: 1e-3,
  embeddingLr: null,
  weightDecay: 0,
  embeddingL2: 0,
};

export interface RankerConfigInput {
  features?: Partial<RankingFeatureConfig>;
  network?: Partial<RankerNetworkConfig>;
  train?: Partial<RankerTrainConfig>;
}

/** The paper's Table 1 towers by name ("none", "256", ..., "1024-512-256"). */
export const TABLE1_TOWERS: Readonly<Record<string, readonly number[]>> = {
  none: [],
  "256": [256],
  "512": [512],
  "1024": [1024],
  "512-256": [512, 256],
  "1024-512": [1024, 512],
  "1024-512-256": [1024, 512, 256],
};

/** Merges a partial config over the defaults, rejecting unknown keys and bad values by name. */
export function resolveRankerConfig(input: RankerConfigInput = {}, where = "config"): RankerConfig {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new Error(`${where}: expected an object`);
  for (const key of Object.keys(input))
    if (!["features", "network", "train"].includes(key))
      throw new Error(`${where}: unknown key "${key}" (expected features, network, train)`);
  checkKeys(input.network, Object.keys(defaultRankerNetworkConfig), `${where}.network`);
  checkKeys(input.train, Object.keys(defaultRankerTrainConfig), `${where}.train`);
  const features = resolveRankingFeatureConfig(input.features ?? {}, `${where}.features`);
  const network: RankerNetworkConfig = { ...defaultRankerNetworkConfig, ...input.network };
  network.hidden = [...network.hidden];
  const train: RankerTrainConfig = { ...defaultRankerTrainConfig, ...input.train };
  const n = `${where}.network`;
  if (!Array.isArray(network.hidden) || !network.hidden.every((w) => Number.isInteger(w) && w >= 1))
    throw new Error(
      `${n}.hidden: expected an array of positive integers, got ${JSON.stringify(network.hidden)}`,
    );
  if (!(network.embeddingInitStd >= 0)) throw new Error(`${n}.embeddingInitStd: expected >= 0`);
  if (!(network.dropout >= 0 && network.dropout < 1))
    throw new Error(`${n}.dropout: expected a rate in [0, 1)`);
  const t = `${where}.train`;
  const posInt = ["listsPerBatch", "epochs", "patience"] as const;
  for (const k of posInt)
    if (!Number.isInteger(train[k]) || train[k] < 1)
      throw new Error(`${t}.${k}: expected an integer >= 1, got ${train[k]}`);
  if (!Number.isInteger(train.negativesPerList) || train.negativesPerList < 0)
    throw new Error(`${t}.negativesPerList: expected an integer >= 0, got ${train.negativesPerList}`);
  if (train.positiveWeight !== "engagement" && train.positiveWeight !== "unit")
    throw new Error(
      `${t}.positiveWeight: expected "engagement" or "unit", got ${String(train.positiveWeight)}`,
    );
  if (!(train.lr > 0)) throw new Error(`${t}.lr: expected > 0, got ${train.lr}`);
  if (train.embeddingLr !== null && !(train.embeddingLr > 0))
    throw new Error(`${t}.embeddingLr: expected null or > 0, got ${train.embeddingLr}`);
  if (!(train.weightDecay >= 0)) throw new Error(`${t}.weightDecay: expected >= 0`);
  if (!(train.embeddingL2 >= 0)) throw new Error(`${t}.embeddingL2: expected >= 0`);
  return { features, network, train };
}

function checkKeys(obj: object | undefined, known: string[], where: string): void {
  if (obj === undefined) return;
  if (typeof obj !== "object" || obj === null || Array.isArray(obj))
    throw new Error(`${where}: expected an object`);
  for (const k of Object.keys(obj))
    if (!known.includes(k)) throw new Error(`${where}: unknown key "${k}" (expected ${known.join(", ")})`);
}

export { defaultRankingFeatureConfig };
