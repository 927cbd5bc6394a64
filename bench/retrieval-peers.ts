/**
 * Choosing the HNSW library (docs/results/retrieval.md, "hnswlib-node vs usearch"): both
 * libraries' own inner-product spaces on the same seeded clustered vectors, recall@k against exact
 * search and queries/s at several ef values, one thread each for building and searching (usearch's
 * multi-threaded add is order-dependent; hnswlib-node inserts on one thread anyway). Writes
 * bench/results/retrieval-peers.json.
 *
 *   node dist/bench/retrieval-peers.js [--quick]
 *
 * usearch (a devDependency, Node >= 22 declared but N-API and working on Node 20) has no per-query
 * ef: its search expansion is max(expansion_search, wanted), so "ef" here is the number of results
 * requested, of which the first k are kept. Its JS API exposes no seed.
 */
import { isMainModule, takeQuick, writeBenchResult } from "./support.js";
import { benchIpSpace, type HnswBenchSettings, type SearchRow, type VariantResult } from "./retrieval.js";
import { getKernels } from "../src/engine/kernels/index.js";
import { ExactIndex, recallAgainstExact, syntheticVectors } from "../src/retrieval/index.js";

interface PeerOptions extends HnswBenchSettings {
  readonly dim: number;
  readonly clusters: number;
  readonly spread: number;
  readonly normSigma: number;
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
};

async function loadUsearch(): Promise<typeof import("usearch")> {
  try {
    return await import("usearch");
  } catch (error) {
    throw new Error(
      `bench retrieval-peers: cannot load usearch (a devDependency: run npm install): ${(error as Error).message}`,
    );
  }
}

async function benchUsearch(
  items: Float32Array,
  queries: Float32Array,
  o: PeerOptions,
  truth: Int32Array,
): Promise<VariantResult> {
  const usearch = await loadUsearch();
  const { dim } = o;
  let start = performance.now();
  const index = new usearch.Index({
    dimensions: dim,
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
  const searches: SearchRow[] = [];
  const got = new Int32Array(o.queries * o.k);
  for (const ef of o.ef) {
    const wanted = Math.max(ef, o.k);
    start = performance.now();
    for (let q = 0; q < o.queries; q++) {
      const m = index.search(queries.subarray(q * dim, (q + 1) * dim), wanted, 1);
      got.fill(-1, q * o.k, (q + 1) * o.k);
      const n = Math.min(o.k, m.keys.length);
      for (let j = 0; j < n; j++) got[q * o.k + j] = Number(m.keys[j]);
    }
    const qps = o.queries / ((performance.now() - start) / 1000);
    searches.push({
      efSearch: ef,
      recall: recallAgainstExact(got, truth, o.queries, o.k),
      queriesPerSecond: qps,
    });
  }
  return { variant: "usearch-ip", buildSeconds, searches };
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
  const truth = new ExactIndex(items, o.items, o.dim, getKernels()).search(queries, o.queries, o.k).items;
  const hnswlib = { ...benchIpSpace(items, queries, o, o.dim, truth), variant: "hnswlib-node-ip" };
  const usearch = await benchUsearch(items, queries, o, truth);
  const libraries = [
    { library: "hnswlib-node 3.0.0", buildThreads: 1, ...hnswlib },
    { library: "usearch 2.26.2", buildThreads: 1, ...usearch },
  ];
  for (const lib of libraries) {
    console.log(
      `bench retrieval-peers: ${lib.library} build ${lib.buildSeconds.toFixed(1)} s; ` +
        lib.searches
          .map(
            (s) =>
              `ef ${s.efSearch}: recall@${o.k} ${s.recall.toFixed(3)} ${s.queriesPerSecond.toFixed(0)} q/s`,
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
    { libraries },
  );
  console.log(`bench retrieval-peers: wrote ${path}`);
  return libraries;
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
