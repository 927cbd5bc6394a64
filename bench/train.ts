/**
 * Training-step benchmark of the candidate generator against PyTorch, in the same invocation:
 * `node dist/bench/train.js [--json] [--steps N]` (also run as the `train` part of
 * bench/engine.ts). Configuration (bench/peers/torch_candidate_step.py has the same): synthetic
 * data with 20,000 items; batch 512; a bag of <= 50 (mean 30) watched items with 64-d embeddings,
 * 4 demographic embeddings of 8-d and the example age, concatenated -> 1024 -> 512 -> 256 ReLU =
 * user vector; 256-d item output embeddings; sampled softmax with 2,000 shared negatives + logQ;
 * Adam, lr 1e-3. A timed step = negative sampling + forward + backward + optimizer update.
 * PyTorch runs at every torch × OpenBLAS thread setting; the ratio is against its best.
 */
import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";

import { join } from "node:path";

import { isMainModule, repoRoot, writeBenchResult } from "./support.js";
import { getKernels } from "../src/engine/kernels/index.js";
import { Rng } from "../src/engine/rng.js";
import type { CandidateBatch } from "../src/features/batch.js";
import type { FeatureSchema } from "../src/features/schema.js";
import { resolveCandidateModelConfig } from "../src/models/candidates/config.js";
import { NegativeSampler } from "../src/models/candidates/negative-sampler.js";
import { CandidateNetwork } from "../src/models/candidates/network.js";

const NUM_ITEMS = 20_000;
const BATCH = 512;
const BAG_MIN = 10;
const BAG_MAX = 50;
const DEMOGRAPHICS = [3, 8, 21, 100];
const NUM_NEG = 2000;
const DATA_BATCHES = 8;

export interface TrainBenchResult {
  readonly examples_per_s: number;
  readonly torch_examples_per_s: number | null;
  readonly ratio: number | null;
  readonly backend: string;
  readonly steps: number;
  readonly torch_runs: unknown[];
}

