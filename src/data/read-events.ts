/**
 * Reads the big file of every dataset — the ratings or event log — into event columns and id
 * dictionaries, parsing ids, ratings and timestamps straight from the scanned bytes. One function
 * serves every delimited layout; the caller says where the columns are (by position, or by header
 * name) and how timestamps are written.
 */
import { stat } from "node:fs/promises";
import { IdDictionaryBuilder, EventColumns } from "./columns.js";
import { DataError, quoteValue } from "./errors.js";
import { bytesText, parseDecimalBytes, parseIntBytes } from "./parse-bytes.js";
import { scanRecords, type ScannedRecord } from "./record-scanner.js";
import type { ReportBuilder } from "./report.js";
import { columnNotFound } from "./side-file.js";
import { TimeParser, TimeValueError } from "./time-parser.js";

/** Where a column is: a fixed position, or a header name to look up. */
export type ColumnRef = { readonly position: number; readonly name: string } | { readonly header: string };

export interface EventFileSpec {
  readonly path: string;
  readonly delimiter: string;
  readonly quotes: boolean;
  /** Text encoding: checked UTF-8 or Latin-1 (generic logs); absent = unchecked UTF-8 (MovieLens). */
  readonly encoding?: "utf8" | "latin1";
  /** True when the first record is a header (required when any column is referenced by name). */
  readonly header: boolean;
  /** Exact field count per line (fixed layouts), or null to require the header's count. */
  readonly fieldCount: number | null;
  readonly user: ColumnRef;
  readonly item: ColumnRef;
  readonly time: ColumnRef;
  /** Weight column, or null for weight 1. */
  readonly weight: ColumnRef | null;
  /** "integer-seconds" for MovieLens; "auto" (seconds / ms / ISO-8601 per value) for logs. */
  readonly timeFormat: "integer-seconds" | "auto";
  /** Shown when the file is empty: what a line should look like. */
  readonly expected: string;
  /** Flag that chooses each named column, for "column not found" messages (e.g. "--user-col"). */
  readonly flags?: { user: string; item: string; time: string; weight: string };
}

export interface EventTable {
  readonly users: IdDictionaryBuilder;
  readonly items: IdDictionaryBuilder;
  readonly events: EventColumns;
}

