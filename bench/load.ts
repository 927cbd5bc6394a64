/**
 * Loading benchmark: writes an ml-32m-sized `ratings.csv` (32M rows by default; users in order,
 * ~160 ratings each, Zipf-like item popularity, half-star ratings, increasing timestamps) into a
 * temporary directory, gzips it (zlib level 6, as `gzip` does) and converts it to Parquet (DuckDB's
 * writer, as pandas/DuckDB users would), then loads each form with `loadDataset` in a fresh child
 * process and records rows/s and the child's peak RSS: the MovieLens CSV layout (the figure this
 * benchmark always recorded), the same file as a generic CSV log with column flags, CSV.gz and
 * Parquet. `--readers` adds the raw decode of the Parquet file by hyparquet and by
 * @duckdb/node-api (the choice recorded in docs/results/parquet-readers.md). The directory is
 * deleted afterwards.
 *
 *   node dist/bench/load.js [--rows N] [--seed S] [--readers] [--json]
 *
 *   node dist/bench/load.js --quick        (20,000 rows, to check the plumbing)
 *
 * Results go to bench/results/load.json (full size) or bench/results/load-<N>.json (other sizes).
 */
import { isMainModule, takeQuick, writeBenchResult } from "./support.js";
import { DuckDBInstance } from "@duckdb/node-api";
import { execFileSync } from "node:child_process";
import {
  closeSync,
  createReadStream,
  createWriteStream,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { loadDataset } from "../src/data/load.js";
import { Rng } from "../src/engine/rng.js";

import type { LoadOptions } from "../src/data/load-options.js";

const FULL_ROWS = 32_000_000;
const QUICK_ROWS = 20_000;

/** The forms of the file that are loaded, each in its own child process. */
const FORMATS = ["movielens-csv", "csv", "csv.gz", "parquet"] as const;
type Format = (typeof FORMATS)[number];

/** The generic-log column flags for the ratings file. */
const LOG_COLUMNS: LoadOptions = {
  userCol: "userId",
  itemCol: "movieId",
  timeCol: "timestamp",
  weightCol: "rating",
};

interface ChildResult {
  rows: number;
  users: number;
  items: number;
  seconds: number;
  /** User + system CPU time of the load (less sensitive than wall time to other jobs on the machine). */
  cpuSeconds: number;
  peakRssMB: number;
}

/** Writes `rows` ratings in the ml-latest CSV layout; returns the byte size. */
function writeRatings(path: string, rows: number, seed: number): number {
  const rng = new Rng(seed);
  const next = (): number => rng.nextFloat();
  const numItems = Math.max(100, Math.round(rows / 365)); // ml-32m: 87,585 movies for 32M ratings
  const fd = openSync(path, "w");
  try {
    writeSync(fd, "userId,movieId,rating,timestamp\n");
    let written = 0;
    let user = 0;
    let time = 822_873_600; // 1996-01-29
    let parts: string[] = [];
    const ratedBy = new Int32Array(numItems);
    while (written < rows) {
      user++;
      // 20 + exponential tail: mean ~160 ratings per user, like ml-32m.
      const n = Math.min(rows - written, numItems >> 1, 20 + Math.floor(-140 * Math.log(1 - next())));
      for (let k = 0; k < n; k++) {
        // Popular items first; as in MovieLens a user rates an item at most once.
        let j = Math.floor(numItems * next() ** 3);
        while (ratedBy[j] === user) j = Math.floor(numItems * next());
        ratedBy[j] = user;
        const item = j * 3 + 1; // sparse ids, like MovieLens
        const stars = 0.5 + Math.floor(next() * 10) / 2; // 0.5 .. 5.0
        time += Math.floor(next() * 40);
        parts.push(`${user},${item},${stars.toFixed(1)},${time}`);
      }
      written += n;
      if (parts.length >= 65_536) {
        writeSync(fd, parts.join("\n") + "\n");
        parts = [];
      }
    }
    if (parts.length > 0) writeSync(fd, parts.join("\n") + "\n");
  } finally {
    closeSync(fd);
  }
  return statSync(path).size;
}

/** The path and options that load `format` from the benchmark directory. */
function target(dir: string, format: Format): [string, LoadOptions] {
  if (format === "movielens-csv") return [dir, {}];
  const file = format === "csv" ? "ratings.csv" : format === "csv.gz" ? "ratings.csv.gz" : "ratings.parquet";
  return [join(dir, file), LOG_COLUMNS];
}

async function child(dir: string, format: Format): Promise<void> {
  const [path, options] = target(dir, format);
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const d = await loadDataset(path, options);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const result: ChildResult = {
    rows: d.events.user.length,
    users: d.users.ids.length,
    items: d.items.ids.length,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(result));
}

/** Raw decode of the Parquet file's four columns into typed arrays, by one library, in this process. */
async function readerChild(path: string, lib: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const rows = lib === "hyparquet" ? await decodeHyparquet(path) : await decodeDuckdb(path);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(c0);
  const result = {
    lib,
    rows,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(result));
}

const COLUMNS = ["userId", "movieId", "rating", "timestamp"];

async function decodeHyparquet(path: string): Promise<number> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetRead } = await import("hyparquet");
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const n = Number(metadata.num_rows);
  const out = [new Float64Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  let rowStart = 0;
  for (const rg of metadata.row_groups) {
    const rowEnd = rowStart + Number(rg.num_rows);
    await parquetRead({
      file,
      metadata,
      columns: COLUMNS,
      rowStart,
      rowEnd,
      onChunk(c) {
        const dst = out[COLUMNS.indexOf(c.columnName)];
        const d = c.columnData as ArrayLike<number | bigint>;
        for (let k = 0; k < d.length; k++) dst[c.rowStart + k] = Number(d[k]);
      },
    });
    rowStart = rowEnd;
  }
  return n;
}

