/**
 * Reading of the small side files (items, users, tags, genre and occupation lists): each record
 * goes to a callback, bad lines throw a DataError or are counted in lenient mode, and a header, if
 * any, is checked and turned into a column lookup.
 */
import { stat } from "node:fs/promises";
import { DataError, quoteValue } from "./errors.js";
import { bytesText, parseIntBytes } from "./parse-bytes.js";
import { scanRecords, type ScannedRecord } from "./record-scanner.js";
import type { ReportBuilder } from "./report.js";

export interface SideFileSpec {
  readonly path: string;
  /** Field separator, or null for one field per line (JSONL). */
  readonly delimiter: string | null;
  readonly quotes: boolean;
  /** Text encoding (checked UTF-8 or Latin-1); absent = unchecked UTF-8 (MovieLens files). */
  readonly encoding?: "utf8" | "latin1";
  /** True when the first record is a header, passed to `onHeader`. */
  readonly header: boolean;
  /** Shown when the file is empty. */
  readonly expected: string;
}

export async function readSideFile(
  spec: SideFileSpec,
  report: ReportBuilder,
  onRow: (r: ScannedRecord) => void,
  onHeader?: (names: string[], line: number) => void,
): Promise<void> {
  if ((await stat(spec.path)).size === 0) {
    throw new DataError(spec.path, null, null, `the file is empty (expected ${spec.expected})`);
  }
  let headerDone = !spec.header;
  const scan = { delimiter: spec.delimiter, quotes: spec.quotes, encoding: spec.encoding };
  await scanRecords(spec.path, scan, (r) => {
    if (!headerDone) {
      headerDone = true;
      const names: string[] = [];
      for (let k = 0; k < r.count; k++) names.push(r.text(k).trim());
      onHeader?.(names, r.line);
      return;
    }
    try {
      onRow(r);
    } catch (err) {
      report.badLine(err);
    }
  });
}

/** Throws unless the record has at least `min` (and at most `max`) fields. */
export function requireFields(
  path: string,
  r: ScannedRecord,
  min: number,
  max: number,
  names: string[],
): void {
  if (r.count >= min && r.count <= max) return;
  const field = r.count < min ? (names[r.count] ?? null) : null;
  const want = min === max ? `${min}` : `${min} to ${max}`;
  throw new DataError(
    path,
    r.line,
    field,
    `expected ${want} fields, got ${r.count}: ${quoteValue(r.raw("|"))}`,
  );
}

/** Field k as an integer, or a DataError naming the field. */
export function intField(path: string, r: ScannedRecord, k: number, name: string): number {
  const v = parseIntBytes(r.buf, r.start[k], r.end[k]);
  if (Number.isNaN(v)) {
    throw new DataError(
      path,
      r.line,
      name,
      `expected an integer, got ${quoteValue(bytesText(r.buf, r.start[k], r.end[k]))}`,
    );
  }
  return v;
}

/** Field k as a non-empty id string. */
export function idField(path: string, r: ScannedRecord, k: number, name: string): string {
  const s = r.text(k);
  if (s === "") throw new DataError(path, r.line, name, `expected an id, got ""`);
  return s;
}

/** Index of each wanted column in a header, or a DataError listing the header. */
export function headerColumns(
  path: string,
  line: number,
  names: string[],
  wanted: readonly string[],
): number[] {
  return wanted.map((w) => {
    const k = names.indexOf(w);
    if (k < 0) throw columnNotFound(path, line, w, names);
    return k;
  });
}

/** The error for a column that is not in a file's header (or Parquet schema), naming the flag that chooses it. */
export function columnNotFound(
  path: string,
  line: number | null,
  name: string,
  names: readonly string[],
  flag?: string,
): DataError {
  const how = flag ? ` (choose the column with ${flag})` : "";
  return new DataError(
    path,
    line,
    name,
    `column not found in the header; the header has: ${names.map((n) => JSON.stringify(n)).join(", ")}${how}`,
  );
}
