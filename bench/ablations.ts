/**
 * Candidate-generator ablations and the README's "watchnext candidates" rows: each line of
 * bench/ablations/variants.tsv (dataset, name, config over the defaults) is trained and evaluated
 * with the CLI (protocol loo, seed 1), and its validation and test metrics, best epoch and seconds
 * to the best epoch are recorded with the two commands. Writes bench/results/ablations.json; the
 * tables of docs/results/candidates-ablations.md are generated from it by
 * `node scripts/readme-figures.mjs --write`.
 *
 *   node dist/bench/ablations.js [--quick] [--variants bench/ablations/variants.tsv]
 *
 * ~25 min on 2 cores. --quick trains two variants for one epoch on a tiny synthetic dataset.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { cliCommand, datasetDir, runCli, withScratchDir } from "./cli-runs.js";
import { isMainModule, repoRoot, takeQuick, writeBenchResult } from "./support.js";

const SEED = 1;
const DEFAULT_VARIANTS = "bench/ablations/variants.tsv";

interface Variant {
  readonly dataset: string;
  readonly name: string;
  readonly config: Record<string, unknown>;
}

/** Parses variants.tsv: dataset TAB name TAB config JSON, one per line; blank lines are skipped. */
export function parseVariants(text: string, file: string): Variant[] {
  const variants: Variant[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const fields = line.split("\t");
    if (fields.length !== 3)
      throw new Error(
        `${file}:${i + 1}: expected 3 tab-separated fields (dataset, name, config), got ${fields.length}`,
      );
    let config: unknown;
    try {
      config = JSON.parse(fields[2]);
    } catch (error) {
      throw new Error(`${file}:${i + 1}: config is not JSON: ${(error as Error).message}`);
    }
    if (typeof config !== "object" || config === null || Array.isArray(config))
      throw new Error(`${file}:${i + 1}: config must be a JSON object`);
    variants.push({ dataset: fields[0], name: fields[1], config: config as Record<string, unknown> });
  });
  return variants;
}

const QUICK_VARIANTS: Variant[] = [
  { dataset: "synth-quick", name: "default", config: {} },
  {
    dataset: "synth-quick",
    name: "no-example-age",
    config: { features: { exampleAge: { enabled: false } } },
  },
];
/** Merged into every quick variant: one epoch. */
const QUICK_TRAIN = { epochs: 1 };

interface Metrics {
  readonly [metric: string]: number;
}

function evalRow(json: string, command: string): { valid: Metrics; test: Metrics } {
  const report = JSON.parse(json) as { results?: Array<{ valid: Metrics; test: Metrics }> };
  const r = report.results?.[0];
  if (!r) throw new Error(`${command}: the report has no results[0]`);
  return { valid: r.valid, test: r.test };
}

export async function run(args: string[]): Promise<unknown> {
  const { quick, rest } = takeQuick(args);
  const { values } = parseArgs({ args: rest, options: { variants: { type: "string" } }, strict: true });
  const file = values.variants ?? DEFAULT_VARIANTS;
  const variants = quick
    ? QUICK_VARIANTS.map((v) => ({ ...v, config: { ...v.config, train: QUICK_TRAIN } }))
    : parseVariants(readFileSync(resolve(repoRoot(), file), "utf8"), file);
  return withScratchDir("ablations", async (scratch) => {
    const rows = [];
    for (const v of variants) {
      const data = datasetDir(v.dataset, scratch);
      const shownData = quick ? `<synthetic ${v.dataset}>` : `../shared/data/${v.dataset}`;
      const model = join(scratch, `${v.dataset}-${v.name}`);
      const config = JSON.stringify(v.config);
      const train = [
        "train",
        "candidates",
        "--data",
        data,
        "--out",
        model,
        "--config",
        config,
        "--seed",
        String(SEED),
        "--quiet",
      ];
      const evaluate = ["evaluate", "--model", model, "--data", data, "--json"];
      const commands = [
        cliCommand([
          "train",
          "candidates",
          "--data",
          shownData,
          "--out",
          "<model>",
          "--config",
          config,
          "--seed",
          String(SEED),
          "--quiet",
        ]),
        cliCommand(["evaluate", "--model", "<model>", "--data", shownData, "--json"]),
      ];
      runCli(train);
      const { valid, test } = evalRow(runCli(evaluate), commands[1]);
      const manifest = JSON.parse(readFileSync(join(model, "manifest.json"), "utf8")) as {
        metadata?: { summary?: { bestEpoch?: number; secondsToBest?: number } };
      };
      const summary = manifest.metadata?.summary;
      if (typeof summary?.bestEpoch !== "number" || typeof summary.secondsToBest !== "number")
        throw new Error(`${model}/manifest.json: metadata.summary lacks bestEpoch/secondsToBest`);
      rows.push({
        dataset: v.dataset,
        name: v.name,
        config: v.config,
        valid,
        test,
        bestEpoch: summary.bestEpoch,
        secondsToBest: summary.secondsToBest,
        commands,
      });
      console.log(
        `bench ablations: ${v.dataset} ${v.name}: test HR@10 ${test["HR@10"].toFixed(4)} NDCG@10 ${test["NDCG@10"].toFixed(4)}`,
      );
    }
    const path = writeBenchResult(
      {
        benchmark: "ablations",
        args: rest,
        quick,
        config: {
          variants: quick ? "built-in quick variants, train.epochs 1" : file,
          protocol: "loo",
          seed: SEED,
          backend: "native",
        },
      },
      { rows },
    );
    console.log(`bench ablations: wrote ${path}`);
    return rows;
  });
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
