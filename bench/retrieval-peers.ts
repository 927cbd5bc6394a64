/**
 * Choosing the HNSW library (docs/results/retrieval.md, "hnswlib-node vs usearch"): both
 * libraries' own inner-product spaces on the same seeded clustered vectors, recall@k against exact
 * search and queries/s at several ef values. Builds and searches run on one thread in both
 * (usearch's multi-threaded add is order-dependent; hnswlib-node inserts on one thread anyway).
 * Queries/s follow docs/benchmarking.md: per ef, timing windows (one pass over the queries each)
 * alternate hnswlib, usearch, hnswlib, … after a warm-up pass, and the median is reported with the
 * range; recall comes from the warm-up pass. Writes bench/results/retrieval-peers.json.
 *
 *   node dist/bench/retrieval-peers.js [--quick]
 *
 * usearch (a devDependency; it declares Node >= 22 but is N-API and runs on Node 20) has no
 * per-query ef: its search expansion is max(expansion_search, wanted), so "ef" here is the number
 * of results requested, of which the first k are kept. Its JS API exposes no seed.
 */
import { isMainModule, spread, takeQuick, writeBenchResult, type Spread } from "./support.js";
import { buildHnswlibIp, type QuerySearcher } from "./retrieval.js";
import { getKernels } from "../src/engine/kernels/index.js";
import { ExactIndex, recallAgainstExact, syntheticVectors } from "../src/retrieval/index.js";

interface PeerOptions {
  readonly items: number;
  readonly queries: number;
  readonly dim: number;
  readonly clusters: number;
  readonly spread: number;
  readonly normSigma: number;
  readonly k: number;
  readonly ef: readonly number[];
  readonly M: number;
  readonly efc: number;
  readonly seed: number;
  /** Timed passes over the queries per library and ef. */
  readonly windows: number;
}

const FULL: PeerOptions = {
  items: 100_000,
  queries: 300,
  dim: 64,
  clusters: 200,
  spread: 1.0,
  normSigma: 0.4,
  k: 100,
  ef: [100, 200, 400, 800],
  M: 16,
  efc: 200,
  seed: 1,
  windows: 5,
};
const QUICK: PeerOptions = {
  ...FULL,
  items: 2000,
  queries: 30,
  dim: 16,
  clusters: 20,
  k: 10,
  ef: [20, 50],
  efc: 50,
  windows: 2,
};

interface PeerSearchRow {
  readonly efSearch: number;
  readonly recall: number;
  readonly queriesPerSecond: Spread;
}

interface Library {
  readonly library: string;
  readonly buildSeconds: number;
  readonly searcher: (ef: number) => QuerySearcher;
}

async function loadUsearch(): Promise<typeof import("usearch")> {
  try {
    return await import("usearch");
  } catch (error) {
    throw new Error(
      `bench retrieval-peers: cannot load usearch (a devDependency: run npm install): ${(error as Error).message}`,
    );
  }
}

async function buildUsearch(items: Float32Array, queries: Float32Array, o: PeerOptions): Promise<Library> {
  const usearch = await loadUsearch();
  const start = performance.now();
  const index = new usearch.Index({
    dimensions: o.dim,
    metric: usearch.MetricKind.IP,
    quantization: usearch.ScalarKind.F32,
    connectivity: o.M,
    expansion_add: o.efc,
    expansion_search: o.k,
    multi: false,
  });
  const keys = new BigUint64Array(o.items);
  for (let i = 0; i < o.items; i++) keys[i] = BigInt(i);
  index.add(keys, items, 1);
  const buildSeconds = (performance.now() - start) / 1000;
  const searcher =
    (ef: number): QuerySearcher =>
    (got) => {
      const wanted = Math.max(ef, o.k);
      for (let q = 0; q < o.queries; q++) {
        const m = index.search(queries.subarray(q * o.dim, (q + 1) * o.dim), wanted, 1);
        got.fill(-1, q * o.k, (q + 1) * o.k);
        const n = Math.min(o.k, m.keys.length);
        for (let j = 0; j < n; j++) got[q * o.k + j] = Number(m.keys[j]);
      }
    };
  return { library: "usearch 2.26.2", buildSeconds, searcher };
}

export async function run(args: string[]): Promise<unknown> {
  const { quick, rest } = takeQuick(args);
  if (rest.length > 0)
    throw new Error(`bench retrieval-peers: unknown arguments ${rest.join(" ")} (expected [--quick])`);
  const o = quick ? QUICK : FULL;
  const { items, queries } = syntheticVectors({
    numItems: o.items,
    numQueries: o.queries,
    dim: o.dim,
    seed: o.seed,
    clusters: o.clusters,
    spread: o.spread,
    normSigma: o.normSigma,
  });
  const truth = new ExactIndex(items, o.items, o.dim, { kernels: getKernels() }).search(
    queries,
    o.queries,
    o.k,
  ).items;
  const hnsw = buildHnswlibIp(items, o.items, o.dim, o);
  const libraries: Library[] = [
    {
      library: "hnswlib-node 3.0.0",
      buildSeconds: hnsw.buildSeconds,
      searcher: (ef) => hnsw.searcher(queries, o.queries, o.k, ef),
    },
    await buildUsearch(items, queries, o),
  ];
  const got = new Int32Array(o.queries * o.k);
  const rows = libraries.map((): PeerSearchRow[] => []);
  for (const ef of o.ef) {
    const searches = libraries.map((lib) => lib.searcher(ef));
    const recalls = searches.map((search) => {
      search(got); // warm-up pass, also the recall
      return recallAgainstExact(got, truth, o.queries, o.k);
    });
    const rates: number[][] = libraries.map(() => []);
    for (let w = 0; w < o.windows; w++) {
      searches.forEach((search, i) => {
        const start = performance.now();
        search(got);
        rates[i].push(o.queries / ((performance.now() - start) / 1000));
      });
    }
    libraries.forEach((_, i) =>
      rows[i].push({ efSearch: ef, recall: recalls[i], queriesPerSecond: spread(rates[i], 0) }),
    );
  }
  const result = libraries.map((lib, i) => ({
    library: lib.library,
    buildSeconds: lib.buildSeconds,
    buildThreads: 1,
    searches: rows[i],
  }));
  for (const lib of result) {
    console.log(
      `bench retrieval-peers: ${lib.library} build ${lib.buildSeconds.toFixed(1)} s; ` +
        lib.searches
          .map(
            (s) => `ef ${s.efSearch}: recall@${o.k} ${s.recall.toFixed(3)} ${s.queriesPerSecond.median} q/s`,
          )
          .join("; "),
    );
  }
  const path = writeBenchResult(
    {
      benchmark: "retrieval-peers",
      args: rest,
      quick,
      config: {
        ...o,
        generator: "syntheticVectors (src/retrieval/synthetic-vectors.ts)",
        truth: "ExactIndex on the engine's topK kernel",
        searchThreads: 1,
        usearchEf: "results requested (expansion_search = k), first k kept",
      },
    },
    { libraries: result },
  );
  console.log(`bench retrieval-peers: wrote ${path}`);
  return result;
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
