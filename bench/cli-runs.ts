/**
 * For the quality benchmarks (bench/baselines.ts, bench/ablations.ts), which record what the CLI
 * gives: running `watchnext` from this build as a child process, the shared MovieLens directory, and
 * a tiny synthetic dataset for --quick runs.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./support.js";

/** The CLI entry of this build, relative to the repository root (as recorded in commands). */
export const CLI = "dist/src/cli/main.js";

/** ../shared/data beside the repository (docs/protocol.md: MovieLens is never copied into it). */
export function sharedDataDir(): string {
  return join(repoRoot(), "..", "shared", "data");
}

/** The command line as recorded in a result file (run from the repository root). */
export function cliCommand(args: readonly string[]): string {
  return [
    "node",
    CLI,
    ...args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)),
  ].join(" ");
}

/** Runs the CLI on the native backend from the repository root; returns its stdout. Fails on a non-zero exit. */
export function runCli(args: readonly string[]): string {
  try {
    return execFileSync(process.execPath, [CLI, ...args], {
      cwd: repoRoot(),
      encoding: "utf8",
      env: { ...process.env, WATCHNEXT_BACKEND: "native" },
      maxBuffer: 64 << 20,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    const e = error as { stderr?: string; status?: number | null; message: string };
    const tail = (e.stderr ?? "").trim().split("\n").slice(-5).join("\n");
    throw new Error(`${cliCommand(args)} failed (exit ${e.status ?? "?"}): ${tail || e.message}`);
  }
}

/** Data directory for a dataset name; quick runs write a small synthetic dataset under `scratch`. */
export function datasetDir(name: string, scratch: string): string {
  if (name.startsWith("synth")) {
    const dir = join(scratch, name);
    if (!existsSync(join(dir, "ratings.csv")))
      runCli([
        "data",
        "synth",
        "--out",
        dir,
        "--users",
        "150",
        "--items",
        "200",
        "--events",
        "6000",
        "--seed",
        "1",
      ]);
    return dir;
  }
  const dir = join(sharedDataDir(), name);
  if (!existsSync(dir))
    throw new Error(`bench: dataset ${name} not found at ${dir} (the shared MovieLens data)`);
  return dir;
}

/** Runs `body` with a fresh scratch directory (models, synthetic data), removed afterwards. */
export async function withScratchDir<T>(tag: string, body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `watchnext-bench-${tag}-`));
  try {
    return await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
