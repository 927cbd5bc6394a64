/**
 * `npm run bench`: runs the registered benchmarks one after another (never in parallel: timings
 * on a shared 2-core machine are noisy enough). Each benchmark is a module under bench/ that
 * exports `async function run(args: string[]): Promise<unknown>` and writes its own JSON under
 * bench/results/. To add one, add its module name to BENCHMARKS.
 *
 *   node dist/bench/run.js [name ...] [-- args passed to every selected benchmark]
 *
 * With no names, every registered benchmark whose compiled module exists is run.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Benchmark module names, in run order (bench/<name>.ts). */
const BENCHMARKS: readonly string[] = ["engine", "load", "retrieval", "serve"];

interface BenchmarkModule {
  run(args: string[]): Promise<unknown>;
}

function isBenchmarkModule(mod: unknown): mod is BenchmarkModule {
  return typeof mod === "object" && mod !== null && typeof (mod as { run?: unknown }).run === "function";
}

async function main(argv: string[]): Promise<void> {
  const split = argv.indexOf("--");
  const names = split < 0 ? argv : argv.slice(0, split);
  const passThrough = split < 0 ? [] : argv.slice(split + 1);
  for (const name of names) {
    if (!BENCHMARKS.includes(name)) {
      throw new Error(`bench: unknown benchmark "${name}", expected one of ${BENCHMARKS.join(", ")}`);
    }
  }
  const selected = names.length > 0 ? names : BENCHMARKS;
  let failures = 0;
  for (const name of selected) {
    const url = new URL(`./${name}.js`, import.meta.url);
    if (!existsSync(fileURLToPath(url))) {
      console.log(`bench ${name}: skipped (no bench/${name}.ts yet)`);
      continue;
    }
    const mod: unknown = await import(url.href);
    if (!isBenchmarkModule(mod)) {
      console.error(`bench ${name}: bench/${name}.ts does not export run(args)`);
      failures++;
      continue;
    }
    const started = Date.now();
    console.log(`bench ${name}: running`);
    try {
      await mod.run(passThrough);
      console.log(`bench ${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      console.error(
        `bench ${name}: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      failures++;
    }
  }
  if (failures > 0) process.exitCode = 1;
}

await main(process.argv.slice(2));
