/**
 * The feature schema: each input of the candidate network is declared once here, and both the
 * example builder (which fills a CandidateBatch) and the network's input layer (which embeds and
 * concatenates it) are derived from the same declaration.
 */

/** An embedding table; several features may share one (e.g. watched ids and a tied output table). */
export interface TableSpec {
  readonly name: string;
  /** Number of rows, including row 0 = out of vocabulary (kept at zero). */
  readonly rows: number;
  readonly dim: number;
}

/** A multivalent input (CSR bag in CandidateBatch.bags[name]) embedded through `table`. */
export interface BagFeature {
  readonly kind: "bag";
  readonly name: string;
  readonly table: string;
  /**
   * Features with the same `slot` are summed into one slot of the concatenated input (an item's id,
   * genre and year embeddings added together); a feature with no slot gets its own.
   */
  readonly slot?: string;
}

/** A univalent categorical input (CandidateBatch.categorical[name]) embedded through `table`. */
export interface CategoricalFeature {
  readonly kind: "categorical";
  readonly name: string;
  readonly table: string;
}

/** Continuous inputs: `width` columns of CandidateBatch.dense starting at `offset`. */
export interface ContinuousFeature {
  readonly kind: "continuous";
  readonly name: string;
  readonly offset: number;
  readonly width: number;
}

export type FeatureSpec = BagFeature | CategoricalFeature | ContinuousFeature;

/**
 * An ordered input (CandidateBatch.sequence): per example, the most recent watches in time order,
 * each slot's embedding the sum of its `parts` bags (an item's id + side info, as in the watch
 * slot), encoded by a causal Transformer whose output at the example's slot enters the
 * concatenated input as one slot of width `dim` (after the embedded features, before the dense ones).
 */
export interface SequenceSpec {
  readonly name: string;
  /** Slots per sequence. */
  readonly maxLen: number;
  /** Width of every part's table, of the encoder and of its output slot. */
  readonly dim: number;
  /** Bags of CandidateBatch.sequence.bags, one row per (sequence, slot), each through its table. */
  readonly parts: readonly { readonly bag: string; readonly table: string }[];
  readonly blocks: number;
  readonly heads: number;
  /** Feed-forward hidden width. */
  readonly ffnDim: number;
  readonly dropout: number;
}

export interface FeatureSchema {
  readonly tables: readonly TableSpec[];
  readonly features: readonly FeatureSpec[];
  /** Total width of CandidateBatch.dense. */
  readonly denseWidth: number;
  /** The ordered watch input, when the schema has one. */
  readonly sequence?: SequenceSpec;
}
