/**
 * Generic event logs: delimited text with a header (separator and quoting sniffed, whatever the
 * extension), JSONL (one object per line) or Parquet, gzipped or not, with user, item and time
 * columns chosen by name (defaults "user", "item", "timestamp"; weight optional, default 1).
 * Times may be epoch seconds, epoch milliseconds or ISO-8601, one kind per file. Optional side
 * files add user attributes, item titles/genres/years, any named categorical or numeric columns,
 * and tag applications.
 */
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { assembleDataset } from "./assemble.js";
import { EventColumns, IdDictionaryBuilder } from "./columns.js";
import type { CategoricalColumn, Dataset, ItemInfo, NumericColumn, TagEvents, UserInfo } from "./dataset.js";
import { DataError, quoteValue } from "./errors.js";
import type { LoadOptions } from "./load-options.js";
import {
  idValue,
  numberValue,
  parseJsonObject,
  pickColumn,
  readTable,
  textValue,
  type RowGetter,
} from "./log-table.js";
import { readEventFile, type EventTable } from "./read-events.js";
import { readParquetEvents } from "./read-parquet.js";
import { scanRecords } from "./record-scanner.js";
import { ReportBuilder } from "./report.js";
import {
  CategoricalColumnBuilder,
  ItemInfoBuilder,
  NO_GENRES,
  NumericColumnBuilder,
  TagEventsBuilder,
  UserInfoBuilder,
  cellValues,
  emptyItemInfo,
  yearFromTitle,
} from "./side-info.js";
import { columnNotFound } from "./side-file.js";
import type { DetectedInput, SniffOptions } from "./sniff.js";
import { TimeParser, TimeValueError } from "./time-parser.js";

const FLAGS = { user: "--user-col", item: "--item-col", time: "--time-col", weight: "--weight-col" };

interface Columns {
  readonly user: string;
  readonly item: string;
  readonly time: string;
  readonly weight: string | undefined;
}

export async function readLog(file: string, input: DetectedInput, options: LoadOptions): Promise<Dataset> {
  const report = new ReportBuilder(options.lenient ?? false);
  report.input(input);
  const sniff: SniffOptions = { delimiter: options.delimiter, encoding: options.encoding };
  const cols: Columns = {
    user: options.userCol ?? "user",
    item: options.itemCol ?? "item",
    time: options.timeCol ?? "timestamp",
    weight: options.weightCol,
  };
  const expected =
    input.kind === "jsonl"
      ? `one JSON object per line with keys "${cols.user}", "${cols.item}", "${cols.time}"`
      : `a header line naming the columns "${cols.user}", "${cols.item}", "${cols.time}"`;
  const table =
    input.kind === "jsonl"
      ? await readJsonlEvents(file, cols, expected, input, report, options.onProgress)
      : input.kind === "parquet"
        ? await readParquetEvents(file, cols, FLAGS, report, options.onProgress)
        : await readEventFile(
            {
              path: file,
              delimiter: input.delimiter ?? ",",
              quotes: input.quotes,
              encoding: input.encoding,
              header: true,
              fieldCount: null,
              user: { header: cols.user },
              item: { header: cols.item },
              time: { header: cols.time },
              weight: cols.weight ? { header: cols.weight } : null,
              timeFormat: "auto",
              expected,
              flags: FLAGS,
            },
            report,
            options.onProgress,
          );

  const itemInfo = options.itemsFile
    ? await readItemsFile(options.itemsFile, cols, options, sniff, table, report)
    : emptyItemInfo(table.items.size);
  const userInfo = options.usersFile
    ? await readUsersFile(options.usersFile, cols, options, sniff, table, report)
    : null;
  const tags = options.tagsFile ? await readTagsFile(options.tagsFile, cols, sniff, table, report) : null;

  return assembleDataset({
    name: basename(file)
      .replace(/(\.gz)$/i, "")
      .replace(/\.[^.]*$/, ""),
    format: "log",
    source: file,
    eventsFile: basename(file),
    table,
    itemInfo,
    userInfo,
    tags,
    report,
  });
}

