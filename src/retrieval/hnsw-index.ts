/**
 * Approximate maximum-inner-product search with HNSW graphs (hnswlib, through hnswlib-node), for
 * catalogs too large for exact brute force. Items are split into norm ranges, each searched as an
 * L2 problem on augmented vectors (see norm-ranges.ts); candidates are rescored with the exact
 * inner product, so returned scores equal the exact index's scores for the same items.
 *
 * Seen-item exclusion is exact: each range over-fetches k + e neighbours, where e is the number of
 * excluded items in that range, with ef raised by e as well, and drops the excluded ones, so
 * exclusion never costs result slots (or, mostly, recall).
 */
import hnswlib from "hnswlib-node";
import type { HierarchicalNSW } from "hnswlib-node";
import { augmentItem, splitByNorm, squaredNorms } from "./norm-ranges.js";
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
  readonly maxSqNorm: number;
  readonly graph: HierarchicalNSW;
}

export class HnswIndex implements VectorIndex {
  readonly kind = "hnsw" as const;
  private efSearch: number;
  /** rangeOf[item] = the norm range holding the item. */
  private readonly rangeOf: Uint16Array;
  private readonly queryRow: number[];
  private readonly excludedPerRange: Int32Array;
  private excludeStamp: Int32Array;
  private stampCounter = 0;
  private candItems = new Int32Array(0);
  private candScores = new Float32Array(0);
  private candOrder = new Int32Array(0);
  private sortItems = new Int32Array(0);
  private sortScores = new Float32Array(0);
  /** Range indices by descending largest norm, the order in which a query visits them. */
  private readonly rangesByNormDesc: Int32Array;

  /** Use HnswIndex.build or loadHnswIndex; this wires already-built graphs. */
  constructor(
    /** Row-major size×dim item vectors (kept by reference for exact rescoring: do not mutate). */
    readonly vectors: Float32Array,
    readonly size: number,
    readonly dim: number,
    readonly params: HnswParams,
    readonly ranges: readonly HnswRange[],
  ) {
    this.efSearch = params.efSearch;
    this.rangeOf = new Uint16Array(size);
    ranges.forEach((range, r) => {
      for (let i = 0; i < range.items.length; i++) this.rangeOf[range.items[i]] = r;
    });
    this.queryRow = new Array<number>(dim + 1).fill(0);
    this.excludedPerRange = new Int32Array(ranges.length);
    this.excludeStamp = new Int32Array(size);
    this.rangesByNormDesc = Int32Array.from(ranges.keys()).sort(
      (a, b) => ranges[b].maxSqNorm - ranges[a].maxSqNorm,
    );
  }

  /** Builds the norm-range graphs over size×dim row-major item vectors. */
  static build(
    vectors: Float32Array,
    size: number,
    dim: number,
    params: Partial<HnswParams> = {},
  ): HnswIndex {
    const p = checkParams({ ...DEFAULT_HNSW_PARAMS, ...params });
    checkVectors(vectors, size, dim);
    const sqNorms = squaredNorms(vectors, size, dim);
    const row = new Array<number>(dim + 1).fill(0);
    const ranges = splitByNorm(sqNorms, p.normRanges).map((range, r): HnswRange => {
      const graph = new hnswlib.HierarchicalNSW("l2", dim + 1);
      graph.initIndex(Math.max(1, range.items.length), p.M, p.efConstruction, p.seed + r);
      for (let label = 0; label < range.items.length; label++) {
        const item = range.items[label];
        augmentItem(vectors, dim, item, sqNorms[item], range.maxSqNorm, row);
        graph.addPoint(row, label);
      }
      return { items: range.items, maxSqNorm: range.maxSqNorm, graph };
    });
    return new HnswIndex(vectors, size, dim, p, ranges);
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

  search(queries: Float32Array, numQueries: number, k: number, exclude?: Exclusion): SearchResult {
    checkSearchArgs(this.dim, queries, numQueries, k, exclude);
    const out = emptyResult(numQueries, k);
    if (k === 0 || this.size === 0) return out;
    const dim = this.dim;
    const row = this.queryRow; // row[dim] stays 0: the query's augmented coordinate
    for (let q = 0; q < numQueries; q++) {
      let sq = 0;
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
        const range = this.ranges[r];
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
      this.excludeStamp[item] = stamp;
      this.excludedPerRange[this.rangeOf[item]]++;
    }
    return stamp;
  }

  /** Exact u_q·v_item, accumulated in float64 and rounded to float32 like the topK kernel. */
  private score(queries: Float32Array, q: number, item: number): number {
    const dim = this.dim;
    const qb = q * dim;
    const vb = item * dim;
    let s = 0;
    for (let d = 0; d < dim; d++) s += queries[qb + d] * this.vectors[vb + d];
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
