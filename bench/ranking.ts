/**
 * Ranking benchmark on a trained two-stage model (ml-100k by default): the median time to rank one
 * user's impression list of 400 candidates (features + tower; issue target ≤ 2 ms) and of a whole
 * two-stage `recommend` for one user (sources, union, features, ranker, top-k; target ≤ 5 ms).
 * Uses the model directory of `npm start` (models/default); trains one there with the default
 * configuration when it is missing. Writes bench/results/ranking.json.
 *
 *   node dist/bench/ranking.js [--model models/default] [--data ../shared/data/ml-100k] [--reps 300] [--k 10]
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadDataset } from "../src/data/load.js";
import { getKernels } from "../src/engine/kernels/index.js";
import type { ImpressionSet } from "../src/features/impressions.js";
import { Recommender } from "../src/models/ranking/recommender.js";
import { trainTwoStage } from "../src/models/ranking/train-two-stage.js";
import { loadTwoStage, saveTwoStage } from "../src/models/ranking/two-stage-dir.js";
import { isMainModule, repoRoot, writeBenchResult } from "./support.js";

interface Options {
  model: string;
  data: string;
  reps: number;
  k: number;
}

function parseOptions(args: string[]): Options {
  const root = repoRoot();
  const o: Options = {
    model: resolve(root, "models/default"),
    data: resolve(root, "../shared/data/ml-100k"),
    reps: 300,
    k: 10,
  };
  for (let i = 0; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (value === undefined) throw new Error(`bench ranking: ${flag} needs a value`);
    if (flag === "--model") o.model = resolve(value);
    else if (flag === "--data") o.data = resolve(value);
    else if (flag === "--reps" || flag === "--k") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`bench ranking: ${flag} expects a positive integer, got "${value}"`);
      if (flag === "--reps") o.reps = n;
      else o.k = n;
    } else throw new Error(`bench ranking: unknown option ${flag}`);
  }
  return o;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

/** List q of `set` cut or cycled to exactly n candidates, as a one-list set. */
function listOf(set: ImpressionSet, q: number, n: number): ImpressionSet {
  const c0 = set.listOffsets[q];
  const m = set.listOffsets[q + 1] - c0;
  const S = set.sources.length;
  const pick = Int32Array.from({ length: n }, (_, k) => c0 + (k % m));
  const h0 = set.historyOffsets[q];
  const h1 = set.historyOffsets[q + 1];
  return {
    users: Int32Array.of(set.users[q]),
    times: Float64Array.of(set.times[q]),
    historyOffsets: Int32Array.of(0, h1 - h0),
    historyItems: set.historyItems.slice(h0, h1),
    historyTimes: set.historyTimes.slice(h0, h1),
    sources: set.sources,
    listOffsets: Int32Array.of(0, n),
    items: Int32Array.from(pick, (c) => set.items[c]),
    positive: new Uint8Array(n),
    weight: new Float32Array(n).fill(1),
    sourceScores: Float32Array.from(
      { length: n * S },
      (_, i) => set.sourceScores[pick[Math.floor(i / S)] * S + (i % S)],
    ),
    sourceRanks: Int32Array.from(
      { length: n * S },
      (_, i) => set.sourceRanks[pick[Math.floor(i / S)] * S + (i % S)],
    ),
  };
}

export async function run(args: string[]): Promise<unknown> {
  const o = parseOptions(args);
  const data = await loadDataset(o.data);
  if (!existsSync(o.model)) {
    console.log(`bench ranking: no model at ${o.model}; training one (default configuration, seed 1)`);
    const trained = await trainTwoStage(data, { seed: 1 });
    saveTwoStage(o.model, trained.model, trained.log, {
      protocol: "loo",
      protocolParams: null,
      metadata: { dataset: data.name },
    });
  }
  const { model, split } = loadTwoStage(o.model, data);
  const ranker = model.ranker;
  if (ranker === null) throw new Error(`bench ranking: ${o.model} has no ranker`);
  const test = split.test;
  const nq = Math.min(test.users.length, 200);
  const lists = model.lists({
    ...test,
    users: test.users.subarray(0, nq),
    times: test.times.subarray(0, nq),
    historyOffsets: test.historyOffsets.subarray(0, nq + 1),
  });
  // 1. Ranking one list of 400 candidates: features + tower.
  const inputs = Array.from({ length: nq }, (_, q) => model.input(listOf(lists, q, 400)));
  const out = new Float32Array(400);
  for (let w = 0; w < 20; w++) ranker.score(inputs[w % nq], out);
  const rankMs: number[] = [];
  for (let r = 0; r < o.reps; r++) {
    const t = performance.now();
    ranker.score(inputs[r % nq], out);
    rankMs.push(performance.now() - t);
  }
  // 2. Two-stage recommend for one user (history = the test query's input history).
  const rec = Recommender.load(o.model, data);
  const requests = Array.from({ length: nq }, (_, q) => ({
    user: test.users[q],
    time: test.times[q],
    historyItems: test.historyItems.slice(test.historyOffsets[q], test.historyOffsets[q + 1]),
    historyTimes: test.historyTimes.slice(test.historyOffsets[q], test.historyOffsets[q + 1]),
    k: o.k,
  }));
  for (let w = 0; w < 20; w++) rec.recommend(requests[w % nq]);
  const recMs: number[] = [];
  for (let r = 0; r < o.reps; r++) {
    const t = performance.now();
    rec.recommend(requests[r % nq]);
    recMs.push(performance.now() - t);
  }
  let meanList = 0;
  for (let q = 0; q < nq; q++) meanList += lists.listOffsets[q + 1] - lists.listOffsets[q];
  const result = {
    dataset: data.name,
    backend: getKernels().backend,
    threads: process.env.WATCHNEXT_THREADS ?? "default",
    tower: ranker.config.network.hidden.join("-") || "none",
    features: {
      query: ranker.features.queryDenseWidth,
      impression: ranker.features.impressionDenseWidth,
      input: ranker.network.width,
    },
    rank400: { medianMs: median(rankMs), p90Ms: percentile(rankMs, 0.9), reps: o.reps, targetMs: 2 },
    recommend: {
      medianMs: median(recMs),
      p90Ms: percentile(recMs, 0.9),
      reps: o.reps,
      k: o.k,
      meanListSize: meanList / nq,
      targetMs: 5,
    },
  };
  const path = writeBenchResult({ benchmark: "ranking", args, quick: false, config: { ...o } }, result);
  console.log(
    `bench ranking: rank 400 candidates median ${result.rank400.medianMs.toFixed(3)} ms; two-stage recommend median ${result.recommend.medianMs.toFixed(3)} ms (${path})`,
  );
  return result;
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
