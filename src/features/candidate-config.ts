/**
 * The candidate generator's feature configuration: which input groups of the paper's Section 3
 * network are on (watch vector, item side info, search vector, demographics + geography, example
 * age, continuous user features), their sizes, and how training examples are chosen. Every group can
 * be switched off (the paper's Figure 6 compares feature sets), and `resolveCandidateConfig` turns
 * off groups the dataset cannot feed (no tags file, no users file), recording why.
 */
import {
  boolean,
  ConfigError,
  configPath,
  integer,
  list,
  mergeConfigInputs,
  number,
  oneOf,
  resolveConfig,
  type ConfigInput,
  type ConfigRules,
} from "../config/resolve-config.js";
import type { Dataset } from "../data/dataset.js";

/** How training examples are drawn from each user's training history. */
export interface ExampleConfig {
  /** At most this many examples per user (0 = no cap), so heavy users do not dominate the loss. */
  readonly perUserCap: number;
  /** Which labels a capped user keeps: the most recent ones, or a seeded uniform sample over the history. */
  readonly selection: "recent" | "uniform";
  /**
   * "rollback" (the paper's choice): label = one watch, inputs = only the events before it.
   * "heldout" (the paper's Figure 5 alternative): label = a random watch, inputs = all the user's
   * other watches, future ones included — kept to show why rollback matters.
   */
  readonly mode: "rollback" | "heldout";
  /** Rollback labels need at least this many earlier events (0 allows empty-history examples). */
  readonly minHistory: number;
  /**
   * Recency weighting (the project note's "learn more from recent data"): each example's loss is
   * weighted ∝ 2^(−(t_max − t_label) / halfLife days), scaled to mean 1 (recencyWeights). 0 = off.
   */
  readonly recencyHalfLifeDays: number;
  readonly seed: number;
}

/** How a pre-trained (word2vec) table is used after initializing the embedding table. */
export type PretrainedUse = "fine-tune" | "frozen";