async function decodeDuckdb(path: string): Promise<number> {
  const threads = process.env.WATCHNEXT_THREADS ? { threads: process.env.WATCHNEXT_THREADS } : undefined;
  const db = await DuckDBInstance.create(":memory:", threads);
  const c = await db.connect();
  const result = await c.stream(`SELECT ${COLUMNS.join(", ")} FROM read_parquet('${path}')`);
  const parts: Float64Array[][] = [[], [], [], []];
  let n = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    chunk.getColumns().forEach((col, j) => parts[j].push(Float64Array.from(col, (v) => Number(v))));
    n += chunk.rowCount;
  }
  c.closeSync();
  db.closeSync();
  return n;
}

/** Writes the gzip and Parquet forms of ratings.csv; returns their sizes and the seconds taken. */
async function convert(dir: string): Promise<{ gzipBytes: number; parquetBytes: number; seconds: number }> {
  const t0 = Date.now();
  const csv = join(dir, "ratings.csv");
  await pipeline(
    createReadStream(csv),
    createGzip({ level: 6 }),
    createWriteStream(join(dir, "ratings.csv.gz")),
  );
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  await c.run(
    `COPY (SELECT * FROM read_csv('${csv}', header=true)) TO '${join(dir, "ratings.parquet")}' (FORMAT parquet)`,
  );
  c.closeSync();
  db.closeSync();
  return {
    gzipBytes: statSync(join(dir, "ratings.csv.gz")).size,
    parquetBytes: statSync(join(dir, "ratings.parquet")).size,
    seconds: (Date.now() - t0) / 1000,
  };
}

function isFormat(v: string): v is Format {
  return (FORMATS as readonly string[]).includes(v);
}

