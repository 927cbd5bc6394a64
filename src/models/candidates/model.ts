/**
 * CandidateModel: the paper's candidate generator as a library object. `fit` builds the features
 * from the training split, the network from the feature schema, and trains it; the trained model
 * encodes users (u), exposes the item vectors (v), recommends by dot product with seen items
 * excluded, and serves as a Scorer for the shared evaluation protocols.
 */
import { applyPretrained, type PretrainedReport } from "./pretrained.js";
import type { Dataset } from "../../data/dataset.js";
import { getKernels } from "../../engine/kernels/index.js";
import type { Kernels } from "../../engine/kernels/kernels.js";
import { Rng } from "../../engine/rng.js";
import { evaluate } from "../../eval/evaluate.js";
import { sampleQueries } from "../../eval/sample-queries.js";
import type { QueryBatch, QuerySet, Scorer } from "../../eval/types.js";
import type { CandidateBatch } from "../../features/batch.js";
import {
  buildCandidateFeatures,
  CANDIDATE_FEATURES,
  ITEM_TABLE,
  type CandidateFeatures,
} from "../../features/candidate-features.js";
import {
  chooseSoftmax,
  resolveCandidateModelConfig,
  towerWidths,
  type CandidateConfig,
  type CandidateConfigInput,
} from "./config.js";
import type { JsonValue } from "../../engine/model-file/index.js";
import { loadCandidateModel, saveCandidateModel } from "./model-io.js";
import { NegativeSampler } from "./negative-sampler.js";
import { CandidateNetwork, type ItemIdInput } from "./network.js";
import { trainLoop, type TrainingEvent, type TrainingSummary, type ValidationMetrics } from "./train.js";

export interface FitOptions {
  /** Partial config merged over the tuned defaults. */
  readonly config?: CandidateConfigInput;
  /**
   * Validation queries for early stopping on NDCG@10 (e.g. a loo split's `valid`).
   */
  readonly valid?: QuerySet;
  /**
   * Validate on a seeded sample of this many of the `valid` queries (the model seed picks them, the
   * same every epoch) instead of all: on a large dataset, scoring every validation user against
   * every item each epoch is a noticeable share of the run. Absent = all of them.
   */
  readonly validUsers?: number;
  /** Metric family of the validation queries (default "loo"). */
  readonly validProtocol?: "loo" | "temporal";
  readonly seed?: number;
  readonly onProgress?: (event: TrainingEvent) => void;
  /** Abort to stop after the current step, keeping the best model so far. */
  readonly signal?: AbortSignal;
  readonly kernels?: Kernels;
}

export interface Recommendations {
  /** [numQueries × k] item indices, best first (−1 past the end of a short list). */
  readonly items: Int32Array;
  readonly scores: Float32Array;
  readonly k: number;
}

export class CandidateModel {
  /** The tables initialized from word2vec / item2vec vectors at fit time (empty when none was). */
  pretrained: PretrainedReport[] = [];
  private readonly batch: CandidateBatch;
  private readonly users: Float32Array;

  constructor(
    readonly config: CandidateConfig,
    readonly features: CandidateFeatures,
    readonly network: CandidateNetwork,
    readonly seed: number,
    public summary: TrainingSummary | null,
    private readonly kernels: Kernels = getKernels(),
  ) {
    this.batch = features.allocBatch(network.shape.capacity);
    this.users = new Float32Array(network.shape.capacity * network.userDim);
  }

  /** Builds features on `train`, the network from their schema, and trains it. */
  static async fit(train: Dataset, opts: FitOptions = {}): Promise<CandidateModel> {
    const seed = opts.seed ?? 1;
    const config = resolveCandidateModelConfig(withSeed(opts.config ?? {}, seed));
    const n = opts.validUsers;
    const valid = opts.valid && n !== undefined ? sampleQueries(opts.valid, n, seed) : opts.valid;
    const features = buildCandidateFeatures(train, config.features);
    const k = opts.kernels ?? getKernels();
    const model = CandidateModel.create(config, features, seed, k, watchCounts(features));
    model.pretrained = await applyPretrained(model.network, features, train, seed, k);
    model.summary = await trainLoop(model.network, features, config, seed + 1, {
      validate: valid ? () => model.validate(valid, opts.validProtocol ?? "loo") : undefined,
      onProgress: opts.onProgress,
      signal: opts.signal,
    });
    return model;
  }

