/**
 * The retrieval contract. Candidate generation serves a user vector u against the item output
 * embeddings v_j and keeps the top N items by dot product u·v_j (maximum inner product search, the
 * paper's "nearest neighbour search" at serving time). Every index — exact brute force or HNSW —
 * answers the same batched question with the same output layout as the engine's topK kernel.
 */

/**
 * Per-query item lists to leave out (the user's already-seen items): query q excludes
 * items[offsets[q] .. offsets[q+1]). offsets has numQueries + 1 entries.
 */
export interface Exclusion {
  readonly offsets: Int32Array;
  readonly items: Int32Array;
}

/** numQueries rows of k: items and scores sorted by score descending; item −1 / score −∞ pad a row. */
export interface SearchResult {
  readonly items: Int32Array;
  readonly scores: Float32Array;
}

export interface VectorIndex {
  /** "exact" or "hnsw", for reports and logs. */
  readonly kind: "exact" | "hnsw";
  /** Number of indexed item vectors (item ids are 0 .. size−1). */
  readonly size: number;
  /** Vector width. */
  readonly dim: number;
  /** Top-k items by inner product (+ item bias) for each of numQueries row-major query vectors. */
  search(queries: Float32Array, numQueries: number, k: number, exclude?: Exclusion): SearchResult;
  /**
   * Adds `count` items with ids size .. size + count − 1 and returns the first id; searches see
   * them at once. vectors: count×dim row-major, or null to reserve the ids for items that have no
   * vector yet (never returned). itemBias (count entries) is required exactly when the index was
   * built with an item bias.
   */
  addItems(vectors: Float32Array | null, count: number, itemBias?: Float32Array | null): number;
  /** False for items reserved without a vector. */
  isSearchable(item: number): boolean;
}

/** Throws a clear error when search arguments do not describe numQueries queries of width dim. */
export function checkSearchArgs(
  dim: number,
  queries: Float32Array,
  numQueries: number,
  k: number,
  exclude: Exclusion | undefined,
): void {
  if (!Number.isInteger(numQueries) || numQueries < 0) {
    throw new RangeError(`search: numQueries must be a non-negative integer, got ${numQueries}`);
  }
  if (!Number.isInteger(k) || k < 0)
    throw new RangeError(`search: k must be a non-negative integer, got ${k}`);
  if (queries.length < numQueries * dim) {
    throw new RangeError(
      `search: queries holds ${queries.length} floats, expected at least numQueries·dim = ${numQueries}·${dim}`,
    );
  }
  if (exclude !== undefined) {
    const { offsets, items } = exclude;
    if (offsets.length !== numQueries + 1) {
      throw new RangeError(
        `search: exclude.offsets must have numQueries + 1 = ${numQueries + 1} entries, got ${offsets.length}`,
      );
    }
    if (offsets[0] !== 0 || offsets[numQueries] > items.length) {
      throw new RangeError(
        `search: exclude.offsets must start at 0 and end within exclude.items (length ${items.length}), got ${offsets[0]} .. ${offsets[numQueries]}`,
      );
    }
    for (let q = 0; q < numQueries; q++) {
      if (offsets[q + 1] < offsets[q]) {
        throw new RangeError(
          `search: exclude.offsets must be non-decreasing, offsets[${q + 1}] < offsets[${q}]`,
        );
      }
    }
  }
}

/** A result buffer for numQueries rows of k, pre-filled with the −1 / −∞ padding. */
export function emptyResult(numQueries: number, k: number): { items: Int32Array; scores: Float32Array } {
  return {
    items: new Int32Array(numQueries * k).fill(-1),
    scores: new Float32Array(numQueries * k).fill(Number.NEGATIVE_INFINITY),
  };
}

/** Throws when vectors is not size×dim or holds a non-finite value (naming the item and coordinate). */
export function checkVectors(vectors: Float32Array, size: number, dim: number): void {
  if (!Number.isInteger(dim) || dim < 1)
    throw new RangeError(`vector index: dim must be an integer >= 1, got ${dim}`);
  if (!Number.isInteger(size) || size < 0) {
    throw new RangeError(`vector index: size must be a non-negative integer, got ${size}`);
  }
  if (vectors.length < size * dim) {
    throw new RangeError(
      `vector index: vectors holds ${vectors.length} floats, expected size·dim = ${size}·${dim}`,
    );
  }
  for (let i = 0; i < size * dim; i++) {
    if (!Number.isFinite(vectors[i])) {
      throw new RangeError(
        `vector index: item ${Math.floor(i / dim)} coordinate ${i % dim} is ${vectors[i]}, expected a finite number`,
      );
    }
  }
}
