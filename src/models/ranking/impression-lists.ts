/**
 * One ImpressionSet from a batch of list queries: each source's top-N for every query, their union
 * per query (the DNN's list first in its order, then each further source's new items in its order),
 * each candidate's score and rank under every source (NaN / 0 when that source did not propose
 * it), and the labels: a candidate is positive when it is one of the query's positives (weight =
 * that watch's engagement), negative otherwise (weight 1). Two passes over the top-N arrays (sizes,
 * then fill), typed arrays only.
 */
import type { ImpressionSet } from "../../features/impressions.js";
import type { QueryBatch } from "../../eval/types.js";
import type { CandidateSource, SourceTopN } from "../sources/source.js";

/** The queries of a set of lists, with the engagement of every history event. */
export interface ListQueries extends QueryBatch {
  readonly historyWeights: Float32Array;
}

/** Positives of each query as CSR: items[offsets[q] .. offsets[q+1]) with their weights. */
export interface ListPositives {
  readonly offsets: Int32Array;
  readonly items: Int32Array;
  readonly weights: Float32Array;
}

/** Builds the set; `topN[s]` is the list length asked of `sources[s]`. */
export function assembleImpressions(
  queries: ListQueries,
  positives: ListPositives,
  sources: readonly CandidateSource[],
  topN: readonly number[],
  numItems: number,
): ImpressionSet {
  const tops: SourceTopN[] = sources.map((s, k) => s.topN(queries, topN[k]));
  return unionLists(
    queries,
    sources.map((s) => s.name),
    tops,
    numItems,
    positives,
  );
}

const NO_POSITIVES: ListPositives = {
  offsets: new Int32Array(0),
  items: new Int32Array(0),
  weights: new Float32Array(0),
};

/**
 * The union step alone (serving and evaluation make their lists with it, so lists are made one
 * way): tops[s] is source s's top-N for the queries. Without `positives` every candidate is a
 * negative of weight 1.
 */
export function unionLists(
  queries: QueryBatch & { readonly historyWeights?: Float32Array },
  sources: readonly string[],
  tops: readonly SourceTopN[],
  numItems: number,
  positives: ListPositives = NO_POSITIVES,
): ImpressionSet {
  const nq = queries.users.length;
  const S = sources.length;
  if (tops.length !== S) throw new RangeError(`unionLists: ${S} sources but ${tops.length} top-N results`);
  const hasPositives = positives.offsets.length > 0;
  const stamp = new Int32Array(numItems);
  const slot = new Int32Array(numItems);
  // Pass 1: union sizes.
  const listOffsets = new Int32Array(nq + 1);
  for (let q = 0; q < nq; q++) {
    const st = q + 1;
    let size = 0;
    for (const t of tops) {
      for (let r = 0; r < t.n; r++) {
        const i = t.items[q * t.n + r];
        if (i < 0 || stamp[i] === st) continue;
        stamp[i] = st;
        size++;
      }
    }
    listOffsets[q + 1] = listOffsets[q] + size;
  }
  const total = listOffsets[nq];
  const items = new Int32Array(total);
  const positive = new Uint8Array(total);
  const weight = new Float32Array(total).fill(1);
  const sourceScores = new Float32Array(total * S).fill(NaN);
  const sourceRanks = new Int32Array(total * S);
  // Pass 2: fill (stamps continue above nq so pass 1's marks never collide).
  for (let q = 0; q < nq; q++) {
    const st = nq + 1 + q;
    let c = listOffsets[q];
    for (let s = 0; s < S; s++) {
      const t = tops[s];
      for (let r = 0; r < t.n; r++) {
        const i = t.items[q * t.n + r];
        if (i < 0) continue;
        if (stamp[i] !== st) {
          stamp[i] = st;
          slot[i] = c;
          items[c++] = i;
        }
        const at = slot[i] * S + s;
        if (sourceRanks[at] === 0) {
          sourceRanks[at] = r + 1;
          sourceScores[at] = t.scores[q * t.n + r];
        }
      }
    }
    if (!hasPositives) continue;
    for (let p = positives.offsets[q]; p < positives.offsets[q + 1]; p++) {
      const i = positives.items[p];
      if (stamp[i] !== st || positive[slot[i]] === 1) continue;
      positive[slot[i]] = 1;
      weight[slot[i]] = positives.weights[p];
    }
  }
  return {
    users: queries.users,
    times: queries.times,
    historyOffsets: queries.historyOffsets,
    historyItems: queries.historyItems,
    historyTimes: queries.historyTimes,
    ...(queries.historyWeights ? { historyWeights: queries.historyWeights } : {}),
    ...(queries.demographics ? { demographics: queries.demographics } : {}),
    sources: [...sources],
    listOffsets,
    items,
    positive,
    weight,
    sourceScores,
    sourceRanks,
  };
}
