/**
 * The packed form in which examples reach a network: one batch = parallel typed arrays, never an
 * array of objects. A feature schema (./schema.ts) names each input; the example builder fills a
 * batch and the network's input layer reads it, both driven by the same schema.
 */

/** A multivalent input for every example of the batch, as CSR (bag b = indices[offsets[b] .. offsets[b+1])). */
export interface BagInput {
  offsets: Int32Array;
  indices: Int32Array;
  /** Per-index weights; null means the plain mean over the bag. */
  weights: Float32Array | null;
}

export interface CandidateBatch {
  /** Number of examples in the batch. */
  size: number;
  /** Label item (dataset item index) of each example; −1 when serving. */
  labels: Int32Array;
  /** Label timestamp (seconds) of each example. */
  labelTimes: Float64Array;
  /** Bag inputs by feature name. */
  bags: Record<string, BagInput>;
  /** Univalent categorical inputs by feature name (vocabulary index; 0 = out of vocabulary). */
  categorical: Record<string, Int32Array>;
  /** Continuous inputs, size × denseWidth row-major, each already normalized. */
  dense: Float32Array;
  denseWidth: number;
}
