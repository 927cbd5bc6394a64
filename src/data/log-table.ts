/**
 * Row access for the side files of generic logs, whatever their format: delimited text with a
 * header (separator and quoting sniffed, ./sniff.ts), JSONL with one object per line, or Parquet,
 * gzipped or not. Each row is offered as `get(column)`, returning the raw value (a string for
 * delimited text; any JSON value for JSONL; a number, string or list for Parquet) or undefined
 * when absent.
 */
import { DataError, quoteValue } from "./errors.js";
import { readParquetRows } from "./read-parquet.js";
import type { ReportBuilder } from "./report.js";
import { readSideFile } from "./side-file.js";
import { detectInput, type DetectedInput, type SniffOptions } from "./sniff.js";

export type RowGetter = (column: string) => unknown;

/** Checks one column of a row alone, throwing its DataError when the value is bad. */
export type FieldCheck = (column: string, get: RowGetter, line: number) => void;

/**
 * Calls `onRow` for each data row. `onColumns` receives the header (delimited text, Parquet)
 * before the first row, or, for JSONL, the keys of the first object. Returns how the file was read.
 * When `onRow` fails on a field, `check` is asked about the columns before it (in column order),
 * so the error names the row's first bad field.
 */
export async function readTable(
  path: string,
  sniff: SniffOptions,
  report: ReportBuilder,
  rowCallback: (get: RowGetter, line: number) => void,
  columnsCallback?: (names: string[], line: number) => void,
  check?: FieldCheck,
): Promise<DetectedInput> {
  let columns: readonly string[] = [];
  const onColumns = (names: string[], line: number): void => {
    columns = names;
    columnsCallback?.(names, line);
  };
  const onRow = (get: RowGetter, line: number): void => {
    try {
      rowCallback(get, line);
    } catch (err) {
      throw check ? firstBadField(err, columns, get, line, check) : err;
    }
  };
  const input = await detectInput(path, sniff);
  report.input(input);
  if (input.kind === "parquet") {
    await readParquetRows(path, report, onRow, onColumns);
    return input;
  }
  if (input.kind === "jsonl") {
    let first = true;
    await readSideFile(
      {
        path,
        delimiter: null,
        quotes: false,
        encoding: input.encoding,
        header: false,
        expected: "one JSON object per line",
      },
      report,
      (r) => {
        const obj = parseJsonObject(path, r.line, r.text(0));
        if (first) {
          first = false;
          onColumns?.(Object.keys(obj), r.line);
        }
        onRow((c) => obj[c], r.line);
      },
    );
    return input;
  }
  const sep = input.delimiter ?? ",";
  let header: string[] = [];
  let index = new Map<string, number>();
  await readSideFile(
    {
      path,
      delimiter: sep,
      quotes: input.quotes,
      encoding: input.encoding,
      header: true,
      expected: "a header line naming the columns",
    },
    report,
    (r) => {
      if (r.count !== header.length) {
        throw new DataError(
          path,
          r.line,
          r.count < header.length ? header[r.count] : null,
          `expected ${header.length} fields as in the header, got ${r.count}: ${quoteValue(r.raw(sep))}`,
        );
      }
      onRow((c) => {
        const k = index.get(c);
        return k === undefined ? undefined : r.text(k);
      }, r.line);
    },
    (names, line) => {
      header = names;
      index = new Map(names.map((n, k) => [n, k]));
      onColumns?.(names, line);
    },
  );
  return input;
}

/** The error of the first column (in `columns` order) up to err's field that `check` rejects, else err. */
function firstBadField(
  err: unknown,
  columns: readonly string[],
  get: RowGetter,
  line: number,
  check: FieldCheck,
): unknown {
  if (!(err instanceof DataError) || err.field === null || !columns.includes(err.field)) return err;
  for (const c of columns) {
    if (c === err.field) return err;
    try {
      check(c, get, line);
    } catch (e) {
      if (e instanceof DataError) return e;
      throw e;
    }
  }
  return err;
}

export function parseJsonObject(path: string, line: number, text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new DataError(
      path,
      line,
      null,
      `expected a JSON object, got invalid JSON (${(err as Error).message}): ${quoteValue(text)}`,
    );
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new DataError(path, line, null, `expected a JSON object, got ${quoteValue(text)}`);
  }
  return v as Record<string, unknown>;
}

/** An id value as text: a non-empty string or an integer; otherwise a DataError. */
export function idValue(path: string, line: number, field: string, v: unknown): string {
  if (typeof v === "string" && v !== "") return v;
  if (typeof v === "number" && Number.isInteger(v)) return String(v);
  if (v === undefined) throw new DataError(path, line, field, "missing");
  throw new DataError(
    path,
    line,
    field,
    `expected an id (string or integer), got ${quoteValue(JSON.stringify(v) ?? String(v))}`,
  );
}

/** A numeric value (number or numeric string); undefined/"" -> undefined; otherwise a DataError. */
export function numberValue(path: string, line: number, field: string, v: unknown): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const n =
    typeof v === "number"
      ? v
      : typeof v === "string" && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)
        ? Number(v)
        : NaN;
  if (!Number.isFinite(n)) {
    throw new DataError(
      path,
      line,
      field,
      `expected a number, got ${quoteValue(typeof v === "string" ? v : (JSON.stringify(v) ?? ""))}`,
    );
  }
  return n;
}

/** A text value; numbers become text, undefined/null become "". */
export function textValue(v: unknown): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string"
    ? v
    : typeof v === "number" || typeof v === "boolean"
      ? String(v)
      : JSON.stringify(v);
}

/** First column name of `candidates` present in `names`, or undefined. */
export function pickColumn(
  names: readonly string[],
  candidates: readonly (string | undefined)[],
): string | undefined {
  for (const c of candidates) if (c !== undefined && names.includes(c)) return c;
  return undefined;
}
