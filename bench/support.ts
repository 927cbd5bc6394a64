/** What every benchmark module shares: the main-module check and writing its JSON result. */
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../src/engine/model-file/atomic-write.js";

/** True when the module at `metaUrl` is the script node was started with (not imported by bench/run.ts). */
export function isMainModule(metaUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(metaUrl) === resolve(process.argv[1]);
}

/** The repository root, from bench/ (sources) or dist/bench/ (compiled). */
export function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.endsWith(join("dist", "bench")) ? join(here, "..", "..") : join(here, "..");
}

/** Writes `result` as pretty JSON to bench/results/<name> atomically; returns the path. */
export function writeBenchResult(name: string, result: unknown): string {
  const path = join(repoRoot(), "bench", "results", name);
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}
