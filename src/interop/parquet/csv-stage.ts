/**
 * Writing typed columns to Parquet through DuckDB: rows are staged as CSV lines (lists as DuckDB
 * list literals, one string per row: far faster than DuckDB's per-value appender from JavaScript),
 * which DuckDB reads with the declared column types and copies into a gzip-paged Parquet file with
 * key-value metadata. Also the packed-batch cells every export column is made of.
 */
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { DuckDBConnection } from "@duckdb/node-api";
import type { CandidateBatch } from "../../features/batch.js";
import type { FeatureSchema } from "../../features/schema.js";

/** One column of an export file, as documented in its schema metadata. */
export interface ExampleColumn {
  readonly name: string;
  readonly type: "INTEGER" | "DOUBLE" | "FLOAT" | "INTEGER[]" | "FLOAT[]";
  readonly doc: string;
}

/** A column filled from row b of a packed batch. */
export interface BatchCell {
  readonly column: ExampleColumn;
  readonly write: (batch: CandidateBatch, b: number) => string;
}

/** A quoted CSV cell holding a DuckDB list literal of values[start, end). */
export function listCell(values: Int32Array | Float32Array, start: number, end: number): string {
  return `"[${values.subarray(start, end).join(",")}]"`;
}

/**
 * The cells of a schema's inputs, named `${prefix}<feature>`: a bag as its table rows (and its
 * weights when `weighted` has it), a categorical input as its row, the dense block as one list.
 */
export function schemaCells(schema: FeatureSchema, weighted: ReadonlySet<string>, prefix = ""): BatchCell[] {
  const cells: BatchCell[] = [];
  for (const f of schema.features) {
    const name = `${prefix}${f.name}`;
    if (f.kind === "bag") {
      cells.push({
        column: { name, type: "INTEGER[]", doc: `bag: rows of table "${f.table}"` },
        write: (batch, b) => {
          const bag = batch.bags[f.name];
          return listCell(bag.indices, bag.offsets[b], bag.offsets[b + 1]);
        },
      });
      if (weighted.has(f.name))
        cells.push({
          column: { name: `${name}_weights`, type: "FLOAT[]", doc: `weight of each row of ${name}` },
          write: (batch, b) => {
            const bag = batch.bags[f.name];
            return listCell(bag.weights as Float32Array, bag.offsets[b], bag.offsets[b + 1]);
          },
        });
    } else if (f.kind === "categorical") {
      cells.push({
        column: { name, type: "INTEGER", doc: `row of table "${f.table}" (0 = out of vocabulary)` },
        write: (batch, b) => String(batch.categorical[f.name][b]),
      });
    }
  }
  if (schema.denseWidth > 0)
    cells.push({
      column: {
        name: `${prefix}dense`,
        type: "FLOAT[]",
        doc: `the ${schema.denseWidth} packed continuous values (offsets in the schema's continuous features)`,
      },
      write: (batch, b) => listCell(batch.dense, b * batch.denseWidth, (b + 1) * batch.denseWidth),
    });
  return cells;
}

export function sqlString(s: string): string {
  return s.replaceAll("'", "''");
}

/** DuckDB's KV_METADATA literal of string pairs. */
export function kvMetadata(pairs: Record<string, string>): string {
  return Object.entries(pairs)
    .map(([k, v]) => `'${sqlString(k)}': '${sqlString(v)}'`)
    .join(", ");
}

/**
 * Writes `stage/file` as Parquet with `columns`: `fill` emits one CSV line per row (cells in
 * column order, newline-terminated); the staged CSV is removed afterwards.
 */
export async function writeParquet(
  connection: DuckDBConnection,
  stage: string,
  file: string,
  columns: readonly ExampleColumn[],
  kv: string,
  fill: (emit: (line: string) => void) => Promise<void>,
): Promise<void> {
  const csv = join(stage, `${file}.csv`);
  const fd = openSync(csv, "wx");
  let pending: string[] = [];
  let size = 0;
  const flush = () => {
    writeSync(fd, pending.join(""));
    pending = [];
    size = 0;
  };
  try {
    writeSync(fd, columns.map((c) => c.name).join(",") + "\n");
    await fill((line) => {
      pending.push(line);
      size += line.length;
      if (size > 1 << 22) flush();
    });
    flush();
  } finally {
    closeSync(fd);
  }
  const types = columns.map((c) => `'${sqlString(c.name)}': '${c.type}'`).join(", ");
  await connection.run(
    `COPY (SELECT * FROM read_csv('${sqlString(csv)}', header = true, quote = '"', columns = {${types}})) ` +
      `TO '${sqlString(join(stage, file))}' (FORMAT parquet, COMPRESSION gzip, KV_METADATA {${kv}})`,
  );
  rmSync(csv);
}

/** Lets progress output and Ctrl-C through between chunks. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
