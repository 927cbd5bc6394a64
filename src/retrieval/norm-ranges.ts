/**
 * The MIPS → nearest-neighbour reduction HNSW needs, applied per norm range. HNSW graphs assume a
 * metric, and inner product is not one: searched directly, large-norm items become hubs and recall
 * collapses on clustered embeddings. The standard reduction (Bachrach et al. 2014) appends
 * sqrt(M² − |v|²) to every item (so all items have norm M) and 0 to the query; L2 distance then
 * ranks items exactly as −u·v. With one global M the extra coordinate dominates the many small-norm
 * items and crowds them together, so, following norm-ranging (Yan et al., NeurIPS 2018), items are
 * split into ranges of similar norm, each with its own M and its own graph; a query searches every
 * range and the candidates are merged by their exact inner product.
 */

/** One norm range: the items it holds (ascending squared norm) and its largest squared norm M². */
export interface NormRange {
  readonly items: Int32Array;
  readonly maxSqNorm: number;
}

/** Squared L2 norm of each of the size rows of `vectors` (float64 accumulation). */
export function squaredNorms(vectors: Float32Array, size: number, dim: number): Float64Array {
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    let s = 0;
    const base = i * dim;
    for (let d = 0; d < dim; d++) s += vectors[base + d] * vectors[base + d];
    out[i] = s;
  }
  return out;
}

/**
 * Splits items 0..size−1 into `count` ranges of (near) equal size by squared norm, ties by item
 * index, so the split is deterministic. Fewer ranges come back when there are fewer items.
 */
export function splitByNorm(sqNorms: Float64Array, count: number): NormRange[] {
  const size = sqNorms.length;
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`normRanges must be an integer >= 1, got ${count}`);
  const order = new Int32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  order.sort((a, b) => sqNorms[a] - sqNorms[b] || a - b);
  const ranges: NormRange[] = [];
  const used = Math.max(1, Math.min(count, size));
  for (let r = 0; r < used; r++) {
    const items = order.slice(Math.floor((r * size) / used), Math.floor(((r + 1) * size) / used));
    let maxSqNorm = 0;
    for (let i = 0; i < items.length; i++) maxSqNorm = Math.max(maxSqNorm, sqNorms[items[i]]);
    ranges.push({ items, maxSqNorm });
  }
  return ranges;
}

/** Writes item `item`'s augmented vector [v, sqrt(M² − |v|²)] (width dim + 1) into `row`. */
export function augmentItem(
  vectors: Float32Array,
  dim: number,
  item: number,
  sqNorm: number,
  maxSqNorm: number,
  row: number[],
): void {
  const base = item * dim;
  for (let d = 0; d < dim; d++) row[d] = vectors[base + d];
  row[dim] = Math.sqrt(Math.max(0, maxSqNorm - sqNorm));
}
