/**
 * Exact maximum-inner-product search: brute-force top-k of U·Vᵀ (+ item bias) on the engine's topK
 * kernel (SIMD, and threads over queries and — for one query — over parts of the catalog, in the
 * native backend). The default for catalogs up to ~100k items, where scanning every item is fast
 * enough and recall is 1 by construction; also the ground truth HNSW is measured against. Items
 * can be added while it serves (addItems).
 */
import { getKernels, type Kernels } from "../engine/kernels/index.js";
import { ItemRows } from "./item-rows.js";
import {
  checkSearchArgs,
  emptyResult,
  type Exclusion,
  type SearchResult,
  type VectorIndex,
} from "./vector-index.js";

export interface ExactIndexOptions {
  /** Per-item logit bias added to every score (the candidate model's output bias), or null. */
  readonly itemBias?: Float32Array | null;
  /** Kernel backend (default: getKernels()). */
  readonly kernels?: Kernels;
}

export class ExactIndex implements VectorIndex {
  readonly kind = "exact" as const;
  private readonly kernels: Kernels;
  private readonly rows: ItemRows;
  /** The bias the kernel sees once reserved items exist: NaN (skipped by topK) for those items. */
  private masked: Float32Array | null = null;

  /** vectors: row-major size×dim item vectors, kept by reference until items are added (do not mutate). */
  constructor(
    vectors: Float32Array,
    size: number,
    readonly dim: number,
    options: ExactIndexOptions = {},
  ) {
    this.rows = new ItemRows(vectors, size, dim, options.itemBias ?? null);
    this.kernels = options.kernels ?? getKernels();
  }

  get size(): number {
    return this.rows.size;
  }

  /** The size×dim item vectors (a view, replaced when items are added). */
  get vectors(): Float32Array {
    return this.rows.vectors;
  }

  /** The per-item bias (a view), or null. */
  get itemBias(): Float32Array | null {
    return this.rows.bias;
  }

  isSearchable(item: number): boolean {
    return this.rows.isSearchable(item);
  }

  addItems(vectors: Float32Array | null, count: number, itemBias: Float32Array | null = null): number {
    const first = this.rows.append(vectors, count, itemBias);
    if (this.masked === null && vectors !== null) return first;
    // Keep the masked bias in step: copy the new items' bias (or 0), NaN for reserved ones.
    const size = this.rows.size;
    if (this.masked === null || this.masked.length < size) {
      const grown = new Float32Array(Math.max(size, 2 * (this.masked?.length ?? 0)));
      if (this.masked !== null) grown.set(this.masked.subarray(0, first));
      else {
        const bias = this.rows.bias;
        if (bias !== null) grown.set(bias.subarray(0, first));
      }
      this.masked = grown;
    }
    const bias = this.rows.bias;
    for (let i = first; i < size; i++) {
      this.masked[i] = vectors === null ? Number.NaN : bias === null ? 0 : bias[i];
    }
    return first;
  }

  search(queries: Float32Array, numQueries: number, k: number, exclude?: Exclusion): SearchResult {
    checkSearchArgs(this.dim, queries, numQueries, k, exclude);
    const out = emptyResult(numQueries, k);
    if (k === 0 || numQueries === 0) return out;
    const size = this.rows.size;
    this.kernels.topK(
      queries,
      numQueries,
      this.rows.vectors,
      size,
      this.dim,
      this.masked !== null ? this.masked.subarray(0, size) : this.rows.bias,
      k,
      exclude?.offsets ?? null,
      exclude?.items ?? null,
      out.items,
      out.scores,
    );
    return out;
  }
}
