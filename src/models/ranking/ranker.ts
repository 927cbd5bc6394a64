/**
 * Ranker: the paper's ranking model as a library object. `fit` builds the ranking features on
 * the training impressions, packs the training lists once (every positive and a seeded sample of
 * negatives per list, lists shuffled), trains the network by weighted logistic regression with
 * Adam, and early-stops on the validation weighted per-user loss, restoring the best epoch. The
 * trained ranker scores impression lists (logits; e^logit is the expected engagement).
 */
import type { Dataset } from "../../data/dataset.js";
import { getKernels } from "../../engine/kernels/index.js";
import type { Kernels } from "../../engine/kernels/kernels.js";
import { loadModel, saveModel, type JsonValue, type Tensor } from "../../engine/model-file/index.js";
import { Rng } from "../../engine/rng.js";
import type { ImpressionSet } from "../../features/impressions.js";
import type { ItemTimeline } from "../../features/ranking-context.js";
import type { FeatureSpec } from "../../features/schema.js";
import {
  RankingFeatures,
  type RankingBatch,
  type RankingFeaturesJSON,
  type RankingInput,
} from "../../features/ranking-features.js";
import { resolveRankerConfig, type RankerConfig, type RankerConfigInput } from "./config.js";
import { RankingNetwork } from "./network.js";
import { restoreTensors, snapshotTensors } from "../../engine/optim/snapshot.js";

export const RANKER_MODEL_KIND = "ranker";

/** Lower is better (the weighted per-user loss of protocol.md §Ranking). */
export type ListLoss = (set: ImpressionSet, scores: Float32Array) => number;

export interface RankerEpoch {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly validLoss: number | null;
  readonly seconds: number;
}

export interface RankerSummary {
  readonly epochs: number;
  readonly bestEpoch: number;
  readonly bestValidLoss: number | null;
  readonly stopReason: "early-stop" | "max-epochs" | "interrupted";
  readonly seconds: number;
  readonly trainLists: number;
  readonly trainCandidates: number;
  readonly history: readonly RankerEpoch[];
}

export interface RankerFitOptions {
  readonly config?: RankerConfigInput;
  readonly seed?: number;
  /** Validation impressions for early stopping, scored by `validLoss`. */
  readonly valid?: RankingInput;
  readonly validLoss?: ListLoss;
  readonly onEpoch?: (e: RankerEpoch) => void;
  readonly signal?: AbortSignal;
  readonly kernels?: Kernels;
}

/** Largest scoring batch (candidates) for evaluation and serving. */
const SCORE_CAPACITY = 8192;

export class Ranker {
  private scoreBatch: RankingBatch;

  private constructor(
    readonly config: RankerConfig,
    readonly features: RankingFeatures,
    readonly network: RankingNetwork,
    readonly seed: number,
    public summary: RankerSummary | null,
  ) {
    this.scoreBatch = features.allocBatch(network.capacity.lists, network.capacity.candidates);
  }

  static async fit(
    data: Dataset,
    timeline: ItemTimeline,
    train: RankingInput,
    opts: RankerFitOptions = {},
  ): Promise<Ranker> {
    const config = resolveRankerConfig(opts.config ?? {});
    const seed = opts.seed ?? 1;
    const kernels = opts.kernels ?? getKernels();
    const features = RankingFeatures.fit(data, timeline, train, config.features);
    const rng = new Rng(seed);
    const store = packTrainingLists(features, train, config, rng.fork(7));
    const lpb = config.train.listsPerBatch;
    const blocks: RankingBatch[] = [];
    let maxBlock = 0;
    for (let l0 = 0; l0 < store.lists; l0 += lpb) {
      const v = viewLists(store, l0, Math.min(store.lists, l0 + lpb), features);
      blocks.push(v);
      maxBlock = Math.max(maxBlock, v.size);
    }
    const network = new RankingNetwork(
      kernels,
      config,
      features.schema,
      {
        lists: Math.max(lpb, 64),
        candidates: Math.max(maxBlock, SCORE_CAPACITY, maxListSize(opts.valid?.set)),
      },
      rng,
    );
    const ranker = new Ranker(config, features, network, seed, null);
    ranker.summary = await ranker.train(blocks, store, opts, rng.fork(11));
    return ranker;
  }

