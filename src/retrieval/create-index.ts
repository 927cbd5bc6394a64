/**
 * Picks the index for a catalog: exact brute force below `exactBelow` items (fast enough, and
 * recall is 1), HNSW above it. Callers that know what they want pass kind "exact" or "hnsw".
 */
import { ExactIndex } from "./exact-index.js";
import { DEFAULT_HNSW_PARAMS, HnswIndex, type HnswParams } from "./hnsw-index.js";

export interface CreateIndexOptions extends Partial<HnswParams> {
  /** "auto" (default): exact when size < exactBelow, else HNSW. */
  readonly kind?: "auto" | "exact" | "hnsw";
  /** Catalog size from which "auto" switches to HNSW (default 100,000). */
  readonly exactBelow?: number;
}

export const DEFAULT_EXACT_BELOW = 100_000;

/** Builds a VectorIndex over size×dim row-major item vectors (kept by reference). */
export function createIndex(
  vectors: Float32Array,
  size: number,
  dim: number,
  options: CreateIndexOptions = {},
): ExactIndex | HnswIndex {
  const { kind = "auto", exactBelow = DEFAULT_EXACT_BELOW, ...hnsw } = options;
  if (kind !== "auto" && kind !== "exact" && kind !== "hnsw") {
    throw new RangeError(`createIndex: kind must be "auto", "exact" or "hnsw", got "${String(kind)}"`);
  }
  const useExact = kind === "exact" || (kind === "auto" && size < exactBelow);
  return useExact
    ? new ExactIndex(vectors, size, dim)
    : HnswIndex.build(vectors, size, dim, { ...DEFAULT_HNSW_PARAMS, ...hnsw });
}
