/**
 * `watchnext experiment <name>`: runs one of the paper's experiments (src/experiments) on a
 * dataset into a result folder: result.json (every finished cell), report.md, report.html (charts
 * inline) and the SVG charts. Finished cells are kept: a rerun resumes (skipping them) unless
 * --force; Ctrl-C discards only the running cell.
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { resolveCandidateModelConfig, type CandidateConfigInput } from "../../models/candidates/config.js";
import { resolveRankerConfig, type RankerConfigInput } from "../../models/ranking/config.js";
import { EXPERIMENTS } from "../../experiments/registry.js";
import { runExperiment } from "../../experiments/runner.js";
import type { ExperimentProtocol } from "../../experiments/types.js";
import { readConfigArg } from "../config-arg.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { CliError } from "../errors.js";
import { parseProtocolArgs, splitFromArgs } from "../protocol-args.js";
import { parseInteger } from "../values.js";
import type { Command } from "./command.js";

const names = () => Object.keys(EXPERIMENTS).join("|");

const help =
  () => `Usage: watchnext experiment <${names()}> --data <path> [--seeds 1,2,3] [--out <dir>] [--protocol loo,temporal] [--force]

Runs one of the paper's experiments and writes <out>/result.json, report.md, report.html (charts
inline, no network) and the SVG charts. Each cell (one configuration and seed) is written as soon as
it finishes; a rerun skips finished cells (resume) unless --force. Ctrl-C discards the running cell
only. Progress (cell i/n, epoch, ETA) goes to stderr.

${Object.values(EXPERIMENTS)
  .map((e) => `  ${e.name.padEnd(10)} ${e.title}`)
  .join("\n")}

  --seeds <list>         seeds, comma-separated (default 1,2,3)
  --out <dir>            result folder (default docs/results/<experiment>-<dataset name>)
  --protocol <list>      loo, temporal or both comma-separated (default: the experiment's)
  --cut-quantile <q>     temporal: cut at this quantile of interaction times (default 0.9)
  --cut-time <t>         temporal: cut time, epoch seconds or ISO-8601
  --window <days|all>    temporal: target window after the cut (default 30)
  --candidates-config <file|json>
                         partial candidate-generator config under every cell's own settings, e.g. a
                         reduced epoch budget '{"train": {"epochs": 8}}'
  --ranker-config <file|json>
                         partial ranker config for cells that train a ranker
  --only <ids>           run only these cell ids, comma-separated (* matches any text)
  --force                recompute finished cells (of --only when given)
  --report               only rewrite the report from result.json (no cell runs)
  --quiet                no progress output

${dataHelp}`;

/** The commit of the code being run (this file's repository), or undefined outside a git checkout. */
function gitCommit(): string | undefined {
  try {
    const root = fileURLToPath(new URL("../../../..", import.meta.url));
    const out = execFileSync("git", ["rev-parse", "HEAD"], {
      cwd: root,
      stdio: ["ignore", "pipe", "ignore"],
    });
    const commit = out.toString().trim();
    return /^[0-9a-f]{40}$/.test(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

/** Quotes an argument for a POSIX shell when it needs it. */
function shellQuote(a: string): string {
  return /^[A-Za-z0-9_./:=,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

function parseSeeds(text: string | undefined): number[] {
  if (text === undefined) return [1, 2, 3];
  const seeds = text.split(",").map((s) => parseInteger("--seeds", s.trim(), 0));
  if (new Set(seeds).size !== seeds.length) throw new CliError(`--seeds: "${text}" names a seed twice`);
  return seeds;
}

function parseProtocols(
  text: string | undefined,
  fallback: readonly ExperimentProtocol[],
): ExperimentProtocol[] {
  if (text === undefined) return [...fallback];
  const list = text.split(",").map((s) => s.trim());
  for (const p of list)
    if (p !== "loo" && p !== "temporal")
      throw new CliError(`--protocol: expected loo, temporal or both (comma-separated), got "${p}"`);
  return [...new Set(list)] as ExperimentProtocol[];
}

export const experimentCommand: Command = {
  summary: "Run a paper experiment (figure4/5/6, table1, compare) into a report with charts",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        ...dataOptions,
        seeds: { type: "string" },
        out: { type: "string" },
        protocol: { type: "string" },
        "cut-quantile": { type: "string" },
        "cut-time": { type: "string" },
        window: { type: "string" },
        "candidates-config": { type: "string" },
        "ranker-config": { type: "string" },
        only: { type: "string" },
        force: { type: "boolean" },
        report: { type: "boolean" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(help());
      return 0;
    }
    if (positionals.length !== 1)
      throw new CliError(
        positionals.length === 0
          ? `which experiment? expected one of ${names()}\n\n${help()}`
          : `expected one experiment name, got ${positionals.length}: ${positionals.join(" ")}`,
      );
    const experiment = EXPERIMENTS[positionals[0]];
    if (experiment === undefined)
      throw new CliError(
        `unknown experiment "${positionals[0]}": expected one of ${names().replace(/\|/g, ", ")}`,
      );
    const seeds = parseSeeds(values.seeds);
    const protocols = parseProtocols(values.protocol, experiment.defaultProtocols);
    const temporalGiven = values["cut-quantile"] ?? values["cut-time"] ?? values.window;
    if (temporalGiven !== undefined && !protocols.includes("temporal"))
      throw new CliError("--cut-quantile, --cut-time and --window apply to --protocol temporal only");
    const temporal = parseProtocolArgs({ ...values, protocol: "temporal" }).temporal;
    const candidates = readConfigArg(
      values["candidates-config"],
      "--candidates-config",
    ) as CandidateConfigInput;
    const ranker = readConfigArg(values["ranker-config"], "--ranker-config") as RankerConfigInput;
    try {
      resolveCandidateModelConfig(candidates, "--candidates-config");
      resolveRankerConfig(ranker, "--ranker-config");
    } catch (err) {
      throw new CliError((err as Error).message, { cause: err });
    }
    const only =
      values.only
        ?.split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "") ?? [];
    const dataset = await loadFromArgs(values);
    // A temporal cut that leaves no data is an option error: find it before the first cell.
    for (const protocol of protocols)
      splitFromArgs(dataset, { protocol, temporal: protocol === "temporal" ? temporal : {} });
    const out = values.out ?? `docs/results/${experiment.name}-${dataset.name}`;

    // The recorded commands: this run without --only/--force/--quiet, with --seeds and --out explicit.
    const kept: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      const flag = a.split("=")[0];
      if (flag === "--force" || flag === "--quiet" || flag === "--report") continue;
      if (flag === "--only" || flag === "--seeds" || flag === "--out") {
        if (!a.includes("=")) i++;
        continue;
      }
      kept.push(a);
    }
    const base = ["watchnext", "experiment", ...kept, "--out", out].map(shellQuote).join(" ");
    const command = `${base} --seeds ${seeds.join(",")}`;

    const controller = new AbortController();
    const onSigint = () => {
      if (!controller.signal.aborted)
        process.stderr.write("\ninterrupt: discarding the running cell, keeping the finished ones\n");
      controller.abort();
    };
    process.on("SIGINT", onSigint);
    try {
      const r = await runExperiment({
        experiment,
        dataset,
        options: { seeds, protocols, temporal, candidates, ranker },
        out,
        force: values.force,
        reportOnly: values.report,
        commit: gitCommit(),
        only,
        command,
        cellCommand: (cell) => `${base} --seeds ${cell.seed} --only ${shellQuote(cell.id)}`,
        progress: values.quiet ? null : process.stderr,
        signal: controller.signal,
      });
      const missing = r.results.planned.filter((c) => !r.results.finished.has(c.id)).length;
      console.log(
        `${experiment.name} on ${dataset.name}: ${r.ran} cell(s) run, ${r.skipped} kept; ${r.results.finished.size} of ${r.results.planned.length} finished${missing > 0 ? ` (${missing} missing)` : ""}; report ${resolve(r.reportPath)}`,
      );
      return r.interrupted ? 130 : 0;
    } finally {
      process.off("SIGINT", onSigint);
    }
  },
};
