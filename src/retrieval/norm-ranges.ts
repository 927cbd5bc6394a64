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

/**
 * Squared L2 norm of each of the size rows of `vectors` (float64 accumulation); with a bias, of the
 * row extended by its bias [v, b] (the item side of u·v + b = [u, 1]·[v, b]).
 */
export function squaredNorms(
  vectors: Float32Array,
  size: number,
  dim: number,
  bias: Float32Array | null = null,
): Float64Array {
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = squaredNorm(vectors, dim, i, bias);
  return out;
}

/** Squared norm of item `item`'s row (with its bias when given). */
export function squaredNorm(
  vectors: Float32Array,
  dim: number,
  item: number,
  bias: Float32Array | null,
): number {
  const base = item * dim;
  let s = bias === null ? 0 : bias[item] * bias[item];
  for (let d = 0; d < dim; d++) s += vectors[base + d] * vectors[base + d];
  return s;
}

/**
 * Splits items 0..size−1 into `count` ranges of (near) equal size by squared norm, ties by item
 * index, so the split is deterministic. Fewer ranges come back when there are fewer items. Items
 * whose `searchable` flag is 0 (reserved ids without a vector) are left out.
 */
export function splitByNorm(
  sqNorms: Float64Array,
  count: number,
  searchable: Uint8Array | null = null,
): NormRange[] {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError(`normRanges must be an integer >= 1, got ${count}`);
  let size = 0;
  const order = new Int32Array(sqNorms.length);
  for (let i = 0; i < sqNorms.length; i++) if (searchable === null || searchable[i] !== 0) order[size++] = i;
  const kept = order.subarray(0, size).sort((a, b) => sqNorms[a] - sqNorms[b] || a - b);
  const ranges: NormRange[] = [];
  const used = Math.max(1, Math.min(count, size));
  for (let r = 0; r < used; r++) {
    const items = kept.slice(Math.floor((r * size) / used), Math.floor(((r + 1) * size) / used));
    let maxSqNorm = 0;
    for (let i = 0; i < items.length; i++) maxSqNorm = Math.max(maxSqNorm, sqNorms[items[i]]);
    ranges.push({ items, maxSqNorm });
  }
  return ranges;
}

/**
 * Writes item `item`'s augmented vector [v, (b), sqrt(M² − |v|² − b²)] into `row` (width dim + 1,
 * or dim + 2 with a bias).
 */
export function augmentItem(
  vectors: Float32Array,
  dim: number,
  item: number,
  sqNorm: number,
  maxSqNorm: number,
  row: number[],
  bias: Float32Array | null = null,
): void {
  const base = item * dim;
  for (let d = 0; d < dim; d++) row[d] = vectors[base + d];
  const last = bias === null ? dim : dim + 1;
  if (bias !== null) row[dim] = bias[item];
  row[last] = Math.sqrt(Math.max(0, maxSqNorm - sqNorm));
}
