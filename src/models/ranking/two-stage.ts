/**
 * The two-stage recommender's core: the candidate sources (the YouTube-DNN candidate generator,
 * EASE, ItemKNN, recent popularity) each propose their top-N for a history, the union is the
 * impression list, and the ranker orders it by its logit (e^logit = expected engagement). Used by
 * the library `Recommender`, the two-stage `Scorer` of the evaluation path (items outside the list
 * rank after it, in stage-one order) and the model directory (two-stage-dir.ts).
 */
import type { QueryBatch, QuerySet, Scorer } from "../../eval/types.js";
import type { ImpressionSet } from "../../features/impressions.js";
import type { EngagementLookup, ItemTimeline } from "../../features/ranking-context.js";
import type { ImpressionHistory, RankingInput } from "../../features/ranking-features.js";
import type { CandidateModel } from "../candidates/model.js";
import { DnnSource } from "../sources/dnn.js";
import type { FittedSource } from "../sources/source.js";
import { unionLists } from "./impression-lists.js";
import type { Ranker } from "./ranker.js";

export interface SourceSlot {
  readonly source: FittedSource;
  /** Top-N this source proposes per list. */
  readonly n: number;
}

export class TwoStage {
  constructor(
    readonly candidates: CandidateModel,
    readonly sources: readonly SourceSlot[],
    readonly ranker: Ranker | null,
    readonly timeline: ItemTimeline,
    readonly engagement: EngagementLookup,
    /** Earlier impressions (the training and validation lists) for the impression-history features. */
    readonly impressions: ImpressionHistory | null,
  ) {}

  get sourceNames(): string[] {
    return this.sources.map((s) => s.source.name);
  }

  /**
   * The impression lists of a batch of queries; users: the candidate generator's user vectors of
   * the queries when the caller has them (the dnn source then does not encode them again).
   */
  lists(queries: QueryBatch, users?: Float32Array): ImpressionSet {
    const tops = this.sources.map((s) =>
      users !== undefined && s.source instanceof DnnSource && s.source.model === this.candidates
        ? s.source.topN(queries, s.n, users)
        : s.source.topN(queries, s.n),
    );
    return unionLists(queries, this.sourceNames, tops, this.candidates.numItems);
  }

  /**
   * Labeled lists for held-out queries: the sources' union per query, the query's targets as
   * positives (weight = their engagement), as the builder labels its validation / test lists.
   */
  labeledLists(queries: QuerySet): ImpressionSet {
    const tops = this.sources.map((s) => s.source.topN(queries, s.n));
    const weights = new Float32Array(queries.targetItems.length);
    for (let q = 0; q < queries.users.length; q++)
      for (let t = queries.targetOffsets[q]; t < queries.targetOffsets[q + 1]; t++)
        weights[t] = this.engagement.get(queries.users[q], queries.targetItems[t]);
    return unionLists(queries, this.sourceNames, tops, this.candidates.numItems, {
      offsets: queries.targetOffsets,
      items: queries.targetItems,
      weights,
    });
  }

  /** The ranking input of lists (history weights looked up unless given). */
  input(
    set: ImpressionSet,
    historyWeights?: Float32Array,
    impressions?: ImpressionHistory | null,
  ): RankingInput {
    return {
      set,
      historyWeights: historyWeights ?? this.engagement.historyWeights(set),
      impressions: impressions === undefined ? this.impressions : impressions,
    };
  }

  /** New serving events: the sources' and the features' time-dependent statistics. */
  observeEvents(items: Int32Array, times: Float64Array): void {
    this.timeline.observe(items, times);
    for (const s of this.sources) s.source.observeEvents(items, times);
  }

  /**
   * The two-stage model as a Scorer: list items ordered by the ranker's logit, then every other
   * item in the candidate generator's order (protocol.md §Ranking).
   */
  asScorer(name = "two-stage"): Scorer {
    const ranker = this.ranker;
    if (ranker === null) throw new Error("two-stage scorer: the model has no ranker");
    const numItems = this.candidates.numItems;
    return {
      name,
      params: {
        sources: this.sources.map((s) => `${s.source.name}:${s.n}`).join(","),
        tower: ranker.config.network.hidden.length > 0 ? ranker.config.network.hidden.join("-") : "none",
        seed: ranker.seed,
      },
      score: (batch: QueryBatch, out: Float32Array) => {
        this.candidates.scoreRange(batch, 0, batch.users.length, out);
        const set = this.lists(batch);
        const logits = ranker.score(this.input(set));
        for (let q = 0; q < batch.users.length; q++) {
          const row = out.subarray(q * numItems, (q + 1) * numItems);
          const c0 = set.listOffsets[q];
          const c1 = set.listOffsets[q + 1];
          if (c1 === c0) continue;
          // Lift the list above every other item, keeping the logit order inside the list.
          let max = -Infinity;
          for (let i = 0; i < numItems; i++) if (row[i] > max) max = row[i];
          let minLogit = Infinity;
          for (let c = c0; c < c1; c++) minLogit = Math.min(minLogit, logits[c]);
          const lift = max - minLogit + 1;
          for (let c = c0; c < c1; c++) row[set.items[c]] = logits[c] + lift;
        }
      },
    };
  }
}
