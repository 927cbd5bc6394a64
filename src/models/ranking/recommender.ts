/**
 * The recommender the CLI and the service call (RANKING-CONTRACT.md). This is the stage-one-only
 * version: it wraps the candidate generator, so `hasRanker` is false, recommendations are the
 * candidates by u·v (+ bias) with no ranking logit, and `explain` has no feature contributions.
 * The two-stage implementation replaces this file with the same signature.
 */
import type { Dataset } from "../../data/dataset.js";
import type { Kernels } from "../../engine/kernels/kernels.js";
import { readManifest, type JsonValue } from "../../engine/model-file/index.js";
import type { QueryBatch } from "../../eval/types.js";
import { createIndex, DEFAULT_EXACT_BELOW, type VectorIndex } from "../../retrieval/index.js";
import { CandidateModel } from "../candidates/model.js";
import type { RecommendedItem, RecommendRequest } from "./recommender-types.js";

export interface FeatureContribution {
  readonly feature: string;
  readonly contribution: number;
}

/** How stage one retrieves (an addition to the contract's signature: Recommender.load's 4th argument). */
export interface RetrievalOptions {
  readonly exactBelow?: number;
  readonly indexCache?: string;
}

export class Recommender {
  readonly hasRanker = false;

  private constructor(
    readonly candidates: CandidateModel,
    private readonly manifest: { createdAt: string; kind: string; metadata: Record<string, JsonValue> },
    /** Stage one's retrieval: exact below `exactBelow` items, HNSW from there on (src/retrieval). */
    readonly index: VectorIndex,
  ) {}

  /**
   * A two-stage model directory written by `watchnext train`, or a candidates-only directory (stage
   * one alone). Retrieval options: `exactBelow` = catalog size from which stage one uses HNSW
   * (default 100,000); `indexCache` = a file where a built HNSW index is kept and reused.
   */
  static load(dir: string, data: Dataset, kernels?: Kernels, options: RetrievalOptions = {}): Recommender {
    const manifest = readManifest(dir);
    const model = CandidateModel.load(dir, data, kernels);
    const index = createIndex(model.itemVectors(), model.numItems, model.userDim, {
      itemBias: model.itemBias(),
      exactBelow: options.exactBelow ?? DEFAULT_EXACT_BELOW,
      cachePath: options.indexCache,
      kernels,
    });
    return new Recommender(model, manifest, index);
  }

  /** Manifest metadata for a model card: dataset, trained-at, config, training summary, test metrics if recorded. */
  card(): Record<string, JsonValue> {
    const m = this.manifest.metadata;
    return {
      kind: this.manifest.kind,
      trainedAt: this.manifest.createdAt,
      stages: ["candidates"],
      retrieval: this.index.kind,
      ...m,
    };
  }

  /** Best-first items (history and req.allow-rejected items excluded); stage one only. */
  recommend(req: RecommendRequest): RecommendedItem[] {
    const model = this.candidates;
    const numItems = model.numItems;
    const n = req.historyItems.length;
    const query: QueryBatch = {
      users: Int32Array.of(req.user),
      times: Float64Array.of(req.time),
      historyOffsets: Int32Array.of(0, n),
      historyItems: req.historyItems,
      historyTimes: req.historyTimes,
    };
    const k = Math.min(req.k, numItems);
    const out: RecommendedItem[] = [];
    if (k <= 0) return out;
    const user = model.encodeQueries(query);
    const seen = { offsets: Int32Array.of(0, n), items: req.historyItems };
    // A filter can reject most of the top list: widen the search until k pass or the catalog is exhausted.
    for (let want = req.allow ? Math.min(numItems, k * 4 + 16) : k; ; want = Math.min(numItems, want * 4)) {
      const recs = this.index.search(user, 1, want, seen);
      out.length = 0;
      for (let r = 0; r < want && out.length < k; r++) {
        const item = recs.items[r];
        if (item < 0) break;
        if (req.allow && !req.allow(item)) continue;
        const score = recs.scores[r];
        out.push({
          item,
          sourceScores: { dnn: score },
          candidateScore: score,
          rankingLogit: NaN,
          expectedEngagement: NaN,
        });
      }
      if (out.length >= k || want >= numItems) return out;
    }
  }

  /** The ranker's top feature-group contributions to one item's logit: none without a ranker. */
  explain(_req: RecommendRequest, _item: number, _top = 5): FeatureContribution[] {
    return [];
  }

  /** New events since training: stage one reads only the request's history, so nothing to update. */
  observeEvents(_items: Int32Array, _times: Float64Array): void {}
}
