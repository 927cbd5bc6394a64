/**
 * One loaded model as the service serves it: the Recommender, its identity (version = a prefix of
 * the manifest's SHA-256, so two instances can tell they serve the same model), and the unit-norm
 * item output embeddings behind "similar items" and "because you watched". A reload builds a new
 * ServingModel completely before it replaces the old one; requests hold the one they started with.
 * With workers, recommendations are computed on worker threads holding the same model and events
 * (src/serve/recommend-workers.ts); the Recommender here answers explanations and stands in for a
 * worker that dies.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readManifest } from "../engine/model-file/index.js";
import { DEFAULT_EXACT_BELOW } from "../retrieval/index.js";
import type { RecommendedItem, RecommendRequest } from "../models/ranking/recommender-types.js";
import { Recommender, type RetrievalOptions } from "../models/ranking/recommender.js";
import type { ModelData } from "./model-data.js";
import { ServeError } from "./errors.js";
import { RecommendWorkers, withAllowMask } from "./recommend-workers.js";

export class ServingModel {
  /** Where this model is in the store's event feed (null: no feed); advanced as the feed is replayed into it. */
  feedCursor: string | null = null;
  /** Feed ids of the batches this instance ingested into this model itself (skipped once met in the feed). */
  readonly ownBatches = new Set<string>();

  /** Worker threads answering recommend() (null: in-process). */
  private workers: RecommendWorkers | null = null;

  private constructor(
    readonly recommender: Recommender,
    readonly dir: string,
    readonly version: string,
    readonly trainedAt: string,
    readonly loadedAt: Date,
    /** Items and users the model knows (indices below these). */
    readonly numItems: number,
    readonly numUsers: number,
    /** [numItems × dim] item output vectors scaled to unit length (zero rows stay zero). */
    readonly unitVectors: Float32Array,
    readonly dim: number,
  ) {}

  /**
   * Loads and checks a model directory against the store's data; throws with the reason when
   * unusable. workers: threads that compute recommendations (0: the event loop does).
   */
  static async load(
    dir: string,
    data: ModelData,
    retrieval?: RetrievalOptions,
    workers = 0,
    onWorkerExit?: (message: string) => void,
  ): Promise<ServingModel> {
    const manifest = readManifest(dir);
    // Workers over an HNSW catalog read the index this thread builds instead of each building it:
    // through the caller's index cache, or a temporary one removed once they have loaded it.
    const hnsw = data.numItems >= (retrieval?.exactBelow ?? DEFAULT_EXACT_BELOW);
    const scratch =
      workers > 0 && hnsw && retrieval?.indexCache === undefined
        ? mkdtempSync(join(tmpdir(), "watchnext-index-"))
        : null;
    if (scratch !== null) retrieval = { ...retrieval, indexCache: join(scratch, "hnsw.bin") };
    try {
      return await ServingModel.loadWith(dir, manifest, data, retrieval, workers, onWorkerExit);
    } finally {
      if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
    }
  }

  private static async loadWith(
    dir: string,
    manifest: ReturnType<typeof readManifest>,
    data: ModelData,
    retrieval: RetrievalOptions | undefined,
    workers: number,
    onWorkerExit: ((message: string) => void) | undefined,
  ): Promise<ServingModel> {
    // Retrieval options are passed only when set (the 4th argument is an addition to the contract).
    const recommender =
      retrieval === undefined
        ? Recommender.load(dir, data.dataset)
        : Recommender.load(dir, data.dataset, undefined, retrieval);
    if (data.laterItems.length > 0) recommender.observeEvents(data.laterItems, data.laterTimes);
    const cand = recommender.candidates;
    if (cand.numItems !== data.numItems) {
      throw new ServeError(
        `${dir}: the model has ${cand.numItems} items, the store's dataset ${data.numItems}`,
      );
    }
    const dim = cand.userDim;
    const v = cand.itemVectors();
    for (let i = 0; i < cand.numItems; i++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += v[i * dim + d] * v[i * dim + d];
      if (!Number.isFinite(s)) throw new Error(`${dir}: item ${i}'s output embedding is not finite`);
      const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
      for (let d = 0; d < dim; d++) v[i * dim + d] *= inv;
    }
    const model = new ServingModel(
      recommender,
      dir,
      manifest.manifestSha256.slice(0, 12),
      manifest.createdAt,
      new Date(),
      cand.numItems,
      data.numUsers,
      v,
      dim,
    );
    model.feedCursor = data.feedCursor;
    if (workers > 0) {
      model.workers = await RecommendWorkers.start(
        workers,
        {
          dir,
          dataset: data.dataset,
          retrieval: retrieval ?? null,
          laterItems: data.laterItems,
          laterTimes: data.laterTimes,
        },
        manifest.manifestSha256,
        recommender,
        onWorkerExit,
      );
    }
    return model;
  }

  /** Worker threads computing recommendations (0: in-process). */
  get workerCount(): number {
    return this.workers?.size ?? 0;
  }

  /** recommender.recommend(req) restricted to allowMask's items (1 = allowed), on a worker when there are any. */
  recommend(req: RecommendRequest, allowMask: Uint8Array | null): Promise<RecommendedItem[]> {
    if (this.workers !== null) return this.workers.recommend(req, allowMask);
    const full = withAllowMask(req, allowMask);
    try {
      return Promise.resolve(this.recommender.recommend(full));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** New events (ingested here or by another instance) for the model and every worker, in order. */
  observeEvents(items: Int32Array, times: Float64Array): void {
    this.recommender.observeEvents(items, times);
    this.workers?.observeEvents(items, times);
  }

  /** Stops the workers once their requests in flight are answered. */
  close(): Promise<void> {
    return this.workers?.close() ?? Promise.resolve();
  }

  /** Stage one's retrieval index ("exact" | "hnsw"), when the Recommender exposes it. */
  get indexKind(): string {
    const index = (this.recommender as { index?: { kind?: unknown } }).index;
    return typeof index?.kind === "string" ? index.kind : "unknown";
  }

  /** Cosine similarity of two known items' output embeddings. */
  cosine(a: number, b: number): number {
    const d = this.dim;
    const v = this.unitVectors;
    let s = 0;
    for (let k = 0; k < d; k++) s += v[a * d + k] * v[b * d + k];
    return s;
  }
}