/** Zipf(1.1) item draws through a cumulative table. */
function zipfSampler(rng: Rng): () => number {
  const cdf = new Float64Array(NUM_ITEMS);
  let total = 0;
  for (let i = 0; i < NUM_ITEMS; i++) cdf[i] = total += 1 / (i + 1) ** 1.1;
  return () => {
    const x = rng.nextFloat() * total;
    let lo = 0;
    let hi = NUM_ITEMS - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function syntheticBatch(rng: Rng, draw: () => number): CandidateBatch {
  const offsets = new Int32Array(BATCH + 1);
  const indices: number[] = [];
  for (let b = 0; b < BATCH; b++) {
    const len = BAG_MIN + rng.nextInt(BAG_MAX - BAG_MIN + 1);
    for (let i = 0; i < len; i++) indices.push(draw() + 1);
    offsets[b + 1] = indices.length;
  }
  const categorical: Record<string, Int32Array> = {};
  DEMOGRAPHICS.forEach((rows, j) => {
    categorical[`demo${j}`] = Int32Array.from({ length: BATCH }, () => rng.nextInt(rows));
  });
  return {
    size: BATCH,
    labels: Int32Array.from({ length: BATCH }, draw),
    labelTimes: new Float64Array(BATCH),
    bags: { watches: { offsets, indices: Int32Array.from(indices), weights: null } },
    categorical,
    dense: Float32Array.from({ length: BATCH }, () => rng.nextFloat()),
    denseWidth: 1,
  };
}

/** Examples per second of our training step on the benchmark configuration. */
export function benchOurStep(steps = 30, warmup = 5): number {
  const schema: FeatureSchema = {
    tables: [
      { name: "item", rows: NUM_ITEMS + 1, dim: 64 },
      ...DEMOGRAPHICS.map((rows, j) => ({ name: `demo${j}`, rows, dim: 8 })),
    ],
    features: [
      { kind: "bag", name: "watches", table: "item" },
      ...DEMOGRAPHICS.map((_, j) => ({ kind: "categorical" as const, name: `demo${j}`, table: `demo${j}` })),
      { kind: "continuous", name: "exampleAge", offset: 0, width: 1 },
    ],
    denseWidth: 1,
  };
  const config = resolveCandidateModelConfig({
    network: {
      widths: [1024, 512, 256],
      outputDim: 256,
      finalRelu: true,
      itemBias: false,
      dropout: 0,
    },
    train: { softmax: "sampled", numNegatives: NUM_NEG, samplingAlpha: 0.75, batchSize: BATCH, lr: 1e-3 },
  });
  const rng = new Rng(1);
  const draw = zipfSampler(rng);
  const counts = new Float64Array(NUM_ITEMS);
  for (let i = 0; i < NUM_ITEMS; i++) counts[i] = 1e6 / (i + 1) ** 1.1;
  const sampler = new NegativeSampler(counts, 0.75, NUM_NEG);
  const net = new CandidateNetwork(
    getKernels(),
    config,
    { schema, numItems: NUM_ITEMS, capacity: BATCH, mode: "sampled", itemIds: { table: "item" } },
    sampler,
    rng,
  );
  const batches = Array.from({ length: DATA_BATCHES }, () => syntheticBatch(rng, draw));
  for (let i = 0; i < warmup; i++) net.trainStep(batches[i % DATA_BATCHES], rng);
  const start = performance.now();
  for (let i = 0; i < steps; i++) net.trainStep(batches[(warmup + i) % DATA_BATCHES], rng);
  return (steps * BATCH) / ((performance.now() - start) / 1000);
}

/**
 * PyTorch's examples/s at every (torch threads, OpenBLAS threads) setting up to the core count:
 * OpenBLAS's pool ignores torch.set_num_threads, so both are set, and the ratio is taken against
 * the best (on 2 cores that is usually 1 torch thread + 2 OpenBLAS threads). Entries carry
 * `skipped` with the reason when torch is unavailable.
 */
export function benchTorch(steps = 30): Array<Record<string, unknown>> {
  const script = join(repoRoot(), "bench", "peers", "torch_candidate_step.py");
  const runs: Array<Record<string, unknown>> = [];
  const maxThreads = Math.max(1, availableParallelism());
  for (let torchThreads = 1; torchThreads <= maxThreads; torchThreads++) {
    for (let blasThreads = 1; blasThreads <= maxThreads; blasThreads++) {
      try {
        const out = execFileSync(
          "/usr/bin/python3",
          [script, "--steps", String(steps), "--warmup", "5", "--torch-threads", String(torchThreads)],
          {
            env: {
              ...process.env,
              OPENBLAS_NUM_THREADS: String(blasThreads),
              OMP_NUM_THREADS: String(torchThreads),
            },
            encoding: "utf8",
          },
        );
        runs.push(JSON.parse(out.trim().split("\n").pop() as string) as Record<string, unknown>);
      } catch (err) {
        runs.push({
          examples_per_s: null,
          torch_threads: torchThreads,
          openblas_threads: blasThreads,
          skipped: (err as Error).message.split("\n")[0],
        });
      }
    }
  }
  return runs;
}

export function benchTrain(steps = 30): TrainBenchResult {
  const ours = benchOurStep(steps);
  const torchRuns = benchTorch(steps);
  const rates = torchRuns.map((r) => r.examples_per_s).filter((x): x is number => typeof x === "number");
  const best = rates.length ? Math.max(...rates) : null;
  return {
    examples_per_s: Math.round(ours * 10) / 10,
    torch_examples_per_s: best,
    ratio: best ? Math.round((ours / best) * 1000) / 1000 : null,
    backend: getKernels().backend,
    steps,
    torch_runs: torchRuns,
  };
}

if (isMainModule(import.meta.url)) {
  const stepsArg = process.argv.indexOf("--steps");
  const steps = stepsArg > 0 ? Number(process.argv[stepsArg + 1]) : 30;
  const train = benchTrain(steps);
  const path = writeBenchResult("train.json", { train, recordedAt: new Date().toISOString() });
  if (process.argv.includes("--json")) console.log(JSON.stringify({ train }));
  else {
    console.log(`watchnext (${train.backend}): ${train.examples_per_s.toFixed(0)} examples/s`);
    console.log(
      `PyTorch best: ${train.torch_examples_per_s ?? "n/a"} examples/s; ratio ${train.ratio ?? "n/a"}`,
    );
    console.log(`results written to ${path}`);
  }
}
