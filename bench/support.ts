/**
 * What every benchmark module shares: the main-module check, the `--quick` mode, and the one
 * function that writes a result file. Every result file is an envelope that says where its figures
 * come from (docs/benchmarking.md, "Results"): the commit and whether the tree had uncommitted
 * changes, the command that reproduces it, the configuration, the machine (cores, CPU model, Node,
 * load average) and the date, with the benchmark's own figures under `result`.
 *
 * Quick mode (`--quick`) runs tiny sizes to check a benchmark's plumbing end to end. Its results
 * are marked `quick: true` and never go to bench/results/: they go to $WATCHNEXT_BENCH_OUT, or to
 * a directory under the system temp directory.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { cpus, loadavg, platform, arch, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../src/io/atomic.js";

/** Version of the envelope layout; scripts/readme-figures.mjs reads only this version. */
export const RESULT_FORMAT = 1;

/** True when the module at `metaUrl` is the script node was started with (not imported by bench/run.ts). */
export function isMainModule(metaUrl: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(metaUrl) === resolve(process.argv[1]);
}

/** The repository root, from bench/ (sources) or dist/bench/ (compiled). */
export function repoRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.endsWith(join("dist", "bench")) ? join(here, "..", "..") : join(here, "..");
}

/** Splits `--quick` off a benchmark's arguments (the flag may stand anywhere). */
export function takeQuick(args: readonly string[]): { quick: boolean; rest: string[] } {
  return { quick: args.includes("--quick"), rest: args.filter((a) => a !== "--quick") };
}

/** The directory result files go to: bench/results/, or for quick runs a scratch directory. */
export function resultsDir(quick: boolean): string {
  const committed = join(repoRoot(), "bench", "results");
  const override = process.env.WATCHNEXT_BENCH_OUT;
  if (override !== undefined && override !== "") {
    const dir = resolve(override);
    if (quick && dir === committed)
      throw new Error(`bench: --quick results never go to ${committed} (WATCHNEXT_BENCH_OUT points there)`);
    return dir;
  }
  return quick ? join(tmpdir(), "watchnext-bench-quick") : committed;
}

function git(args: string[]): string {
  return execFileSync("git", args, {
    cwd: repoRoot(),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

/**
 * The commit the benchmark ran on and whether the tree differed from it. Result files and the
 * docs generated from them (bench/results, docs/results, README.md) are left out of the check, since
 * `npm run bench` itself rewrites them.
 */
export function sourceRevision(): { commit: string; dirty: boolean } {
  let commit: string;
  try {
    commit = git(["rev-parse", "HEAD"]);
  } catch (error) {
    throw new Error(
      `bench: cannot record the commit (git rev-parse HEAD failed in ${repoRoot()}): ${(error as Error).message}`,
    );
  }
  const changes = git([
    "status",
    "--porcelain",
    "--",
    ".",
    ":(exclude)bench/results",
    ":(exclude)docs/results",
    ":(exclude)README.md",
  ]);
  return { commit, dirty: changes !== "" };
}

/** What a benchmark says about its run; the rest of the envelope is filled in here. */
export interface BenchRun {
  /** Benchmark name = its module bench/<name>.ts, run standalone as `node dist/bench/<name>.js`. */
  readonly benchmark: string;
  /** The arguments it was given (without `--quick`, which the envelope records separately). */
  readonly args: readonly string[];
  readonly quick: boolean;
  /** Every size and setting that determines the figures, after defaults were applied. */
  readonly config: Readonly<Record<string, unknown>>;
}

/** The environment variables that change what a benchmark measures, as they were set. */
function benchEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && (/^WATCHNEXT_/.test(name) || /^(OPENBLAS|OMP|MKL)_NUM_THREADS$/.test(name)))
      env[name] = value;
  return env;
}

/** The provenance envelope of a result (everything but the figures). */
export function resultEnvelope(run: BenchRun): Record<string, unknown> {
  const { commit, dirty } = sourceRevision();
  const args = run.quick ? ["--quick", ...run.args] : [...run.args];
  return {
    format: RESULT_FORMAT,
    benchmark: run.benchmark,
    commit,
    dirty,
    command: ["node", `dist/bench/${run.benchmark}.js`, ...args].join(" "),
    quick: run.quick,
    config: run.config,
    environment: benchEnvironment(),
    machine: {
      cores: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? "unknown",
      node: process.version,
      os: `${platform()} ${arch()}`,
      loadAverage1m: Math.round(loadavg()[0] * 100) / 100,
    },
    date: new Date().toISOString(),
  };
}

/**
 * Writes `{ ...envelope, result }` as pretty JSON to <results dir>/<benchmark>.json (or `fileName`,
 * resolved against the results directory) atomically and returns the path. The envelope is taken when the result is written, so its load
 * average is the one at the end of the run.
 */
export function writeBenchResult(run: BenchRun, result: unknown, fileName = `${run.benchmark}.json`): string {
  const path = resolve(resultsDir(run.quick), fileName);
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, `${JSON.stringify({ ...resultEnvelope(run), result }, null, 2)}\n`);
  return path;
}

/** Mean and sample standard deviation (quality over seeds; sd 0 for one value). */
export function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  if (xs.length === 0) throw new Error("bench: mean of no values");
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
}

/** Median and spread of a sample (timing windows). */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly windows: readonly number[];
}

export function spread(values: readonly number[], digits = 1): Spread {
  if (values.length === 0) throw new Error("bench: spread of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const round = (x: number): number => Math.round(x * 10 ** digits) / 10 ** digits;
  return {
    median: round(median),
    min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]),
    windows: values.map(round),
  };
}
