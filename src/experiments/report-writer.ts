/**
 * Writes an experiment's report from its finished cells: report.md (the charts as SVG files
 * beside it), report.html (self-contained: styles and SVGs inline, no network), and a header
 * every report shares: the claim, the verdict, whether every planned cell finished (the missing
 * ones listed with the command that finishes them), and the cost on this machine (sum of cell
 * wall times and the load average the cells ran under).
 */
import { cpus } from "node:os";
import { join } from "node:path";
import { escapeXml } from "../charts/svg-chart.js";
import type { Dataset } from "../data/dataset.js";
import { writeFileAtomic } from "../io/atomic.js";
import { markdownToHtml } from "./markdown-html.js";
import { formatDuration } from "./progress.js";
import type { Experiment, ExperimentResults, ReportChart, ReportContent } from "./types.js";

export interface ReportMeta {
  readonly command: string;
  readonly dataset: Dataset;
}

/** The header sections: status (complete or which cells are missing) and cost. */
function statusMarkdown(results: ExperimentResults, command: string): string {
  const missing = results.planned.filter((c) => !results.finished.has(c.id));
  const total = results.planned.length;
  if (missing.length === 0) return `**Complete**: all ${total} planned cells finished.`;
  const shown = missing.slice(0, 60).map((c) => `\`${c.id}\``);
  const more =
    missing.length > shown.length
      ? ` … and ${missing.length - shown.length} more (result.json lists the finished ones)`
      : "";
  return [
    `**Incomplete: ${total - missing.length} of ${total} planned cells finished.** Every figure below uses only the finished cells (n per mean is shown when below the planned seeds); the missing cells are: ${shown.join(", ")}${more}.`,
    "",
    "To finish (finished cells are kept, the missing ones run):",
    "",
    "```",
    command,
    "```",
  ].join("\n");
}

function costMarkdown(results: ExperimentResults): string {
  const cells = results.planned.flatMap((c) => results.finished.get(c.id) ?? []);
  if (cells.length === 0) return "No cell finished yet.";
  const wall = cells.reduce((a, c) => a + c.wallSeconds, 0);
  const train = cells.reduce((a, c) => a + c.trainSeconds, 0);
  const loads = cells.map((c) => c.loadAverage);
  const cores = cpus().length;
  const maxLoad = Math.max(...loads);
  const contention =
    maxLoad > cores
      ? ` The machine was shared while these ran (1-minute load average ${Math.min(...loads).toFixed(1)}–${maxLoad.toFixed(1)} on ${cores} cores): the times are under contention, slower than on a quiet machine, and are not speed figures.`
      : ` 1-minute load average ${Math.min(...loads).toFixed(1)}–${maxLoad.toFixed(1)} on ${cores} cores.`;
  return `Wall time of the ${cells.length} finished cells on this machine (${cpus()[0]?.model ?? "unknown CPU"}): ${formatDuration(wall)} in total (${formatDuration(wall / cells.length)} per cell on average; ${formatDuration(train)} of it training), one cell at a time, \`WATCHNEXT_THREADS=1\`.${contention}`;
}

/** The commits the finished cells were run with. */
function commitsOf(results: ExperimentResults): string {
  const commits = new Set<string>();
  let unknown = 0;
  for (const c of results.finished.values()) {
    if (c.commit === undefined) unknown++;
    else commits.add(c.commit.slice(0, 7));
  }
  const named = [...commits].map((c) => `\`${c}\``).join(", ");
  if (unknown === 0) return named === "" ? "no cell finished" : `commit ${named}`;
  return `${named === "" ? "" : `commit ${named}; `}${unknown} cell(s) record no commit (run before the runner recorded one)`;
}

