/**
 * Parquet logs and side files, read with DuckDB (@duckdb/node-api; the choice over hyparquet and
 * the measurements behind it are in docs/results/parquet-readers.md). The log is streamed in
 * DuckDB's chunks of a few thousand rows, so memory stays near the event columns. Columns are
 * chosen by the same flags as for text logs, and missing columns and bad values give the same
 * errors; the "line" of a Parquet error is the 1-based row number.
 */
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { EventColumns, IdDictionaryBuilder } from "./columns.js";
import { DataError, quoteValue } from "./errors.js";
import { columnNotFound } from "./side-file.js";
import type { EventTable } from "./read-events.js";
import type { ReportBuilder } from "./report.js";
import { TimeParser, TimeValueError } from "./time-parser.js";

interface ParquetFile {
  readonly connection: DuckDBConnection;
  /** The file as an SQL string literal. */
  readonly source: string;
  readonly columns: string[];
  readonly types: string[];
  close(): void;
}

/** DuckDB's threads: WATCHNEXT_THREADS when set (the project's one thread knob), else DuckDB's default. */
function duckdbOptions(): Record<string, string> {
  const t = Number(process.env.WATCHNEXT_THREADS);
  return Number.isInteger(t) && t >= 1 ? { threads: String(t) } : {};
}

/** DuckDB's native library is loaded only when a Parquet file is read (text logs never need it). */
async function createInstance(path: string): Promise<DuckDBInstance> {
  let duckdb: typeof import("@duckdb/node-api");
  try {
    duckdb = await import("@duckdb/node-api");
  } catch (err) {
    throw new DataError(
      path,
      null,
      null,
      `reading Parquet needs @duckdb/node-api with its native library for this platform, which failed to load (${(err as Error).message.split("\n")[0]}); convert the file to CSV instead`,
    );
  }
  return duckdb.DuckDBInstance.create(":memory:", duckdbOptions());
}

async function openParquet(path: string): Promise<ParquetFile> {
  const instance = await createInstance(path);
  const connection = await instance.connect();
  const source = `read_parquet('${path.replaceAll("'", "''")}')`;
  try {
    const d = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const rows = d.getRowObjectsJson();
    return {
      connection,
      source,
      columns: rows.map((r) => String(r.column_name)),
      types: rows.map((r) => String(r.column_type)),
      close: () => {
        connection.closeSync();
        instance.closeSync();
      },
    };
  } catch (err) {
    connection.closeSync();
    instance.closeSync();
    throw new DataError(
      path,
      null,
      null,
      `not a readable Parquet file: ${(err as Error).message.split("\n")[0]}`,
    );
  }
}

/** An SQL identifier. */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Times of any Parquet time type become epoch seconds; numbers and text are parsed as in text logs. */
function timeExpr(name: string, type: string): string {
  if (/^(TIMESTAMP|DATE)/.test(type)) return `epoch(${ident(name)})::DOUBLE`;
  return ident(name);
}

/** Decimals and floats become doubles (DECIMAL would arrive as an object). */
function numberExpr(name: string, type: string): string {
  return /^(DECIMAL|FLOAT|REAL)/.test(type) ? `${ident(name)}::DOUBLE` : ident(name);
}

/** A Parquet value as text for messages. */
function shown(v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v) ?? String(v);
}

/** The non-negative canonical integer of an id value, or -1 when it must be treated as text. */
function numericId(v: unknown): number {
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 && v < 1e9 ? v : -1;
  if (typeof v === "bigint") return v >= 0n && v < 1_000_000_000n ? Number(v) : -1;
  return -1;
}

/** The id text of a value, or null when it is not an id. */
function idText(v: unknown): string | null {
  if (typeof v === "string") return v === "" ? null : v;
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : null;
  if (typeof v === "string") return v;
  if (typeof v === "bigint") return v.toString();
  return null;
}

export interface ParquetEventColumns {
  readonly user: string;
  readonly item: string;
  readonly time: string;
  readonly weight: string | undefined;
}

/** Reads the events of a Parquet log: the same result and the same errors as a text log. */
export async function readParquetEvents(
  path: string,
  cols: ParquetEventColumns,
  flags: { user: string; item: string; time: string; weight: string },
  report: ReportBuilder,
  onProgress?: (bytesRead: number, totalBytes: number) => void,
): Promise<EventTable> {
  return withParquet(path, (pq) => readEvents(pq, { path, cols, flags, report, onProgress }));
}

/** Runs `use` on the opened file and closes it whatever happens. */
async function withParquet<T>(path: string, use: (pq: ParquetFile) => Promise<T>): Promise<T> {
  const pq = await openParquet(path);
  try {
    return await use(pq);
  } finally {
    pq.close();
  }
}

type Role = "user" | "item" | "time" | "weight";

interface EventRead {
  readonly path: string;
  readonly cols: ParquetEventColumns;
  readonly flags: { user: string; item: string; time: string; weight: string };
  readonly report: ReportBuilder;
  readonly onProgress?: (bytesRead: number, totalBytes: number) => void;
}

