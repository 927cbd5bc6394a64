/**
 * Recommender: the library face of a trained model directory, the one object the CLI and the
 * service recommend through. A two-stage directory (`watchnext train`) recommends by the ranker
 * over the sources' union; a candidates-only directory (`watchnext train candidates`) by the
 * candidate generator alone. Each recommended item carries every source's score, the candidate
 * generator's score, the ranking logit and the expected engagement e^logit.
 */
import type { Dataset, UserDemographicValues } from "../../data/dataset.js";
import type { Kernels } from "../../engine/kernels/kernels.js";
import { readManifest, type JsonValue, type Manifest } from "../../engine/model-file/index.js";
import { makeSplit } from "../../eval/run-baselines.js";
import type { QueryBatch } from "../../eval/types.js";
import { RequestImpressions } from "../../features/ranking-context.js";
import { createIndex, DEFAULT_EXACT_BELOW, type VectorIndex } from "../../retrieval/index.js";
import { CandidateModel } from "../candidates/model.js";
import type { RecommendedItem, RecommendRequest } from "./recommender-types.js";
import type { TwoStage } from "./two-stage.js";
import { isTwoStageDir, loadTwoStage } from "./two-stage-dir.js";

export interface FeatureContribution {
  readonly feature: string;
  readonly contribution: number;
}

/** How stage one retrieves (an addition to the contract's signature: Recommender.load's 4th argument). */
export interface RetrievalOptions {
  /** Catalog size from which stage one uses HNSW instead of exact top-k (default 100,000). */
  readonly exactBelow?: number;
  /** A file where a built HNSW index is kept and reused. */
  readonly indexCache?: string;
}

export class Recommender {
  readonly hasRanker: boolean;
  private readonly items: Float32Array;
  private readonly bias: Float32Array | null;

  private constructor(
    readonly candidates: CandidateModel,
    private readonly twoStage: TwoStage | null,
    private readonly manifest: Manifest,
    /** Stage one's retrieval: exact below `exactBelow` items, HNSW from there on (src/retrieval). */
    readonly index: VectorIndex,
  ) {
    this.hasRanker = twoStage !== null && twoStage.ranker !== null;
    this.items = candidates.itemVectors();
    this.bias = candidates.itemBias();
  }

  /**
   * A two-stage model directory written by `watchnext train`, or a candidates-only directory (stage
   * one alone). `data` is the dataset the model was trained on.
   */
  static load(dir: string, data: Dataset, kernels?: Kernels, options: RetrievalOptions = {}): Recommender {
    let candidates: CandidateModel;
    let twoStage: TwoStage | null = null;
    let manifest: Manifest;
    if (isTwoStageDir(dir)) {
      const loaded = loadTwoStage(dir, data, kernels);
      candidates = loaded.model.candidates;
      twoStage = loaded.model;
      manifest = loaded.manifest;
    } else {
      manifest = readManifest(dir);
      const p = manifest.metadata.protocol;
      const train = makeSplit(data, p === "temporal" ? "temporal" : "loo").train;
      candidates = CandidateModel.load(dir, train, kernels);
    }
    const index = createIndex(candidates.itemVectors(), candidates.numItems, candidates.userDim, {
      itemBias: candidates.itemBias(),
      exactBelow: options.exactBelow ?? DEFAULT_EXACT_BELOW,
      cachePath: options.indexCache,
      kernels,
    });
    return new Recommender(candidates, twoStage, manifest, index);
  }

  /** Manifest metadata for a model card: dataset, trained-at, config, training summaries, test metrics if recorded. */
  card(): Record<string, JsonValue> {
    const m = this.manifest;
    const ranker = this.twoStage?.ranker ?? null;
    // A candidates-only manifest carries the training summary as metadata.summary: shown once, as
    // candidatesSummary.
    const { summary: _summary, ...metadata } = m.metadata;
    return {
      kind: m.kind,
      trainedAt: m.createdAt,
      ...metadata,
      config: m.config,
      stages: this.hasRanker ? ["candidates", "ranker"] : ["candidates"],
      retrieval: this.index.kind,
      sources: this.twoStage ? this.twoStage.sources.map((s) => ({ name: s.source.name, n: s.n })) : [],
      candidatesSummary: toJson(this.candidates.summary),
      rankerSummary: toJson(ranker?.summary ?? null),
      rankerConfig: toJson(ranker?.config ?? null),
    };
  }