export interface CandidateFeatureConfig {
  /** Watch vector: mean of the embeddings of the ≤ maxLen most recent watches. Always on. */
  readonly watches: { readonly maxLen: number };
  /**
   * Recent watches (the ranking half's "last watched ids"): for each R in `counts`, the mean of the
   * id embeddings of the R most recent watches enters as its own input (bag "recentWatches<R>",
   * sharing the item table). Moved here from the network config (`network.recentWatches`).
   */
  readonly recentWatches: { readonly enabled: boolean; readonly counts: readonly number[] };
  /**
   * Order-aware watch encoder: the ≤ maxLen most recent watches in time order, each as its watch
   * slot embedding (id + the item side info summed in, scaled by √dim) plus a learned position
   * embedding, through `blocks` pre-LN blocks of causal self-attention + feed-forward
   * (src/engine/layers TransformerEncoder); the output at the last position enters the
   * concatenated input as its own slot (width embeddingDim.item).
   */
  readonly sequence: {
    readonly enabled: boolean;
    readonly maxLen: number;
    readonly blocks: number;
    /** Attention heads; embeddingDim.item must be a multiple. */
    readonly heads: number;
    /** Feed-forward hidden width; 0 = embeddingDim.item (SASRec's). */
    readonly ffnDim: number;
    /** Dropout on the encoder's input, attention and feed-forward (training only). */
    readonly dropout: number;
    /**
     * Training over every position (the SASRec+ objective): a user's labels are grouped into
     * windows of ≤ maxLen consecutive positions, the encoder runs once per window and the output
     * at slot j (which sees only the watches before the label) feeds the example whose label
     * follows it. Off: every example runs the encoder on its own history (maxLen× the cost).
     */
    readonly everyPosition: boolean;
    /**
     * Every-position training: the fewest ordered watches a label reads (when it has that many).
     * 0 = windows of maxLen consecutive labels that do not overlap (a window's first labels see
     * 1–2 watches); maxLen / 2 = windows overlapping by half (stride maxLen / 2, the loss on each
     * window's second half, about twice the encoder work). At most maxLen.
     */
    readonly minContext: number;
  };
  /**
   * A watched item's input embedding = id + mean of genre embeddings + release-year-bucket
   * embedding + the mean embedding of each named item column (--item-category-cols).
   */
  readonly itemSideInfo: {
    readonly enabled: boolean;
    readonly genres: boolean;
    readonly year: boolean;
    /** Years per bucket (e.g. 5 → 1990–1994 share an embedding). */
    readonly yearBucketSize: number;
    /** The items file's named categorical columns (none in MovieLens). */
    readonly columns: boolean;
    /** Each named item column keeps its most frequent values, at most this many. */
    readonly columnVocabSize: number;
    /**
     * Initial item id embeddings: "random", or "item2vec" (SGNS over the training users' watch
     * sequences, src/engine/word2vec), then trained on ("fine-tune") or kept ("frozen"; a tied
     * output table is then frozen too).
     */
    readonly idInit: "random" | "item2vec";
    readonly idPretrained: PretrainedUse;
  };
  /** Search vector: unigrams + bigrams of the tags the user applied before the label. */
  readonly search: {
    readonly enabled: boolean;
    /** Bag of at most this many most recent tokens. */
    readonly maxTokens: number;
    /** Vocabulary: the top vocabSize tokens by count with count ≥ minCount; the rest are out of vocabulary. */
    readonly vocabSize: number;
    readonly minCount: number;
    /**
     * Initial token embeddings: "random", or "word2vec" (SGNS over the training users' tag
     * sentences + the tag genome when present). With word2vec, tokens the vocabulary would drop
     * (vocabSize, minCount) but word2vec knows get rows too, holding their word2vec vectors.
     */
    readonly init: "random" | "word2vec";
    readonly pretrained: PretrainedUse;
  };
  /** Demographics and geography (users file of ml-100k / ml-1m). */
  readonly demographics: {
    readonly enabled: boolean;
    readonly gender: boolean;
    /** ml-100k: age in years → dense value in [0, 1]; ml-1m: age code → bucket embedding. */
    readonly age: boolean;
    readonly occupation: boolean;
    readonly zip: boolean;
    /** Leading characters of the zip code that form the geography embedding (1..5). */
    readonly zipPrefix: number;
  };
  /**
   * The users file's named columns (--user-category-cols: a bag embedding each;
   * --user-number-cols: x̃, x̃², √x̃ of the quantile-normalized value and a missing flag).
   */
  readonly userColumns: {
    readonly enabled: boolean;
    /** Each named categorical column keeps its most frequent values, at most this many. */
    readonly vocabSize: number;
    /** Quantiles gathered for each numeric column's x̃ = F(x). */
    readonly numQuantiles: number;
  };
  /** Example age (t_max − t_label) / (t_max − t_min) during training; 0 at serving. */
  readonly exampleAge: { readonly enabled: boolean };
  /** Number of previous watches, time since the first and since the last watch: x̃, x̃², √x̃ each. */
  readonly userContinuous: {
    readonly enabled: boolean;
    /** Quantiles gathered for the x̃ = F(x) normalization. */
    readonly numQuantiles: number;
  };
  /** Embedding widths. Genre and year tables use `item` (they are summed into the item's slot). */
  readonly embeddingDim: {
    readonly item: number;
    readonly token: number;
    /** Other categorical tables: round(perLog2Rows · log2(rows)), clamped to [minOther, maxOther]. */
    readonly perLog2Rows: number;
    readonly minOther: number;
    readonly maxOther: number;
  };
  readonly examples: ExampleConfig;
}

/** What callers pass: any subset of the config; the rest comes from the defaults. */
export type CandidateFeatureConfigInput = ConfigInput<CandidateFeatureConfig>;

/** The defaults: every group on; they are the tuned defaults (docs/results/candidates-tuning.md). */
export const DEFAULT_CANDIDATE_CONFIG: CandidateFeatureConfig = {
  watches: { maxLen: 50 },
  recentWatches: { enabled: true, counts: [1, 2, 3, 5, 10, 20] },
  sequence: {
    enabled: false,
    maxLen: 50,
    blocks: 2,
    heads: 1,
    ffnDim: 0,
    dropout: 0.2,
    everyPosition: true,
    minContext: 0,
  },
  itemSideInfo: {
    enabled: true,
    genres: true,
    year: true,
    yearBucketSize: 5,
    columns: true,
    columnVocabSize: 100_000,
    idInit: "random",
    idPretrained: "fine-tune",
  },
  search: {
    enabled: true,
    maxTokens: 50,
    vocabSize: 100_000,
    minCount: 2,
    init: "random",
    pretrained: "fine-tune",
  },
  demographics: { enabled: true, gender: true, age: true, occupation: true, zip: true, zipPrefix: 2 },
  userColumns: { enabled: true, vocabSize: 100_000, numQuantiles: 1000 },
  exampleAge: { enabled: true },
  userContinuous: { enabled: true, numQuantiles: 1000 },
  embeddingDim: { item: 64, token: 32, perLog2Rows: 2, minOther: 2, maxOther: 16 },
  examples: {
    perUserCap: 0,
    selection: "recent",
    mode: "rollback",
    minHistory: 1,
    recencyHalfLifeDays: 0,
    seed: 1,
  },
};