async function readEvents(
  pq: ParquetFile,
  { path, cols, flags, report, onProgress }: EventRead,
): Promise<EventTable> {
  const names = pq.columns;
  // The wanted columns in file order, so the first bad field of a row is the first in column order.
  const wanted: { name: string; role: Role; index: number }[] = [];
  const want = (name: string, role: Role, flag: string): void => {
    const index = names.indexOf(name);
    if (index < 0) throw columnNotFound(path, null, name, names, flag);
    wanted.push({ name, role, index });
  };
  want(cols.user, "user", flags.user);
  want(cols.item, "item", flags.item);
  want(cols.time, "time", flags.time);
  if (cols.weight) want(cols.weight, "weight", flags.weight);
  wanted.sort((a, b) => a.index - b.index);
  const expr = (w: { name: string; role: Role; index: number }): string =>
    w.role === "time" ? timeExpr(w.name, pq.types[w.index]) : numberExpr(w.name, pq.types[w.index]);
  const at = (role: Role): number => wanted.findIndex((w) => w.role === role);
  const ui = at("user");
  const ii = at("item");
  const ti = at("time");
  const wi = at("weight");

  const count = await pq.connection.runAndReadAll(`SELECT count(*)::DOUBLE FROM ${pq.source}`);
  const total = Number(count.getRows()[0][0]);
  const result = await pq.connection.stream(`SELECT ${wanted.map(expr).join(", ")} FROM ${pq.source}`);
  const users = new IdDictionaryBuilder();
  const items = new IdDictionaryBuilder();
  const events = new EventColumns();
  const times = new TimeParser();
  let row = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const data = chunk.getColumns();
    const u = data[ui];
    const it = data[ii];
    const tv = data[ti];
    const wv = wi >= 0 ? data[wi] : null;
    const n = chunk.rowCount;
    for (let k = 0; k < n; k++) {
      row++;
      let t = 0;
      let w = 1;
      try {
        // Check every field, in column order, before adding anything (a bad row leaves no trace).
        for (const f of wanted) {
          if (f.role === "user" || f.role === "item") {
            const v = (f.role === "user" ? u : it)[k];
            if (idText(v) === null)
              throw new DataError(path, row, f.name, `expected an id, got ${quoteValue(shown(v))}`);
          } else if (f.role === "time") t = timeValue(times, path, row, f.name, tv[k]);
          else w = weightValue(path, row, f.name, (wv as unknown[])[k]);
        }
      } catch (err) {
        report.badLine(err);
        continue;
      }
      const uv = u[k];
      const un = numericId(uv);
      const uIdx = un >= 0 ? users.internNumeric(un) : users.intern(idText(uv) as string);
      const iv = it[k];
      const inum = numericId(iv);
      const iIdx = inum >= 0 ? items.internNumeric(inum) : items.intern(idText(iv) as string);
      events.push(uIdx, iIdx, t, w);
    }
    onProgress?.(row, total);
  }
  if (events.length === 0) {
    const bad = report.skippedIn(path);
    const why = bad ? `all ${bad.count} rows were bad; first: ${bad.examples[0]}` : "there are no rows";
    throw new DataError(path, null, null, `no events: ${why}`);
  }
  return { users, items, events };
}

function timeValue(times: TimeParser, path: string, row: number, field: string, v: unknown): number {
  try {
    if (v instanceof Date) return times.parseValue(v.getTime(), row);
    if (typeof v === "bigint") return times.parseValue(Number(v), row);
    if (v === null || v === undefined) throw new TimeValueError("missing");
    return times.parseValue(v, row);
  } catch (err) {
    if (err instanceof TimeValueError) throw new DataError(path, row, field, err.message);
    throw err;
  }
}

function weightValue(path: string, row: number, field: string, v: unknown): number {
  const n =
    typeof v === "number"
      ? v
      : typeof v === "bigint"
        ? Number(v)
        : typeof v === "string" && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)
          ? Number(v)
          : NaN;
  if (!Number.isFinite(n))
    throw new DataError(path, row, field, `expected a number, got ${quoteValue(shown(v))}`);
  return n;
}

/**
 * Calls `onRow` for every row of a Parquet side file, after `onColumns` with the column names.
 * Values come as JSON readers give them (64-bit integers and times as text, lists as arrays).
 * Bad rows go to the report.
 */
export async function readParquetRows(
  path: string,
  report: ReportBuilder,
  onRow: (get: (column: string) => unknown, line: number) => void,
  onColumns?: (names: string[], line: number) => void,
): Promise<void> {
  await withParquet(path, async (pq) => {
    onColumns?.(pq.columns, 1);
    const rows = (await pq.connection.runAndReadAll(`SELECT * FROM ${pq.source}`)).getRowObjectsJson();
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k];
      try {
        onRow((c) => r[c], k + 1);
      } catch (err) {
        report.badLine(err);
      }
    }
  });
}
