/**
 * Cost of the order-aware watch encoder (engine/layers/transformer-encoder.ts) on the native
 * kernels: `node dist/bench/sequence-encoder.js [--quick] [--dim 64] [--blocks 2] [--len 50]
 * [--heads 2] [--ffn 64] [--batch 128] [--data ../shared/data/ml-100k]`.
 *
 * - serving: one user's forward pass (inference, full history of len watches) plus reading the
 *   last slot's output, i.e. what the encoder adds to one `recommend` call; median over windows.
 * - training: one step over `batch` sequences of len slots (forward with dropout 0.2, backward
 *   from a gradient at every slot — the position-wise objective — and Adam over the encoder's
 *   parameters); steps/s and slots/s.
 * - recommend: the candidate generator's `recommend(one user, k = 10)` on ml-100k (`--data`, loo
 *   test queries, untrained models from seed 1: the cost does not depend on the weights) with the
 *   `sequence` feature group on (defaults: L = 50, 2 blocks) and off, interleaved windows over the
 *   same users; the difference is what the encoder adds to one request.
 * Each is measured with 1 and 2 native threads. Writes bench/results/sequence-encoder.json.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isMainModule, repoRoot, spread, takeQuick, writeBenchResult, type Spread } from "./support.js";
import { loadDataset } from "../src/data/load.js";
import { sliceQueries } from "../src/eval/evaluate.js";
import { splitLoo } from "../src/eval/split-loo.js";
import type { QueryBatch } from "../src/eval/types.js";
import { buildCandidateFeatures } from "../src/features/candidate-features.js";
import { resolveCandidateModelConfig } from "../src/models/candidates/config.js";
import { CandidateModel } from "../src/models/candidates/model.js";
import { getNativeKernels } from "../src/engine/kernels/index.js";
import { nativeSimdInfo, nativeThreads, setNativeThreads } from "../src/engine/kernels/native.js";
import {
  TransformerEncoder,
  type TransformerEncoderConfig,
} from "../src/engine/layers/transformer-encoder.js";
import { Adam } from "../src/engine/optim/adam.js";
import { Rng } from "../src/engine/rng.js";

const SEED = 3;

export interface SequenceEncoderRun {
  readonly threads: number;
  /** One user's forward pass + last-slot read, microseconds (wall clock). */
  readonly serveMicros: Spread;
  /** The same in CPU time of this process (all threads), which a busy neighbour inflates less. */
  readonly serveCpuMicros: number;
  /** One training step over the batch, milliseconds. */
  readonly trainStepMs: Spread;
  readonly trainSequencesPerSecond: number;
  readonly trainSlotsPerSecond: number;
}

export interface RecommendRun {
  readonly threads: number;
  /** recommend(one user, k) with the sequence group on / off, microseconds per call. */
  readonly withEncoderMicros: Spread;
  readonly withoutEncoderMicros: Spread;
  /** Median of the per-window differences (on − off). */
  readonly addedMicros: number;
  /** The same difference in CPU time of this process (all windows together). */
  readonly addedCpuMicros: number;
}

export interface SequenceEncoderResult {
  readonly simd: string;
  readonly parameters: number;
  readonly runs: readonly SequenceEncoderRun[];
  readonly recommend: {
    readonly data: string;
    readonly users: number;
    readonly runs: readonly RecommendRun[];
  };
}

interface Sizes {
  dim: number;
  blocks: number;
  len: number;
  heads: number;
  ffn: number;
  batch: number;
  serveWindows: number;
  serveCalls: number;
  trainWindows: number;
  trainSteps: number;
  users: number;
  recommendCalls: number;
}