  /** An untrained model around fitted features (also used when loading a saved model). */
  static create(
    config: CandidateConfig,
    features: CandidateFeatures,
    seed: number,
    k: Kernels = getKernels(),
    counts: Float64Array | null = null,
  ): CandidateModel {
    const t = config.train;
    const mode = chooseSoftmax(t, features.numItems).used;
    const sampler =
      mode === "sampled"
        ? new NegativeSampler(counts ?? new Float64Array(features.numItems), t.samplingAlpha, t.numNegatives)
        : null;
    // The network's parameters are initialized from the model seed (a loaded model overwrites them).
    const network = new CandidateNetwork(
      k,
      config,
      {
        schema: features.schema,
        numItems: features.numItems,
        capacity: t.batchSize,
        mode,
        itemIds: itemIdInput(features),
      },
      sampler,
      new Rng(seed),
    );
    return new CandidateModel(config, features, network, seed, null, k);
  }

  get userDim(): number {
    return this.network.userDim;
  }

  get numItems(): number {
    return this.features.numItems;
  }

  /** User vectors [batch.size × userDim] of a filled candidate batch. */
  encodeUser(batch: CandidateBatch): Float32Array {
    const out = new Float32Array(batch.size * this.userDim);
    this.network.encode(batch, out);
    return out;
  }

  /** User vectors [numQueries × userDim] for evaluation/serving queries. */
  encodeQueries(queries: QueryBatch): Float32Array {
    const n = queries.users.length;
    const d = this.userDim;
    const out = new Float32Array(n * d);
    const cap = this.network.shape.capacity;
    for (let start = 0; start < n; start += cap) {
      const end = Math.min(n, start + cap);
      this.features.fillQueryBatch(queries, start, end, this.batch);
      this.network.encode(this.batch, this.users);
      out.set(this.users.subarray(0, (end - start) * d), start * d);
    }
    return out;
  }

  /** The item output vectors [numItems × userDim], row i = dataset item i. */
  itemVectors(): Float32Array {
    return Float32Array.from(this.network.itemMatrix());
  }

  /** The per-item logit bias, or null when the model has none. */
  itemBias(): Float32Array | null {
    const bias = this.network.itemBias();
    return bias ? Float32Array.from(bias) : null;
  }

  /** Scores of queries start..end against every item into out ([end − start × numItems]). */
  scoreRange(queries: QueryBatch, start: number, end: number, out: Float32Array): void {
    const cap = this.network.shape.capacity;
    const N = this.numItems;
    for (let s = start; s < end; s += cap) {
      const e = Math.min(end, s + cap);
      this.features.fillQueryBatch(queries, s, e, this.batch);
      this.network.encode(this.batch, this.users);
      this.network.score(this.users, e - s, out.subarray((s - start) * N, (e - start) * N));
    }
  }

  /** NDCG@10 and HR@10 (Recall@10 for temporal) on validation queries, through src/eval. */
  validate(queries: QuerySet, protocol: "loo" | "temporal"): ValidationMetrics {
    const r = evaluate(this.asScorer(), queries, { numItems: this.numItems, metrics: protocol, ks: [10] });
    return { hr10: r.metrics[protocol === "loo" ? "HR@10" : "Recall@10"], ndcg10: r.metrics["NDCG@10"] };
  }

  /** Top-k items for each query by u·v (+ bias), excluding the query's history when excludeSeen. */
  recommend(queries: QueryBatch, k: number, excludeSeen = true): Recommendations {
    return this.recommendFor(this.encodeQueries(queries), queries, k, excludeSeen);
  }

