/** `watchnext data info <path> [--json]`: what a dataset holds, and what its load skipped or warned about. */
import { parseArgs } from "node:util";
import { formatInputs, formatReport } from "../../data/report.js";
import { loadDataset } from "../../data/load.js";
import { summarizeDataset, type DatasetSummary } from "../../data/summary.js";
import { dataHelp, dataOptions, loadOptionsFromArgs } from "../data-args.js";
import { CliError } from "../errors.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext data info <path> [--json] [data options]

Prints users, items, events, time range, events-per-user quantiles, which side information is
present, and the load report. <path> may also be given as --data <path>.

  --json                 print the summary as JSON

${dataHelp}`;

export const dataInfo: Command = {
  summary: "Describe a dataset: sizes, time range, events per user, side information",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { ...dataOptions, json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    const path = positionals[0] ?? values.data;
    if (!path || positionals.length > 1) throw new CliError(`expected one dataset path\n\n${help}`);
    const summary = summarizeDataset(await loadDataset(path, loadOptionsFromArgs(values)));
    console.log(values.json ? JSON.stringify(summary, null, 2) : formatSummary(summary));
    return 0;
  },
};

function formatSummary(s: DatasetSummary): string {
  const e = s.eventsPerUser;
  const si = s.sideInfo;
  const of = (k: number, total: number, what: string): string => (k > 0 ? `${k}/${total} ${what}` : "absent");
  const lines = [
    `${s.name} (${s.format}) from ${s.source}`,
    `users   ${s.users}`,
    `items   ${s.items}`,
    `events  ${s.events}`,
    `time    ${s.timeRange.minIso} .. ${s.timeRange.maxIso}`,
    `events per user: min ${e.min}, 25% ${e.p25}, 50% ${e.p50}, 75% ${e.p75}, 90% ${e.p90}, max ${e.max}`,
    "side information:",
    `  titles      ${of(si.titles, s.items, "items")}`,
    `  genres      ${of(si.genres, s.items, "items")}`,
    `  years       ${of(si.years, s.items, "items")}`,
    `  gender      ${of(si.gender, s.users, "users")}`,
    `  age         ${of(si.age, s.users, "users")}`,
    `  occupation  ${of(si.occupation, s.users, "users")}`,
    `  zip         ${of(si.zip, s.users, "users")}`,
    `  tags        ${si.tags > 0 ? `${si.tags} tag events` : "absent"}`,
  ];
  for (const c of s.sideInfo.itemColumns ?? []) lines.push(`  item column ${c}`);
  for (const c of s.sideInfo.userColumns ?? []) lines.push(`  user column ${c}`);
  const inputs = formatInputs(s.report);
  if (inputs.length > 0) lines.push("read as:", ...inputs.map((l) => `  ${l}`));
  const report = formatReport(s.report);
  lines.push(report.length > 0 ? "load report:" : "load report: nothing skipped, no warnings");
  for (const r of report) lines.push(`  ${r}`);
  return lines.join("\n");
}
