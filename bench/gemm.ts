/**
 * GEMM throughput of the native engine: GFLOPS for NN, NT and TN at the three shapes the engine's
 * target is stated for, with 1 and 2 threads of the engine's pool. Each point is timed in 15
 * windows of at least 0.1 s, interleaved across points; the median is the figure, with the best
 * and worst window beside it. Writes bench/results/gemm.json.
 *
 *   node dist/bench/gemm.js [--quick]     (--quick: 2 windows of 5 ms, to check the plumbing)
 */
import { isMainModule, spread, takeQuick, writeBenchResult, type BenchRun } from "./support.js";

import { getNativeKernels, type GemmFn, type GemmPrecision } from "../src/engine/kernels/index.js";
import {
  nativeGemmBf16,
  nativeSimdInfo,
  nativeThreads,
  setNativeThreads,
} from "../src/engine/kernels/native.js";
import { Rng } from "../src/engine/rng.js";

export type GemmOp = "NN" | "NT" | "TN";

export interface GemmResult {
  /** "[m×k]·[k×n]" of op(A)·op(B). */
  readonly shape: string;
  readonly op: GemmOp;
  readonly threads: number;
  readonly precision: GemmPrecision;
  /** Median over the timed windows. */
  readonly gflops: number;
  readonly gflopsMin: number;
  readonly gflopsMax: number;
}

export interface GemmBenchOptions {
  readonly threads?: readonly number[];
  /** Timed windows per point; the median is reported. */
  readonly repeats?: number;
  /** Minimum duration of one timed repeat, in seconds. */
  readonly minSeconds?: number;
  /** Default: fp32, plus bf16 when the CPU has AVX512_BF16. */
  readonly precisions?: readonly GemmPrecision[];
}

/** The precisions this CPU runs natively: fp32, and bf16 with AVX512_BF16. */
export function availablePrecisions(): GemmPrecision[] {
  return nativeSimdInfo().gemmBf16 === null ? ["fp32"] : ["fp32", "bf16"];
}

/** [m, k, n] of op(A)·op(B). */
export const GEMM_SHAPES: readonly (readonly [number, number, number])[] = [
  [512, 512, 1024],
  [512, 1024, 512],
  [512, 256, 2000],
];
const OPS: readonly GemmOp[] = ["NN", "NT", "TN"];

function filled(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.nextFloat() - 0.5;
  return x;
}

interface GemmCase {
  readonly threads: number;
  readonly shape: string;
  readonly op: GemmOp;
  readonly precision: GemmPrecision;
  readonly flops: number;
  readonly run: () => void;
  readonly samples: number[];
}

/**
 * GFLOPS per (threads, shape, op). The repeats are interleaved, one short timed window per
 * case per round, so a burst of load from another process spoils a few samples of every case
 * rather than all samples of one case.
 */
export async function benchGemm(options: GemmBenchOptions = {}): Promise<GemmResult[]> {
  const kernels = getNativeKernels();
  const threadCounts = options.threads ?? [1, 2];
  const repeats = options.repeats ?? 15;
  const minSeconds = options.minSeconds ?? 0.1;
  const precisions = options.precisions ?? availablePrecisions();
  const gemmOf = (p: GemmPrecision): GemmFn => (p === "bf16" ? nativeGemmBf16() : kernels.gemm);
  const initialThreads = nativeThreads();
  const cases: GemmCase[] = [];
  for (const threads of threadCounts) {
    for (const [m, k, n] of GEMM_SHAPES) {
      const a = filled(m * k, 1);
      const b = filled(k * n, 2);
      const c = new Float32Array(m * n);
      for (const precision of precisions) {
        const gemm = gemmOf(precision);
        for (const op of OPS) {
          const ta = op[0] === "T";
          const tb = op[1] === "T";
          const lda = ta ? m : k;
          const ldb = tb ? k : n;
          const run = (): void => gemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, n);
          const shape = `[${m}x${k}]·[${k}x${n}]`;
          cases.push({ threads, shape, op, precision, flops: 2 * m * n * k, run, samples: [] });
        }
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
        bench.samples.push((bench.flops * calls) / seconds / 1e9);
      }
      // Yield between rounds so a long benchmark does not starve the event loop.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    setNativeThreads(initialThreads);
  }
  return cases.map((x) => {
    const s = spread(x.samples);
    return {
      shape: x.shape,
      op: x.op,
      threads: x.threads,
      precision: x.precision,
      gflops: s.median,
      gflopsMin: s.min,
      gflopsMax: s.max,
    };
  });
}

const FULL: Required<Omit<GemmBenchOptions, "precisions">> = {
  threads: [1, 2],
  repeats: 15,
  minSeconds: 0.1,
};
const QUICK: Required<Omit<GemmBenchOptions, "precisions">> = {
  threads: [1, 2],
  repeats: 2,
  minSeconds: 0.005,
};

/** Runs the GEMM benchmark and records bench/results/gemm.json; returns the results. */
export async function run(args: string[]): Promise<GemmResult[]> {
  const { quick, rest } = takeQuick(args);
  if (rest.length > 0)
    throw new Error(`bench gemm: unknown arguments ${rest.join(" ")} (expected [--quick])`);
  const options = quick ? QUICK : FULL;
  const all = await benchGemm(options);
  const gemm = all.filter((r) => r.precision === "fp32");
  const gemmBf16 = all.filter((r) => r.precision === "bf16");
  const benchRun: BenchRun = {
    benchmark: "gemm",
    args: rest,
    quick,
    config: {
      ...options,
      shapes: GEMM_SHAPES.map(([m, k, n]) => ({ m, k, n })),
      ops: OPS,
      precisions: availablePrecisions(),
      backend: "native",
      simd: nativeSimdInfo(),
    },
  };
  const path = writeBenchResult(benchRun, { gemm, gemmBf16 });
  for (const r of all) {
    console.log(
      `gemm ${r.precision} ${r.op} ${r.shape.padEnd(22)} threads=${r.threads}  ${r.gflops.toFixed(1).padStart(6)} GFLOPS ` +
        `(windows ${r.gflopsMin.toFixed(1)}-${r.gflopsMax.toFixed(1)})`,
    );
  }
  console.log(`bench gemm: wrote ${path}`);
  return all;
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
