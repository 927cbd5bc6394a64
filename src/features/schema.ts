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

export interface FeatureSchema {
  readonly tables: readonly TableSpec[];
  readonly features: readonly FeatureSpec[];
  /** Total width of CandidateBatch.dense. */
  readonly denseWidth: number;
}
