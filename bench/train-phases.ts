/**
 * Where the time of the benchmark training step goes (bench/train.ts's configuration), at each
 * GEMM precision this CPU runs: `node dist/bench/train-phases.js [--quick] [--steps N]`. Writes
 * bench/results/train-phases.json. Each part of one step (input layer forward/backward, tower
 * forward/backward, negative sampling, the sampled softmax head's loss and gradients, the Adam
 * step) is timed around the network's own method, and the GEMM-bound parts get their effective
 * GFLOPS from their multiply count, so a lever can be judged against the part it would shorten.
 */
import { parseArgs } from "node:util";

import { isMainModule, takeQuick, writeBenchResult } from "./support.js";
import { OurStep, STEP_CONFIG, stepPrecisions } from "./train.js";
import { getKernels, type GemmPrecision } from "../src/engine/kernels/index.js";
import { nativeThreads } from "../src/engine/kernels/native.js";

export const PHASES = [
  "input.forward",
  "tower.forward",
  "negatives",
  "head",
  "tower.backward",
  "input.backward",
  "adam",
] as const;
export type Phase = (typeof PHASES)[number];

export interface PhaseTimes {
  readonly gemm: GemmPrecision;
  readonly threads: number;
  readonly steps: number;
  readonly msPerStep: number;
  readonly examplesPerSecond: number;
  /** Mean ms per step of each part; `other` = the step minus the parts. */
  readonly ms: Readonly<Record<Phase | "other", number>>;
  /** Effective GFLOPS of the GEMM-bound parts (their multiply-adds × 2 over their time). */
  readonly gflops: { readonly towerForward: number; readonly towerBackward: number; readonly head: number };
}

/** Multiply-adds of the tower's forward pass for one batch: Σ in·out over its layers. */
function towerMacs(inputWidth: number): number {
  const widths = [inputWidth, ...STEP_CONFIG.tower];
  let macs = 0;
  for (let i = 1; i < widths.length; i++) macs += widths[i - 1] * widths[i];
  return macs * STEP_CONFIG.batch;
}

/** Replaces obj[name] (an own or prototype method) on this instance by a timed call into `total`. */
function timed<T extends object, K extends keyof T>(
  obj: T,
  name: K,
  phase: Phase,
  total: Record<string, number>,
): void {
  const f = obj[name] as unknown as (...args: unknown[]) => unknown;
  const wrapped = (...args: unknown[]): unknown => {
    const start = performance.now();
    try {
      return f.apply(obj, args);
    } finally {
      total[phase] += performance.now() - start;
    }
  };
  obj[name] = wrapped as unknown as T[K];
}

export function timePhases(precision: GemmPrecision, steps: number, warmup: number): PhaseTimes {
  const step = OurStep.at(precision);
  const total: Record<string, number> = Object.fromEntries(PHASES.map((p) => [p, 0]));
  const { net } = step;
  step.run(warmup);
  timed(net.input, "forward", "input.forward", total);
  timed(net.input, "backward", "input.backward", total);
  timed(net.tower, "forward", "tower.forward", total);
  timed(net.tower, "backward", "tower.backward", total);
  timed(net.head, "lossAndGrad", "head", total);
  timed(step.sampler, "sample", "negatives", total);
  timed(net.optimizer, "step", "adam", total);
  const start = performance.now();
  const rate = step.run(steps);
  const elapsed = performance.now() - start;
  const ms = {} as Record<Phase | "other", number>;
  let parts = 0;
  for (const p of PHASES) {
    ms[p] = total[p] / steps;
    parts += ms[p];
  }
  ms.other = elapsed / steps - parts;
  const fwd = towerMacs(net.input.width) * 2;
  const headFlops =
    3 * 2 * STEP_CONFIG.batch * STEP_CONFIG.num_negatives * STEP_CONFIG.tower[STEP_CONFIG.tower.length - 1];
  const gflops = (flops: number, msPart: number): number => Math.round((flops / (msPart * 1e6)) * 10) / 10;
  return {
    gemm: precision,
    threads: getKernels().backend === "native" ? nativeThreads() : 1,
    steps,
    msPerStep: elapsed / steps,
    examplesPerSecond: Math.round(rate),
    ms,
    gflops: {
      towerForward: gflops(fwd, ms["tower.forward"]),
      towerBackward: gflops(2 * fwd, ms["tower.backward"]),
      head: gflops(headFlops, ms.head),
    },
  };
}

export async function run(args: string[]): Promise<PhaseTimes[]> {
  const { quick, rest } = takeQuick(args);
  const { values } = parseArgs({ args: rest, options: { steps: { type: "string" } }, strict: true });
  const steps = values.steps === undefined ? (quick ? 2 : 200) : Number(values.steps);
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`bench train-phases: --steps expects an integer >= 1, got "${values.steps}"`);
  const warmup = quick ? 1 : 10;
  const result = stepPrecisions().map((p) => timePhases(p, steps, warmup));
  const path = writeBenchResult(
    { benchmark: "train-phases", args: rest, quick, config: { steps, warmup, step: STEP_CONFIG } },
    result,
  );
  for (const r of result) {
    const parts = Object.entries(r.ms)
      .map(([p, v]) => `${p} ${v.toFixed(2)}`)
      .join(", ");
    console.log(
      `bench train-phases: ${r.gemm}, ${r.threads} threads: ${r.msPerStep.toFixed(2)} ms/step (${r.examplesPerSecond} examples/s): ${parts} ms; GFLOPS tower fwd ${r.gflops.towerForward}, bwd ${r.gflops.towerBackward}, head ${r.gflops.head}`,
    );
  }
  console.log(`bench train-phases: wrote ${path}`);
  return result;
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
