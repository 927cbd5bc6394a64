/**
 * SGNS against gensim 4.2 (Debian's python3-gensim, run with /usr/bin/python3): the same corpus
 * (the loo training part's watch sequences of a `data synth` log: 20k users, 5k items, 2M events,
 * seed 1) and settings (64-d, window 5, 5 negatives, sub-sampling 1e-3, 5 epochs, lr 0.025).
 * Speed: tokens/s (corpus tokens × epochs / training seconds) at 1 and 2 threads, in timing
 * windows that alternate ours, gensim, ours, … (docs/benchmarking.md), median and range; plus the
 * whole `watchnext embed` command (loading included) against gensim's training time alone.
 * Quality: item2vec as a recommender by itself under loo (a user's score for item i = cosine of
 * v_i with the mean of the user's normalized history vectors, both sides' input vectors scored by
 * the same code), HR@10 / NDCG@10 of our vectors and gensim's (both trained at one thread, seeds
 * 1-3, mean ± sd) on ml-100k and ml-latest-small, and the nearest neighbours of a few items. A peer
 * that crashes fails the benchmark. Writes bench/results/embed.json.
 *
 *   node dist/bench/embed.js [--quick] [--quality]
 *
 * --quick: a 300-user synthetic log, one window, the quality check on that log only (seed 1).
 * --quality: the quality check alone (no timing; deterministic, so it runs on a loaded machine).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { loadDataset } from "../src/data/load.js";
import { writeSynthetic } from "../src/data/synth.js";
import type { Dataset } from "../src/data/dataset.js";
import { getKernels } from "../src/engine/kernels/index.js";
import { nativeThreads, setNativeThreads } from "../src/engine/kernels/native.js";
import { trainSgns, type SgnsOptions } from "../src/engine/word2vec/sgns.js";
import { evaluate } from "../src/eval/evaluate.js";
import { makeSplit } from "../src/eval/run-baselines.js";
import type { QueryBatch } from "../src/eval/types.js";
import { itemCorpus } from "../src/features/embedding-corpus.js";
import {
  nearestKeys,
  readWord2vecText,
  writeWord2vecText,
  type KeyedVectors,
} from "../src/io/word2vec-text.js";
import { CLI, cliCommand, sharedDataDir, withScratchDir } from "./cli-runs.js";
import {
  isMainModule,
  meanSd,
  repoRoot,
  spread,
  takeQuick,
  writeBenchResult,
  type Spread,
} from "./support.js";

const PYTHON = "/usr/bin/python3";
const PEER = "bench/peers/gensim_sgns.py";

interface EmbedBenchOptions {
  readonly synth: { users: number; items: number; events: number; seed: number };
  readonly sgns: Omit<SgnsOptions, "minCount" | "lr">;
  readonly threads: readonly number[];
  readonly windows: number;
  readonly qualityData: readonly string[];
  readonly qualitySeeds: readonly number[];
}

const FULL: EmbedBenchOptions = {
  synth: { users: 20_000, items: 5000, events: 2_000_000, seed: 1 },
  sgns: { dim: 64, window: 5, negatives: 5, epochs: 5, sample: 1e-3, seed: 1 },
  threads: [1, 2],
  windows: 3,
  qualityData: ["ml-100k", "ml-latest-small"],
  qualitySeeds: [1, 2, 3],
};
const QUICK: EmbedBenchOptions = {
  ...FULL,
  synth: { users: 300, items: 200, events: 20_000, seed: 1 },
  sgns: { ...FULL.sgns, epochs: 2 },
  windows: 1,
  qualityData: [],
  qualitySeeds: [1],
};

interface PeerResult {
  readonly version: string;
  readonly tokens: number;
  readonly vocab: number;
  readonly vocabSeconds: number;
  readonly trainSeconds: number;
}

/** One line per sentence, keys separated by single spaces (gensim's input). */
export function writeCorpus(path: string, data: Dataset): number {
  const c = itemCorpus(data);
  const lines: string[] = [];
  for (let s = 0; s + 1 < c.offsets.length; s++) {
    if (c.offsets[s + 1] === c.offsets[s]) continue;
    lines.push(Array.from(c.tokens.subarray(c.offsets[s], c.offsets[s + 1]), (t) => c.keys[t]).join(" "));
  }
  writeFileSync(path, lines.join("\n") + "\n");
  return c.tokens.length;
}

export function runGensim(
  corpus: string,
  o: EmbedBenchOptions["sgns"],
  workers: number,
  out?: string,
): PeerResult {
  const args = [
    PEER,
    ...["--corpus", corpus, "--dim", o.dim, "--window", o.window, "--negatives", o.negatives],
    ...["--epochs", o.epochs, "--sample", o.sample, "--workers", workers, "--seed", o.seed],
    ...(out === undefined ? [] : ["--out", out]),
  ].map(String);
  const r = spawnSync(PYTHON, args, { cwd: repoRoot(), encoding: "utf8", maxBuffer: 1 << 24 });
  if (r.error !== undefined || r.status !== 0)
    throw new Error(
      `bench embed: gensim peer failed (${r.error?.message ?? `exit ${r.status}`}; needs apt-get install python3-gensim):\n${r.stderr}`,
    );
  const last = r.stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as PeerResult;
}

