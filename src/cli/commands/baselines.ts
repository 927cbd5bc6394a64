/**
 * `watchnext baselines --data <path> [--protocol loo|temporal] [--models mostpop,itemknn,ease] [--json]`:
 * fits the baselines under one protocol and prints their test metrics (or the report as JSON).
 */
import { parseArgs } from "node:util";
import { BASELINE_NAMES, runBaselines, type BaselineName } from "../../eval/run-baselines.js";
import { writeFileAtomic } from "../../engine/model-file/atomic-write.js";
import { formatTable, markdownReport } from "../../eval/report.js";
import type { TemporalOptions } from "../../eval/split-temporal.js";
import type { EvaluationReport } from "../../eval/types.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { CliError } from "../errors.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext baselines --data <path> [options]

Fits MostPop, ItemKNN (cosine, 100 neighbours) and EASE (λ tuned on validation) under one
evaluation protocol and reports their test metrics (docs: protocol.md).

  --protocol <loo|temporal>  evaluation protocol (default loo)
  --models <list>            comma-separated subset of ${BASELINE_NAMES.join(",")} (default all)
  --no-filter-seen           keep history items in the rankings
  --cut-quantile <q>         temporal: cut at this quantile of interaction times (default 0.9)
  --cut-time <t>             temporal: cut time, epoch seconds or ISO-8601
  --window <days|all>        temporal: target window after the cut (default 30)
  --lambdas <list>           EASE λ grid (default 50,100,200,500,1000)
  --neighbours <k>           ItemKNN neighbours per item (default 100)
  --json                     print the report as JSON (one object) instead of a table
  --markdown <file>          also write the report as Markdown to <file>

${dataHelp}`;

export const baselines: Command = {
  summary: "Fit and evaluate MostPop, ItemKNN and EASE under the loo or temporal protocol",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dataOptions,
        protocol: { type: "string" },
        models: { type: "string" },
        "no-filter-seen": { type: "boolean" },
        "cut-quantile": { type: "string" },
        "cut-time": { type: "string" },
        window: { type: "string" },
        lambdas: { type: "string" },
        neighbours: { type: "string" },
        json: { type: "boolean" },
        markdown: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    const protocol = values.protocol ?? "loo";
    if (protocol !== "loo" && protocol !== "temporal")
      throw new CliError(`--protocol must be "loo" or "temporal", got "${protocol}"`);
    const models = parseModels(values.models);
    const temporal: TemporalOptions = {
      cutQuantile:
        values["cut-quantile"] === undefined ? undefined : number("--cut-quantile", values["cut-quantile"]),
      cutTime: values["cut-time"] === undefined ? undefined : parseTime(values["cut-time"]),
      windowDays:
        values.window === undefined || values.window === "all"
          ? (values.window as "all" | undefined)
          : number("--window", values.window),
    };
    const lambdas = values.lambdas?.split(",").map((s) => number("--lambdas", s));
    const neighbours =
      values.neighbours === undefined ? undefined : number("--neighbours", values.neighbours);

    const start = performance.now();
    const dataset = await loadFromArgs(values);
    let report: EvaluationReport;
    try {
      report = runBaselines(dataset, {
        protocol,
        models,
        temporal,
        filterSeen: !values["no-filter-seen"],
        lambdas,
        neighbours,
        log: (line) => console.error(`watchnext: ${line}`),
      });
    } catch (err) {
      // Bad split or model options surface as RangeErrors with a message meant for the user.
      if (err instanceof RangeError) throw new CliError(err.message);
      throw err;
    }
    const seconds = (performance.now() - start) / 1000;
    if (values.markdown) {
      const command = `watchnext baselines ${commandArgs(args).join(" ")}`;
      writeFileAtomic(values.markdown, markdownReport(report, { command }));
    }
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else console.log(`${formatTable(report)}\ntotal ${seconds.toFixed(1)} s`);
    return 0;
  },
};

/** The arguments that shape the results (without --json and --markdown <file>), to record with them. */
function commandArgs(args: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--json" || args[i].startsWith("--markdown=")) continue;
    if (args[i] === "--markdown") {
      i++;
      continue;
    }
    kept.push(args[i]);
  }
  return kept;
}

function parseModels(text: string | undefined): BaselineName[] {
  if (text === undefined) return [...BASELINE_NAMES];
  const names = text.split(",").map((s) => s.trim().toLowerCase());
  for (const n of names)
    if (!(BASELINE_NAMES as readonly string[]).includes(n))
      throw new CliError(
        `--models: unknown model "${n}" (expected a comma-separated subset of ${BASELINE_NAMES.join(",")})`,
      );
  return names as BaselineName[];
}

function number(flag: string, text: string): number {
  const x = Number(text);
  if (text.trim() === "" || !Number.isFinite(x))
    throw new CliError(`${flag}: expected a number, got "${text}"`);
  return x;
}

/** Epoch seconds, or an ISO-8601 date/time. */
function parseTime(text: string): number {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new CliError(`--cut-time: expected epoch seconds or ISO-8601, got "${text}"`);
  return ms / 1000;
}