async function readJsonlEvents(
  path: string,
  cols: Columns,
  expected: string,
  input: DetectedInput,
  report: ReportBuilder,
  onProgress: LoadOptions["onProgress"],
): Promise<EventTable> {
  if ((await stat(path)).size === 0)
    throw new DataError(path, null, null, `the file is empty (expected ${expected})`);
  const users = new IdDictionaryBuilder();
  const items = new IdDictionaryBuilder();
  const events = new EventColumns();
  const times = new TimeParser();
  await scanRecords(path, { delimiter: null, quotes: false, encoding: input.encoding, onProgress }, (r) => {
    try {
      const o = parseJsonObject(path, r.line, r.text(0));
      const u = idValue(path, r.line, cols.user, o[cols.user]);
      const i = idValue(path, r.line, cols.item, o[cols.item]);
      const tv = o[cols.time];
      if (tv === undefined)
        throw new DataError(path, r.line, cols.time, `missing (choose the key with ${FLAGS.time})`);
      let t: number;
      try {
        t = times.parseValue(tv, r.line);
      } catch (err) {
        if (err instanceof TimeValueError) throw new DataError(path, r.line, cols.time, err.message);
        throw err;
      }
      let w = 1;
      if (cols.weight) {
        const wv = numberValue(path, r.line, cols.weight, o[cols.weight]);
        if (wv === undefined)
          throw new DataError(path, r.line, cols.weight, `missing (choose the key with ${FLAGS.weight})`);
        w = wv;
      }
      events.push(users.intern(u), items.intern(i), t, w);
    } catch (err) {
      report.badLine(err);
    }
  });
  if (events.length === 0) {
    const bad = report.skippedIn(path);
    const why = bad
      ? `all ${bad.count} data lines were bad; first: ${bad.examples[0]}`
      : "there are no data lines";
    throw new DataError(path, null, null, `no events: ${why} (expected ${expected})`);
  }
  return { users, items, events };
}

/** Each named column exists in the header, or a DataError naming the flag that names it. */
function requireColumns(
  path: string,
  line: number,
  names: readonly string[],
  wanted: readonly string[],
  flag: string,
): void {
  for (const c of wanted) if (!names.includes(c)) throw columnNotFound(path, line, c, names, flag);
}

/** An age in years (0-150), or undefined when empty. */
function ageValue(path: string, line: number, v: unknown): number | undefined {
  const age = numberValue(path, line, "age", v);
  if (age !== undefined && (!Number.isInteger(age) || age < 0 || age > 150)) {
    throw new DataError(
      path,
      line,
      "age",
      `expected an age in years (0-150), got ${quoteValue(String(age))}`,
    );
  }
  return age;
}

/** A release time as a year: a year number (1000-9999), or any time the log accepts. */
function releaseYear(times: TimeParser, path: string, line: number, field: string, v: unknown): number {
  if (v === undefined || v === null || v === "") return 0;
  const n = typeof v === "number" ? v : typeof v === "string" && /^\s*\d{4}\s*$/.test(v) ? Number(v) : NaN;
  if (Number.isInteger(n) && n >= 1000 && n <= 9999) return n;
  try {
    return new Date(times.parseValue(v, line) * 1000).getUTCFullYear();
  } catch (err) {
    if (err instanceof TimeValueError) throw new DataError(path, line, field, err.message);
    throw err;
  }
}

/**
 * Items file: id column (--item-id-col, else the log's item column name, "item", "itemId", "id"
 * ...), title (--item-title-col, default "title"), release year (--item-time-col, else "year" or
 * the title's "(1995)"), genres ("genres"/"categories" ...), and the --item-category-cols columns.
 */
