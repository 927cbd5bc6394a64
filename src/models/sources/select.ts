/**
 * Top-N selection shared by the sources: batches of queries scored into one reusable
 * [batch × items] buffer, then each row's best N (history excluded) by the engine's topK kernel
 * with a one-wide "vector" (score = 1·row[j]): a bounded heap, no sort of the catalog.
 */
import type { Kernels } from "../../engine/kernels/kernels.js";
import { sliceQueries } from "../../eval/evaluate.js";
import type { QueryBatch } from "../../eval/types.js";
import type { SourceTopN } from "./source.js";

const ONE = Float32Array.of(1);

/** An empty top-N result for `numQueries` queries (items −1, scores NaN), to be filled. */
export function allocTopN(numQueries: number, n: number): SourceTopN {
  return {
    n,
    items: new Int32Array(numQueries * n).fill(-1),
    scores: new Float32Array(numQueries * n).fill(NaN),
  };
}

/** The topK kernel marks the tail of a short list with score −∞; the source contract says NaN. */
export function tailToNaN(items: Int32Array, scores: Float32Array): void {
  for (let i = 0; i < items.length; i++) if (items[i] < 0) scores[i] = NaN;
}

/**
 * Top-n per query from a dense score function: `fill(batch, out)` writes [batch × numItems] scores
 * (higher is better; NaN = never propose). Queries go in batches so the buffer stays ≤ 16M floats.
 */
export function topNFromScores(
  kernels: Kernels,
  numItems: number,
  queries: QueryBatch,
  n: number,
  fill: (batch: QueryBatch, out: Float32Array) => void,
): SourceTopN {
  if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`topN: n must be a positive integer, got ${n}`);
  const nq = queries.users.length;
  const result = allocTopN(nq, n);
  const batchSize = Math.max(1, Math.min(256, nq, Math.floor((1 << 24) / Math.max(1, numItems))));
  const buffer = new Float32Array(batchSize * numItems);
  const offsets = new Int32Array(batchSize + 1);
  const excludeOffsets = new Int32Array(2);
  for (let b0 = 0; b0 < nq; b0 += batchSize) {
    const b1 = Math.min(nq, b0 + batchSize);
    const batch = sliceQueries(queries, b0, b1, offsets);
    const out = buffer.subarray(0, (b1 - b0) * numItems);
    fill(batch, out);
    for (let q = b0; q < b1; q++) {
      const hs = queries.historyOffsets[q];
      const he = queries.historyOffsets[q + 1];
      excludeOffsets[1] = he - hs;
      kernels.topK(
        ONE,
        1,
        out.subarray((q - b0) * numItems, (q - b0 + 1) * numItems),
        numItems,
        1,
        null,
        n,
        excludeOffsets,
        queries.historyItems.subarray(hs, he),
        result.items.subarray(q * n, (q + 1) * n),
        result.scores.subarray(q * n, (q + 1) * n),
      );
    }
  }
  tailToNaN(result.items, result.scores);
  return result;
}
