/**
 * Retrieval benchmark: exact top-k (the engine's topK kernel) against HNSW on seeded synthetic
 * item vectors (clustered, log-normal norms) at 64-d and 256-d. Records build time, queries/s and
 * recall@k against the exact ground truth for several efSearch values and MIPS strategies:
 *   - `ip-space`: hnswlib's inner-product space used directly on the raw vectors (baseline);
 *   - `ranges-R`: HnswIndex, the augmented-vector reduction over R norm ranges (R = 1 is the plain
 *     global reduction).
 * Also checks recall with seen-item exclusion. Writes bench/results/retrieval.json.
 *
 *   node dist/bench/retrieval.js [--quick] [--items 100000] [--queries 1000] [--dims 64,256] [--k 100]
 *     [--ef 100,200,400,800] [--ranges 1,8] [--ip-space true] [--M 16] [--efc 200] [--seed 1]
 *     [--out retrieval.json]
 *
 * --quick starts from tiny sizes (2,000 items, 50 queries, 16-d, k 10) to check the plumbing;
 * --out is a file name (or path) relative to the results directory.
 */
import { isMainModule, takeQuick, writeBenchResult } from "./support.js";
import hnswlib from "hnswlib-node";
import { getKernels } from "../src/engine/kernels/index.js";
import { nativeThreads, setNativeThreads } from "../src/engine/kernels/native.js";
import { Rng } from "../src/engine/rng.js";
import {
  ExactIndex,
  HnswIndex,
  recallAgainstExact,
  syntheticVectors,
  type Exclusion,
} from "../src/retrieval/index.js";

interface Options {
  items: number;
  queries: number;
  dims: number[];
  k: number;
  ef: number[];
  ranges: number[];
  ipSpace: boolean;
  M: number;
  efc: number;
  seed: number;
  out: string;
}

interface SearchRow {
  efSearch: number;
  recall: number;
  queriesPerSecond: number;
  /** Recall when each query excludes 50 "seen" items drawn from its exact top 200. */
  recallWithExclusion?: number;
}

interface VariantResult {
  variant: string;
  buildSeconds: number;
  searches: SearchRow[];
}

interface DimResult {
  dim: number;
  exact: {
    queriesPerSecondBatched: number;
    /** One query per call on the whole pool. */
    queriesPerSecondOneByOne: number;
    /** One query per call by pool size: median of 3 interleaved windows, and the windows. */
    oneByOneByThreads: { threads: number; queriesPerSecond: number; windows: number[] }[];
    backend: string;
  };
  hnsw: VariantResult[];
}

const FULL: Options = {
  items: 100_000,
  queries: 1000,
  dims: [64, 256],
  k: 100,
  ef: [100, 200, 400, 800],
  ranges: [1, 8],
  ipSpace: true,
  M: 16,
  efc: 200,
  seed: 1,
  out: "retrieval.json",
};
const QUICK: Options = { ...FULL, items: 2000, queries: 50, dims: [16], k: 10, ef: [50, 100], efc: 50 };

function parseOptions(args: string[], quick: boolean): Options {
  const o: Options = { ...(quick ? QUICK : FULL) };
  const list = (name: string, v: string): number[] =>
    v.split(",").map((x) => {
      const n = Number(x);
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`bench retrieval: --${name} expects positive integers, got "${v}"`);
      return n;
    });
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) throw new Error(`bench retrieval: ${flag} needs a value`);
    switch (flag) {
      case "--items":
        o.items = list("items", value)[0];
        break;
      case "--queries":
        o.queries = list("queries", value)[0];
        break;
      case "--dims":
        o.dims = list("dims", value);
        break;
      case "--k":
        o.k = list("k", value)[0];
        break;
      case "--ef":
        o.ef = list("ef", value);
        break;
      case "--ranges":
        o.ranges = list("ranges", value);
        break;
      case "--ip-space":
        o.ipSpace = value === "true";
        break;
      case "--M":
        o.M = list("M", value)[0];
        break;
      case "--efc":
        o.efc = list("efc", value)[0];
        break;
      case "--seed":
        o.seed = list("seed", value)[0];
        break;
      case "--out":
        o.out = value;
        break;
      default:
        throw new Error(`bench retrieval: unknown option ${flag}`);
    }
  }
  return o;
}

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

