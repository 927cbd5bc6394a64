/**
 * Configuration of the candidate generator: the network's shape (the paper's tower depths 0-4 or
 * explicit widths, output item embeddings) and its training (full or sampled softmax, Adam,
 * regularization, early stopping). The defaults are the configuration tuned on validation for
 * MovieLens (docs/results/candidates-tuning.md); every field can be overridden from a JSON file.
 * Defaults and rules follow src/config/resolve-config.ts (one merge, one error format).
 */
import {
  boolean,
  ConfigError,
  configPath,
  describeValue,
  integer,
  list,
  nullable,
  number,
  oneOf,
  resolveConfig,
  type ConfigRules,
} from "../../config/resolve-config.js";
import {
  CANDIDATE_CONFIG_RULES,
  checkFeatureRelations,
  DEFAULT_CANDIDATE_CONFIG,
  type CandidateFeatureConfig,
  type CandidateFeatureConfigInput,
} from "../../features/candidate-config.js";

export interface CandidateNetworkConfig {
  /** Paper tower depth 0-4 (0: one linear layer to outputDim). Ignored when `widths` is given. */
  depth: number;
  /** Explicit hidden widths; the last one is the user-vector width and must equal outputDim. */
  widths: number[] | null;
  /** Width of the user vector and of the item output embeddings (the paper's 256). */
  outputDim: number;
  /** ReLU on the last tower layer (the paper's user vector is a ReLU output). */
  finalRelu: boolean;
  /** A learned per-item bias added to every logit. */
  itemBias: boolean;
  /** Use the item-id input table as the output embeddings (needs outputDim = its dim). */
  tieOutput: boolean;
  /** Dropout on the concatenated input and on hidden layers (training only). */
  dropout: number;
  /** Standard deviation of the initial embedding rows. */
  embeddingInitStd: number;
}

export interface CandidateTrainConfig {
  /** "auto" picks full softmax when the catalog has at most `fullSoftmaxMaxItems` items. */
  softmax: "auto" | "full" | "sampled";
  fullSoftmaxMaxItems: number;
  /** Shared negatives per batch for the sampled softmax. */
  numNegatives: number;
  /** Negatives are drawn from unigram^alpha over training label counts. */
  samplingAlpha: number;
  batchSize: number;
  /** Maximum epochs; training stops earlier when validation NDCG@10 stops improving. */
  epochs: number;
  /** Epochs without a validation improvement before stopping. */
  patience: number;
  lr: number;
  /** Per-epoch learning-rate factor: epoch e trains with lr · lrDecay^(e−1) (1 = constant). */
  lrDecay: number;
  /** Learning rate of embedding tables (lazy Adam); null = lr. */
  embeddingLr: number | null;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay of dense weights (AdamW). */
  weightDecay: number;
  /** L2 penalty on the embedding rows touched by a batch (sparse weight decay). */
  embeddingL2: number;
}

export interface CandidateConfig {
  /** Feature configuration, passed to the feature builder (src/features/candidate-config.ts). */
  features: CandidateFeatureConfig;
  network: CandidateNetworkConfig;
  train: CandidateTrainConfig;
}

export const defaultNetworkConfig: CandidateNetworkConfig = {
  depth: 1,
  widths: null,
  outputDim: 64,
  finalRelu: false,
  itemBias: true,
  tieOutput: true,
  dropout: 0.3,
  embeddingInitStd: 0.05,
};

export const defaultTrainConfig: CandidateTrainConfig = {
  softmax: "auto",
  fullSoftmaxMaxItems: 20000,
  numNegatives: 2000,
  samplingAlpha: 0.75,
  batchSize: 512,
  epochs: 30,
  patience: 6,
  lr: 1e-3,
  lrDecay: 1,
  embeddingLr: null,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  embeddingL2: 0,
};

/** Every default of the candidate generator (features, network, training) in one object. */
export const defaultCandidateConfig: CandidateConfig = {
  features: DEFAULT_CANDIDATE_CONFIG,
  network: defaultNetworkConfig,
  train: defaultTrainConfig,
};

const positive = integer(1);

const networkRules: ConfigRules<CandidateNetworkConfig> = {
  depth: integer(0, 4),
  widths: nullable(list(positive, { nonEmpty: true })),
  outputDim: positive,
  finalRelu: boolean(),
  itemBias: boolean(),
  tieOutput: boolean(),
  dropout: number({ ge: 0, lt: 1 }),
  embeddingInitStd: number({ gt: 0 }),
};

