/**
 * `watchnext baselines --data <path> [--protocol loo|temporal] [--models mostpop,itemknn,ease] [--json]`:
 * fits the baselines under one protocol and prints their test metrics (or the report as JSON).
 */
import { parseArgs } from "node:util";
import { BASELINE_NAMES, runBaselines, type BaselineName } from "../../eval/run-baselines.js";
import { writeFileAtomic } from "../../io/atomic.js";
import { formatTable, markdownReport } from "../../eval/report.js";
import type { EvaluationReport } from "../../eval/types.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { CliError, optionError } from "../errors.js";
import { parseProtocolArgs, protocolHelp, protocolOptions } from "../protocol-args.js";
import { parseInteger, parseNumber } from "../values.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext baselines --data <path> [options]

Fits MostPop, ItemKNN (cosine, 100 neighbours) and EASE (λ tuned on validation) under one
evaluation protocol and reports their test metrics (docs: protocol.md).

  --models <list>            comma-separated subset of ${BASELINE_NAMES.join(",")} (default all)
  --no-filter-seen           keep history items in the rankings
  --lambdas <list>           EASE λ grid (default 50,100,200,500,1000)
  --neighbours <k>           ItemKNN neighbours per item (default 100)
  --json                     print the report as JSON (one object) instead of a table
  --markdown <file>          also write the report as Markdown to <file>

${protocolHelp}

${dataHelp}`;

export const baselines: Command = {
  summary: "Fit and evaluate MostPop, ItemKNN and EASE under the loo or temporal protocol",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dataOptions,
        ...protocolOptions,
        models: { type: "string" },
        "no-filter-seen": { type: "boolean" },
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
    const { protocol, temporal } = parseProtocolArgs(values);
    const models = parseModels(values.models);
    const lambdas = values.lambdas?.split(",").map((s) => parseNumber("--lambdas", s));
    const neighbours =
      values.neighbours === undefined ? undefined : parseInteger("--neighbours", values.neighbours, 1);

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
      throw optionError(err); // a cut that leaves no test data, a λ of 0, ...
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
