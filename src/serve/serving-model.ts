/**
 * One loaded model as the service serves it: the Recommender, its identity (version = a prefix of
 * the manifest's SHA-256, so two instances can tell they serve the same model), and the unit-norm
 * item output embeddings behind "similar items" and "because you watched". A reload builds a new
 * ServingModel completely before it replaces the old one; requests hold the one they started with.
 */
import { readManifest } from "../engine/model-file/index.js";
import { Recommender, type RetrievalOptions } from "../models/ranking/recommender.js";
import type { ModelData } from "./model-data.js";
import { ServeError } from "./errors.js";

export class ServingModel {
  /** Where this model is in the store's event feed (null: no feed); advanced as the feed is replayed into it. */
  feedCursor: string | null = null;
  /** Feed ids of the batches this instance ingested into this model itself (skipped once met in the feed). */
  readonly ownBatches = new Set<string>();

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
   * unusable.
   */
  static load(dir: string, data: ModelData, retrieval?: RetrievalOptions): ServingModel {
    const manifest = readManifest(dir);
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
    return model;
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