async function readItemsFile(
  path: string,
  cols: Columns,
  o: LoadOptions,
  sniff: SniffOptions,
  table: EventTable,
  report: ReportBuilder,
): Promise<ItemInfo> {
  const b = new ItemInfoBuilder(table.items);
  const categoryNames = o.itemCategoryCols ?? [];
  const categories = categoryNames.map((c) => new CategoricalColumnBuilder(c, table.items.size));
  const times = new TimeParser();
  const titleCol = o.itemTitleCol ?? "title";
  let idCol = "";
  let genreCol: string | undefined;
  await readTable(
    path,
    sniff,
    report,
    (get, line) => {
      const id = idValue(path, line, idCol, get(idCol));
      const title = textValue(get(titleCol)).trim();
      let year: number;
      if (o.itemTimeCol) year = releaseYear(times, path, line, o.itemTimeCol, get(o.itemTimeCol));
      else {
        const yearValue = numberValue(path, line, "year", get("year"));
        year = yearValue !== undefined ? Math.trunc(yearValue) : yearFromTitle(title);
      }
      const genres = genreCol ? cellValues(get(genreCol)).filter((x) => x !== NO_GENRES) : [];
      const values = categories.map((c) => cellValues(get(c.name)));
      const idx = b.lookup(id);
      if (idx < 0) return;
      b.set(idx, title, year, genres);
      categories.forEach((c, k) => c.set(idx, values[k]));
    },
    (names, line) => {
      const c = o.itemIdCol ?? pickColumn(names, [cols.item, "item", "itemId", "item_id", "movieId", "id"]);
      if (!c) {
        throw new DataError(
          path,
          line,
          cols.item,
          `no item id column (looked for "${cols.item}", "item", "itemId", "item_id", "movieId", "id"; choose it with --item-id-col)`,
        );
      }
      requireColumns(path, line, names, [c], "--item-id-col");
      if (o.itemTitleCol) requireColumns(path, line, names, [o.itemTitleCol], "--item-title-col");
      if (o.itemTimeCol) requireColumns(path, line, names, [o.itemTimeCol], "--item-time-col");
      requireColumns(path, line, names, categoryNames, "--item-category-cols");
      idCol = c;
      // The built-in genres column, unless it is named as a category column of its own.
      const g = pickColumn(names, ["genres", "categories", "genre", "category"]);
      genreCol = g !== undefined && !categoryNames.includes(g) ? g : undefined;
    },
    (c, get, line) => {
      if (c === idCol) idValue(path, line, idCol, get(idCol));
      else if (c === o.itemTimeCol) releaseYear(times, path, line, c, get(c));
      else if (c === "year" && !o.itemTimeCol) numberValue(path, line, "year", get("year"));
    },
  );
  const info = b.finish(report, basename(path));
  const named: CategoricalColumn[] = categories.map((c) => c.finish());
  return named.length > 0 ? { ...info, categories: named } : info;
}

/**
 * Users file: id column (--user-id-col, else the log's user column name, "user", "userId", "id"
 * ...), gender, age (years), occupation, zip when present, and the --user-category-cols and
 * --user-number-cols columns.
 */
