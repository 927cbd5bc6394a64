/**
 * Impression lists: what the ranker trains and is evaluated on. MovieLens has no impression logs,
 * so the candidate sources make them (docs/ranking.md): list l is the union of the sources' top-N
 * for one user's history before a point in time; positives are the watches at / after the point.
 * Packed as CSR typed arrays, never arrays of objects.
 */
import type { QueryBatch } from "../eval/types.js";

export interface ImpressionSet extends QueryBatch {
  /** Engagement of each history event (parallel to historyItems; the rating for MovieLens), when known. */
  readonly historyWeights?: Float32Array;
  /** Source names, in the column order of sourceScores / sourceRanks. */
  readonly sources: readonly string[];
  /** Candidates of list l: [listOffsets[l], listOffsets[l + 1]) into the per-candidate columns. */
  readonly listOffsets: Int32Array;
  /** Per candidate: the dataset item index. */
  readonly items: Int32Array;
  /** Per candidate: 1 = watched at / after the point (positive), 0 = negative. */
  readonly positive: Uint8Array;
  /** Per candidate: the training weight (engagement for positives, 1 for negatives). */
  readonly weight: Float32Array;
  /** [numCandidates × sources.length]: the source's score, NaN when the source did not propose it. */
  readonly sourceScores: Float32Array;
  /** [numCandidates × sources.length]: 1-based rank in the source's top-N, 0 when not proposed. */
  readonly sourceRanks: Int32Array;
}