function cellTable(results: ExperimentResults): string {
  const rows = results.planned.map((c) => {
    const r = results.finished.get(c.id);
    return r === undefined
      ? `| \`${c.id}\` | ${c.seed} | missing | | |`
      : `| \`${c.id}\` | ${c.seed} | ${r.trainSeconds.toFixed(1)} | ${r.wallSeconds.toFixed(1)} | ${r.loadAverage.toFixed(1)} |`;
  });
  return ["| cell | seed | train s | wall s | load |", "|---|---:|---:|---:|---:|", ...rows].join("\n");
}

function markdownDoc(
  experiment: Experiment,
  results: ExperimentResults,
  content: ReportContent,
  meta: ReportMeta,
): string {
  const parts: string[] = [
    `# ${experiment.title}: ${results.dataset}`,
    "",
    `> The paper's claim: ${experiment.claim}`,
    "",
    `**Does it hold here?** ${content.verdict}`,
    "",
    "## Status",
    "",
    statusMarkdown(results, meta.command),
    "",
    "## Cost",
    "",
    costMarkdown(results),
    "",
  ];
  for (const s of content.sections) {
    parts.push(`## ${s.heading}`, "", s.markdown.trim(), "");
    for (const name of s.charts ?? []) {
      const chart = content.charts.find((c) => c.name === name);
      if (chart === undefined) throw new Error(`report section "${s.heading}" names unknown chart "${name}"`);
      parts.push(`![${chart.caption}](${chart.name}.svg)`, "", `*${chart.caption}*`, "");
    }
  }
  parts.push(
    "## Reproduce",
    "",
    "```",
    meta.command,
    "```",
    "",
    `Data: \`${meta.dataset.source}\`. Code: ${commitsOf(results)}. result.json holds every finished cell (config, seed, metrics, train and wall seconds, load average, and the command that recomputes that cell alone).`,
    "",
    "## Cells",
    "",
    cellTable(results),
    "",
  );
  return parts.join("\n");
}

const STYLE = `body{font-family:Helvetica,Arial,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:14px}th,td{border:1px solid #ccc;padding:3px 8px}th{background:#f3f3f3}
code{background:#f3f3f3;padding:0 3px;border-radius:3px}pre{background:#f6f6f6;padding:8px;overflow-x:auto}
blockquote{border-left:4px solid #ccc;margin:1em 0;padding:0 1em;color:#444}figure{margin:1.5em 0}figcaption{font-style:italic;color:#444}`;

function htmlDoc(
  experiment: Experiment,
  results: ExperimentResults,
  md: string,
  charts: readonly ReportChart[],
): string {
  // Image lines of report.md become the inline SVG; the italic caption line after it becomes the figcaption.
  const blocks = md.split(/\n(?=!\[)/);
  let body = "";
  for (const block of blocks) {
    const m = /^!\[[^\]]*\]\(([^)]+)\.svg\)\n\n\*([^\n]*)\*\n?/.exec(block);
    if (m) {
      const chart = charts.find((c) => c.name === m[1]);
      body += `<figure>${chart?.svg.replace(/^<\?xml[^>]*>/, "") ?? ""}<figcaption>${escapeXml(m[2])}</figcaption></figure>\n`;
      body += markdownToHtml(block.slice(m[0].length));
    } else body += markdownToHtml(block);
  }
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(`${experiment.title}: ${results.dataset}`)}</title><style>${STYLE}</style></head><body>\n${body}\n</body></html>\n`;
}

/** Writes report.md, report.html and one SVG per chart into `out`; returns the report.md path. */
export function writeReport(
  out: string,
  experiment: Experiment,
  results: ExperimentResults,
  meta: ReportMeta,
): string {
  const content = experiment.report(results);
  const md = markdownDoc(experiment, results, content, meta);
  for (const chart of content.charts) writeFileAtomic(join(out, `${chart.name}.svg`), `${chart.svg}\n`);
  writeFileAtomic(join(out, "report.md"), md);
  writeFileAtomic(join(out, "report.html"), htmlDoc(experiment, results, md, content.charts));
  return join(out, "report.md");
}
