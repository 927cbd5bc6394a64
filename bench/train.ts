/**
 * Training-step benchmark of the candidate generator against PyTorch:
 * `node dist/bench/train.js [--quick] [--windows N] [--steps N] [--warmup N]` (also run by
 * `npm run bench` and `npm run bench:engine`). Writes bench/results/train.json.
 *
 * Configuration (bench/peers/torch_candidate_step.py has the same; the peer reports its own and
 * the two are compared field by field): synthetic data with 20,000 items; batch 512; a bag of
 * <= 50 (mean 30) watched items with 64-d embeddings, 4 demographic embeddings of 8-d and the
 * example age, concatenated -> 1024 -> 512 -> 256 ReLU = user vector; 256-d item output
 * embeddings; sampled softmax with 2,000 shared negatives + logQ; Adam, lr 1e-3. A timed step =
 * negative sampling + forward + backward + optimizer update.
 *
 * Method (docs/benchmarking.md): PyTorch runs with sparse embedding gradients + SparseAdam, on
 * OpenBLAS (the peer refuses to run otherwise), once per (torch threads, OpenBLAS threads,
 * autocast off | bf16) setting up to the core count, each setting a long-lived process; bf16
 * autocast is PyTorch's own mixed precision (oneDNN bf16 matmuls), its fastest form on a CPU with
 * AVX512_BF16. Ours runs at each GEMM precision this CPU has (fp32, and the opt-in bf16 with
 * AVX512_BF16). After the warm-up, timing windows of `steps` steps go round-robin: each of ours,
 * then each PyTorch setting, for `windows` rounds, with a short pause between windows so no side's
 * spinning threads overlap the next. Each setting's figure is the median of its windows, reported
 * with min/max; the ratio is our best setting over PyTorch's best (by median), with the range of
 * the per-round ratios, and `ratioDefault` is the same for our default precision (fp32). A peer
 * that fails fails the benchmark.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { availablePrecisions } from "./gemm.js";
import { PeerProcess, type PeerMessage } from "./peer-process.js";
import { isMainModule, repoRoot, spread, takeQuick, writeBenchResult, type Spread } from "./support.js";
import { getKernels, type GemmPrecision } from "../src/engine/kernels/index.js";
import { nativeSimdInfo, nativeThreads } from "../src/engine/kernels/native.js";
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
const ITEM_DIM = 64;
const DEMOGRAPHICS = [3, 8, 21, 100];
const DEMO_DIM = 8;
const TOWER = [1024, 512, 256];
const NUM_NEG = 2000;
const SAMPLING_ALPHA = 0.75;
const LR = 1e-3;
const DATA_BATCHES = 8;

/** The benchmark configuration in the peer's field names: both sides must report exactly this. */
export const STEP_CONFIG = {
  num_items: NUM_ITEMS,
  batch: BATCH,
  bag_min: BAG_MIN,
  bag_max: BAG_MAX,
  item_dim: ITEM_DIM,
  demographics: DEMOGRAPHICS,
  demo_dim: DEMO_DIM,
  tower: TOWER,
  num_negatives: NUM_NEG,
  sampling_alpha: SAMPLING_ALPHA,
  lr: LR,
  data_batches: DATA_BATCHES,
} as const;

export interface TrainBenchOptions {
  /** Timing windows per side. */
  readonly windows: number;
  /** Training steps per window. */
  readonly steps: number;
  /** Untimed steps per side before the first window. */
  readonly warmup: number;
  /** Pause between two windows, in ms (lets the other side's worker threads go idle). */
  readonly pauseMs: number;
}

const FULL: TrainBenchOptions = { windows: 7, steps: 30, warmup: 5, pauseMs: 250 };
const QUICK: TrainBenchOptions = { windows: 2, steps: 2, warmup: 1, pauseMs: 10 };

/** PyTorch's precision: fp32, or the forward under torch.autocast("cpu", torch.bfloat16). */
export type TorchAutocast = "off" | "bf16";

export interface TorchSetting {
  readonly torchThreads: number;
  readonly openblasThreads: number;
  readonly autocast: TorchAutocast;
  readonly torchVersion: string;
  readonly blas: readonly string[];
  readonly sparseGrads: boolean;
  readonly examplesPerSecond: Spread;
}