  /** Best-first items (history and req.allow-rejected items excluded); stage defaults to "two" when hasRanker. */
  recommend(req: RecommendRequest): RecommendedItem[] {
    const query = this.query(req);
    const stage = req.stage ?? (this.hasRanker ? "two" : "candidates");
    if (!(Number.isInteger(req.k) && req.k >= 1))
      throw new RangeError(`recommend: k must be a positive integer, got ${req.k}`);
    if (stage === "two" && !this.hasRanker)
      throw new RangeError(
        'recommend: stage "two" needs a two-stage model directory (this one holds the candidate generator only)',
      );
    const u = this.candidates.encodeQueries(query);
    const out: RecommendedItem[] = [];
    const taken = new Set<number>();
    const history = new Set(req.historyItems);
    const ok = (i: number) => !history.has(i) && !taken.has(i) && (req.allow === undefined || req.allow(i));
    if (stage === "two" && this.twoStage?.ranker) {
      const ts = this.twoStage;
      const ranker = this.twoStage.ranker;
      const set = ts.lists(query, u);
      const input = ts.input(set, req.historyWeights, this.impressionsOf(req));
      const logits = ranker.score(input);
      const n = set.items.length;
      const order = Int32Array.from({ length: n }, (_, c) => c).sort(
        (a, b) => logits[b] - logits[a] || a - b,
      );
      const ns = set.sources.length;
      for (let k = 0; k < n && out.length < req.k; k++) {
        const c = order[k];
        const item = set.items[c];
        if (!ok(item)) continue;
        taken.add(item);
        const sourceScores: Record<string, number> = {};
        for (let s = 0; s < ns; s++)
          if (set.sourceRanks[c * ns + s] > 0) sourceScores[set.sources[s]] = set.sourceScores[c * ns + s];
        out.push({
          item,
          sourceScores,
          candidateScore: this.candidateScore(u, item),
          rankingLogit: logits[c],
          expectedEngagement: Math.exp(logits[c]),
        });
      }
      if (out.length >= req.k) return out;
    }
    // Stage one (or the tail after the impression list): the candidate generator's order through the
    // retrieval index, fetching more when the filter rejects many.
    const head = out.length;
    const numItems = this.candidates.numItems;
    const seen = { offsets: Int32Array.of(0, req.historyItems.length), items: req.historyItems };
    for (let fetch = Math.min(numItems, req.k + head + 16); ; fetch = Math.min(numItems, fetch * 4)) {
      out.length = head;
      const r = this.index.search(u, 1, fetch, seen);
      for (let j = 0; j < fetch && out.length < req.k; j++) {
        const item = r.items[j];
        if (item < 0) break;
        if (!ok(item)) continue;
        out.push({
          item,
          sourceScores: { dnn: r.scores[j] },
          candidateScore: r.scores[j],
          rankingLogit: NaN,
          expectedEngagement: NaN,
        });
      }
      if (out.length >= req.k || fetch >= numItems) return out;
    }
  }

  /** The ranker's top feature-group contributions to one item's logit ([] without a ranker). */
  explain(req: RecommendRequest, item: number, top = 5): FeatureContribution[] {
    const ts = this.twoStage;
    if (!ts?.ranker) return [];
    const query = this.query(req);
    const set = ts.lists(query);
    let c = -1;
    for (let k = 0; k < set.items.length; k++) if (set.items[k] === item) c = k;
    if (c < 0) return [];
    return ts.ranker.explain(ts.input(set, req.historyWeights, this.impressionsOf(req)), 0, c).slice(0, top);
  }

  /** New events since training (serving ingestion): recent popularity and item first-seen times. No retraining. */
  observeEvents(items: Int32Array, times: Float64Array): void {
    this.twoStage?.observeEvents(items, times);
  }

  private candidateScore(u: Float32Array, item: number): number {
    const d = this.candidates.userDim;
    let s = this.bias ? this.bias[item] : 0;
    for (let j = 0; j < d; j++) s += u[j] * this.items[item * d + j];
    return s;
  }

  private impressionsOf(req: RecommendRequest): RequestImpressions | undefined {
    if (req.impressionItems === undefined) return undefined;
    const times = req.impressionTimes;
    if (times === undefined || times.length !== req.impressionItems.length)
      throw new RangeError("recommend: impressionTimes must be given with impressionItems, one per item");
    return new RequestImpressions(req.user, req.impressionItems, times);
  }

  private query(req: RecommendRequest): QueryBatch {
    const n = req.historyItems.length;
    if (req.historyTimes.length !== n)
      throw new RangeError(`recommend: ${n} history items but ${req.historyTimes.length} history times`);
    if (req.historyWeights !== undefined && req.historyWeights.length !== n)
      throw new RangeError(`recommend: ${n} history items but ${req.historyWeights.length} history weights`);
    const numItems = this.candidates.numItems;
    for (let h = 0; h < n; h++)
      if (!(req.historyItems[h] >= 0 && req.historyItems[h] < numItems))
        throw new RangeError(
          `recommend: historyItems[${h}] = ${req.historyItems[h]} is not an item index 0..${numItems - 1}`,
        );
    if (!Number.isFinite(req.time)) throw new RangeError(`recommend: time must be finite, got ${req.time}`);
    if (req.demographics !== undefined) checkDemographics(req.demographics);
    return {
      users: Int32Array.of(req.user),
      times: Float64Array.of(req.time),
      historyOffsets: Int32Array.of(0, n),
      historyItems: req.historyItems,
      historyTimes: req.historyTimes,
      ...(req.demographics !== undefined ? { demographics: [req.demographics] } : {}),
    };
  }
}

function checkDemographics(d: UserDemographicValues): void {
  const bad = (field: string, want: string, got: unknown) =>
    new RangeError(`recommend: demographics.${field} must be ${want}, got ${JSON.stringify(got)}`);
  if (!Number.isInteger(d.gender) || d.gender < 0 || d.gender > 2)
    throw bad("gender", "0 (unknown), 1 (female) or 2 (male)", d.gender);
  if (!(Number.isFinite(d.age) && d.age >= 0)) throw bad("age", "a number ≥ 0 (0 = unknown)", d.age);
  if (typeof d.occupation !== "string") throw bad("occupation", "a string", d.occupation);
  if (typeof d.zip !== "string") throw bad("zip", "a string", d.zip);
}

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}
