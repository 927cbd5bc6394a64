/**
 * Engine benchmarks in one go: `node dist/bench/engine.js [--quick]` (`npm run bench:engine`) runs
 * the native GEMM (bench/gemm.ts → bench/results/gemm.json) and the candidate training step
 * against PyTorch (bench/train.ts → bench/results/train.json), one after the other. Each writes
 * its own result file; this module only sequences them.
 */
import { isMainModule, takeQuick } from "./support.js";
import { run as runGemm } from "./gemm.js";
import { run as runTrain } from "./train.js";

export async function run(args: string[]): Promise<void> {
  const { quick, rest } = takeQuick(args);
  if (rest.length > 0)
    throw new Error(`bench engine: unknown arguments ${rest.join(" ")} (expected [--quick])`);
  const flags = quick ? ["--quick"] : [];
  await runGemm(flags);
  await runTrain(flags);
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