export interface WatchnextSetting {
  readonly backend: string;
  readonly threads: number;
  readonly simd: string;
  /** Precision of the layers' GEMMs (WATCHNEXT_GEMM=fp32|bf16). */
  readonly gemm: GemmPrecision;
  readonly examplesPerSecond: Spread;
}

export interface TrainBenchResult {
  /** One entry per GEMM precision this CPU runs; the first is the default (fp32). */
  readonly watchnext: readonly WatchnextSetting[];
  /** Our best precision by median examples/s. */
  readonly watchnextBest: { readonly gemm: GemmPrecision };
  readonly torch: readonly TorchSetting[];
  /** PyTorch's best setting by median examples/s. */
  readonly torchBest: {
    readonly torchThreads: number;
    readonly openblasThreads: number;
    readonly autocast: TorchAutocast;
  };
  /** Our best setting's median over the best PyTorch setting's median. */
  readonly ratio: number;
  /** Range of the per-round ratios (our best setting's window over PyTorch's best of the same round). */
  readonly ratioMin: number;
  readonly ratioMax: number;
  /** Our default precision's (fp32) median over the best PyTorch setting's median. */
  readonly ratioDefault: number;
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

/** The GEMM precisions our step runs at: fp32, plus bf16 on the native engine with AVX512_BF16. */
export function stepPrecisions(): GemmPrecision[] {
  return getKernels().backend === "native" ? availablePrecisions() : ["fp32"];
}

/** Our training step on the benchmark configuration, built once; `run(n)` times n steps. */
export class OurStep {
  private readonly rng = new Rng(1);
  /** The network and its negative sampler (bench/train-phases.ts times their parts). */
  readonly net: CandidateNetwork;
  readonly sampler: NegativeSampler;
  private readonly batches: CandidateBatch[];
  private done = 0;

  /** The layers read their GEMM precision from WATCHNEXT_GEMM when built, so it is set around that. */
  static at(precision: GemmPrecision): OurStep {
    const before = process.env.WATCHNEXT_GEMM;
    process.env.WATCHNEXT_GEMM = precision;
    try {
      return new OurStep();
    } finally {
      if (before === undefined) delete process.env.WATCHNEXT_GEMM;
      else process.env.WATCHNEXT_GEMM = before;
    }
  }

  private constructor() {
    const schema: FeatureSchema = {
      tables: [
        { name: "item", rows: NUM_ITEMS + 1, dim: ITEM_DIM },
        ...DEMOGRAPHICS.map((rows, j) => ({ name: `demo${j}`, rows, dim: DEMO_DIM })),
      ],
      features: [
        { kind: "bag", name: "watches", table: "item" },
        ...DEMOGRAPHICS.map((_, j) => ({
          kind: "categorical" as const,
          name: `demo${j}`,
          table: `demo${j}`,
        })),
        { kind: "continuous", name: "exampleAge", offset: 0, width: 1 },
      ],
      denseWidth: 1,
    };
    const config = resolveCandidateModelConfig({
      network: {
        widths: TOWER,
        outputDim: TOWER[TOWER.length - 1],
        tieOutput: false, // the PyTorch peer's 256-d output table of its own
        finalRelu: true,
        itemBias: false,
        dropout: 0,
      },
      train: {
        softmax: "sampled",
        numNegatives: NUM_NEG,
        samplingAlpha: SAMPLING_ALPHA,
        batchSize: BATCH,
        lr: LR,
      },
    });
    const draw = zipfSampler(this.rng);
    const counts = new Float64Array(NUM_ITEMS);
    for (let i = 0; i < NUM_ITEMS; i++) counts[i] = 1e6 / (i + 1) ** 1.1;
    const sampler = new NegativeSampler(counts, SAMPLING_ALPHA, NUM_NEG);
    this.sampler = sampler;
    this.net = new CandidateNetwork(
      getKernels(),
      config,
      { schema, numItems: NUM_ITEMS, capacity: BATCH, mode: "sampled", itemIds: { table: "item" } },
      sampler,
      this.rng,
    );
    this.batches = Array.from({ length: DATA_BATCHES }, () => syntheticBatch(this.rng, draw));
  }

