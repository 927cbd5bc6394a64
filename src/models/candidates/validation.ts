/**
 * The early-stopping metric: HR@10 and NDCG@10 of a score function on the validation queries,
 * under the loo protocol's rules (seen items filtered, ties ranked ahead of the target, a target
 * already in the history counts as a miss). Kept here so training does not depend on the report
 * machinery; the reported figures come from src/eval.
 */
import type { QuerySet } from "../../eval/types.js";

export interface ValidationMetrics {
  hr10: number;
  ndcg10: number;
  queries: number;
}

/**
 * `scoreChunk(start, end, out)` fills out with the [end − start × numItems] scores of queries
 * start..end. Only the first target of each query is used (loo has one).
 */
export function validationMetrics(
  queries: QuerySet,
  numItems: number,
  chunk: number,
  scoreChunk: (start: number, end: number, out: Float32Array) => void,
  limit = 0,
): ValidationMetrics {
  const total = limit > 0 ? Math.min(limit, queries.users.length) : queries.users.length;
  const scores = new Float32Array(chunk * numItems);
  let hits = 0;
  let ndcg = 0;
  let counted = 0;
  for (let start = 0; start < total; start += chunk) {
    const end = Math.min(total, start + chunk);
    scoreChunk(start, end, scores);
    for (let q = start; q < end; q++) {
      const t0 = queries.targetOffsets[q];
      if (queries.targetOffsets[q + 1] === t0) continue;
      counted++;
      const target = queries.targetItems[t0];
      const row = scores.subarray((q - start) * numItems, (q - start + 1) * numItems);
      let inHistory = false;
      for (let h = queries.historyOffsets[q]; h < queries.historyOffsets[q + 1]; h++) {
        const item = queries.historyItems[h];
        if (item === target) inHistory = true;
        row[item] = -Infinity;
      }
      if (inHistory) continue;
      const s = row[target];
      let rank = 1;
      for (let i = 0; i < numItems && rank <= 10; i++) if (i !== target && row[i] >= s) rank++;
      if (rank <= 10) {
        hits++;
        ndcg += 1 / Math.log2(rank + 1);
      }
    }
  }
  return { hr10: counted ? hits / counted : 0, ndcg10: counted ? ndcg / counted : 0, queries: counted };
}
