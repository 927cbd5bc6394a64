/**
 * Picks the index for a catalog: exact brute force below `exactBelow` items (fast enough, and
 * recall is 1), HNSW from there on. Callers that know what they want pass kind "exact" or "hnsw".
 * The choice is made once, at build time: an index that grows past the threshold by addItems keeps
 * its kind until it is rebuilt (the next model).
 */
import type { Kernels } from "../engine/kernels/index.js";
import { ExactIndex } from "./exact-index.js";
import { DEFAULT_HNSW_PARAMS, HnswIndex, type HnswParams } from "./hnsw-index.js";

export interface CreateIndexOptions extends Partial<HnswParams> {
  /** "auto" (default): exact when size < exactBelow, else HNSW. */
  readonly kind?: "auto" | "exact" | "hnsw";
  /** Catalog size from which "auto" switches to HNSW (default 100,000). */
  readonly exactBelow?: number;
  /** Per-item logit bias added to every score (the candidate model's output bias). */
  readonly itemBias?: Float32Array | null;
  /** Kernels of the exact index (default: getKernels()). */
  readonly kernels?: Kernels;
}

export const DEFAULT_EXACT_BELOW = 100_000;

/** Builds a VectorIndex over size×dim row-major item vectors (kept by reference until items are added). */
export function createIndex(
  vectors: Float32Array,
  size: number,
  dim: number,
  options: CreateIndexOptions = {},
): ExactIndex | HnswIndex {
  const { kind = "auto", exactBelow = DEFAULT_EXACT_BELOW, itemBias = null, kernels, ...hnsw } = options;
  if (kind !== "auto" && kind !== "exact" && kind !== "hnsw") {
    throw new RangeError(`createIndex: kind must be "auto", "exact" or "hnsw", got "${String(kind)}"`);
  }
  if (!Number.isInteger(exactBelow) || exactBelow < 0) {
    throw new RangeError(`createIndex: exactBelow must be a non-negative integer, got ${exactBelow}`);
  }
  const useExact = kind === "exact" || (kind === "auto" && size < exactBelow);
  return useExact
    ? new ExactIndex(vectors, size, dim, { itemBias, kernels })
    : HnswIndex.build(vectors, size, dim, { ...DEFAULT_HNSW_PARAMS, ...hnsw }, { itemBias });
}
