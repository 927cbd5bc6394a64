/**
 * Configuration of the candidate generator: the network's shape (the paper's tower depths 0-4 or
 * explicit widths, output item embeddings) and its training (full or sampled softmax, Adam,
 * regularization, early stopping). The defaults are the configuration tuned on validation for
 * MovieLens (docs/results/candidates-tuning.md); every field can be overridden from a JSON file.
 */

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
  /** Feature configuration, passed through to the feature builder (src/features). */
  features: Record<string, unknown>;
  network: CandidateNetworkConfig;
  train: CandidateTrainConfig;
}

export const defaultNetworkConfig: CandidateNetworkConfig = {
  depth: 1,
  widths: null,
  outputDim: 64,
  finalRelu: false,
  itemBias: true,
  tieOutput: false,
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
  patience: 3,
  lr: 2e-3,
  lrDecay: 1,
  embeddingLr: null,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  embeddingL2: 0,
};

/** A partial configuration as read from JSON: every field optional, merged over the defaults. */
export interface CandidateConfigInput {
  features?: Record<string, unknown>;
  network?: Partial<CandidateNetworkConfig>;
  train?: Partial<CandidateTrainConfig>;
}

const networkKeys = Object.keys(defaultNetworkConfig);
const trainKeys = Object.keys(defaultTrainConfig);

/** Merges a partial config over the defaults, rejecting unknown keys and bad values by name. */
export function resolveCandidateModelConfig(
  input: CandidateConfigInput = {},
  where = "config",
): CandidateConfig {
  for (const key of Object.keys(input)) {
    if (!["features", "network", "train"].includes(key)) {
      throw new Error(`${where}: unknown key "${key}" (expected features, network, train)`);
    }
  }
  if (input.network && "recentWatches" in input.network) {
    throw new Error(
      `${where}.network.recentWatches: moved to the feature config, features.recentWatches = { enabled, counts }`,
    );
  }
  checkKeys(input.network, networkKeys, `${where}.network`);
  checkKeys(input.train, trainKeys, `${where}.train`);
  const network: CandidateNetworkConfig = { ...defaultNetworkConfig, ...input.network };
  const train: CandidateTrainConfig = { ...defaultTrainConfig, ...input.train };
  const config: CandidateConfig = { features: { ...input.features }, network, train };
  validate(config, where);
  return config;
}

function checkKeys(obj: object | undefined, allowed: string[], where: string): void {
  if (obj === undefined) return;
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
    throw new Error(`${where}: expected an object`);
  }
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      throw new Error(`${where}: unknown key "${key}" (known: ${allowed.join(", ")})`);
  }
}

function validate(c: CandidateConfig, where: string): void {
  const n = c.network;
  const t = c.train;
  const positiveInt = (v: number, name: string) => {
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`${where}.${name}: expected a positive integer, got ${v}`);
  };
  if (!Number.isInteger(n.depth) || n.depth < 0 || n.depth > 4) {
    throw new Error(`${where}.network.depth: expected an integer 0-4, got ${n.depth}`);
  }
  positiveInt(n.outputDim, "network.outputDim");
  if (n.widths !== null) {
    if (!Array.isArray(n.widths) || n.widths.length === 0) {
      throw new Error(`${where}.network.widths: expected a non-empty array of positive integers or null`);
    }
    n.widths.forEach((w, i) => positiveInt(w, `network.widths[${i}]`));
    if (n.widths[n.widths.length - 1] !== n.outputDim) {
      throw new Error(`${where}.network.widths: the last width must equal outputDim (${n.outputDim})`);
    }
  }
  if (!(n.embeddingInitStd > 0))
    throw new Error(`${where}.network.embeddingInitStd: expected > 0, got ${n.embeddingInitStd}`);
  if (!(n.dropout >= 0 && n.dropout < 1))
    throw new Error(`${where}.network.dropout: expected [0, 1), got ${n.dropout}`);
  if (!["auto", "full", "sampled"].includes(t.softmax)) {
    throw new Error(`${where}.train.softmax: expected "auto", "full" or "sampled", got ${String(t.softmax)}`);
  }
  positiveInt(t.numNegatives, "train.numNegatives");
  positiveInt(t.batchSize, "train.batchSize");
  positiveInt(t.epochs, "train.epochs");
  positiveInt(t.patience, "train.patience");
  if (!(t.lr > 0)) throw new Error(`${where}.train.lr: expected > 0, got ${t.lr}`);
  if (!(t.lrDecay > 0 && t.lrDecay <= 1))
    throw new Error(`${where}.train.lrDecay: expected (0, 1], got ${t.lrDecay}`);
  if (t.embeddingLr !== null && !(t.embeddingLr > 0)) {
    throw new Error(`${where}.train.embeddingLr: expected > 0 or null, got ${t.embeddingLr}`);
  }
  if (!(t.samplingAlpha >= 0 && t.samplingAlpha <= 1)) {
    throw new Error(`${where}.train.samplingAlpha: expected [0, 1], got ${t.samplingAlpha}`);
  }
  if (!(t.weightDecay >= 0))
    throw new Error(`${where}.train.weightDecay: expected >= 0, got ${t.weightDecay}`);
  if (!(t.embeddingL2 >= 0))
    throw new Error(`${where}.train.embeddingL2: expected >= 0, got ${t.embeddingL2}`);
}

/** Hidden widths of the tower: the paper's halving layouts ending at outputDim, or explicit widths. */
export function towerWidths(n: CandidateNetworkConfig): number[] {
  if (n.widths !== null) return [...n.widths];
  const widths: number[] = [];
  for (let i = n.depth - 1; i >= 0; i--) widths.push(n.outputDim * 2 ** i);
  // Depth 0 is a single linear layer to the output dim.
  return widths.length === 0 ? [n.outputDim] : widths;
}
