/**
 * Human-readable forms of an EvaluationReport: an aligned text table for the terminal and a
 * Markdown document for docs/results, shared by `baselines` and `evaluate`.
 */
import type { EvaluationReport } from "./types.js";

/** Metric columns in report order (taken from the first result). */
function columns(report: EvaluationReport): string[] {
  return report.results.length > 0 ? Object.keys(report.results[0].test) : [];
}

function paramText(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(", ");
}

function modelLabel(r: EvaluationReport["results"][number]): string {
  const p = paramText(r.params);
  return p ? `${r.model} (${p})` : r.model;
}

function heading(report: EvaluationReport): string {
  const seen = report.filter_seen === false ? "seen not filtered" : "seen filtered";
  return `${report.dataset}, protocol ${report.protocol}, ${seen}: ${report.n_users} users, ${report.n_items} items`;
}

/** Aligned plain-text table of test metrics with fit and evaluation seconds. */
export function formatTable(report: EvaluationReport): string {
  const cols = columns(report);
  const header = ["model", ...cols, "fit s", "eval s"];
  const rows = report.results.map((r) => [
    modelLabel(r),
    ...cols.map((c) => r.test[c].toFixed(4)),
    r.train_seconds === undefined ? "" : r.train_seconds.toFixed(1),
    r.eval_seconds === undefined ? "" : r.eval_seconds.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const repeats = report.results.filter((r) => (r.target_in_history ?? 0) > 0);
  const notes = repeats.map(
    (r) => `${r.model}: ${r.target_in_history} test users had the target in their history`,
  );
  return [heading(report), "test:", line(header), ...rows.map(line), ...notes].join("\n");
}

export interface MarkdownOptions {
  readonly title?: string;
  /** The command that produced the report, shown so the figures can be reproduced. */
  readonly command?: string;
  /** Extra paragraphs after the table. */
  readonly notes?: readonly string[];
}

/** A Markdown document: heading, command, test table, validation table, protocol parameters. */
export function markdownReport(report: EvaluationReport, options: MarkdownOptions = {}): string {
  const cols = columns(report);
  const table = (part: "test" | "valid", withTimes: boolean): string[] => {
    const head = ["model", ...cols, ...(withTimes ? ["fit s"] : [])];
    return [
      `| ${head.join(" | ")} |`,
      `|${head.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
      ...report.results.map((r) => {
        const cells = [modelLabel(r), ...cols.map((c) => (r[part][c] ?? NaN).toFixed(4))];
        if (withTimes) cells.push(r.train_seconds === undefined ? "" : r.train_seconds.toFixed(1));
        return `| ${cells.join(" | ")} |`;
      }),
    ];
  };
  const lines = [`## ${options.title ?? heading(report)}`, ""];
  if (options.title) lines.push(heading(report), "");
  if (options.command) lines.push("```", options.command, "```", "");
  lines.push("Test:", "", ...table("test", true), "", "Validation:", "", ...table("valid", false), "");
  if (report.protocol_params)
    lines.push(`Protocol parameters: \`${JSON.stringify(report.protocol_params)}\``, "");
  for (const note of options.notes ?? []) lines.push(note, "");
  return lines.join("\n");
}