const trainRules: ConfigRules<CandidateTrainConfig> = {
  softmax: oneOf("auto", "full", "sampled"),
  fullSoftmaxMaxItems: integer(0),
  numNegatives: positive,
  samplingAlpha: number({ ge: 0, le: 1 }),
  batchSize: positive,
  epochs: positive,
  patience: positive,
  lr: number({ gt: 0 }),
  lrDecay: number({ gt: 0, le: 1 }),
  embeddingLr: nullable(number({ gt: 0 })),
  beta1: number({ ge: 0, lt: 1 }),
  beta2: number({ ge: 0, lt: 1 }),
  eps: number({ gt: 0 }),
  weightDecay: number({ ge: 0 }),
  embeddingL2: number({ ge: 0 }),
};

/** A partial configuration as read from JSON: every field optional, merged over the defaults. */
export interface CandidateConfigInput {
  features?: CandidateFeatureConfigInput;
  network?: Partial<CandidateNetworkConfig>;
  train?: Partial<CandidateTrainConfig>;
}

/**
 * Merges a partial config over the defaults, rejecting unknown keys and bad values by path
 * (`<where>.<path>: expected …, got …`, a ConfigError). The feature part is checked by the feature
 * config's own rules (CANDIDATE_CONFIG_RULES, checkFeatureRelations), the same ones
 * mergeCandidateConfig applies, so it is typed and checked once, here.
 */
export function resolveCandidateModelConfig(
  input: CandidateConfigInput = {},
  where = "config",
): CandidateConfig {
  const network: unknown = (input as { network?: unknown } | null)?.network;
  if (typeof network === "object" && network !== null && "recentWatches" in network) {
    throw new ConfigError(
      configPath(where, "network"),
      "no recentWatches (it moved to features.recentWatches = { enabled, counts })",
      "network.recentWatches",
    );
  }
  const c = resolveConfig(
    defaultCandidateConfig,
    { features: CANDIDATE_CONFIG_RULES, network: networkRules, train: trainRules },
    input,
    where,
  );
  checkFeatureRelations(c.features, configPath(where, "features"));
  const n = c.network;
  if (n.widths !== null && n.widths[n.widths.length - 1] !== n.outputDim) {
    throw new ConfigError(
      configPath(where, "network.widths"),
      `a last width equal to network.outputDim (${n.outputDim})`,
      describeValue(n.widths),
    );
  }
  // The tied output table is the item input table, so the user vector must be as wide as its rows.
  if (n.tieOutput && n.outputDim !== c.features.embeddingDim.item) {
    throw new ConfigError(
      configPath(where, "network.outputDim"),
      `features.embeddingDim.item (${c.features.embeddingDim.item}), since network.tieOutput (default true) scores with the item input table: set both, or network.tieOutput false for an output table of its own`,
      describeValue(n.outputDim),
    );
  }
  return c;
}

/** Which softmax a model trains with, and why (reported in the training display and summary). */
export interface SoftmaxChoice {
  readonly requested: CandidateTrainConfig["softmax"];
  readonly used: "full" | "sampled";
  readonly reason: string;
}

/** "auto": the full softmax for catalogs up to fullSoftmaxMaxItems items, else the sampled one. */
export function chooseSoftmax(train: CandidateTrainConfig, numItems: number): SoftmaxChoice {
  const s = train.softmax;
  if (s !== "auto") return { requested: s, used: s, reason: "set by train.softmax" };
  const max = train.fullSoftmaxMaxItems;
  return numItems <= max
    ? { requested: s, used: "full", reason: `auto: ${numItems} items <= train.fullSoftmaxMaxItems ${max}` }
    : { requested: s, used: "sampled", reason: `auto: ${numItems} items > train.fullSoftmaxMaxItems ${max}` };
}

/** Hidden widths of the tower: the paper's halving layouts ending at outputDim, or explicit widths. */
export function towerWidths(n: CandidateNetworkConfig): number[] {
  if (n.widths !== null) return [...n.widths];
  const widths: number[] = [];
  for (let i = n.depth - 1; i >= 0; i--) widths.push(n.outputDim * 2 ** i);
  // Depth 0 is a single linear layer to the output dim.
  return widths.length === 0 ? [n.outputDim] : widths;
}
