/**
 * Picks the index for a catalog: exact brute force below `exactBelow` items (fast enough, and
 * recall is 1), HNSW from there on. Callers that know what they want pass kind "exact" or "hnsw".
 * The choice is made once, at build time: an index that grows past the threshold by addItems keeps
 * its kind until it is rebuilt (the next model).
 *
 * Building HNSW over ~100k items takes tens of seconds on one core, so a server would pay it at
 * every start and reload. With `cachePath` the built index is saved there and reused when the file
 * holds exactly these vectors, bias and build parameters (checked value by value, so a stale or
 * foreign file is rebuilt, never trusted).
 */
import { existsSync } from "node:fs";
import type { Kernels } from "../engine/kernels/index.js";
import { ExactIndex } from "./exact-index.js";
import { loadHnswIndex, saveHnswIndex } from "./hnsw-file.js";
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
  /** HNSW only: a file to reuse the built index from, and to save it to after a build. */
  readonly cachePath?: string;
}

export const DEFAULT_EXACT_BELOW = 100_000;

/** Builds a VectorIndex over size×dim row-major item vectors (kept by reference until items are added). */
export function createIndex(
  vectors: Float32Array,
  size: number,
  dim: number,
  options: CreateIndexOptions = {},
): ExactIndex | HnswIndex {
  const {
    kind = "auto",
    exactBelow = DEFAULT_EXACT_BELOW,
    itemBias = null,
    kernels,
    cachePath,
    ...hnsw
  } = options;
  if (kind !== "auto" && kind !== "exact" && kind !== "hnsw") {
    throw new RangeError(`createIndex: kind must be "auto", "exact" or "hnsw", got "${String(kind)}"`);
  }
  if (!Number.isInteger(exactBelow) || exactBelow < 0) {
    throw new RangeError(`createIndex: exactBelow must be a non-negative integer, got ${exactBelow}`);
  }
  const useExact = kind === "exact" || (kind === "auto" && size < exactBelow);
  if (useExact) return new ExactIndex(vectors, size, dim, { itemBias, kernels });
  const params: HnswParams = { ...DEFAULT_HNSW_PARAMS, ...hnsw };
  if (cachePath === undefined) return HnswIndex.build(vectors, size, dim, params, { itemBias });
  const cached = reusable(cachePath, vectors, size, dim, params, itemBias);
  if (cached !== null) return cached;
  const index = HnswIndex.build(vectors, size, dim, params, { itemBias });
  try {
    saveHnswIndex(index, cachePath);
  } catch (error) {
    // A read-only model directory must not stop serving: the index is only rebuilt next time.
    console.warn(`watchnext: could not save the HNSW index to ${cachePath}: ${(error as Error).message}`);
  }
  return index;
}

/** The index in `path` when it was built from exactly these items and parameters, else null. */
function reusable(
  path: string,
  vectors: Float32Array,
  size: number,
  dim: number,
  params: HnswParams,
  itemBias: Float32Array | null,
): HnswIndex | null {
  if (!existsSync(path)) return null;
  let index: HnswIndex;
  try {
    index = loadHnswIndex(path);
  } catch {
    return null; // unreadable or foreign: rebuilt and overwritten
  }
  const p = index.params;
  if (index.size !== size || index.dim !== dim) return null;
  if (index.ranges.length !== Math.max(1, Math.min(params.normRanges, size))) return null;
  if (p.M !== params.M || p.efConstruction !== params.efConstruction || p.seed !== params.seed) return null;
  if (p.normRanges !== params.normRanges) return null;
  for (let item = 0; item < size; item++) if (!index.isSearchable(item)) return null;
  const v = index.vectors;
  for (let i = 0; i < size * dim; i++) if (!Object.is(v[i], vectors[i])) return null;
  const bias = index.itemBias;
  if ((bias === null) !== (itemBias === null)) return null;
  if (bias !== null && itemBias !== null) {
    for (let i = 0; i < size; i++) if (!Object.is(bias[i], itemBias[i])) return null;
  }
  index.setEfSearch(params.efSearch);
  return index;
}