export async function run(args: string[]): Promise<void> {
  const { quick, rest } = takeQuick(args);
  const { values } = parseArgs({
    args: rest,
    options: {
      rows: { type: "string" },
      seed: { type: "string" },
      readers: { type: "boolean" },
      json: { type: "boolean" },
      child: { type: "string" },
      format: { type: "string" },
      reader: { type: "string" },
    },
  });
  if (values.child && values.reader) return readerChild(values.child, values.reader);
  if (values.child) {
    const format = values.format ?? "movielens-csv";
    if (!isFormat(format)) throw new Error(`--format: expected one of ${FORMATS.join(", ")}, got ${format}`);
    return child(values.child, format);
  }
  const rows = values.rows ? Number(values.rows) : quick ? QUICK_ROWS : FULL_ROWS;
  const seed = values.seed ? Number(values.seed) : 1;
  if (!Number.isInteger(rows) || rows < 1)
    throw new Error(`--rows: expected a positive integer, got ${values.rows}`);

  const dir = mkdtempSync(join(tmpdir(), "watchnext-bench-load-"));
  try {
    const g0 = Date.now();
    const bytes = writeRatings(join(dir, "ratings.csv"), rows, seed);
    const generateSeconds = (Date.now() - g0) / 1000;
    if (!values.json)
      console.error(
        `generated ${rows} rows (${(bytes / 1e6).toFixed(0)} MB) in ${generateSeconds.toFixed(1)} s`,
      );
    const conv = await convert(dir);
    const script = fileURLToPath(import.meta.url);
    const runChild = (extra: string[]): string =>
      execFileSync(process.execPath, [script, "--child", dir, ...extra], {
        encoding: "utf8",
        maxBuffer: 1 << 20,
      });
    const formats = FORMATS.map((format) => {
      const r = JSON.parse(runChild(["--format", format])) as ChildResult;
      return {
        format,
        rows: r.rows,
        users: r.users,
        items: r.items,
        loadSeconds: Math.round(r.seconds * 1000) / 1000,
        loadCpuSeconds: Math.round(r.cpuSeconds * 1000) / 1000,
        rowsPerSecond: Math.round(r.rows / r.seconds),
        rowsPerCpuSecond: Math.round(r.rows / r.cpuSeconds),
        peakRssMB: Math.round(r.peakRssMB),
      };
    });
    const r = formats[0];
    const csvLog = formats[1];
    for (const f of formats) {
      if (f.rows !== r.rows || f.users !== r.users || f.items !== r.items)
        throw new Error(
          `load ${f.format}: ${f.rows} rows / ${f.users} users / ${f.items} items differ from the CSV's`,
        );
    }
    const readers = values.readers
      ? ["hyparquet", "@duckdb/node-api"].map((lib) => {
          const x = JSON.parse(
            execFileSync(
              process.execPath,
              [script, "--child", join(dir, "ratings.parquet"), "--reader", lib],
              {
                encoding: "utf8",
                maxBuffer: 1 << 20,
              },
            ),
          ) as { rows: number; seconds: number; cpuSeconds: number; peakRssMB: number };
          return {
            lib,
            rowsPerSecond: Math.round(x.rows / x.seconds),
            rowsPerCpuSecond: Math.round(x.rows / x.cpuSeconds),
            peakRssMB: Math.round(x.peakRssMB),
          };
        })
      : undefined;
    const result = {
      rows: r.rows,
      users: r.users,
      items: r.items,
      fileMB: Math.round(bytes / 1e5) / 10,
      loadSeconds: r.loadSeconds,
      loadCpuSeconds: r.loadCpuSeconds,
      rowsPerSecond: r.rowsPerSecond,
      rowsPerCpuSecond: r.rowsPerCpuSecond,
      megabytesPerSecond: Math.round(bytes / 1e6 / r.loadSeconds),
      peakRssMB: r.peakRssMB,
      generateSeconds,
      gzipMB: Math.round(conv.gzipBytes / 1e5) / 10,
      parquetMB: Math.round(conv.parquetBytes / 1e5) / 10,
      convertSeconds: conv.seconds,
      /** Each form; `vsCsvLog` = rows/s relative to the same file read as a CSV log. */
      formats: formats.map((f) => ({
        ...f,
        vsCsvLog: Math.round((100 * f.rowsPerSecond) / csvLog.rowsPerSecond) / 100,
      })),
      ...(readers ? { parquetReaders: readers } : {}),
    };
    const given = [
      ...(values.rows ? ["--rows", String(rows)] : []),
      ...(values.seed ? ["--seed", String(seed)] : []),
      ...(values.readers ? ["--readers"] : []),
    ];
    const name = rows === FULL_ROWS ? "load.json" : `load-${rows}.json`;
    const written = writeBenchResult(
      {
        benchmark: "load",
        args: given,
        quick,
        config: {
          rows,
          seed,
          layout: "ml-latest ratings.csv: users in order, ~160 ratings each, Zipf-like items, half stars",
          loader: "loadDataset (src/data/load.ts) in a fresh child process per form",
          forms:
            "MovieLens CSV layout; the same file as a CSV log, gzipped (zlib level 6) and as Parquet (DuckDB COPY)",
        },
      },
      result,
      name,
    );
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else {
      for (const f of result.formats) {
        console.log(
          `${f.format.padEnd(14)} ${f.rows} rows in ${f.loadSeconds} s: ${f.rowsPerSecond} rows/s, ` +
            `${f.rowsPerCpuSecond} rows per CPU second, peak RSS ${f.peakRssMB} MB (${f.vsCsvLog}x the CSV log)`,
        );
      }
      for (const x of result.parquetReaders ?? [])
        console.log(
          `reader ${x.lib}: ${x.rowsPerSecond} rows/s, ${x.rowsPerCpuSecond} rows per CPU second, peak RSS ${x.peakRssMB} MB`,
        );
      console.log(`-> ${written}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