function timeOurs(
  data: Dataset,
  o: EmbedBenchOptions["sgns"],
  threads: number,
): { seconds: number; vectors: KeyedVectors } {
  setNativeThreads(threads);
  const corpus = itemCorpus(data);
  const t0 = performance.now();
  const { vectors } = trainSgns(corpus, { ...o, minCount: 1 });
  return { seconds: (performance.now() - t0) / 1000, vectors };
}

/** Wall seconds of the whole `watchnext embed` command (process start, loading, split, training, writing). */
function timeCommand(
  dataDir: string,
  o: EmbedBenchOptions["sgns"],
  threads: number,
  out: string,
): { seconds: number; command: string } {
  const args = [
    "embed",
    "--data",
    dataDir,
    "--corpus",
    "items",
    "--out",
    out,
    "--dim",
    String(o.dim),
    "--window",
    String(o.window),
  ];
  args.push("--negatives", String(o.negatives), "--epochs", String(o.epochs), "--sample", String(o.sample));
  args.push("--threads", String(threads), "--seed", String(o.seed));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: repoRoot(),
    encoding: "utf8",
    env: { ...process.env, WATCHNEXT_BACKEND: "native" },
  });
  if (r.status !== 0) throw new Error(`bench embed: watchnext embed failed (exit ${r.status}):\n${r.stderr}`);
  return { seconds: (performance.now() - t0) / 1000, command: cliCommand(args) };
}

/** item2vec as a recommender: HR@10 / NDCG@10 under loo on the test queries. */
export function item2vecQuality(data: Dataset, v: KeyedVectors): { hr10: number; ndcg10: number } {
  const split = makeSplit(data, "loo");
  const n = data.items.ids.length;
  const d = v.dim;
  // Unit item vectors in dataset item order (items without a vector stay 0).
  const items = new Float32Array(n * d);
  v.keys.forEach((key, r) => {
    const i = data.items.index.get(key);
    if (i === undefined) return;
    let s = 0;
    for (let k = 0; k < d; k++) s += v.vectors[r * d + k] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let k = 0; k < d; k++) items[i * d + k] = v.vectors[r * d + k] * inv;
  });
  const kernels = getKernels();
  const scorer = {
    name: "item2vec",
    params: {},
    score: (batch: QueryBatch, out: Float32Array) => {
      const q = batch.users.length;
      const u = new Float32Array(q * d);
      for (let b = 0; b < q; b++) {
        for (let h = batch.historyOffsets[b]; h < batch.historyOffsets[b + 1]; h++) {
          const it = batch.historyItems[h];
          for (let k = 0; k < d; k++) u[b * d + k] += items[it * d + k];
        }
      }
      kernels.gemm(false, true, q, n, d, 1, u, d, items, d, 0, out, n);
    },
  };
  const r = evaluate(scorer, split.test, { numItems: n, metrics: "loo", ks: [10] });
  return { hr10: r.metrics["HR@10"], ndcg10: r.metrics["NDCG@10"] };
}

/** Speed: alternating timing windows of ours and gensim per thread count, then the whole command. */
function speedRuns(
  o: EmbedBenchOptions,
  train: Dataset,
  dataDir: string,
  corpusPath: string,
  tokens: number,
  scratch: string,
): Array<Record<string, unknown>> {
  const work = tokens * o.sgns.epochs;
  const speed: Array<Record<string, unknown>> = [];
  for (const threads of o.threads) {
    const ours: number[] = [];
    const peer: number[] = [];
    let version = "";
    for (let w = 0; w < o.windows; w++) {
      ours.push(timeOurs(train, o.sgns, threads).seconds);
      const g = runGensim(corpusPath, o.sgns, threads);
      if (g.tokens !== tokens) throw new Error(`bench embed: gensim read ${g.tokens} tokens, ours ${tokens}`);
      peer.push(g.trainSeconds);
      version = g.version;
    }
    const command = timeCommand(dataDir, o.sgns, threads, join(scratch, `ours-${threads}.txt`));
    const tps = (s: readonly number[]): Spread =>
      spread(
        s.map((x) => work / x),
        0,
      );
    speed.push({
      threads,
      oursTokensPerSecond: tps(ours),
      gensimTokensPerSecond: tps(peer),
      gensimVersion: version,
      oursSeconds: spread(ours, 2),
      gensimTrainSeconds: spread(peer, 2),
      embedCommandSeconds: Math.round(command.seconds * 100) / 100,
      embedCommand: command.command,
    });
  }
  return speed;
}

