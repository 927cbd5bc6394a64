/**
 * Retrieval: top-N items by inner product (+ item bias) for user vectors, with seen-item exclusion.
 * One VectorIndex interface; ExactIndex (brute force on the engine's topK kernel) for catalogs below
 * ~100k items, HnswIndex (norm-ranged HNSW graphs) above; createIndex picks (and can cache a built
 * HNSW index in a file). Both grow while they serve (addItems).
 */
export type { Exclusion, SearchResult, VectorIndex } from "./vector-index.js";
export { ExactIndex, type ExactIndexOptions } from "./exact-index.js";
export {
  DEFAULT_HNSW_PARAMS,
  HnswIndex,
  type HnswIndexOptions,
  type HnswParams,
  type HnswRange,
} from "./hnsw-index.js";
export { loadHnswIndex, saveHnswIndex } from "./hnsw-file.js";
export { createIndex, DEFAULT_EXACT_BELOW, type CreateIndexOptions } from "./create-index.js";
export { recallAgainstExact } from "./recall.js";
export { evaluateIndex, type IndexEvaluationOptions, type IndexEvaluationResult } from "./evaluate-index.js";
export { syntheticVectors, type SyntheticVectorOptions, type SyntheticVectors } from "./synthetic-vectors.js";
