/**
 * Loading benchmark: writes an ml-32m-sized `ratings.csv` (32M rows by default; users in order,
 * ~160 ratings each, Zipf-like item popularity, half-star ratings, increasing timestamps) into a
 * temporary directory, loads it with `loadDataset` in a fresh child process, and records rows/s
 * and the child's peak RSS. The directory is deleted afterwards.
 *
 *   node dist/bench/load.js [--rows N] [--seed S] [--json]
 *
 *   node dist/bench/load.js --quick        (20,000 rows, to check the plumbing)
 *
 * Results go to bench/results/load.json (full size) or bench/results/load-<N>.json (other sizes).
 */
import { isMainModule, takeQuick, writeBenchResult } from "./support.js";
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadDataset } from "../src/data/load.js";
import { Rng } from "../src/engine/rng.js";

const FULL_ROWS = 32_000_000;
const QUICK_ROWS = 20_000;

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

async function child(dir: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const d = await loadDataset(dir);
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

export async function run(args: string[]): Promise<void> {
  const { quick, rest } = takeQuick(args);
  const { values } = parseArgs({
    args: rest,
    options: {
      rows: { type: "string" },
      seed: { type: "string" },
      json: { type: "boolean" },
      child: { type: "string" },
    },
  });
  if (values.child) return child(values.child);
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
    const script = fileURLToPath(import.meta.url);
    const out = execFileSync(process.execPath, [script, "--child", dir], {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    });
    const r = JSON.parse(out) as ChildResult;
    const result = {
      rows: r.rows,
      users: r.users,
      items: r.items,
      fileMB: Math.round(bytes / 1e5) / 10,
      loadSeconds: Math.round(r.seconds * 1000) / 1000,
      loadCpuSeconds: Math.round(r.cpuSeconds * 1000) / 1000,
      rowsPerSecond: Math.round(r.rows / r.seconds),
      rowsPerCpuSecond: Math.round(r.rows / r.cpuSeconds),
      megabytesPerSecond: Math.round(bytes / 1e6 / r.seconds),
      peakRssMB: Math.round(r.peakRssMB),
      generateSeconds,
    };
    const given = [
      ...(values.rows ? ["--rows", String(rows)] : []),
      ...(values.seed ? ["--seed", String(seed)] : []),
    ];
    const name = rows === FULL_ROWS ? "load.json" : `load-${rows}.json`;
    const target = writeBenchResult(
      {
        benchmark: "load",
        args: given,
        quick,
        config: {
          rows,
          seed,
          layout: "ml-latest ratings.csv: users in order, ~160 ratings each, Zipf-like items, half stars",
          loader: "loadDataset (src/data/load.ts) in a fresh child process",
        },
      },
      result,
      name,
    );
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else {
      console.log(
        `loaded ${r.rows} rows in ${result.loadSeconds} s: ${result.rowsPerSecond} rows/s, ` +
          `${result.rowsPerCpuSecond} rows per CPU second, ${result.megabytesPerSecond} MB/s, peak RSS ${result.peakRssMB} MB -> ${target}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainModule(import.meta.url)) await run(process.argv.slice(2));
