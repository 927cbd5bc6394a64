/**
 * The `::`-separated releases. ml-1m: `ratings.dat` (UserID::MovieID::Rating::Timestamp),
 * `users.dat` (UserID::Gender::Age::Occupation::Zip-code, age and occupation as codes) and
 * `movies.dat` (MovieID::Title (Year)::Genre|Genre), latin-1. ml-10m: `ratings.dat`, `movies.dat`
 * and `tags.dat` (UserID::MovieID::Tag::Timestamp), UTF-8.
 */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { assembleDataset } from "./assemble.js";
import type { Dataset, TagEvents, UserInfo } from "./dataset.js";
import { DataError, quoteValue } from "./errors.js";
import type { LoadOptions } from "./load-options.js";
import { addMovieRow, addTagRow } from "./movielens-rows.js";
import { readEventFile } from "./read-events.js";
import { ReportBuilder } from "./report.js";
import { idField, intField, readSideFile, requireFields } from "./side-file.js";
import { ItemInfoBuilder, TagEventsBuilder, UserInfoBuilder, emptyItemInfo } from "./side-info.js";

/** ml-1m age codes (the README's buckets: 1 = under 18, 18 = 18-24, ..., 56 = 56+). */
const ML1M_AGE_CODES: readonly number[] = [1, 18, 25, 35, 45, 50, 56];

/** ml-1m occupation names, indexed by code 0-20. */
const ML1M_OCCUPATIONS: readonly string[] = [
  "other or not specified",
  "academic/educator",
  "artist",
  "clerical/admin",
  "college/grad student",
  "customer service",
  "doctor/health care",
  "executive/managerial",
  "farmer",
  "homemaker",
  "K-12 student",
  "lawyer",
  "programmer",
  "retired",
  "sales/marketing",
  "scientist",
  "self-employed",
  "technician/engineer",
  "tradesman/craftsman",
  "unemployed",
  "writer",
];

const MOVIE_FIELDS = ["MovieID", "Title", "Genres"];
const MOVIE_COLS = [0, 1, 2];
const TAG_FIELDS = ["UserID", "MovieID", "Tag", "Timestamp"];
const TAG_COLS = [0, 1, 2, 3];

export async function readDat(
  dir: string,
  release: "ml-1m" | "ml-10m",
  options: LoadOptions,
): Promise<Dataset> {
  const encoding = release === "ml-1m" ? "latin1" : "utf8";
  const report = new ReportBuilder(options.lenient ?? false);
  const table = await readEventFile(
    {
      path: join(dir, "ratings.dat"),
      delimiter: "::",
      quotes: false,
      header: false,
      fieldCount: 4,
      user: { position: 0, name: "UserID" },
      item: { position: 1, name: "MovieID" },
      weight: { position: 2, name: "Rating" },
      time: { position: 3, name: "Timestamp" },
      timeFormat: "integer-seconds",
      expected: "lines UserID::MovieID::Rating::Timestamp",
    },
    report,
    options.onProgress,
  );

  let itemInfo = emptyItemInfo(table.items.size);
  const moviesPath = join(dir, "movies.dat");
  if (existsSync(moviesPath)) {
    const b = new ItemInfoBuilder(table.items);
    await readSideFile(
      {
        path: moviesPath,
        delimiter: "::",
        quotes: false,
        header: false,
        expected: "lines MovieID::Title (Year)::Genres",
      },
      report,
      (r) => {
        requireFields(moviesPath, r, 3, 3, MOVIE_FIELDS);
        addMovieRow(b, moviesPath, r, MOVIE_COLS, MOVIE_FIELDS, encoding);
      },
    );
    itemInfo = b.finish(report, "movies.dat");
  } else {
    report.warn(`${basename(dir)}: no movies.dat (no titles, genres or years)`);
  }

  let userInfo: UserInfo | null = null;
  const usersPath = join(dir, "users.dat");
  if (existsSync(usersPath)) {
    const b = new UserInfoBuilder(table.users, { gender: true, age: "code", occupation: true, zip: true });
    b.declareOccupations(ML1M_OCCUPATIONS);
    const names = ["UserID", "Gender", "Age", "Occupation", "Zip-code"];
    await readSideFile(
      {
        path: usersPath,
        delimiter: "::",
        quotes: false,
        header: false,
        expected: "lines UserID::Gender::Age::Occupation::Zip-code",
      },
      report,
      (r) => {
        requireFields(usersPath, r, 5, 5, names);
        const id = idField(usersPath, r, 0, "UserID");
        const age = intField(usersPath, r, 2, "Age");
        if (!ML1M_AGE_CODES.includes(age)) {
          throw new DataError(
            usersPath,
            r.line,
            "Age",
            `expected an age code (${ML1M_AGE_CODES.join("/")}), got ${quoteValue(r.text(2))}`,
          );
        }
        const occ = intField(usersPath, r, 3, "Occupation");
        if (occ < 0 || occ >= ML1M_OCCUPATIONS.length) {
          throw new DataError(
            usersPath,
            r.line,
            "Occupation",
            `expected an occupation code 0-20, got ${quoteValue(r.text(3))}`,
          );
        }
        const zip = r.text(4, "latin1").trim();
        const gender = b.genderOf(r.text(1, "latin1"));
        const idx = b.lookup(id);
        if (idx >= 0) b.set(idx, { gender, age, occupation: ML1M_OCCUPATIONS[occ], zip });
      },
    );
    userInfo = b.finish(report, "users.dat");
  }

  let tags: TagEvents | null = null;
  const tagsPath = join(dir, "tags.dat");
  if (existsSync(tagsPath)) {
    const b = new TagEventsBuilder(table.users, table.items);
    await readSideFile(
      {
        path: tagsPath,
        delimiter: "::",
        quotes: false,
        header: false,
        expected: "lines UserID::MovieID::Tag::Timestamp",
      },
      report,
      (r) => {
        requireFields(tagsPath, r, 4, 4, TAG_FIELDS);
        addTagRow(b, tagsPath, r, TAG_COLS, TAG_FIELDS, encoding);
      },
    );
    tags = b.finish(report, "tags.dat");
  }

  return assembleDataset({
    name: basename(dir),
    format: release,
    source: dir,
    eventsFile: "ratings.dat",
    table,
    itemInfo,
    userInfo,
    tags,
    report,
  });
}
