/**
 * Decides which reader a path needs. A directory is recognised by its file names (u.data;
 * ratings.dat with users.dat or tags.dat; ratings.csv with the MovieLens header); a file is either
 * one of those MovieLens files (its directory is loaded) or a generic event log, whose kind
 * (delimited text with a sniffed separator, JSONL, Parquet; gzipped or not) ./sniff.ts decides.
 */
import { existsSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { DataError } from "./errors.js";
import type { LoadOptions } from "./load-options.js";
import { detectInput, type DetectedInput } from "./sniff.js";

export type Layout =
  | { readonly kind: "ml-100k"; readonly dir: string }
  | { readonly kind: "ml-1m"; readonly dir: string }
  | { readonly kind: "ml-10m"; readonly dir: string }
  | { readonly kind: "movielens-csv"; readonly dir: string }
  | { readonly kind: "log"; readonly file: string; readonly input: DetectedInput };

const LOOKED_FOR =
  "u.data (ml-100k), ratings.dat with users.dat (ml-1m) or tags.dat/movies.dat (ml-10m), " +
  "ratings.csv with header userId,movieId,rating,timestamp (ml-20m/25m/32m/latest); " +
  "for an event log pass the file itself (CSV/TSV/JSONL, gzipped or not, or Parquet)";

/** True when any option only makes sense for a generic log. */
function hasLogOptions(o: LoadOptions): boolean {
  return Boolean(
    o.userCol ||
    o.itemCol ||
    o.timeCol ||
    o.weightCol ||
    o.usersFile ||
    o.itemsFile ||
    o.tagsFile ||
    o.delimiter ||
    o.encoding ||
    o.itemIdCol ||
    o.userIdCol,
  );
}

export async function detectLayout(path: string, options: LoadOptions = {}): Promise<Layout> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new DataError(path, null, null, "no such file or directory");
  }
  if (info.isDirectory()) {
    const layout = await detectDirectory(path);
    if (!layout) throw new DataError(path, null, null, `no known dataset layout: looked for ${LOOKED_FOR}`);
    return layout;
  }
  if (!hasLogOptions(options)) {
    const name = basename(path);
    const dir = dirname(path);
    if (name === "u.data" || name === "ratings.dat") {
      const layout = await detectDirectory(dir);
      if (layout) return layout;
    }
    if (name === "ratings.csv" && (await firstLine(path)) === "userId,movieId,rating,timestamp") {
      return { kind: "movielens-csv", dir };
    }
  }
  return { kind: "log", file: path, input: await detectInput(path, options) };
}

async function detectDirectory(dir: string): Promise<Layout | null> {
  const has = (f: string): boolean => existsSync(join(dir, f));
  if (has("u.data")) return { kind: "ml-100k", dir };
  if (has("ratings.dat")) {
    const name = basename(dir).toLowerCase();
    if (/^ml-10m/.test(name)) return { kind: "ml-10m", dir };
    if (/^ml-1m/.test(name)) return { kind: "ml-1m", dir };
    return has("users.dat") ? { kind: "ml-1m", dir } : { kind: "ml-10m", dir };
  }
  if (has("ratings.csv")) {
    const header = await firstLine(join(dir, "ratings.csv"));
    if (header === "userId,movieId,rating,timestamp") return { kind: "movielens-csv", dir };
    if (header === null) {
      throw new DataError(
        join(dir, "ratings.csv"),
        null,
        null,
        'the file is empty (expected a header line "userId,movieId,rating,timestamp")',
      );
    }
    throw new DataError(
      join(dir, "ratings.csv"),
      1,
      null,
      `expected the header "userId,movieId,rating,timestamp", got ${JSON.stringify(header)} ` +
        `(for an event log, pass the file itself with --user-col/--item-col/--time-col)`,
    );
  }
  return null;
}

/** First line without BOM and line ending, or null for an empty file. */
async function firstLine(path: string): Promise<string | null> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead === 0) return null;
    let text = buf.toString("utf8", 0, bytesRead);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const nl = text.indexOf("\n");
    return (nl < 0 ? text : text.slice(0, nl)).replace(/\r$/, "").trim();
  } finally {
    await fh.close();
  }
}
