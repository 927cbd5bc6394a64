/**
 * Engine benchmark: `node dist/bench/engine.js [--json]`. Measures the native GEMM (bench/gemm.ts)
 * and the training step (the `train` part, added with the training loop), prints a table or, with
 * --json, one JSON object {"gemm": [...], "train": ...}, and records the result in
 * bench/results/engine.json.
 */
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchGemm, type GemmResult } from "./gemm.js";
import { benchTrain } from "./train.js";

export interface EngineBenchResult {
  readonly gemm: GemmResult[];
  /** Training-step throughput; null until the training benchmark is added. */
  readonly train: unknown;
}

/** bench/results/engine.json under the repository root (from bench/ or dist/bench/). */
function resultsPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.endsWith(join("dist", "bench")) ? join(here, "..", "..") : join(here, "..");
  return join(root, "bench", "results", "engine.json");
}

function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const result: EngineBenchResult = { gemm: await benchGemm(), train: benchTrain() };
  const path = resultsPath();
  writeAtomic(path, `${JSON.stringify({ ...result, recordedAt: new Date().toISOString() }, null, 2)}\n`);
  if (json) {
    console.log(JSON.stringify(result));
    return;
  }
  for (const r of result.gemm) {
    console.log(
      `gemm ${r.op} ${r.shape.padEnd(22)} threads=${r.threads}  ${r.gflops.toFixed(1).padStart(6)} GFLOPS`,
    );
  }
  console.log(`results written to ${path}`);
}

await main();
