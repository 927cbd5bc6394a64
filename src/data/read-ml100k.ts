/**
 * MovieLens 100K: `u.data` (user, item, rating, timestamp; tab-separated), `u.item` (latin-1,
 * `|`-separated: id, title, release date, video date, URL, 19 genre flags), `u.user`
 * (id|age|gender|occupation|zip), with genre and occupation names from `u.genre` and
 * `u.occupation` when present.
 */
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { assembleDataset } from "./assemble.js";
import type { Dataset, UserInfo } from "./dataset.js";
import { DataError, quoteValue } from "./errors.js";
import type { LoadOptions } from "./load-options.js";
import { readEventFile } from "./read-events.js";
import { ReportBuilder } from "./report.js";
import { idField, intField, readSideFile, requireFields } from "./side-file.js";
import { ItemInfoBuilder, UserInfoBuilder, emptyItemInfo, yearFromDate, yearFromTitle } from "./side-info.js";

const DEFAULT_GENRES = [
  "unknown",
  "Action",
  "Adventure",
  "Animation",
  "Children's",
  "Comedy",
  "Crime",
  "Documentary",
  "Drama",
  "Fantasy",
  "Film-Noir",
  "Horror",
  "Musical",
  "Mystery",
  "Romance",
  "Sci-Fi",
  "Thriller",
  "War",
  "Western",
];
const ITEM_FIELDS = ["movie id", "title", "release date", "video release date", "IMDb URL"];
const USER_FIELDS = ["user id", "age", "gender", "occupation", "zip code"];

export async function readMl100k(dir: string, options: LoadOptions): Promise<Dataset> {
  const report = new ReportBuilder(options.lenient ?? false);
  const table = await readEventFile(
    {
      path: join(dir, "u.data"),
      delimiter: "\t",
      quotes: false,
      header: false,
      fieldCount: 4,
      user: { position: 0, name: "user id" },
      item: { position: 1, name: "item id" },
      weight: { position: 2, name: "rating" },
      time: { position: 3, name: "timestamp" },
      timeFormat: "integer-seconds",
      expected: "tab-separated lines: user id, item id, rating, timestamp",
    },
    report,
    options.onProgress,
  );

  const genres = existsSync(join(dir, "u.genre"))
    ? await readNameList(join(dir, "u.genre"), report)
    : DEFAULT_GENRES;
  let itemInfo = emptyItemInfo(table.items.size);
  const itemPath = join(dir, "u.item");
  if (existsSync(itemPath)) {
    const b = new ItemInfoBuilder(table.items);
    b.declareGenres(genres);
    const nFields = ITEM_FIELDS.length + genres.length;
    const names = [...ITEM_FIELDS, ...genres.map((g) => `genre ${g}`)];
    await readSideFile(
      {
        path: itemPath,
        delimiter: "|",
        quotes: false,
        header: false,
        expected: "u.item lines: id|title|release date|...",
      },
      report,
      (r) => {
        requireFields(itemPath, r, nFields, nFields, names);
        const id = idField(itemPath, r, 0, "movie id");
        const title = r.text(1, "latin1").trim();
        const date = r.text(2, "latin1");
        const flags: number[] = [];
        for (let g = 0; g < genres.length; g++) {
          const k = ITEM_FIELDS.length + g;
          const v = r.end[k] - r.start[k] === 1 ? r.buf[r.start[k]] - 48 : -1;
          if (v !== 0 && v !== 1) {
            throw new DataError(
              itemPath,
              r.line,
              names[k],
              `expected 0 or 1, got ${quoteValue(r.text(k, "latin1"))}`,
            );
          }
          if (v === 1) flags.push(g);
        }
        const idx = b.lookup(id);
        if (idx < 0) return;
        b.setGenreIds(idx, title, yearFromTitle(title) || yearFromDate(date), flags);
      },
    );
    itemInfo = b.finish(report, "u.item");
  } else {
    report.warn(`${basename(dir)}: no u.item (no titles, genres or years)`);
  }

  let userInfo: UserInfo | null = null;
  const userPath = join(dir, "u.user");
  if (existsSync(userPath)) {
    const b = new UserInfoBuilder(table.users, { gender: true, age: "years", occupation: true, zip: true });
    const occPath = join(dir, "u.occupation");
    if (existsSync(occPath)) b.declareOccupations(await readNameList(occPath, report));
    await readSideFile(
      {
        path: userPath,
        delimiter: "|",
        quotes: false,
        header: false,
        expected: "u.user lines: id|age|gender|occupation|zip",
      },
      report,
      (r) => {
        requireFields(userPath, r, 5, 5, USER_FIELDS);
        const id = idField(userPath, r, 0, "user id");
        const age = intField(userPath, r, 1, "age");
        const occupation = r.text(3, "latin1").trim();
        const zip = r.text(4, "latin1").trim();
        const gender = b.genderOf(r.text(2, "latin1"));
        const idx = b.lookup(id);
        if (idx < 0) return;
        b.set(idx, { gender, age, occupation, zip });
      },
    );
    userInfo = b.finish(report, "u.user");
  }

  return assembleDataset({
    name: basename(dir),
    format: "ml-100k",
    source: dir,
    eventsFile: "u.data",
    table,
    itemInfo,
    userInfo,
    tags: null,
    report,
  });
}

/** u.genre / u.occupation: one name per line, optionally followed by `|id`. */
async function readNameList(path: string, report: ReportBuilder): Promise<string[]> {
  const names: string[] = [];
  await readSideFile(
    { path, delimiter: "|", quotes: false, header: false, expected: "one name per line" },
    report,
    (r) => {
      const name = r.text(0, "latin1").trim();
      if (r.count >= 2) {
        const id = intField(path, r, 1, "id");
        if (id !== names.length) {
          throw new DataError(path, r.line, "id", `expected ${names.length} (ids in order), got ${id}`);
        }
      }
      names.push(name);
    },
  );
  return names;
}
