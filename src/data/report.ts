/**
 * Collects what a load skipped or found suspicious, so nothing is dropped without a count: in
 * strict mode a bad line throws; in lenient mode it is counted here with the first few messages.
 */
import { basename } from "node:path";
import type { LoadReport } from "./dataset.js";
import { DataError } from "./errors.js";
import { describeInput, type DetectedInput } from "./sniff.js";

/** How many example messages to keep per file. */
const MAX_EXAMPLES = 5;

export class ReportBuilder {
  private readonly skipped = new Map<string, { file: string; count: number; examples: string[] }>();
  readonly warnings: string[] = [];
  readonly inputs: DetectedInput[] = [];
  duplicateEvents = 0;

  constructor(readonly lenient: boolean) {}

  /** Strict: rethrows. Lenient: counts the bad line under its file. Non-data errors always rethrow. */
  badLine(err: unknown): void {
    if (!this.lenient || !(err instanceof DataError)) throw err;
    const key = basename(err.file);
    let entry = this.skipped.get(key);
    if (!entry) {
      entry = { file: key, count: 0, examples: [] };
      this.skipped.set(key, entry);
    }
    entry.count++;
    if (entry.examples.length < MAX_EXAMPLES) entry.examples.push(err.message);
  }

  /** What was skipped in a file so far (by base name), if anything. */
  skippedIn(file: string): { count: number; examples: string[] } | undefined {
    return this.skipped.get(basename(file));
  }

  /** Records how an input file was read. */
  input(d: DetectedInput): void {
    this.inputs.push(d);
  }

  warn(message: string): void {
    this.warnings.push(message);
  }

  finish(): LoadReport {
    return {
      skipped: [...this.skipped.values()],
      duplicateEvents: this.duplicateEvents,
      warnings: this.warnings,
      ...(this.inputs.length > 0 ? { inputs: this.inputs } : {}),
    };
  }
}

/** Human-readable lines for a report (used by the CLI on stderr and by `data info`). */
export function formatReport(report: LoadReport): string[] {
  const lines: string[] = [];
  for (const s of report.skipped) {
    lines.push(`skipped ${s.count} bad line${s.count === 1 ? "" : "s"} in ${s.file}; first:`);
    for (const e of s.examples) lines.push(`  ${e}`);
  }
  // Duplicates are also described in a warning (with examples) by the reader.
  for (const w of report.warnings) lines.push(w);
  return lines;
}

/** One line per generic input file: how it was read (for `data info`). */
export function formatInputs(report: LoadReport): string[] {
  return (report.inputs ?? []).map((d) => `${basename(d.path)}: ${describeInput(d)}`);
}
