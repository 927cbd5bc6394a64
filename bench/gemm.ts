/**
 * GEMM throughput of the native engine: GFLOPS for NN, NT and TN at the three shapes the engine's
 * target is stated for, with 1 and 2 threads of the engine's pool. Each point is the best of 15
 * timed windows of 0.1 s (the machine may be shared; the best window is the least disturbed one).
 */
import { isMainModule, writeBenchResult } from "./support.js";

import { getNativeKernels } from "../src/engine/kernels/index.js";
import { nativeThreads, setNativeThreads } from "../src/engine/kernels/native.js";

export type GemmOp = "NN" | "NT" | "TN";

export interface GemmResult {
  /** "[m×k]·[k×n]" of op(A)·op(B). */
  readonly shape: string;
  readonly op: GemmOp;
  readonly threads: number;
  readonly gflops: number;
}

export interface GemmBenchOptions {
  readonly threads?: readonly number[];
  /** Timed repeats per point; the best is kept. */
  readonly repeats?: number;
  /** Minimum duration of one timed repeat, in seconds. */
  readonly minSeconds?: number;
}

/** [m, k, n] of op(A)·op(B). */
export const GEMM_SHAPES: readonly (readonly [number, number, number])[] = [
  [512, 512, 1024],
  [512, 1024, 512],
  [512, 256, 2000],
];
const OPS: readonly GemmOp[] = ["NN", "NT", "TN"];

function filled(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 4294967296 - 0.5;
  }
  return x;
}

interface GemmCase {
  readonly threads: number;
  readonly shape: string;
  readonly op: GemmOp;
  readonly flops: number;
  readonly run: () => void;
  best: number;
}

/**
 * Best GFLOPS per (threads, shape, op). The repeats are interleaved, one short timed window per
 * case per round, so a burst of load from another process spoils a few samples of every case
 * rather than all samples of one case.
 */
export async function benchGemm(options: GemmBenchOptions = {}): Promise<GemmResult[]> {
  const kernels = getNativeKernels();
  const threadCounts = options.threads ?? [1, 2];
  const repeats = options.repeats ?? 15;
  const minSeconds = options.minSeconds ?? 0.1;
  const initialThreads = nativeThreads();
  const cases: GemmCase[] = [];
  for (const threads of threadCounts) {
    for (const [m, k, n] of GEMM_SHAPES) {
      const a = filled(m * k, 1);
      const b = filled(k * n, 2);
      const c = new Float32Array(m * n);
      for (const op of OPS) {
        const ta = op[0] === "T";
        const tb = op[1] === "T";
        const lda = ta ? m : k;
        const ldb = tb ? k : n;
        const run = (): void => kernels.gemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, n);
        cases.push({ threads, shape: `[${m}x${k}]·[${k}x${n}]`, op, flops: 2 * m * n * k, run, best: 0 });
      }
    }
  }
  try {
    for (let r = 0; r < repeats; r++) {
      for (const bench of cases) {
        if (nativeThreads() !== bench.threads) setNativeThreads(bench.threads);
        bench.run(); // warm: packing buffers and worker threads exist before timing
        const start = process.hrtime.bigint();
        let calls = 0;
        let seconds = 0;
        do {
          bench.run();
          calls++;
          seconds = Number(process.hrtime.bigint() - start) / 1e9;
        } while (seconds < minSeconds);
        bench.best = Math.max(bench.best, (bench.flops * calls) / seconds / 1e9);
      }
      // Yield between rounds so a long benchmark does not starve the event loop.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    setNativeThreads(initialThreads);
  }
  return cases.map((x) => ({
    shape: x.shape,
    op: x.op,
    threads: x.threads,
    gflops: Math.round(x.best * 10) / 10,
  }));
}

/** `node dist/bench/gemm.js`: prints the GEMM results as JSON and records bench/results/gemm.json. */
async function main(): Promise<void> {
  const gemm = await benchGemm();
  writeBenchResult("gemm.json", {
    command: "node dist/bench/gemm.js",
    recordedAt: new Date().toISOString(),
    gemm,
  });
  console.log(JSON.stringify({ gemm }));
}

if (isMainModule(import.meta.url)) await main();
