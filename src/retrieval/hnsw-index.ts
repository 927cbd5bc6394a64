/**
 * Approximate maximum-inner-product search with HNSW graphs (hnswlib, through hnswlib-node), for
 * catalogs too large for exact brute force. Items are split into norm ranges, each searched as an
 * L2 problem on augmented vectors (see norm-ranges.ts); candidates are rescored with the exact
 * inner product, so returned scores equal the exact index's scores for the same items.
 *
 * Seen-item exclusion is exact: each range over-fetches k + e neighbours, where e is the number of
 * excluded items in that range, with ef raised by e as well, and drops the excluded ones, so
 * exclusion never costs result slots (or, mostly, recall).
 *
 * A per-item bias (the candidate model's logit bias) is searched as [u, 1]·[v, b]. Items can be added
 * while the index serves: each joins the graph of its norm range (hnswlib grows a graph in place).
 */
import hnswlib from "hnswlib-node";
import type { HierarchicalNSW } from "hnswlib-node";
import { ItemRows } from "./item-rows.js";
import { augmentItem, splitByNorm, squaredNorm, squaredNorms } from "./norm-ranges.js";
import {
  checkSearchArgs,
  checkVectors,
  emptyResult,
  type Exclusion,
  type SearchResult,
  type VectorIndex,
} from "./vector-index.js";

/** HNSW build and search parameters. */
export interface HnswParams {
  /** Graph out-degree (hnswlib M): more links, better recall, more memory and build time. */
  readonly M: number;
  /** Candidate list size while inserting: higher builds a better graph, slower. */
  readonly efConstruction: number;
  /** Candidate list size per norm range while searching (raised to the fetch size when smaller). */
  readonly efSearch: number;
  /** Seed of the level generator (range r uses seed + r), so builds are reproducible. */
  readonly seed: number;
  /** Number of norm ranges, each with its own graph (1 = the plain global reduction). */
  readonly normRanges: number;
}

export const DEFAULT_HNSW_PARAMS: HnswParams = {
  M: 16,
  efConstruction: 200,
  efSearch: 100,
  seed: 1,
  normRanges: 8,
};

/** One norm range's graph; graph label i is item items[i]. */
export interface HnswRange {
  readonly items: Int32Array;
  /** M² of the range: every item in it has |v|² (+ b²) ≤ maxSqNorm. */
  readonly maxSqNorm: number;
  readonly graph: HierarchicalNSW;
}

export interface HnswIndexOptions {
  /** Per-item logit bias: scores become u·v + b (searched as [u, 1]·[v, b]). */
  readonly itemBias?: Float32Array | null;
  /** Per-item flags, 0 = reserved (in no range, never returned); null: all searchable. */
  readonly searchable?: Uint8Array | null;
}

/** rangeOf value of a reserved item. */
const NO_RANGE = 0xffff;

/** Headroom (on |v|²) of a range opened for an added item larger than every range: norms up to 2×. */
const NEW_RANGE_HEADROOM = 4;

export class HnswIndex implements VectorIndex {
  readonly kind = "hnsw" as const;
  private efSearch: number;
  private readonly rows: ItemRows;
  /** Graph width: dim, + 1 with a bias, + 1 for the norm-completing coordinate. */
  private readonly width: number;
  private readonly rangeList: HnswRange[];
  /** Backing buffers of the ranges' item lists (rangeList[r].items is a view of itemBufs[r]). */
  private readonly itemBufs: Int32Array[];
  /** rangeOf[item] = the norm range holding the item (NO_RANGE: reserved). */
  private rangeOf: Uint16Array;
  private readonly queryRow: number[];
  private readonly itemRow: number[];
  private excludedPerRange: Int32Array;
  private excludeStamp: Int32Array;
  private stampCounter = 0;
  private candItems = new Int32Array(0);
  private candScores = new Float32Array(0);
  private candOrder = new Int32Array(0);
  private sortItems = new Int32Array(0);
  private sortScores = new Float32Array(0);
  /** Range indices by descending largest norm, the order in which a query visits them. */
  private rangesByNormDesc: Int32Array;