  /** Runs `steps` training steps; returns examples per second. */
  run(steps: number): number {
    const start = performance.now();
    for (let i = 0; i < steps; i++) this.net.trainStep(this.batches[this.done++ % DATA_BATCHES], this.rng);
    return (steps * BATCH) / ((performance.now() - start) / 1000);
  }
}

/** The peer at one thread setting; resolves once it has warmed up and its configuration matched ours. */
async function startPeer(
  torchThreads: number,
  blasThreads: number,
  autocast: TorchAutocast,
  warmup: number,
): Promise<PeerProcess> {
  const script = join(repoRoot(), "bench", "peers", "torch_candidate_step.py");
  const peer = new PeerProcess(
    `PyTorch peer (${torchThreads} torch + ${blasThreads} OpenBLAS threads, autocast ${autocast})`,
    "/usr/bin/python3",
    [
      script,
      "--warmup",
      String(warmup),
      "--torch-threads",
      String(torchThreads),
      "--sparse",
      "yes",
      "--autocast",
      autocast,
    ],
    {
      ...process.env,
      OPENBLAS_NUM_THREADS: String(blasThreads),
      OMP_NUM_THREADS: String(torchThreads),
    },
  );
  const ready = await peer.ready;
  checkPeerConfig(peer.label, ready);
  if (ready.autocast !== autocast)
    throw new Error(`${peer.label} reports autocast ${JSON.stringify(ready.autocast)}, asked ${autocast}`);
  return peer;
}

/** Same work on both sides: every field of the peer's configuration must equal ours. */
export function checkPeerConfig(label: string, ready: PeerMessage): void {
  const theirs = (ready.config ?? {}) as Record<string, unknown>;
  for (const [field, value] of Object.entries(STEP_CONFIG)) {
    if (JSON.stringify(theirs[field]) !== JSON.stringify(value))
      throw new Error(
        `${label} runs a different configuration: ${field} = ${JSON.stringify(theirs[field])}, ours ${JSON.stringify(value)}`,
      );
  }
  for (const field of Object.keys(theirs)) {
    if (!(field in STEP_CONFIG))
      throw new Error(`${label} reports a configuration field we do not have: ${field}`);
  }
  if (ready.sparse_grads !== true)
    throw new Error(`${label} does not use sparse embedding gradients + SparseAdam`);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function num(message: PeerMessage, field: string, label: string): number {
  const v = message[field];
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new Error(`${label}: expected a finite number in "${field}", got ${JSON.stringify(v)}`);
  return v;
}

export async function benchTrain(options: TrainBenchOptions): Promise<TrainBenchResult> {
  const { windows, steps, warmup, pauseMs } = options;
  const maxThreads = Math.max(1, availableParallelism());
  const settings: Array<[number, number, TorchAutocast]> = [];
  for (const a of ["off", "bf16"] as const)
    for (let t = 1; t <= maxThreads; t++) for (let b = 1; b <= maxThreads; b++) settings.push([t, b, a]);

  const peers: PeerProcess[] = [];
  try {
    // Start-up and warm-up are untimed; they run one peer at a time so none starves another.
    for (const [t, b, a] of settings) peers.push(await startPeer(t, b, a, warmup));
    const ready = await Promise.all(peers.map((p) => p.ready));
    const precisions = stepPrecisions();
    const ours = precisions.map((p) => OurStep.at(p));
    for (const o of ours) o.run(warmup);

    const ourRates: number[][] = ours.map(() => []);
    const torchRates: number[][] = peers.map(() => []);
    for (let w = 0; w < windows; w++) {
      for (let o = 0; o < ours.length; o++) {
        await pause(pauseMs);
        ourRates[o].push(ours[o].run(steps));
      }
      for (let p = 0; p < peers.length; p++) {
        await pause(pauseMs);
        const answer = await peers[p].request(`window ${steps}`);
        if (answer.steps !== steps)
          throw new Error(`${peers[p].label} ran ${String(answer.steps)} steps, asked ${steps}`);
        torchRates[p].push(num(answer, "examples_per_s", peers[p].label));
      }
    }

    const torch: TorchSetting[] = peers.map((_, p) => ({
      torchThreads: num(ready[p], "torch_threads", peers[p].label),
      openblasThreads: num(ready[p], "openblas_threads", peers[p].label),
      autocast: settings[p][2],
      torchVersion: String(ready[p].torch_version),
      blas: ready[p].blas as string[],
      sparseGrads: ready[p].sparse_grads === true,
      examplesPerSecond: spread(torchRates[p]),
    }));
    let best = 0;
    for (let p = 1; p < torch.length; p++)
      if (torch[p].examplesPerSecond.median > torch[best].examplesPerSecond.median) best = p;
    const native = getKernels().backend === "native";
    const watchnext: WatchnextSetting[] = precisions.map((gemm, o) => ({
      backend: getKernels().backend,
      threads: native ? nativeThreads() : 1,
      simd: native ? nativeSimdInfo().level : "none",
      gemm,
      examplesPerSecond: spread(ourRates[o]),
    }));
    let ourBest = 0;
    for (let o = 1; o < watchnext.length; o++)
      if (watchnext[o].examplesPerSecond.median > watchnext[ourBest].examplesPerSecond.median) ourBest = o;
    const torchMedian = torch[best].examplesPerSecond.median;
    const roundRatios = ourRates[ourBest].map((r, w) => r / torchRates[best][w]);
    const round3 = (x: number): number => Math.round(x * 1000) / 1000;
    return {
      watchnext,
      watchnextBest: { gemm: watchnext[ourBest].gemm },
      torch,
      torchBest: {
        torchThreads: torch[best].torchThreads,
        openblasThreads: torch[best].openblasThreads,
        autocast: torch[best].autocast,
      },
      ratio: round3(watchnext[ourBest].examplesPerSecond.median / torchMedian),
      ratioMin: round3(Math.min(...roundRatios)),
      ratioMax: round3(Math.max(...roundRatios)),
      ratioDefault: round3(watchnext[0].examplesPerSecond.median / torchMedian),
    };
  } finally {
    await Promise.all(peers.map((p) => p.close()));
  }
}

function parseOptions(args: string[]): { quick: boolean; options: TrainBenchOptions; given: string[] } {
  const { quick, rest } = takeQuick(args);
  const { values } = parseArgs({
    args: rest,
    options: { windows: { type: "string" }, steps: { type: "string" }, warmup: { type: "string" } },
    strict: true,
  });
  const base = quick ? QUICK : FULL;
  const int = (name: "windows" | "steps" | "warmup", min: number): number => {
    const raw = values[name];
    if (raw === undefined) return base[name];
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`bench train: --${name} expects an integer >= ${min}, got "${raw}"`);
    return n;
  };
  return {
    quick,
    options: { ...base, windows: int("windows", 1), steps: int("steps", 1), warmup: int("warmup", 0) },
    given: rest,
  };
}

export async function run(args: string[]): Promise<TrainBenchResult> {
  const { quick, options, given } = parseOptions(args);
  const result = await benchTrain(options);
  const path = writeBenchResult(
    {
      benchmark: "train",
      args: given,
      quick,
      config: { ...options, step: STEP_CONFIG, peer: "bench/peers/torch_candidate_step.py" },
    },
    result,
  );
  for (const o of result.watchnext) {
    const w = o.examplesPerSecond;
    console.log(
      `bench train: watchnext (${o.backend}, ${o.gemm}, ${o.threads} threads) ${w.median} examples/s (windows ${w.min}-${w.max})`,
    );
  }
  for (const t of result.torch) {
    const s = t.examplesPerSecond;
    console.log(
      `bench train: PyTorch ${t.torchVersion} ${t.torchThreads} torch + ${t.openblasThreads} OpenBLAS threads, autocast ${t.autocast}: ${s.median} examples/s (windows ${s.min}-${s.max})`,
    );
  }
  console.log(
    `bench train: ratio ${result.ratio} (watchnext ${result.watchnextBest.gemm} over PyTorch ${result.torchBest.torchThreads}+${result.torchBest.openblasThreads} autocast ${result.torchBest.autocast}; rounds ${result.ratioMin}-${result.ratioMax}); default fp32: ${result.ratioDefault}; wrote ${path}`,
  );
  return result;
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