async function readUsersFile(
  path: string,
  cols: Columns,
  o: LoadOptions,
  sniff: SniffOptions,
  table: EventTable,
  report: ReportBuilder,
): Promise<UserInfo> {
  let b: UserInfoBuilder | null = null;
  let idCol = "";
  const categoryNames = o.userCategoryCols ?? [];
  const numberNames = o.userNumberCols ?? [];
  const named = new Set([...categoryNames, ...numberNames]);
  const categories = categoryNames.map((c) => new CategoricalColumnBuilder(c, table.users.size));
  const numbers = numberNames.map((c) => new NumericColumnBuilder(c, table.users.size));
  // The built-in columns, unless named as feature columns of their own.
  const builtin = (names: readonly string[], c: string): boolean => names.includes(c) && !named.has(c);
  let has = { gender: false, age: false, occupation: false, zip: false };
  await readTable(
    path,
    sniff,
    report,
    (get, line) => {
      if (!b) return;
      const id = idValue(path, line, idCol, get(idCol));
      const age = has.age ? ageValue(path, line, get("age")) : undefined;
      const catValues = categories.map((c) => cellValues(get(c.name)));
      const numValues = numbers.map((c) => numberValue(path, line, c.name, get(c.name)));
      const gender = has.gender ? b.genderOf(textValue(get("gender"))) : undefined;
      const idx = b.lookup(id);
      if (idx >= 0) {
        b.set(idx, {
          gender,
          age,
          occupation: has.occupation ? textValue(get("occupation")).trim() : undefined,
          zip: has.zip ? textValue(get("zip")).trim() : undefined,
        });
        categories.forEach((c, k) => c.set(idx, catValues[k]));
        numbers.forEach((c, k) => {
          c.values[idx] = numValues[k] ?? NaN;
        });
      }
    },
    (names, line) => {
      const c = o.userIdCol ?? pickColumn(names, [cols.user, "user", "userId", "user_id", "id"]);
      if (!c) {
        throw new DataError(
          path,
          line,
          cols.user,
          `no user id column (looked for "${cols.user}", "user", "userId", "user_id", "id"; choose it with --user-id-col)`,
        );
      }
      requireColumns(path, line, names, [c], "--user-id-col");
      requireColumns(path, line, names, categoryNames, "--user-category-cols");
      requireColumns(path, line, names, numberNames, "--user-number-cols");
      idCol = c;
      has = {
        gender: builtin(names, "gender"),
        age: builtin(names, "age"),
        occupation: builtin(names, "occupation"),
        zip: builtin(names, "zip"),
      };
      b = new UserInfoBuilder(table.users, {
        gender: has.gender,
        age: has.age ? "years" : null,
        occupation: has.occupation,
        zip: has.zip,
      });
    },
    (c, get, line) => {
      if (c === idCol) idValue(path, line, idCol, get(idCol));
      else if (c === "age" && has.age) ageValue(path, line, get("age"));
      else if (numberNames.includes(c)) numberValue(path, line, c, get(c));
    },
  );
  if (!b)
    throw new DataError(path, null, null, "the file is empty (expected a header line naming the columns)");
  const info = (b as UserInfoBuilder).finish(report, basename(path));
  const cats: CategoricalColumn[] = categories.map((c) => c.finish());
  const nums: NumericColumn[] = numbers.map((c) => c.finish());
  return cats.length + nums.length > 0 ? { ...info, categories: cats, numbers: nums } : info;
}

/** Tags file: the events' user, item and time columns plus "tag" (or "text", "query"). */
async function readTagsFile(
  path: string,
  cols: Columns,
  sniff: SniffOptions,
  table: EventTable,
  report: ReportBuilder,
): Promise<TagEvents> {
  const b = new TagEventsBuilder(table.users, table.items);
  const times = new TimeParser();
  let tagCol = "tag";
  const tagTime = (get: RowGetter, line: number): number => {
    const tv = get(cols.time);
    if (tv === undefined || tv === "") throw new DataError(path, line, cols.time, "missing");
    try {
      return times.parseValue(tv, line);
    } catch (err) {
      if (err instanceof TimeValueError) throw new DataError(path, line, cols.time, err.message);
      throw err;
    }
  };
  const tagText = (get: RowGetter, line: number): string => {
    const text = textValue(get(tagCol));
    if (text === "") throw new DataError(path, line, tagCol, "expected a tag, got an empty value");
    return text;
  };
  await readTable(
    path,
    sniff,
    report,
    (get, line) => {
      const u = idValue(path, line, cols.user, get(cols.user));
      const i = idValue(path, line, cols.item, get(cols.item));
      const t = tagTime(get, line);
      b.add(u, i, t, tagText(get, line));
    },
    (names, line) => {
      tagCol = pickColumn(names, ["tag", "text", "query"]) ?? "tag";
      for (const c of [cols.user, cols.item, cols.time]) {
        if (!names.includes(c)) {
          throw new DataError(
            path,
            line,
            c,
            `column not found; the first row has: ${names.map((n) => JSON.stringify(n)).join(", ")}`,
          );
        }
      }
    },
    (c, get, line) => {
      if (c === cols.user || c === cols.item) idValue(path, line, c, get(c));
      else if (c === cols.time) tagTime(get, line);
      else if (c === tagCol) tagText(get, line);
    },
  );
  return b.finish(report, basename(path));
}