const on = boolean();
const positive = integer(1);

/** The check of every field (checks across fields: checkFeatureRelations). */
export const CANDIDATE_CONFIG_RULES: ConfigRules<CandidateFeatureConfig> = {
  watches: { maxLen: positive },
  recentWatches: { enabled: on, counts: list(positive, { distinct: true }) },
  sequence: {
    enabled: on,
    maxLen: positive,
    blocks: positive,
    heads: positive,
    ffnDim: integer(0),
    dropout: number({ ge: 0, lt: 1 }),
    everyPosition: on,
    minContext: integer(0),
  },
  itemSideInfo: {
    enabled: on,
    genres: on,
    year: on,
    yearBucketSize: positive,
    columns: on,
    columnVocabSize: positive,
    idInit: oneOf("random", "item2vec"),
    idPretrained: oneOf("fine-tune", "frozen"),
  },
  search: {
    enabled: on,
    maxTokens: positive,
    vocabSize: positive,
    minCount: positive,
    init: oneOf("random", "word2vec"),
    pretrained: oneOf("fine-tune", "frozen"),
  },
  demographics: { enabled: on, gender: on, age: on, occupation: on, zip: on, zipPrefix: integer(1, 5) },
  userColumns: { enabled: on, vocabSize: positive, numQuantiles: integer(2, 100_000) },
  exampleAge: { enabled: on },
  userContinuous: { enabled: on, numQuantiles: integer(2, 100_000) },
  embeddingDim: {
    item: positive,
    token: positive,
    perLog2Rows: number({ gt: 0 }),
    minOther: positive,
    maxOther: positive,
  },
  examples: {
    perUserCap: integer(0),
    selection: oneOf("recent", "uniform"),
    mode: oneOf("rollback", "heldout"),
    minHistory: integer(0),
    recencyHalfLifeDays: number({ ge: 0 }),
    seed: number(),
  },
};

/** The config after defaults and dataset checks: groups the data lacks are off, with the reason. */
export interface ResolvedCandidateConfig extends CandidateFeatureConfig {
  /** Group or sub-feature path (e.g. "search", "demographics.age") -> why it was turned off automatically. */
  readonly autoOff: Readonly<Record<string, string>>;
}

/** The paper's Figure 6 feature sets, cumulative: watches only; + searches; + example age; all features. */
export type Figure6FeatureSet = "watches" | "watches+search" | "watches+search+age" | "all";

export const FIGURE6_FEATURE_SETS: readonly Figure6FeatureSet[] = [
  "watches",
  "watches+search",
  "watches+search+age",
  "all",
];

/** A config overlay that selects one Figure 6 feature set (merge it over the rest of the config). */
export function figure6FeatureSet(set: Figure6FeatureSet): CandidateFeatureConfigInput {
  const search = set !== "watches";
  const age = set === "watches+search+age" || set === "all";
  const all = set === "all";
  return {
    itemSideInfo: { enabled: all },
    search: { enabled: search },
    exampleAge: { enabled: age },
    demographics: { enabled: all },
    userColumns: { enabled: all },
    userContinuous: { enabled: all },
  };
}

/** Deep-merges config overlays left to right (later wins), e.g. a Figure 6 feature set over a tuned config. */
export function combineCandidateConfigs(
  ...inputs: CandidateFeatureConfigInput[]
): CandidateFeatureConfigInput {
  return mergeConfigInputs<CandidateFeatureConfig>(...inputs);
}

/**
 * Defaults + overrides, validated (no dataset checks). `where` names the config in errors, e.g.
 * "--config.features" → "--config.features.search.vocabSize: expected an integer >= 1, got 0".
 */
export function mergeCandidateConfig(
  input: CandidateFeatureConfigInput = {},
  where = "features",
): CandidateFeatureConfig {
  const c = resolveConfig(DEFAULT_CANDIDATE_CONFIG, CANDIDATE_CONFIG_RULES, input, where);
  checkFeatureRelations(c, where);
  return c;
}