  /** recommend() from the queries' user vectors u = encodeQueries(queries), already computed. */
  recommendFor(u: Float32Array, queries: QueryBatch, k: number, excludeSeen = true): Recommendations {
    const n = queries.users.length;
    if (u.length !== n * this.userDim)
      throw new RangeError(
        `recommendFor: ${u.length} user-vector values for ${n} queries of ${this.userDim}`,
      );
    const items = new Int32Array(n * k);
    const scores = new Float32Array(n * k);
    this.kernels.topK(
      u,
      n,
      this.network.itemMatrix(),
      this.numItems,
      this.userDim,
      this.network.itemBias(),
      k,
      excludeSeen ? queries.historyOffsets : null,
      excludeSeen ? queries.historyItems : null,
      items,
      scores,
    );
    return { items, scores, k };
  }

  /** Writes the model directory (manifest + safetensors) atomically; `metadata` adds to the manifest. */
  save(dir: string, metadata: Record<string, JsonValue> = {}): void {
    saveCandidateModel(this, dir, metadata);
  }

  /** Loads a saved model; `data` must be the dataset it was trained on (same dictionaries). */
  static load(dir: string, data: Dataset, kernels?: Kernels): CandidateModel {
    return loadCandidateModel(dir, data, kernels);
  }

  /** The model as a Scorer for src/eval's protocols. */
  asScorer(name = "candidates"): Scorer {
    return {
      name,
      // The headline settings; the full config is in the model's manifest.
      params: {
        tower: towerWidths(this.config.network).join("-"),
        dropout: this.config.network.dropout,
        recent: recentCounts(this.features),
        ...sequenceParam(this.features),
        softmax: this.network.shape.mode,
        lr: this.config.train.lr,
        epochs: this.summary?.bestEpoch ?? 0,
        seed: this.seed,
      },
      score: (batch: QueryBatch, out: Float32Array) => this.scoreRange(batch, 0, batch.users.length, out),
    };
  }
}

/** Full softmax for catalogs up to fullSoftmaxMaxItems under "auto" (chooseSoftmax says why). */
export function softmaxMode(config: CandidateConfig, numItems: number): "full" | "sampled" {
  return chooseSoftmax(config.train, numItems).used;
}

/** The model seed also seeds example selection, unless the config sets features.examples.seed. */
export function withSeed(input: CandidateConfigInput, seed: number): CandidateConfigInput {
  const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  // Leave a malformed input (not an object) for the config check to report.
  if (!isObject(input) || (input.features !== undefined && !isObject(input.features))) return input;
  const f = input.features;
  if (f?.examples !== undefined && (!isObject(f.examples) || f.examples.seed !== undefined)) return input;
  return { ...input, features: { ...f, examples: { ...f?.examples, seed } } };
}

function itemIdInput(features: CandidateFeatures): ItemIdInput | null {
  const f = features.schema.features.find((x) => x.kind === "bag" && x.name === CANDIDATE_FEATURES.watches);
  return f && f.kind === "bag" && f.table === ITEM_TABLE ? { table: f.table } : null;
}

/** The recent-watch counts the features feed, e.g. "1,3,10" ("" when the group is off). */
function recentCounts(features: CandidateFeatures): string {
  const r = features.config.recentWatches;
  return r.enabled ? r.counts.join(",") : "";
}

/** The ordered watch encoder's shape, e.g. { sequence: "L50 B2" }, when the group is on (nothing otherwise). */
function sequenceParam(features: CandidateFeatures): { sequence?: string } {
  const q = features.config.sequence;
  if (!q.enabled) return {};
  const training = q.everyPosition ? (q.minContext > 0 ? ` ctx${q.minContext}` : "") : " per-example";
  return { sequence: `L${q.maxLen} B${q.blocks}${training}` };
}

/** How often each item was watched in training (the negative sampler's unigram counts). */
function watchCounts(features: CandidateFeatures): Float64Array {
  const counts = new Float64Array(features.numItems);
  for (let i = 0; i < features.seqItems.length; i++) counts[features.seqItems[i]]++;
  return counts;
}
