/**
 * `npm run bench`: runs the registered benchmarks one after another (never in parallel: a timing
 * is only worth something on an otherwise quiet machine) and each rewrites its result file under
 * bench/results/ (bench/support.ts writes the provenance envelope). Then
 * `node scripts/readme-figures.mjs --write` regenerates the README's and docs' figure tables from
 * those files.
 *
 *   node dist/bench/run.js [--quick] [name ...] [-- args passed to every selected benchmark]
 *
 * With no names, every registered benchmark runs. `--quick` runs each at tiny sizes to check the
 * plumbing and writes to $WATCHNEXT_BENCH_OUT or a temp directory, never to bench/results/. A
 * benchmark that fails makes the whole run exit non-zero; the others still run.
 */

/** Benchmark module names, in run order (bench/<name>.ts, each exporting run(args)). */
const BENCHMARKS: readonly string[] = [
  "gemm",
  "train",
  "train-phases",
  "spd-inverse",
  "load",
  "retrieval",
  "retrieval-peers",
  "baselines",
  "ablations",
  "ranking",
  "serve",
  "embed",
  "sequence-encoder",
];

interface BenchmarkModule {
  run(args: string[]): Promise<unknown>;
}

function isBenchmarkModule(mod: unknown): mod is BenchmarkModule {
  return typeof mod === "object" && mod !== null && typeof (mod as { run?: unknown }).run === "function";
}

async function main(argv: string[]): Promise<void> {
  const split = argv.indexOf("--");
  const head = split < 0 ? argv : argv.slice(0, split);
  const passThrough = split < 0 ? [] : argv.slice(split + 1);
  const quick = head.includes("--quick");
  const names = head.filter((a) => a !== "--quick");
  for (const name of names) {
    if (!BENCHMARKS.includes(name)) {
      throw new Error(`bench: unknown benchmark "${name}", expected one of ${BENCHMARKS.join(", ")}`);
    }
  }
  const selected = names.length > 0 ? names : BENCHMARKS;
  const args = quick ? ["--quick", ...passThrough] : passThrough;
  const failed: string[] = [];
  const started = Date.now();
  for (const name of selected) {
    const mod: unknown = await import(new URL(`./${name}.js`, import.meta.url).href);
    if (!isBenchmarkModule(mod)) throw new Error(`bench ${name}: bench/${name}.ts does not export run(args)`);
    const t0 = Date.now();
    console.log(`bench ${name}: running${quick ? " (quick)" : ""}`);
    try {
      await mod.run(args);
      console.log(`bench ${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (error) {
      console.error(
        `bench ${name}: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      failed.push(name);
    }
  }
  const total = ((Date.now() - started) / 1000).toFixed(1);
  if (failed.length > 0) {
    console.error(
      `bench: ${failed.length} of ${selected.length} failed (${failed.join(", ")}) in ${total} s`,
    );
    process.exitCode = 1;
  } else console.log(`bench: ${selected.length} benchmarks done in ${total} s`);
}

await main(process.argv.slice(2));