  /** Logits of every candidate of every list of `input` (parallel to input.set.items). */
  score(input: RankingInput, out = new Float32Array(input.set.items.length)): Float32Array {
    const set = input.set;
    const f = this.features;
    const b = this.scoreBatch;
    const cap = this.network.capacity;
    const lists = set.users.length;
    let l = 0;
    while (l < lists) {
      f.clear(b);
      const first = l;
      while (
        l < lists &&
        b.lists < cap.lists &&
        b.size + set.listOffsets[l + 1] - set.listOffsets[l] <= cap.candidates
      ) {
        f.append(input, l, b);
        l++;
      }
      if (l === first)
        throw new RangeError(
          `ranker: list ${l} has ${set.listOffsets[l + 1] - set.listOffsets[l]} candidates, more than ${cap.candidates}`,
        );
      const logits = this.network.infer(b);
      out.set(logits.subarray(0, b.size), set.listOffsets[first]);
    }
    return out;
  }

  /** Every list of `input` packed once, as batches that fit the network (views of one store). */
  private packAll(input: RankingInput): RankingBatch[] {
    const set = input.set;
    const f = this.features;
    const lists = set.users.length;
    const store = f.allocBatch(lists, set.items.length);
    f.clear(store);
    for (let l = 0; l < lists; l++) f.append(input, l, store);
    const cap = this.network.capacity;
    const blocks: RankingBatch[] = [];
    for (let l0 = 0; l0 < lists;) {
      let l1 = l0 + 1;
      while (
        l1 < lists &&
        l1 - l0 < cap.lists &&
        store.listOffsets[l1 + 1] - store.listOffsets[l0] <= cap.candidates
      )
        l1++;
      blocks.push(viewLists(store, l0, l1, f));
      l0 = l1;
    }
    return blocks;
  }

  /**
   * Each feature group's contribution to the logit of candidate c (index into list l) by
   * occlusion: the logit minus the logit with the group's inputs set to "absent" (zero embedding,
   * empty bag, zero dense columns). Groups: each query/impression feature, each source's columns.
   */
  explain(input: RankingInput, l: number, c: number): Array<{ feature: string; contribution: number }> {
    const f = this.features;
    const b = this.scoreBatch;
    f.clear(b);
    f.append(input, l, b, Int32Array.of(c), 1);
    const base = this.network.infer(b)[0];
    const groups = new Map<string, Array<{ side: "query" | "impression"; spec: FeatureSpec }>>();
    for (const side of ["query", "impression"] as const)
      for (const spec of f.schema[side].features) {
        const dot = spec.name.indexOf(".");
        const g = dot > 0 ? `source ${spec.name.slice(0, dot)}` : spec.name;
        if (!groups.has(g)) groups.set(g, []);
        groups.get(g)?.push({ side, spec });
      }
    const out: Array<{ feature: string; contribution: number }> = [];
    for (const [feature, specs] of groups) {
      const undo = specs.map(({ side, spec }) => occlude(side === "query" ? b.query : b.impression, spec));
      const logit = this.network.infer(b)[0];
      for (const u of undo) u();
      out.push({ feature, contribution: base - logit });
    }
    return out.sort((x, y) => Math.abs(y.contribution) - Math.abs(x.contribution));
  }

