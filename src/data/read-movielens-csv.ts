/**
 * The CSV releases — ml-20m, ml-25m, ml-32m, ml-latest, ml-latest-small — which share one layout:
 * `ratings.csv` (userId,movieId,rating,timestamp), `movies.csv` (movieId,title,genres; titles
 * quoted when they contain commas; genres `|`-separated), `tags.csv` (userId,movieId,tag,timestamp),
 * all UTF-8 with a header, LF or CRLF. An optional `users.csv` (userId,gender,age,occupation,zip)
 * is read when present (the synthetic generator writes one).
 */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { assembleDataset } from "./assemble.js";
import type { IdDictionaryBuilder } from "./columns.js";
import type { Dataset, DatasetFormat, TagEvents, UserInfo } from "./dataset.js";
import { DataError, quoteValue } from "./errors.js";
import type { LoadOptions } from "./load-options.js";
import { addMovieRow, addTagRow } from "./movielens-rows.js";
import { readEventFile } from "./read-events.js";
import type { ScannedRecord } from "./record-scanner.js";
import { ReportBuilder } from "./report.js";
import { headerColumns, idField, intField, readSideFile, requireFields } from "./side-file.js";
import { ItemInfoBuilder, TagEventsBuilder, UserInfoBuilder, emptyItemInfo } from "./side-info.js";

const RATINGS_CSV_HEADER = ["userId", "movieId", "rating", "timestamp"];
const MOVIE_FIELDS = ["movieId", "title", "genres"];
const TAG_FIELDS = ["userId", "movieId", "tag", "timestamp"];

/** The release name when the directory is named like one (e.g. "ml-25m"), else "movielens-csv". */
function csvFormatFromName(dir: string): DatasetFormat {
  const m = /^(ml-(?:20m|25m|32m|latest-small|latest))(?:$|[^a-z])/i.exec(basename(dir));
  return m ? (m[1].toLowerCase() as DatasetFormat) : "movielens-csv";
}

export async function readMovieLensCsv(dir: string, options: LoadOptions): Promise<Dataset> {
  const report = new ReportBuilder(options.lenient ?? false);
  const table = await readEventFile(
    {
      path: join(dir, "ratings.csv"),
      delimiter: ",",
      quotes: true,
      header: true,
      fieldCount: null,
      user: { header: "userId" },
      item: { header: "movieId" },
      weight: { header: "rating" },
      time: { header: "timestamp" },
      timeFormat: "integer-seconds",
      expected: `a header line "${RATINGS_CSV_HEADER.join(",")}" and one rating per line`,
    },
    report,
    options.onProgress,
  );

  let itemInfo = emptyItemInfo(table.items.size);
  const moviesPath = join(dir, "movies.csv");
  if (existsSync(moviesPath)) {
    const b = new ItemInfoBuilder(table.items);
    await readCsvSideFile(moviesPath, MOVIE_FIELDS, report, (r, cols) =>
      addMovieRow(b, moviesPath, r, cols, MOVIE_FIELDS, "utf8"),
    );
    itemInfo = b.finish(report, "movies.csv");
  } else {
    report.warn(`${basename(dir)}: no movies.csv (no titles, genres or years)`);
  }

  let tags: TagEvents | null = null;
  const tagsPath = join(dir, "tags.csv");
  if (existsSync(tagsPath)) {
    const b = new TagEventsBuilder(table.users, table.items);
    await readCsvSideFile(tagsPath, TAG_FIELDS, report, (r, cols) =>
      addTagRow(b, tagsPath, r, cols, TAG_FIELDS, "utf8"),
    );
    tags = b.finish(report, "tags.csv");
  }

  const usersPath = join(dir, "users.csv");
  const userInfo = existsSync(usersPath) ? await readUsersCsv(usersPath, table.users, report) : null;

  return assembleDataset({
    name: basename(dir),
    format: csvFormatFromName(dir),
    source: dir,
    eventsFile: "ratings.csv",
    table,
    itemInfo,
    userInfo,
    tags,
    report,
  });
}

/**
 * Reads a CSV side file with a header line, resolving the required `fields` to their column
 * positions (in `fields` order) before the first row, and checks every row's field count.
 */
async function readCsvSideFile(
  path: string,
  fields: readonly string[],
  report: ReportBuilder,
  onRow: (r: ScannedRecord, cols: readonly number[]) => void,
): Promise<void> {
  let header: string[] = [];
  let cols: number[] = [];
  await readSideFile(
    { path, delimiter: ",", quotes: true, header: true, expected: `a header line "${fields.join(",")}"` },
    report,
    (r) => {
      requireFields(path, r, header.length, header.length, header);
      onRow(r, cols);
    },
    (names, line) => {
      header = names;
      cols = headerColumns(path, line, names, fields);
    },
  );
}

/**
 * users.csv: header with userId and any of gender, age, occupation, zip. Age is in years;
 * occupation is free text (names are numbered in order of first appearance).
 */
async function readUsersCsv(
  path: string,
  users: IdDictionaryBuilder,
  report: ReportBuilder,
): Promise<UserInfo> {
  const cols: Record<string, number> = {};
  let b: UserInfoBuilder | null = null;
  let header: string[] = [];
  await readSideFile(
    {
      path,
      delimiter: ",",
      quotes: true,
      header: true,
      expected: 'a header line "userId,gender,age,occupation,zip"',
    },
    report,
    (r) => {
      if (!b) return;
      requireFields(path, r, header.length, header.length, header);
      const id = idField(path, r, cols.userId, "userId");
      const age =
        cols.age >= 0 && r.end[cols.age] > r.start[cols.age] ? intField(path, r, cols.age, "age") : undefined;
      if (age !== undefined && (age < 0 || age > 150)) {
        throw new DataError(
          path,
          r.line,
          "age",
          `expected an age in years (0-150), got ${quoteValue(String(age))}`,
        );
      }
      const occupation = cols.occupation >= 0 ? r.text(cols.occupation).trim() : undefined;
      const zip = cols.zip >= 0 ? r.text(cols.zip).trim() : undefined;
      const gender = cols.gender >= 0 ? b.genderOf(r.text(cols.gender)) : undefined;
      const idx = b.lookup(id);
      if (idx >= 0) b.set(idx, { gender, age, occupation, zip });
    },
    (names, line) => {
      header = names;
      [cols.userId] = headerColumns(path, line, names, ["userId"]);
      for (const f of ["gender", "age", "occupation", "zip"]) cols[f] = names.indexOf(f);
      b = new UserInfoBuilder(users, {
        gender: cols.gender >= 0,
        age: cols.age >= 0 ? "years" : null,
        occupation: cols.occupation >= 0,
        zip: cols.zip >= 0,
      });
    },
  );
  if (!b) throw new DataError(path, null, null, "the file has no header");
  return (b as UserInfoBuilder).finish(report, basename(path));
}
