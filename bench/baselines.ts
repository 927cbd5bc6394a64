/**
 * Baseline figures of the README's "Results" table: `watchnext baselines --json` (MostPop, ItemKNN,
 * EASE with λ chosen on validation) under protocol loo on ml-100k and ml-latest-small, recorded with
 * the commands. Writes bench/results/baselines.json.
 *
 *   node dist/bench/baselines.js [--quick]     (--quick: a tiny synthetic dataset)
 */
import { cliCommand, datasetDir, runCli, withScratchDir } from "./cli-runs.js";
import { isMainModule, takeQuick, writeBenchResult } from "./support.js";

const DATASETS = ["ml-100k", "ml-latest-small"];
const QUICK_DATASETS = ["synth-quick"];

export async function run(args: string[]): Promise<unknown> {
  const { quick, rest } = takeQuick(args);
  if (rest.length > 0)
    throw new Error(`bench baselines: unknown arguments ${rest.join(" ")} (expected [--quick])`);
  return withScratchDir("baselines", async (scratch) => {
    const runs = [];
    for (const name of quick ? QUICK_DATASETS : DATASETS) {
      const cli = ["baselines", "--data", datasetDir(name, scratch), "--protocol", "loo", "--json"];
      const shown = [
        "baselines",
        "--data",
        quick ? `<synthetic ${name}>` : `../shared/data/${name}`,
        "--protocol",
        "loo",
        "--json",
      ];
      const started = Date.now();
      const report: unknown = JSON.parse(runCli(cli));
      runs.push({
        dataset: name,
        command: cliCommand(shown),
        seconds: (Date.now() - started) / 1000,
        report,
      });
      console.log(`bench baselines: ${name} done`);
    }
    const path = writeBenchResult(
      {
        benchmark: "baselines",
        args: rest,
        quick,
        config: {
          datasets: quick ? QUICK_DATASETS : DATASETS,
          protocol: "loo",
          models: "mostpop,itemknn,ease (CLI defaults)",
        },
      },
      { runs },
    );
    console.log(`bench baselines: wrote ${path}`);
    return runs;
  });
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