function filled(rng: Rng, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

function elapsedMs(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/**
 * recommend(one user) with and without the sequence group, in interleaved windows of `calls`
 * calls cycling over the first `users` loo test queries of the dataset.
 */
async function benchRecommend(
  dataDir: string,
  users: number,
  windows: number,
  calls: number,
): Promise<SequenceEncoderResult["recommend"]> {
  const split = splitLoo(await loadDataset(dataDir));
  const models = [true, false].map((enabled) => {
    const config = resolveCandidateModelConfig({ features: { sequence: { enabled } } });
    return CandidateModel.create(config, buildCandidateFeatures(split.train, config.features), 1);
  });
  const n = Math.min(users, split.test.users.length);
  const queries: QueryBatch[] = Array.from({ length: n }, (_, q) =>
    sliceQueries(split.test, q, q + 1, new Int32Array(2)),
  );
  const initialThreads = nativeThreads();
  const runs: RecommendRun[] = [];
  try {
    for (const threads of [1, 2]) {
      setNativeThreads(threads);
      const times: number[][] = [[], []];
      const cpuMicros = [0, 0];
      for (const m of models) for (let i = 0; i < Math.min(calls, 50); i++) m.recommend(queries[i % n], 10);
      for (let w = 0; w < windows; w++) {
        models.forEach((m, which) => {
          const c0 = process.cpuUsage();
          const t0 = process.hrtime.bigint();
          for (let i = 0; i < calls; i++) m.recommend(queries[(w * calls + i) % n], 10);
          times[which].push((elapsedMs(t0) * 1000) / calls);
          const c = process.cpuUsage(c0);
          cpuMicros[which] += (c.user + c.system) / (calls * windows);
        });
      }
      const added = spread(
        times[0].map((t, w) => t - times[1][w]),
        1,
      ).median;
      runs.push({
        threads,
        withEncoderMicros: spread(times[0], 1),
        withoutEncoderMicros: spread(times[1], 1),
        addedMicros: added,
        addedCpuMicros: Math.round((cpuMicros[0] - cpuMicros[1]) * 10) / 10,
      });
    }
  } finally {
    setNativeThreads(initialThreads);
  }
  return { data: dataDir, users: n, runs };
}

export async function benchSequenceEncoder(s: Sizes, dataDir: string): Promise<SequenceEncoderResult> {
  const kernels = getNativeKernels();
  const config: TransformerEncoderConfig = {
    dim: s.dim,
    heads: s.heads,
    blocks: s.blocks,
    maxLen: s.len,
    ffnDim: s.ffn,
    dropout: 0.2,
    activation: "gelu",
  };
  const rng = new Rng(SEED);
  const serving = new TransformerEncoder(kernels, "seq", config, 1, rng);
  const training = new TransformerEncoder(kernels, "seq", config, s.batch, rng);
  const opt = new Adam(kernels, training.parameters(), { lr: 1e-3 });
  const one = filled(rng, s.len * s.dim, 0.1);
  const oneLength = Int32Array.of(s.len);
  const userVector = new Float32Array(s.dim);
  const x = filled(rng, s.batch * s.len * s.dim, 0.1);
  // Varied history lengths, as in a real batch (every one ≥ 1).
  const lengths = Int32Array.from({ length: s.batch }, (_, b) => 1 + ((b * 17) % s.len));
  const grad = filled(rng, s.batch * s.len * s.dim, 1e-3);
  const gradCopy = new Float32Array(grad.length);
  const initialThreads = nativeThreads();
  const runs: SequenceEncoderRun[] = [];
  try {
    for (const threads of [1, 2]) {
      setNativeThreads(threads);
      const serveCall = (): void => {
        serving.forward(one, 1, oneLength, false);
        serving.lastOutput(1, userVector, s.dim, 0);
      };
      for (let i = 0; i < Math.max(10, s.serveCalls / 10); i++) serveCall();
      const serveWindows: number[] = [];
      const cpu0 = process.cpuUsage();
      for (let w = 0; w < s.serveWindows; w++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < s.serveCalls; i++) serveCall();
        serveWindows.push((elapsedMs(t0) * 1000) / s.serveCalls);
      }
      const cpu = process.cpuUsage(cpu0);
      const serveCpuMicros =
        Math.round(((cpu.user + cpu.system) / (s.serveWindows * s.serveCalls)) * 10) / 10;
      const trainStep = (): void => {
        training.forward(x, s.batch, lengths, true);
        gradCopy.set(grad);
        training.backward(gradCopy, s.batch);
        opt.step();
      };
      trainStep();
      const trainWindows: number[] = [];
      for (let w = 0; w < s.trainWindows; w++) {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < s.trainSteps; i++) trainStep();
        trainWindows.push(elapsedMs(t0) / s.trainSteps);
      }
      const trainStepMs = spread(trainWindows, 2);
      runs.push({
        threads,
        serveMicros: spread(serveWindows, 1),
        serveCpuMicros,
        trainStepMs,
        trainSequencesPerSecond: Math.round((1000 * s.batch) / trainStepMs.median),
        trainSlotsPerSecond: Math.round((1000 * s.batch * s.len) / trainStepMs.median),
      });
    }
  } finally {
    setNativeThreads(initialThreads);
  }
  const parameters = training.parameters().reduce((n, p) => n + p.size, 0);
  const recommend = await benchRecommend(dataDir, s.users, s.serveWindows, s.recommendCalls);
  return { simd: nativeSimdInfo().level, parameters, runs, recommend };
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`bench sequence-encoder: --${name} expects a positive integer, got ${value}`);
  return n;
}

