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

/**
 * The ordered input of a batch (FeatureSchema.sequence): `count` sequences of maxLen slots,
 * left-aligned (slot 0 = the oldest watch kept, padding after `lengths[s]`), each slot's parts as
 * bags over rows s·maxLen + j (padded slots empty); example row b reads the encoder output of
 * sequence rowSequence[b] at slot rowSlot[b] (−1: no earlier watch, a zero input). In
 * every-position training several rows share a sequence, each at the slot just before its label.
 */
export interface SequenceBatch {
  count: number;
  readonly lengths: Int32Array;
  readonly bags: Record<string, BagInput>;
  readonly rowSequence: Int32Array;
  readonly rowSlot: Int32Array;
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
  /** The ordered watch input (present when the schema declares one). */
  sequence?: SequenceBatch;
}
