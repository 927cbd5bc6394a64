/**
 * Writes a dataset's events back in the MovieLens layout it was read from (ml-100k `u.data`,
 * ml-1m / ml-10m `ratings.dat`, ml-20m..ml-latest `ratings.csv`), with the release's side files
 * (movies, users, tags, genre and occupation names, tag genome) copied byte for byte from the
 * source directory, so the written directory loads through `loadDataset` like the original: the
 * same user, item, rating and timestamp values, events in the dataset's file order. Used to save
 * derived datasets (e.g. short-history subsets). The directory is staged next to the target and
 * swapped in atomically; a `SUBSET.json` beside the files records where it came from.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { replaceDirectory, tempSibling, writeFileSynced } from "../io/atomic.js";
import type { Dataset } from "./dataset.js";
import { DataError } from "./errors.js";

/** How one layout writes its events file and which side files it reads. */
interface Layout {
  readonly eventsFile: string;
  readonly header: string | null;
  readonly separator: string;
  readonly sideFiles: readonly string[];
}

const ML100K: Layout = {
  eventsFile: "u.data",
  header: null,
  separator: "\t",
  sideFiles: ["u.item", "u.user", "u.genre", "u.occupation"],
};
const DAT: Layout = {
  eventsFile: "ratings.dat",
  header: null,
  separator: "::",
  sideFiles: ["movies.dat", "users.dat", "tags.dat"],
};
const CSV: Layout = {
  eventsFile: "ratings.csv",
  header: "userId,movieId,rating,timestamp",
  separator: ",",
  sideFiles: ["movies.csv", "tags.csv", "users.csv", "links.csv", "genome-tags.csv", "genome-scores.csv"],
};

function layoutOf(data: Dataset): Layout {
  switch (data.format) {
    case "ml-100k":
      return ML100K;
    case "ml-1m":
    case "ml-10m":
      return DAT;
    case "log":
      throw new DataError(
        data.source,
        null,
        null,
        "writing a derived dataset needs a MovieLens release directory; this is an event log " +
          "(filter the log file itself, or convert it to ratings.csv with userId,movieId,rating,timestamp)",
      );
    default:
      return CSV;
  }
}

/** A rating as the releases write it: the shortest decimal that reads back as the same float32. */
function formatWeight(w: number): string {
  return String(Number(w.toPrecision(7)));
}

/** The events file's text: one line per event of `data`, in its order. */
function eventsText(data: Dataset, layout: Layout): string {
  const { user, item, time, weight } = data.events;
  const users = data.users.ids;
  const items = data.items.ids;
  const sep = layout.separator;
  const lines: string[] = layout.header === null ? [] : [layout.header];
  for (let e = 0; e < user.length; e++) {
    const t = time[e];
    if (!Number.isInteger(t))
      throw new RangeError(
        `event ${e}: timestamp ${t} is not whole seconds, which ${layout.eventsFile} needs`,
      );
    lines.push(`${users[user[e]]}${sep}${items[item[e]]}${sep}${formatWeight(weight[e])}${sep}${t}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Writes `data` (read from a MovieLens directory, `data.source`) into `outDir`, replacing it;
 * `provenance` goes into SUBSET.json. Returns the side files copied.
 */
export function writeMovieLensLike(
  data: Dataset,
  outDir: string,
  provenance: Readonly<Record<string, unknown>>,
): string[] {
  const layout = layoutOf(data);
  if (!existsSync(join(data.source, layout.eventsFile))) {
    throw new DataError(
      data.source,
      null,
      null,
      `expected the release directory holding ${layout.eventsFile}`,
    );
  }
  const staging = tempSibling(outDir, "stage");
  mkdirSync(staging);
  try {
    writeFileSynced(join(staging, layout.eventsFile), [Buffer.from(eventsText(data, layout))]);
    const copied = layout.sideFiles.filter((f) => existsSync(join(data.source, f)));
    for (const f of copied) {
      copyFileSync(join(data.source, f), join(staging, f));
      chmodSync(join(staging, f), 0o644); // a copy of a read-only release stays writable like the rest
    }
    const record = {
      source: resolve(data.source),
      format: data.format,
      events: data.events.user.length,
      ...provenance,
    };
    writeFileSynced(join(staging, "SUBSET.json"), [Buffer.from(`${JSON.stringify(record, null, 2)}\n`)]);
    replaceDirectory(staging, outDir);
    return copied;
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}