export async function run(args: string[]): Promise<SequenceEncoderResult> {
  const { quick, rest } = takeQuick(args);
  const { values } = parseArgs({
    args: rest,
    options: {
      dim: { type: "string" },
      blocks: { type: "string" },
      len: { type: "string" },
      heads: { type: "string" },
      ffn: { type: "string" },
      batch: { type: "string" },
      data: { type: "string" },
    },
    strict: true,
  });
  const dim = positiveInt(values.dim, 64, "dim");
  const sizes: Sizes = {
    dim,
    blocks: positiveInt(values.blocks, 2, "blocks"),
    len: positiveInt(values.len, 50, "len"),
    heads: positiveInt(values.heads, 2, "heads"),
    ffn: positiveInt(values.ffn, dim, "ffn"),
    batch: positiveInt(values.batch, quick ? 8 : 128, "batch"),
    serveWindows: quick ? 2 : 7,
    serveCalls: quick ? 20 : 500,
    trainWindows: quick ? 2 : 5,
    trainSteps: quick ? 2 : 10,
    users: quick ? 20 : 200,
    recommendCalls: quick ? 10 : 200,
  };
  const dataDir = resolve(values.data ?? resolve(repoRoot(), "../shared/data/ml-100k"));
  const result = await benchSequenceEncoder(sizes, dataDir);
  const path = writeBenchResult(
    {
      benchmark: "sequence-encoder",
      args: rest,
      quick,
      config: {
        dim: sizes.dim,
        heads: sizes.heads,
        blocks: sizes.blocks,
        len: sizes.len,
        ffnDim: sizes.ffn,
        batch: sizes.batch,
        activation: "gelu",
        dropout: 0.2,
        seed: SEED,
        backend: "native",
        serving: "1 user, all len slots valid, inference forward + last-slot read",
        training: "forward (dropout) + backward from every slot + Adam, history lengths 1..len",
        recommend:
          "CandidateModel.recommend(1 loo test user, k 10), sequence group on (defaults) vs off, seed 1",
      },
    },
    result,
  );
  for (const r of result.runs) {
    console.log(
      `bench sequence-encoder: ${r.threads} thread(s): one user ${r.serveMicros.median} µs (${r.serveCpuMicros} CPU-µs); ` +
        `train step (batch ${sizes.batch}) ${r.trainStepMs.median} ms = ${r.trainSequencesPerSecond} seq/s`,
    );
  }
  for (const r of result.recommend.runs) {
    console.log(
      `bench sequence-encoder: ${r.threads} thread(s): recommend(1 user) ${r.withEncoderMicros.median} µs with the ` +
        `encoder, ${r.withoutEncoderMicros.median} µs without: +${r.addedMicros} µs (+${r.addedCpuMicros} CPU-µs)`,
    );
  }
  console.log(`bench sequence-encoder: wrote ${path}`);
  return result;
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