  private async train(
    blocks: RankingBatch[],
    store: RankingBatch,
    opts: RankerFitOptions,
    rng: Rng,
  ): Promise<RankerSummary> {
    const t = this.config.train;
    const started = performance.now();
    const order = Int32Array.from(blocks, (_, i) => i);
    const history: RankerEpoch[] = [];
    let best = Infinity;
    let bestEpoch = 0;
    let bestWeights: Map<string, Float32Array> | null = null;
    let sinceBest = 0;
    let stopReason: RankerSummary["stopReason"] = "max-epochs";
    const validScores = opts.valid ? new Float32Array(opts.valid.set.items.length) : null;
    // The validation lists' features are computed once; each epoch only runs the network.
    const validBlocks = opts.valid ? this.packAll(opts.valid) : [];
    for (let epoch = 1; epoch <= t.epochs; epoch++) {
      if (opts.signal?.aborted) {
        stopReason = "interrupted";
        break;
      }
      const epochStart = performance.now();
      rng.shuffle(order);
      let lossSum = 0;
      let weightSum = 0;
      for (let s = 0; s < order.length; s++) {
        const b = blocks[order[s]];
        const loss = this.network.trainStep(b);
        if (!Number.isFinite(loss))
          throw new Error(`ranker training diverged at epoch ${epoch}: loss ${loss} (try a lower train.lr)`);
        lossSum += loss * b.size;
        weightSum += b.size;
        if (s % 64 === 63) await new Promise((r) => setImmediate(r));
      }
      let validLoss: number | null = null;
      if (opts.valid && opts.validLoss && validScores) {
        for (const b of validBlocks) validScores.set(this.network.forward(b, false), b.listOffsets[0]);
        validLoss = opts.validLoss(opts.valid.set, validScores);
      }
      const score = validLoss ?? lossSum / Math.max(weightSum, 1);
      const e: RankerEpoch = {
        epoch,
        trainLoss: lossSum / Math.max(weightSum, 1),
        validLoss,
        seconds: (performance.now() - epochStart) / 1000,
      };
      history.push(e);
      opts.onEpoch?.(e);
      if (score < best) {
        best = score;
        bestEpoch = epoch;
        bestWeights = snapshotTensors(this.network.tensors(), bestWeights);
        sinceBest = 0;
      } else if (++sinceBest >= t.patience && validLoss !== null) {
        stopReason = "early-stop";
        break;
      }
    }
    if (bestWeights) restoreTensors(this.network.tensors(), bestWeights);
    return {
      epochs: history.length,
      bestEpoch,
      bestValidLoss: opts.valid ? best : null,
      stopReason,
      seconds: (performance.now() - started) / 1000,
      trainLists: store.lists,
      trainCandidates: store.size,
      history,
    };
  }

  /** Writes the ranker as a model directory (manifest + safetensors). */
  save(dir: string, metadata: Record<string, JsonValue> = {}): void {
    const tensors: Record<string, Tensor> = {};
    for (const p of this.network.parameters()) tensors[p.name] = { shape: [...p.shape], data: p.data };
    saveModel(dir, {
      kind: RANKER_MODEL_KIND,
      config: toJson({ model: this.config, features: this.features.toJSON() }),
      vocabularies: {},
      metadata: { seed: this.seed, summary: toJson(this.summary), ...metadata },
      tensors,
    });
  }

  /** Loads a saved ranker; `data` must be the dataset it was trained on (same dictionaries). */
  static load(dir: string, data: Dataset, timeline: ItemTimeline, kernels: Kernels = getKernels()): Ranker {
    const loaded = loadModel(dir, RANKER_MODEL_KIND);
    const saved = loaded.config as unknown as { model: RankerConfigInput; features: RankingFeaturesJSON };
    const config = resolveRankerConfig(saved.model, `${dir}: manifest config.model`);
    if (
      saved.features.numItems !== data.items.ids.length ||
      saved.features.numUsers !== data.users.ids.length
    )
      throw new Error(
        `${dir}: the ranker was trained on ${saved.features.numItems} items / ${saved.features.numUsers} users, ` +
          `but ${data.source} has ${data.items.ids.length} / ${data.users.ids.length}: pass the data it was trained on`,
      );
    const features = RankingFeatures.fromJSON(saved.features, data, timeline);
    const seed = typeof loaded.metadata.seed === "number" ? loaded.metadata.seed : 1;
    const network = new RankingNetwork(
      kernels,
      config,
      features.schema,
      { lists: 64, candidates: SCORE_CAPACITY },
      new Rng(seed),
    );
    for (const p of network.parameters()) {
      const stored = loaded.tensors[p.name];
      if (!stored) throw new Error(`${dir}: tensor "${p.name}" is missing from the model file`);
      if (stored.shape.join("x") !== p.shape.join("x"))
        throw new Error(
          `${dir}: tensor "${p.name}" has shape [${stored.shape.join(", ")}], expected [${p.shape.join(", ")}]`,
        );
      p.data.set(stored.data);
    }
    return new Ranker(
      config,
      features,
      network,
      seed,
      (loaded.metadata.summary ?? null) as unknown as RankerSummary | null,
    );
  }
}

/** Sets one feature of row 0 to "absent"; returns the undo. */
function occlude(batch: RankingBatch["query"], spec: FeatureSpec): () => void {
  if (spec.kind === "bag") {
    const bag = batch.bags[spec.name];
    const end = bag.offsets[1];
    bag.offsets[1] = bag.offsets[0];
    return () => (bag.offsets[1] = end);
  }
  if (spec.kind === "categorical") {
    const ids = batch.categorical[spec.name];
    const id = ids[0];
    ids[0] = 0;
    return () => (ids[0] = id);
  }
  const saved = batch.dense.slice(spec.offset, spec.offset + spec.width);
  batch.dense.fill(0, spec.offset, spec.offset + spec.width);
  return () => batch.dense.set(saved, spec.offset);
}