/** The checks that relate two fields (the rules check each field alone). */
export function checkFeatureRelations(c: CandidateFeatureConfig, where: string): void {
  const d = c.embeddingDim;
  if (d.maxOther < d.minOther) {
    throw new ConfigError(
      configPath(where, "embeddingDim.maxOther"),
      `an integer >= embeddingDim.minOther (${d.minOther})`,
      String(d.maxOther),
    );
  }
  const q = c.sequence;
  if (q.enabled && d.item % q.heads !== 0) {
    throw new ConfigError(
      configPath(where, "sequence.heads"),
      `a divisor of embeddingDim.item (${d.item})`,
      String(q.heads),
    );
  }
  if (q.enabled && q.minContext > q.maxLen) {
    throw new ConfigError(
      configPath(where, "sequence.minContext"),
      `an integer <= sequence.maxLen (${q.maxLen})`,
      String(q.minContext),
    );
  }
  if (q.enabled && !q.everyPosition && q.minContext > 0) {
    throw new ConfigError(
      configPath(where, "sequence.minContext"),
      "0 with sequence.everyPosition false (each example already reads its own maxLen watches)",
      String(q.minContext),
    );
  }
  if (q.enabled && q.everyPosition && c.examples.mode !== "rollback") {
    throw new ConfigError(
      configPath(where, "sequence.everyPosition"),
      'false with examples.mode "heldout" (every-position training is rollback by construction)',
      "true",
    );
  }
}

/**
 * Defaults + overrides, then every group the dataset cannot feed is turned off: no tags → search
 * off; no users file → demographics off (and each missing demographic field individually); no
 * genres / years → that part of the item side info off.
 */
export function resolveCandidateConfig(
  data: Dataset,
  input: CandidateFeatureConfigInput = {},
  where = "features",
): ResolvedCandidateConfig {
  const c = mergeCandidateConfig(input, where);
  const autoOff: Record<string, string> = {};
  const off = (key: string, why: string): false => {
    autoOff[key] = why;
    return false;
  };

  let search = c.search.enabled;
  if (search && (data.tags === null || data.tags.user.length === 0))
    search = off("search", `${data.name} has no tag events`);

  const info = data.itemInfo;
  let genres = c.itemSideInfo.enabled && c.itemSideInfo.genres;
  if (genres && (info.genreIds.length === 0 || info.genreNames.length === 0)) {
    genres = off("itemSideInfo.genres", `${data.name} has no item genres`);
  }
  let year = c.itemSideInfo.enabled && c.itemSideInfo.year;
  if (year && !info.year.some((y) => y > 0))
    year = off("itemSideInfo.year", `${data.name} has no release years`);
  const columns = c.itemSideInfo.enabled && c.itemSideInfo.columns && (info.categories?.length ?? 0) > 0;
  let sideInfo = c.itemSideInfo.enabled;
  if (sideInfo && !genres && !year && !columns)
    sideInfo = off("itemSideInfo", `${data.name} has no usable item side info`);

  const u = data.userInfo;
  let demo = c.demographics.enabled;
  let gender = demo && c.demographics.gender;
  let age = demo && c.demographics.age;
  let occupation = demo && c.demographics.occupation;
  let zip = demo && c.demographics.zip;
  if (demo && u === null) {
    demo = off("demographics", `${data.name} has no users file`);
    gender = age = occupation = zip = false;
  } else if (demo && u !== null) {
    if (gender && (u.gender === null || !u.gender.some((g) => g > 0)))
      gender = off("demographics.gender", "no gender");
    if (age && (u.age === null || u.ageKind === null || !u.age.some((a) => a > 0)))
      age = off("demographics.age", "no age");
    if (
      occupation &&
      (u.occupation === null || u.occupationNames === null || !u.occupation.some((o) => o >= 0))
    ) {
      occupation = off("demographics.occupation", "no occupation");
    }
    if (zip && (u.zip === null || !u.zip.some((z) => z !== "")))
      zip = off("demographics.zip", "no zip codes");
    if (!gender && !age && !occupation && !zip)
      demo = off("demographics", `${data.name} has no usable user fields`);
  }

  return {
    ...c,
    itemSideInfo: {
      ...c.itemSideInfo,
      enabled: sideInfo,
      genres: sideInfo && genres,
      year: sideInfo && year,
      columns: sideInfo && c.itemSideInfo.columns,
    },
    search: { ...c.search, enabled: search },
    demographics: { ...c.demographics, enabled: demo, gender, age, occupation, zip },
    autoOff,
  };
}

/**
 * The one sentence that reports the groups the data turned off (the training display prints it;
 * the manifest keeps `autoOff` itself), or null when none was.
 */
export function describeAutoOff(autoOff: Readonly<Record<string, string>>): string | null {
  const parts = Object.entries(autoOff).map(([key, why]) => `${key} (${why})`);
  return parts.length === 0 ? null : `features off for lack of data: ${parts.join(", ")}`;
}

/** Embedding width of a small categorical table: proportional to log2 of its cardinality. */
export function categoricalDim(rows: number, dims: CandidateFeatureConfig["embeddingDim"]): number {
  const d = Math.round(dims.perLog2Rows * Math.log2(Math.max(2, rows)));
  return Math.min(dims.maxOther, Math.max(dims.minOther, d));
}
