/**
 * Exact maximum-inner-product search: brute-force top-k of U·Vᵀ on the engine's topK kernel (SIMD
 * and threads in the native backend). The default for catalogs up to ~100k items, where scanning
 * every item is fast enough and recall is 1 by construction; also the ground truth HNSW is
 * measured against.
 */
import { getKernels, type Kernels } from "../engine/kernels/index.js";
import {
  checkSearchArgs,
  checkVectors,
  emptyResult,
  type Exclusion,
  type SearchResult,
  type VectorIndex,
} from "./vector-index.js";

export class ExactIndex implements VectorIndex {
  readonly kind = "exact" as const;
  private readonly kernels: Kernels;

  /** vectors: row-major size×dim item vectors, kept by reference (do not mutate). */
  constructor(
    readonly vectors: Float32Array,
    readonly size: number,
    readonly dim: number,
    kernels: Kernels = getKernels(),
  ) {
    checkVectors(vectors, size, dim);
    this.kernels = kernels;
  }

  search(queries: Float32Array, numQueries: number, k: number, exclude?: Exclusion): SearchResult {
    checkSearchArgs(this.dim, queries, numQueries, k, exclude);
    const out = emptyResult(numQueries, k);
    if (k === 0 || numQueries === 0) return out;
    this.kernels.topK(
      queries,
      numQueries,
      this.vectors,
      this.size,
      this.dim,
      null,
      k,
      exclude?.offsets ?? null,
      exclude?.items ?? null,
      out.items,
      out.scores,
    );
    return out;
  }
}