function maxListSize(set: ImpressionSet | undefined): number {
  if (!set) return 0;
  let m = 0;
  for (let l = 0; l < set.users.length; l++) m = Math.max(m, set.listOffsets[l + 1] - set.listOffsets[l]);
  return m;
}

/**
 * The training lists packed once: lists in a seeded random order, each with all its positives and
 * up to negativesPerList negatives sampled without replacement (all when 0). Lists without a
 * positive teach nothing under a pairwise metric and are kept only for the logistic loss.
 */
function packTrainingLists(
  features: RankingFeatures,
  input: RankingInput,
  config: RankerConfig,
  rng: Rng,
): RankingBatch {
  const set = input.set;
  const lists = set.users.length;
  const k = config.train.negativesPerList;
  const order = Int32Array.from({ length: lists }, (_, i) => i);
  rng.shuffle(order);
  let total = 0;
  let maxList = 0;
  for (let l = 0; l < lists; l++) {
    const n = set.listOffsets[l + 1] - set.listOffsets[l];
    let pos = 0;
    for (let c = set.listOffsets[l]; c < set.listOffsets[l + 1]; c++) pos += set.positive[c];
    total += k === 0 ? n : pos + Math.min(k, n - pos);
    maxList = Math.max(maxList, n);
  }
  const store = features.allocBatch(lists, total);
  features.clear(store);
  const select = new Int32Array(maxList);
  const negs = new Int32Array(maxList);
  for (const l of order) {
    const c0 = set.listOffsets[l];
    const n = set.listOffsets[l + 1] - c0;
    let m = 0;
    let nn = 0;
    for (let c = 0; c < n; c++) {
      if (set.positive[c0 + c] === 1) select[m++] = c;
      else negs[nn++] = c;
    }
    const keep = k === 0 ? nn : Math.min(k, nn);
    // Partial Fisher-Yates: the first `keep` negatives are a uniform sample.
    for (let i = 0; i < keep; i++) {
      const j = i + rng.nextInt(nn - i);
      const tmp = negs[i];
      negs[i] = negs[j];
      negs[j] = tmp;
      select[m++] = negs[i];
    }
    select.subarray(0, m).sort();
    const start = store.size;
    features.append(input, l, store, select, m);
    if (config.train.positiveWeight === "unit")
      for (let r = start; r < store.size; r++) if (store.labels[r] === 1) store.weights[r] = 1;
  }
  return store;
}

/** Lists [l0, l1) of a packed store as a batch (views, no copy). */
function viewLists(store: RankingBatch, l0: number, l1: number, features: RankingFeatures): RankingBatch {
  const c0 = store.listOffsets[l0];
  const c1 = store.listOffsets[l1];
  const q = store.query;
  const im = store.impression;
  const bags = (b: RankingBatch["query"]["bags"], a: number, z: number) =>
    Object.fromEntries(
      Object.entries(b).map(([name, bag]) => [
        name,
        { offsets: bag.offsets.subarray(a, z + 1), indices: bag.indices, weights: bag.weights },
      ]),
    );
  const cats = (c: Record<string, Int32Array>, a: number) =>
    Object.fromEntries(Object.entries(c).map(([name, v]) => [name, v.subarray(a)]));
  const qw = features.queryDenseWidth;
  const iw = features.impressionDenseWidth;
  return {
    lists: l1 - l0,
    size: c1 - c0,
    listOffsets: store.listOffsets.subarray(l0, l1 + 1),
    query: {
      size: l1 - l0,
      labels: q.labels.subarray(l0),
      labelTimes: q.labelTimes.subarray(l0),
      bags: bags(q.bags, l0, l1),
      categorical: cats(q.categorical, l0),
      dense: q.dense.subarray(l0 * qw),
      denseWidth: qw,
    },
    impression: {
      size: c1 - c0,
      labels: im.labels.subarray(c0),
      labelTimes: im.labelTimes.subarray(c0),
      bags: bags(im.bags, c0, c1),
      categorical: cats(im.categorical, c0),
      dense: im.dense.subarray(c0 * iw),
      denseWidth: iw,
    },
    labels: store.labels.subarray(c0, c1),
    weights: store.weights.subarray(c0, c1),
    items: store.items.subarray(c0, c1),
  };
}

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
