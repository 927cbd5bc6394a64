/**
 * Engine benchmark: `node dist/bench/engine.js [--json]`. Measures the native GEMM (bench/gemm.ts)
 * and the candidate training step against PyTorch (bench/train.ts), prints a table or, with
 * --json, one JSON object {"gemm": [...], "train": ...}, and records the result in
 * bench/results/engine.json.
 */
import { isMainModule, writeBenchResult } from "./support.js";
import { benchGemm, type GemmResult } from "./gemm.js";
import { benchTrain, type TrainBenchResult } from "./train.js";

export interface EngineBenchResult {
  readonly gemm: GemmResult[];
  readonly train: TrainBenchResult;
}

export async function run(args: string[]): Promise<EngineBenchResult> {
  const json = args.includes("--json");
  const result: EngineBenchResult = { gemm: await benchGemm(), train: benchTrain() };
  const path = writeBenchResult("engine.json", { ...result, recordedAt: new Date().toISOString() });
  if (json) {
    console.log(JSON.stringify(result));
    return result;
  }
  for (const r of result.gemm) {
    console.log(
      `gemm ${r.op} ${r.shape.padEnd(22)} threads=${r.threads}  ${r.gflops.toFixed(1).padStart(6)} GFLOPS`,
    );
  }
  console.log(`results written to ${path}`);
  return result;
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