/** Each query excludes 50 items drawn from its exact top 200 (seen items score high for their user). */
function seenItems(truth200: Int32Array, numQueries: number, seed: number): Exclusion {
  const rng = new Rng(seed);
  const offsets = new Int32Array(numQueries + 1);
  const items = new Int32Array(numQueries * 50);
  const pool = new Int32Array(200);
  for (let q = 0; q < numQueries; q++) {
    pool.set(truth200.subarray(q * 200, q * 200 + 200));
    rng.shuffle(pool);
    items.set(pool.subarray(0, 50), q * 50);
    offsets[q + 1] = (q + 1) * 50;
  }
  return { offsets, items };
}

/** A query-at-a-time searcher: writes the top `k` ids of every query (−1 padded) into `got`. */
export type QuerySearcher = (got: Int32Array) => void;

/**
 * hnswlib's own inner-product space on the raw vectors, built on one thread (seeded); also the
 * hnswlib side of bench/retrieval-peers.ts. Returns the build time and a searcher per efSearch.
 */
export function buildHnswlibIp(
  items: Float32Array,
  numItems: number,
  dim: number,
  params: { readonly M: number; readonly efc: number; readonly seed: number },
): {
  buildSeconds: number;
  searcher: (queries: Float32Array, numQueries: number, k: number, ef: number) => QuerySearcher;
} {
  const graph = new hnswlib.HierarchicalNSW("ip", dim);
  const row = new Array<number>(dim);
  const start = performance.now();
  graph.initIndex(numItems, params.M, params.efc, params.seed);
  for (let i = 0; i < numItems; i++) {
    for (let d = 0; d < dim; d++) row[d] = items[i * dim + d];
    graph.addPoint(row, i);
  }
  const buildSeconds = seconds(start);
  const searcher =
    (queries: Float32Array, numQueries: number, k: number, ef: number): QuerySearcher =>
    (got) => {
      graph.setEf(Math.max(ef, k));
      for (let q = 0; q < numQueries; q++) {
        for (let d = 0; d < dim; d++) row[d] = queries[q * dim + d];
        const { neighbors } = graph.searchKnn(row, k);
        got.fill(-1, q * k, (q + 1) * k);
        got.set(neighbors, q * k);
      }
    };
  return { buildSeconds, searcher };
}

/** Baseline: hnswlib's own inner-product space on the raw vectors. */
function benchIpSpace(
  items: Float32Array,
  queries: Float32Array,
  o: Options,
  dim: number,
  truth: Int32Array,
): VariantResult {
  const { buildSeconds, searcher } = buildHnswlibIp(items, o.items, dim, o);
  const searches: SearchRow[] = [];
  const got = new Int32Array(o.queries * o.k);
  for (const ef of o.ef) {
    const search = searcher(queries, o.queries, o.k, ef);
    const start = performance.now();
    search(got);
    const qps = o.queries / seconds(start);
    searches.push({
      efSearch: ef,
      recall: recallAgainstExact(got, truth, o.queries, o.k),
      queriesPerSecond: qps,
    });
  }
  return { variant: "ip-space", buildSeconds, searches };
}

function benchRanges(
  items: Float32Array,
  queries: Float32Array,
  o: Options,
  dim: number,
  ranges: number,
  truth: Int32Array,
  seen: Exclusion,
  truthSeen: Int32Array,
): VariantResult {
  let start = performance.now();
  const index = HnswIndex.build(items, o.items, dim, {
    M: o.M,
    efConstruction: o.efc,
    seed: o.seed,
    normRanges: ranges,
  });
  const buildSeconds = seconds(start);
  const searches: SearchRow[] = [];
  for (const ef of o.ef) {
    index.setEfSearch(ef);
    start = performance.now();
    const got = index.search(queries, o.queries, o.k);
    const qps = o.queries / seconds(start);
    const gotSeen = index.search(queries, o.queries, o.k, seen);
    searches.push({
      efSearch: ef,
      recall: recallAgainstExact(got.items, truth, o.queries, o.k),
      queriesPerSecond: qps,
      recallWithExclusion: recallAgainstExact(gotSeen.items, truthSeen, o.queries, o.k),
    });
  }
  return { variant: `ranges-${ranges}`, buildSeconds, searches };
}

function log(message: string): void {
  console.log(`bench retrieval: ${message}`);
}

