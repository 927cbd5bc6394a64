/**
 * The exported graphs' inputs from watchnext's own packed batches: CSR bags become −1-padded int64
 * matrices (plus the per-row weights of weighted bags), categorical ids int64 vectors, the dense
 * block a float32 matrix. What a serving system elsewhere must produce, written once here so the
 * tests feed the graphs exactly what the model packs, and as the reference for other languages.
 */
import type { CandidateBatch } from "../../features/batch.js";
import type { RankingBatch } from "../../features/ranking-features.js";
import type { FeatureSchema } from "../../features/schema.js";

export interface FeedTensor {
  readonly dtype: "int64" | "float32";
  readonly dims: readonly number[];
  readonly data: BigInt64Array | Float32Array;
}

/** The inputs of one schema's input layer for the batch's `size` rows, named `${prefix}<feature>`. */
export function schemaFeeds(
  batch: CandidateBatch,
  schema: FeatureSchema,
  prefix = "",
): Record<string, FeedTensor> {
  const n = batch.size;
  const feeds: Record<string, FeedTensor> = {};
  for (const f of schema.features) {
    const name = `${prefix}${f.name}`;
    if (f.kind === "categorical") {
      const ids = batch.categorical[f.name];
      if (!ids) throw new Error(`ONNX feeds: the batch has no categorical feature "${f.name}"`);
      feeds[name] = { dtype: "int64", dims: [n], data: BigInt64Array.from(ids.subarray(0, n), BigInt) };
    } else if (f.kind === "bag") {
      const bag = batch.bags[f.name];
      if (!bag) throw new Error(`ONNX feeds: the batch has no bag feature "${f.name}"`);
      let len = 1;
      for (let b = 0; b < n; b++) len = Math.max(len, bag.offsets[b + 1] - bag.offsets[b]);
      const ids = new BigInt64Array(n * len).fill(-1n);
      const weights = bag.weights ? new Float32Array(n * len) : null;
      for (let b = 0; b < n; b++) {
        const start = bag.offsets[b];
        for (let i = start; i < bag.offsets[b + 1]; i++) {
          ids[b * len + i - start] = BigInt(bag.indices[i]);
          if (weights && bag.weights) weights[b * len + i - start] = bag.weights[i];
        }
      }
      feeds[name] = { dtype: "int64", dims: [n, len], data: ids };
      if (weights) feeds[`${name}_weights`] = { dtype: "float32", dims: [n, len], data: weights };
    }
  }
  if (schema.denseWidth > 0) {
    const w = batch.denseWidth;
    feeds[`${prefix}dense`] = { dtype: "float32", dims: [n, w], data: batch.dense.slice(0, n * w) };
  }
  return feeds;
}

/** The ranker graph's inputs for a packed ranking batch (query rows per list, impression rows per candidate). */
export function rankerFeeds(
  batch: RankingBatch,
  schema: { readonly query: FeatureSchema; readonly impression: FeatureSchema },
): Record<string, FeedTensor> {
  const listIndex = new BigInt64Array(batch.size);
  const base = batch.listOffsets[0];
  for (let l = 0; l < batch.lists; l++)
    for (let c = batch.listOffsets[l] - base; c < batch.listOffsets[l + 1] - base; c++)
      listIndex[c] = BigInt(l);
  return {
    ...schemaFeeds(batch.query, schema.query, "query."),
    ...schemaFeeds(batch.impression, schema.impression, "impression."),
    list_index: { dtype: "int64", dims: [batch.size], data: listIndex },
  };
}