/** Quality: item2vec HR@10 / NDCG@10 under loo of ours and gensim's vectors, per seed and mean ± sd. */
function qualityRuns(
  o: EmbedBenchOptions,
  sets: ReadonlyArray<readonly [string, Dataset]>,
  scratch: string,
): Array<Record<string, unknown>> {
  const quality: Array<Record<string, unknown>> = [];
  for (const [name, data] of sets) {
    const t = makeSplit(data, "loo").train;
    const path = join(scratch, `${name}-corpus.txt`);
    writeCorpus(path, t);
    const runs: Array<{ seed: number; ours: Quality; gensim: Quality }> = [];
    let neighbours: Record<string, unknown> = {};
    for (const seed of o.qualitySeeds) {
      const so = { ...o.sgns, seed };
      const gensimOut = join(scratch, `${name}-gensim-${seed}.txt`);
      runGensim(path, so, 1, gensimOut);
      const ours = timeOurs(t, so, 1).vectors;
      const oursPath = join(scratch, `${name}-ours-${seed}.txt`);
      writeWord2vecText(oursPath, ours);
      const gensim = readWord2vecText(gensimOut);
      runs.push({
        seed,
        ours: item2vecQuality(data, readWord2vecText(oursPath)),
        gensim: item2vecQuality(data, gensim),
      });
      if (seed === o.qualitySeeds[0]) {
        const probe = ours.keys.slice(0, 3);
        const title = (id: string) => data.itemInfo.title[data.items.index.get(id) ?? -1] ?? id;
        const near = (v: KeyedVectors) =>
          Object.fromEntries(probe.map((k) => [title(k), nearestKeys(v, k, 5).map((x) => title(x.key))]));
        neighbours = { seed, ours: near(ours), gensim: near(gensim) };
      }
    }
    const summary = (side: "ours" | "gensim") => ({
      hr10: meanSd(runs.map((r) => r[side].hr10)),
      ndcg10: meanSd(runs.map((r) => r[side].ndcg10)),
    });
    quality.push({
      dataset: name,
      seeds: o.qualitySeeds,
      ours: summary("ours"),
      gensim: summary("gensim"),
      runs,
      neighbours,
    });
  }
  return quality;
}

type Quality = ReturnType<typeof item2vecQuality>;

export async function run(argv: string[]): Promise<unknown> {
  const { quick, rest: afterQuick } = takeQuick(argv);
  const qualityOnly = afterQuick.includes("--quality");
  const rest = afterQuick.filter((a) => a !== "--quality");
  if (rest.length > 0) throw new Error(`bench embed: unexpected arguments ${rest.join(" ")}`);
  const o = quick ? QUICK : FULL;
  if (getKernels().backend !== "native") throw new Error("bench embed: needs the native kernels");
  const threadsBefore = nativeThreads();
  return withScratchDir("embed", async (scratch) => {
    try {
      const sets: Array<[string, Dataset]> = [];
      let speed: Array<Record<string, unknown>> = [];
      let tokens = 0;
      if (!qualityOnly || quick) {
        const dataDir = join(scratch, "synth");
        await writeSynthetic(dataDir, o.synth);
        const full = await loadDataset(dataDir);
        const train = makeSplit(full, "loo").train;
        const corpusPath = join(scratch, "corpus.txt");
        tokens = writeCorpus(corpusPath, train);
        if (!qualityOnly) speed = speedRuns(o, train, dataDir, corpusPath, tokens, scratch);
        if (quick) sets.push(["synth", full]);
      }
      for (const name of o.qualityData) sets.push([name, await loadDataset(join(sharedDataDir(), name))]);
      const quality = qualityRuns(o, sets, scratch);
      const result = { corpusTokens: tokens, speed, quality };
      const path = writeBenchResult(
        {
          benchmark: "embed",
          args: argv,
          quick,
          config: { ...o, corpus: "loo training watch sequences of data synth" },
        },
        result,
        qualityOnly ? "embed-quality.json" : "embed.json",
      );
      for (const s of speed)
        console.log(
          `bench embed: ${String(s.threads)} thread(s): ours ${JSON.stringify(s.oursTokensPerSecond)} tok/s, gensim ${JSON.stringify(s.gensimTokensPerSecond)} tok/s; embed command ${String(s.embedCommandSeconds)} s`,
        );
      for (const q of quality)
        console.log(
          `bench embed: quality ${JSON.stringify(q.dataset)} seeds ${JSON.stringify(q.seeds)}: ours ${JSON.stringify(q.ours)} gensim ${JSON.stringify(q.gensim)}`,
        );
      console.log(`bench embed: wrote ${path}`);
      return result;
    } finally {
      setNativeThreads(threadsBefore);
    }
  });
}

if (isMainModule(import.meta.url)) {
  run(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  });
}