export async function run(args: string[]): Promise<unknown> {
  const { quick, rest } = takeQuick(args);
  const o = parseOptions(rest, quick);
  const kernels = getKernels();
  if (kernels.backend !== "native")
    log("WARNING: exact search runs on the TypeScript reference kernels; its timings are not representative");
  const results: DimResult[] = [];
  for (const dim of o.dims) {
    const { items, queries } = syntheticVectors({
      numItems: o.items,
      numQueries: o.queries,
      dim,
      seed: o.seed,
    });
    const exact = new ExactIndex(items, o.items, dim, { kernels });
    let start = performance.now();
    const truth = exact.search(queries, o.queries, o.k).items;
    const qpsBatched = o.queries / seconds(start);
    // One query per call (the serving case), with 1 thread and with the whole pool: topK splits the
    // catalog across threads then. Interleaved windows, medians.
    const threadCounts = kernels.backend === "native" ? [...new Set([1, nativeThreads()])] : [1];
    const initialThreads = kernels.backend === "native" ? nativeThreads() : 1;
    const windows = new Map<number, number[]>(threadCounts.map((t) => [t, []]));
    for (let w = 0; w < 3; w++) {
      for (const t of threadCounts) {
        if (kernels.backend === "native") setNativeThreads(t);
        start = performance.now();
        for (let q = 0; q < o.queries; q++) exact.search(queries.subarray(q * dim, (q + 1) * dim), 1, o.k);
        windows.get(t)?.push(o.queries / seconds(start));
      }
    }
    if (kernels.backend === "native") setNativeThreads(initialThreads);
    const oneByOne = threadCounts.map((threads) => {
      const qps = [...(windows.get(threads) ?? [])].sort((a, b) => a - b);
      return {
        threads,
        queriesPerSecond: qps[Math.floor(qps.length / 2)],
        windows: windows.get(threads) ?? [],
      };
    });
    const qpsOne = oneByOne[oneByOne.length - 1].queriesPerSecond;
    log(
      `${dim}-d exact (${kernels.backend}): ${qpsBatched.toFixed(0)} q/s batched, one by one ` +
        oneByOne.map((r) => `${r.queriesPerSecond.toFixed(0)} q/s on ${r.threads} thread(s)`).join(", "),
    );
    const seen = seenItems(exact.search(queries, o.queries, 200).items, o.queries, o.seed + 1);
    const truthSeen = exact.search(queries, o.queries, o.k, seen).items;
    const hnsw: VariantResult[] = [];
    const variants: (() => VariantResult)[] = [];
    if (o.ipSpace) variants.push(() => benchIpSpace(items, queries, o, dim, truth));
    for (const r of o.ranges)
      variants.push(() => benchRanges(items, queries, o, dim, r, truth, seen, truthSeen));
    for (const variant of variants) {
      const result = variant();
      hnsw.push(result);
      for (const s of result.searches) {
        const ex =
          s.recallWithExclusion === undefined ? "" : `, with exclusion ${s.recallWithExclusion.toFixed(4)}`;
        log(
          `${dim}-d ${result.variant} (build ${result.buildSeconds.toFixed(1)} s) ef ${s.efSearch}: ` +
            `recall@${o.k} ${s.recall.toFixed(4)}${ex}, ${s.queriesPerSecond.toFixed(0)} q/s`,
        );
      }
    }
    results.push({
      dim,
      exact: {
        queriesPerSecondBatched: qpsBatched,
        queriesPerSecondOneByOne: qpsOne,
        oneByOneByThreads: oneByOne,
        backend: kernels.backend,
      },
      hnsw,
    });
  }
  const report = {
    library: "hnswlib-node 3.0.0 (hnswlib, built from source by node-gyp)",
    notes: "queries/s are single-process wall clock; HNSW searches one query at a time on one thread",
    results,
  };
  const { out, ...config } = o;
  const path = writeBenchResult(
    {
      benchmark: "retrieval",
      args: rest,
      quick,
      config: {
        ...config,
        generator:
          "syntheticVectors (src/retrieval/synthetic-vectors.ts): 256 clusters, spread 0.5, log-normal norm sigma 0.4",
      },
    },
    report,
    out,
  );
  log(`wrote ${path}`);
  return report;
}

if (isMainModule(import.meta.url)) {
  await run(process.argv.slice(2));
}