export async function readEventFile(
  spec: EventFileSpec,
  report: ReportBuilder,
  onProgress?: (bytesRead: number, totalBytes: number) => void,
): Promise<EventTable> {
  const { path } = spec;
  const size = (await stat(path)).size;
  if (size === 0) throw new DataError(path, null, null, `the file is empty (expected ${spec.expected})`);
  const users = new IdDictionaryBuilder();
  const items = new IdDictionaryBuilder();
  const events = new EventColumns();
  const timeParser = new TimeParser();
  const autoTime = spec.timeFormat === "auto";

  let headerNames: string[] | null = null;
  let ucol = -1;
  let icol = -1;
  let tcol = -1;
  let wcol = -1;
  let uname = "";
  let iname = "";
  let tname = "";
  let wname = "";
  let fieldCount = spec.fieldCount ?? -1;

  const resolveFixed = (): void => {
    const pos = (c: ColumnRef): [number, string] => {
      if ("position" in c) return [c.position, c.name];
      throw new Error(`column "${c.header}" needs a header line`);
    };
    [ucol, uname] = pos(spec.user);
    [icol, iname] = pos(spec.item);
    [tcol, tname] = pos(spec.time);
    if (spec.weight) [wcol, wname] = pos(spec.weight);
  };

  const resolveHeader = (r: ScannedRecord): void => {
    const names: string[] = [];
    for (let k = 0; k < r.count; k++) names.push(r.text(k).trim());
    headerNames = names;
    if (spec.fieldCount === null) fieldCount = names.length;
    const find = (c: ColumnRef, flag: string | undefined): [number, string] => {
      if ("position" in c) return [c.position, c.name];
      const k = names.indexOf(c.header);
      if (k < 0) throw columnNotFound(path, r.line, c.header, names, flag);
      return [k, c.header];
    };
    [ucol, uname] = find(spec.user, spec.flags?.user);
    [icol, iname] = find(spec.item, spec.flags?.item);
    [tcol, tname] = find(spec.time, spec.flags?.time);
    if (spec.weight) [wcol, wname] = find(spec.weight, spec.flags?.weight);
  };

  if (!spec.header) resolveFixed();
  const needed = (): number => Math.max(ucol, icol, tcol, wcol) + 1;

  const parseRow = (r: ScannedRecord): void => {
    const buf = r.buf;
    const line = r.line;
    if (fieldCount >= 0 ? r.count !== fieldCount : r.count < needed()) {
      const want = fieldCount >= 0 ? fieldCount : needed();
      const missing = r.count < want ? [ucol, icol, tcol, wcol].filter((c) => c >= r.count) : [];
      const field = missing.length > 0 ? nameOf(Math.min(...missing)) : null;
      throw new DataError(
        path,
        line,
        field,
        `expected ${want} fields${spec.header ? " as in the header" : ""}, got ${r.count}: ${quoteValue(
          r.raw(spec.delimiter),
        )}`,
      );
    }
    // Parse every field before adding anything, so a bad line leaves no trace in lenient mode.
    const us = r.start[ucol];
    const ue = r.end[ucol];
    const is = r.start[icol];
    const ie = r.end[icol];
    if (ue === us) throw new DataError(path, line, uname, `expected an id, got ""`);
    if (ie === is) throw new DataError(path, line, iname, `expected an id, got ""`);
    let t: number;
    const ts = r.start[tcol];
    const te = r.end[tcol];
    if (autoTime) {
      try {
        t = timeParser.parseBytes(buf, ts, te, line);
      } catch (err) {
        if (err instanceof TimeValueError) throw new DataError(path, line, tname, err.message);
        throw err;
      }
    } else {
      t = parseIntBytes(buf, ts, te);
      if (Number.isNaN(t)) {
        throw new DataError(
          path,
          line,
          tname,
          `expected an integer, got ${quoteValue(bytesText(buf, ts, te))}`,
        );
      }
    }
    let w = 1;
    if (wcol >= 0) {
      const ws = r.start[wcol];
      const we = r.end[wcol];
      w = parseDecimalBytes(buf, ws, we);
      if (Number.isNaN(w)) {
        throw new DataError(
          path,
          line,
          wname,
          `expected a number, got ${quoteValue(bytesText(buf, ws, we))}`,
        );
      }
    }
    const un = IdDictionaryBuilder.numericKey(buf, us, ue);
    const u = un >= 0 ? users.internNumeric(un) : users.intern(r.text(ucol));
    const inum = IdDictionaryBuilder.numericKey(buf, is, ie);
    const i = inum >= 0 ? items.internNumeric(inum) : items.intern(r.text(icol));
    events.push(u, i, t, w);
  };

  /** The error of column `col` alone in record r, or null when that field is fine. */
  const fieldError = (r: ScannedRecord, col: number): DataError | null => {
    const s0 = r.start[col];
    const e0 = r.end[col];
    if (col === ucol || col === icol) {
      return e0 === s0 ? new DataError(path, r.line, nameOf(col), `expected an id, got ""`) : null;
    }
    if (col === tcol) {
      if (!autoTime) {
        return Number.isNaN(parseIntBytes(r.buf, s0, e0))
          ? new DataError(
              path,
              r.line,
              tname,
              `expected an integer, got ${quoteValue(bytesText(r.buf, s0, e0))}`,
            )
          : null;
      }
      try {
        timeParser.parseBytes(r.buf, s0, e0, r.line);
        return null;
      } catch (err) {
        if (err instanceof TimeValueError) return new DataError(path, r.line, tname, err.message);
        throw err;
      }
    }
    return Number.isNaN(parseDecimalBytes(r.buf, s0, e0))
      ? new DataError(path, r.line, wname, `expected a number, got ${quoteValue(bytesText(r.buf, s0, e0))}`)
      : null;
  };

  /**
   * parseRow stops at the first check that fails, in its own order; a person fixing the line wants
   * the first bad field in column order, so the earlier columns are checked again here.
   */
  const firstInColumnOrder = (r: ScannedRecord, err: unknown): unknown => {
    if (!(err instanceof DataError) || err.field === null || r.count < needed()) return err;
    const cols = [ucol, icol, tcol, wcol].filter((c) => c >= 0).sort((a, b) => a - b);
    for (const c of cols) {
      if (nameOf(c) === err.field) return err;
      const e = fieldError(r, c);
      if (e !== null) return e;
    }
    return err;
  };

  function nameOf(col: number): string {
    return col === ucol ? uname : col === icol ? iname : col === tcol ? tname : wname;
  }

  const scan = { delimiter: spec.delimiter, quotes: spec.quotes, encoding: spec.encoding, onProgress };
  await scanRecords(path, scan, (r) => {
    if (spec.header && headerNames === null) {
      resolveHeader(r);
      return;
    }
    try {
      parseRow(r);
    } catch (err) {
      report.badLine(firstInColumnOrder(r, err));
    }
  });

  if (spec.header && headerNames === null) {
    throw new DataError(path, null, null, `the file is empty (expected ${spec.expected})`);
  }
  if (events.length === 0) {
    const bad = report.skippedIn(path);
    const why = bad
      ? `all ${bad.count} data lines were bad; first: ${bad.examples[0]}`
      : "there are no data lines";
    throw new DataError(path, null, null, `no events: ${why} (expected ${spec.expected})`);
  }
  return {
    users,
    items,
    events,
  };
}