  /** Use HnswIndex.build or loadHnswIndex; this wires already-built graphs. */
  constructor(
    /** Row-major size×dim item vectors (kept by reference for exact rescoring: do not mutate). */
    vectors: Float32Array,
    size: number,
    readonly dim: number,
    readonly params: HnswParams,
    ranges: readonly HnswRange[],
    options: HnswIndexOptions = {},
  ) {
    this.rows = new ItemRows(vectors, size, dim, options.itemBias ?? null, options.searchable ?? null);
    this.width = dim + (this.rows.hasBias ? 2 : 1);
    this.efSearch = params.efSearch;
    this.rangeList = [...ranges];
    this.itemBufs = ranges.map((range) => range.items);
    this.rangeOf = new Uint16Array(size).fill(NO_RANGE);
    ranges.forEach((range, r) => {
      for (let i = 0; i < range.items.length; i++) this.rangeOf[range.items[i]] = r;
    });
    this.queryRow = new Array<number>(this.width).fill(0);
    this.itemRow = new Array<number>(this.width).fill(0);
    this.excludedPerRange = new Int32Array(ranges.length);
    this.excludeStamp = new Int32Array(size);
    this.rangesByNormDesc = this.sortRanges();
  }

  /** Builds the norm-range graphs over size×dim row-major item vectors. */
  static build(
    vectors: Float32Array,
    size: number,
    dim: number,
    params: Partial<HnswParams> = {},
    options: HnswIndexOptions = {},
  ): HnswIndex {
    const p = checkParams({ ...DEFAULT_HNSW_PARAMS, ...params });
    checkVectors(vectors, size, dim);
    const bias = options.itemBias ?? null;
    const searchable = options.searchable ?? null;
    const sqNorms = squaredNorms(vectors, size, dim, bias);
    const row = new Array<number>(dim + (bias === null ? 1 : 2)).fill(0);
    const ranges = splitByNorm(sqNorms, p.normRanges, searchable).map((range, r): HnswRange => {
      const graph = new hnswlib.HierarchicalNSW("l2", row.length);
      graph.initIndex(Math.max(1, range.items.length), p.M, p.efConstruction, p.seed + r);
      for (let label = 0; label < range.items.length; label++) {
        const item = range.items[label];
        augmentItem(vectors, dim, item, sqNorms[item], range.maxSqNorm, row, bias);
        graph.addPoint(row, label);
      }
      return { items: range.items, maxSqNorm: range.maxSqNorm, graph };
    });
    return new HnswIndex(vectors, size, dim, p, ranges, options);
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

  /** The norm ranges, each with its graph (more than params.normRanges after large items were added). */
  get ranges(): readonly HnswRange[] {
    return this.rangeList;
  }

  isSearchable(item: number): boolean {
    return this.rows.isSearchable(item);
  }

  /** The current search-time ef (per norm range). */
  getEfSearch(): number {
    return this.efSearch;
  }

  /** Changes the search-time ef: higher is slower with better recall. */
  setEfSearch(ef: number): void {
    if (!Number.isInteger(ef) || ef < 1) throw new RangeError(`efSearch must be an integer >= 1, got ${ef}`);
    this.efSearch = ef;
  }

  /**
   * Adds items (see VectorIndex.addItems). Each goes into the graph of the range whose norm interval
   * holds it (the smallest M² ≥ its squared norm), so the reduction stays exact; an item larger
   * than every range opens a new range with headroom.
   */
  addItems(vectors: Float32Array | null, count: number, itemBias: Float32Array | null = null): number {
    const first = this.rows.append(vectors, count, itemBias);
    const size = this.rows.size;
    if (this.rangeOf.length < size) {
      const cap = Math.max(size, 2 * this.rangeOf.length);
      const rangeOf = new Uint16Array(cap).fill(NO_RANGE);
      rangeOf.set(this.rangeOf.subarray(0, first));
      this.rangeOf = rangeOf;
      const stamp = new Int32Array(cap);
      stamp.set(this.excludeStamp.subarray(0, first));
      this.excludeStamp = stamp;
    }
    if (vectors === null) {
      this.rangeOf.fill(NO_RANGE, first, size);
      return first;
    }
    const all = this.rows.vectors;
    const bias = this.rows.bias;
    for (let item = first; item < size; item++) {
      const sq = squaredNorm(all, this.dim, item, bias);
      const r = this.rangeFor(sq);
      const range = this.rangeList[r];
      const label = range.items.length;
      if (range.graph.getCurrentCount() >= range.graph.getMaxElements()) {
        range.graph.resizeIndex(Math.max(16, 2 * range.graph.getMaxElements()));
      }
      augmentItem(all, this.dim, item, sq, range.maxSqNorm, this.itemRow, bias);
      range.graph.addPoint(this.itemRow, label);
      let buf = this.itemBufs[r];
      if (buf.length <= label) {
        const grown = new Int32Array(Math.max(16, 2 * buf.length));
        grown.set(buf.subarray(0, label));
        buf = grown;
        this.itemBufs[r] = buf;
      }
      buf[label] = item;
      this.rangeList[r] = { ...range, items: buf.subarray(0, label + 1) };
      this.rangeOf[item] = r;
    }
    return first;
  }

  /** The range an item of squared norm sq joins, opening a new one when none is large enough. */
  private rangeFor(sq: number): number {
    let best = -1;
    for (let r = 0; r < this.rangeList.length; r++) {
      const m = this.rangeList[r].maxSqNorm;
      if (m >= sq && (best < 0 || m < this.rangeList[best].maxSqNorm)) best = r;
    }
    if (best >= 0) return best;
    // An empty range (an index built over no items) has no augmented points yet: widen it in place.
    const empty = this.rangeList.findIndex((range) => range.items.length === 0);
    if (empty >= 0) {
      this.rangeList[empty] = { ...this.rangeList[empty], maxSqNorm: NEW_RANGE_HEADROOM * sq };
      this.rangesByNormDesc = this.sortRanges();
      return empty;
    }
    if (this.rangeList.length >= NO_RANGE) {
      throw new RangeError(`HnswIndex.addItems: more than ${NO_RANGE - 1} norm ranges`);
    }
    const r = this.rangeList.length;
    const graph = new hnswlib.HierarchicalNSW("l2", this.width);
    graph.initIndex(16, this.params.M, this.params.efConstruction, this.params.seed + r);
    this.rangeList.push({ items: new Int32Array(0), maxSqNorm: NEW_RANGE_HEADROOM * sq, graph });
    this.itemBufs.push(new Int32Array(16));
    this.excludedPerRange = new Int32Array(this.rangeList.length);
    this.rangesByNormDesc = this.sortRanges();
    return r;
  }

  private sortRanges(): Int32Array {
    const ranges = this.rangeList;
    return Int32Array.from(ranges.keys()).sort((a, b) => ranges[b].maxSqNorm - ranges[a].maxSqNorm);
  }

  search(queries: Float32Array, numQueries: number, k: number, exclude?: Exclusion): SearchResult {
    checkSearchArgs(this.dim, queries, numQueries, k, exclude);
    const out = emptyResult(numQueries, k);
    if (k === 0 || this.size === 0) return out;
    const dim = this.dim;
    const hasBias = this.rows.hasBias;
    // The query side of [u, 1]·[v, b]; its last coordinate stays 0 (the norm-completing one).
    const row = this.queryRow;
    if (hasBias) row[dim] = 1;
    for (let q = 0; q < numQueries; q++) {
      let sq = hasBias ? 1 : 0;
      for (let d = 0; d < dim; d++) {
        row[d] = queries[q * dim + d];
        sq += row[d] * row[d];
      }
      const queryNorm = Math.sqrt(sq);
      const stamp = this.markExcluded(q, exclude);
      let n = 0;
      // Largest norms first: once k candidates beat |u|·max|v| of the next range (Cauchy–Schwarz),
      // no item of that range or any later one can enter the top k, so the search stops exactly.
      for (const r of this.rangesByNormDesc) {
        const range = this.rangeList[r];
        if (n >= k && this.candScores[k - 1] > queryNorm * Math.sqrt(range.maxSqNorm) * (1 + 1e-6)) break;
        const fetch = Math.min(range.items.length, k + this.excludedPerRange[r]);
        if (fetch === 0) continue;
        this.reserveCandidates(n + fetch);
        // Keep efSearch's slack beyond what the caller asked for when over-fetching past excluded items.
        range.graph.setEf(Math.max(this.efSearch + this.excludedPerRange[r], fetch));
        const { neighbors } = range.graph.searchKnn(row, fetch);
        for (let i = 0; i < neighbors.length; i++) {
          const item = range.items[neighbors[i]];
          if (stamp !== 0 && this.excludeStamp[item] === stamp) continue;
          const score = this.score(queries, q, item);
          if (Number.isNaN(score)) continue;
          this.candItems[n] = item;
          this.candScores[n] = score;
          n++;
        }
        n = this.keepBest(n, k);
      }
      out.items.set(this.candItems.subarray(0, n), q * k);
      out.scores.set(this.candScores.subarray(0, n), q * k);
    }
    return out;
  }

  /** Stamps query q's excluded items and counts them per range; returns the stamp (0 = none). */
  private markExcluded(q: number, exclude: Exclusion | undefined): number {
    this.excludedPerRange.fill(0);
    if (exclude === undefined || exclude.offsets[q + 1] === exclude.offsets[q]) return 0;
    if (++this.stampCounter === 0x7fffffff) {
      this.excludeStamp.fill(0);
      this.stampCounter = 1;
    }
    const stamp = this.stampCounter;
    for (let e = exclude.offsets[q]; e < exclude.offsets[q + 1]; e++) {
      const item = exclude.items[e];
      if (item < 0 || item >= this.size || this.excludeStamp[item] === stamp) continue;
      if (this.rangeOf[item] === NO_RANGE) continue;
      this.excludeStamp[item] = stamp;
      this.excludedPerRange[this.rangeOf[item]]++;
    }
    return stamp;
  }

  /** Exact u_q·v_item (+ b_item), accumulated in float64 from the bias and rounded to float32 like the topK kernel. */
  private score(queries: Float32Array, q: number, item: number): number {
    const dim = this.dim;
    const qb = q * dim;
    const vb = item * dim;
    const vectors = this.rows.vectors;
    const bias = this.rows.bias;
    let s = bias === null ? 0 : bias[item];
    for (let d = 0; d < dim; d++) s += queries[qb + d] * vectors[vb + d];
    return Math.fround(s);
  }

  private reserveCandidates(n: number): void {
    if (this.candItems.length >= n) return;
    const cap = Math.max(n, 2 * this.candItems.length);
    const items = new Int32Array(cap);
    const scores = new Float32Array(cap);
    items.set(this.candItems);
    scores.set(this.candScores);
    this.candItems = items;
    this.candScores = scores;
    this.candOrder = new Int32Array(cap);
    this.sortItems = new Int32Array(cap);
    this.sortScores = new Float32Array(cap);
  }

  /** Sorts the n candidates (score desc, then lower item) in place, keeps the best k; returns the count kept. */
  private keepBest(n: number, k: number): number {
    const items = this.candItems;
    const scores = this.candScores;
    const order = this.candOrder.subarray(0, n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => scores[b] - scores[a] || items[a] - items[b]);
    const m = Math.min(k, n);
    const keptItems = this.sortItems.subarray(0, m);
    const keptScores = this.sortScores.subarray(0, m);
    for (let i = 0; i < m; i++) {
      keptItems[i] = items[order[i]];
      keptScores[i] = scores[order[i]];
    }
    items.set(keptItems);
    scores.set(keptScores);
    return m;
  }
}

export function checkParams(p: HnswParams): HnswParams {
  for (const [name, min] of [
    ["M", 2],
    ["efConstruction", 1],
    ["efSearch", 1],
    ["normRanges", 1],
  ] as const) {
    if (!Number.isInteger(p[name]) || p[name] < min) {
      throw new RangeError(`HNSW parameter ${name} must be an integer >= ${min}, got ${p[name]}`);
    }
  }
  if (p.normRanges > 65535)
    throw new RangeError(`HNSW parameter normRanges must be <= 65535, got ${p.normRanges}`);
  if (!Number.isInteger(p.seed) || p.seed < 0) {
    throw new RangeError(`HNSW parameter seed must be a non-negative integer, got ${p.seed}`);
  }
  return p;
}
