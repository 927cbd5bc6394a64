/**
 * Time of the native spdInverse at EASE's scale: `node dist/bench/spd-inverse.js [--n 9724]
 * [--quick]` (default n = 9,724, the items of ml-latest-small; --quick: n = 300). The matrix is a
 * seeded, diagonally dominant symmetric one; the check samples rows of A·A⁻¹ against the identity
 * and fails the benchmark if the residual is not small. Writes bench/results/spd-inverse.json.
 */
import { parseArgs } from "node:util";
import { isMainModule, takeQuick, writeBenchResult } from "./support.js";
import { getNativeKernels } from "../src/engine/kernels/index.js";
import { nativeThreads } from "../src/engine/kernels/native.js";
import { Rng } from "../src/engine/rng.js";

const FULL_N = 9724;
const QUICK_N = 300;
const SEED = 7;
/** Largest accepted |A·A⁻¹ − I| entry: float32 GEMM blocks, double diagonal blocks. */
const MAX_RESIDUAL = 1e-4;

export interface SpdInverseResult {
  readonly n: number;
  readonly threads: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly maxResidual: number;
}

export function benchSpdInverse(n: number): SpdInverseResult {
  const rng = new Rng(SEED);
  const a = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = rng.uniform(-1e-3, 1e-3);
      a[i * n + j] = v;
      a[j * n + i] = v;
    }
    a[i * n + i] = 1 + 1e-3 * n;
  }
  const sampleRows = Math.min(n, 8);
  const original = a.slice(0, sampleRows * n);
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  getNativeKernels().spdInverse(a, n);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  let worst = 0;
  for (let i = 0; i < sampleRows; i++) {
    for (let j = 0; j < n; j += Math.max(1, Math.floor(n / 100))) {
      let s = 0;
      for (let p = 0; p < n; p++) s += original[i * n + p] * a[p * n + j];
      const r = Math.abs(s - (i === j ? 1 : 0));
      if (!(r <= worst)) worst = Number.isNaN(r) ? Infinity : r;
    }
  }
  if (!(worst <= MAX_RESIDUAL))
    throw new Error(`bench spd-inverse: max sampled |A·A⁻¹ − I| = ${worst} exceeds ${MAX_RESIDUAL}`);
  return {
    n,
    threads: nativeThreads(),
    seconds: Math.round(seconds * 100) / 100,
    cpuSeconds: Math.round(((used.user + used.system) / 1e6) * 100) / 100,
    maxResidual: worst,
  };
}

export async function run(args: string[]): Promise<SpdInverseResult> {
  const { quick, rest } = takeQuick(args);
  const { values } = parseArgs({ args: rest, options: { n: { type: "string" } }, strict: true });
  const n = values.n === undefined ? (quick ? QUICK_N : FULL_N) : Number(values.n);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`bench spd-inverse: --n expects a positive integer, got ${values.n}`);
  const result = benchSpdInverse(n);
  const path = writeBenchResult(
    {
      benchmark: "spd-inverse",
      args: rest,
      quick,
      config: {
        n,
        seed: SEED,
        matrix: "symmetric, off-diagonal U(-1e-3, 1e-3), diagonal 1 + 1e-3·n",
        backend: "native",
      },
    },
    result,
  );
  console.log(
    `bench spd-inverse: n ${n}, ${result.threads} threads: ${result.seconds} s (${result.cpuSeconds} CPU-s), ` +
      `max residual ${result.maxResidual.toExponential(2)}; wrote ${path}`,
  );
  return result;
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
