/**
 * Generic event logs: CSV or TSV with a header, or JSONL (one object per line), with user, item and
 * time columns chosen by name (defaults "user", "item", "timestamp"; weight optional, default 1).
 * Times may be epoch seconds, epoch milliseconds or ISO-8601, one kind per file. Optional side
 * files add user attributes, item titles/genres/years and tag applications.
 */
import { stat } from "node:fs/promises";
import { basename, extname } from "node:path";
import { assembleDataset } from "./assemble.js";
import { EventColumns, IdDictionaryBuilder } from "./columns.js";
import type { Dataset, ItemInfo, TagEvents, UserInfo } from "./dataset.js";
import type { LogFormat } from "./detect.js";
import { DataError, quoteValue } from "./errors.js";
import type { LoadOptions } from "./load-options.js";
import {
  idValue,
  numberValue,
  parseJsonObject,
  pickColumn,
  readTable,
  tableFormat,
  textValue,
} from "./log-table.js";
import { readEventFile, type EventTable } from "./read-events.js";
import { scanRecords } from "./record-scanner.js";
import { ReportBuilder } from "./report.js";
import {
  ItemInfoBuilder,
  NO_GENRES,
  TagEventsBuilder,
  UserInfoBuilder,
  emptyItemInfo,
  yearFromTitle,
} from "./side-info.js";
import { TimeParser, TimeValueError } from "./time-parser.js";

const FLAGS = { user: "--user-col", item: "--item-col", time: "--time-col", weight: "--weight-col" };

interface Columns {
  readonly user: string;
  readonly item: string;
  readonly time: string;
  readonly weight: string | undefined;
}

export async function readLog(file: string, format: LogFormat, options: LoadOptions): Promise<Dataset> {
  const report = new ReportBuilder(options.lenient ?? false);
  const cols: Columns = {
    user: options.userCol ?? "user",
    item: options.itemCol ?? "item",
    time: options.timeCol ?? "timestamp",
    weight: options.weightCol,
  };
  const expected =
    format === "jsonl"
      ? `one JSON object per line with keys "${cols.user}", "${cols.item}", "${cols.time}"`
      : `a header line naming the columns "${cols.user}", "${cols.item}", "${cols.time}"`;
  const table =
    format === "jsonl"
      ? await readJsonlEvents(file, cols, expected, report, options.onProgress)
      : await readEventFile(
          {
            path: file,
            delimiter: format === "tsv" ? "\t" : ",",
            quotes: format === "csv",
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
    ? await readItemsFile(options.itemsFile, cols, table, report)
    : emptyItemInfo(table.items.size);
  const userInfo = options.usersFile ? await readUsersFile(options.usersFile, cols, table, report) : null;
  const tags = options.tagsFile ? await readTagsFile(options.tagsFile, cols, table, report) : null;

  return assembleDataset({
    name: basename(file, extname(file)),
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
  report: ReportBuilder,
  onProgress: LoadOptions["onProgress"],
): Promise<EventTable> {
  if ((await stat(path)).size === 0)
    throw new DataError(path, null, null, `the file is empty (expected ${expected})`);
  const users = new IdDictionaryBuilder();
  const items = new IdDictionaryBuilder();
  const events = new EventColumns();
  const times = new TimeParser();
  await scanRecords(path, { delimiter: null, quotes: false, onProgress }, (r) => {
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

/** Items file: id column (--item-col name, "item", "itemId" or "id"), title, genres/categories, year. */
async function readItemsFile(
  path: string,
  cols: Columns,
  table: EventTable,
  report: ReportBuilder,
): Promise<ItemInfo> {
  const b = new ItemInfoBuilder(table.items);
  let idCol = "";
  let genreCol: string | undefined;
  await readTable(
    path,
    tableFormat(path),
    report,
    (get, line) => {
      const id = idValue(path, line, idCol, get(idCol));
      const title = textValue(get("title")).trim();
      const yearValue = numberValue(path, line, "year", get("year"));
      const year = yearValue !== undefined ? Math.trunc(yearValue) : yearFromTitle(title);
      const g = genreCol ? get(genreCol) : undefined;
      const genres = Array.isArray(g)
        ? g.map((x) => textValue(x).trim()).filter((x) => x !== "")
        : textValue(g)
            .split("|")
            .map((x) => x.trim())
            .filter((x) => x !== "" && x !== NO_GENRES);
      const idx = b.lookup(id);
      if (idx >= 0) b.set(idx, title, year, genres);
    },
    (names, line) => {
      const c = pickColumn(names, [cols.item, "item", "itemId", "item_id", "movieId", "id"]);
      if (!c) {
        throw new DataError(
          path,
          line,
          cols.item,
          `no item id column (looked for "${cols.item}", "item", "itemId", "item_id", "movieId", "id")`,
        );
      }
      idCol = c;
      genreCol = pickColumn(names, ["genres", "categories", "genre", "category"]);
    },
  );
  return b.finish(report, basename(path));
}

/** Users file: id column (--user-col name, "user", "userId" or "id"), gender, age (years), occupation, zip. */
async function readUsersFile(
  path: string,
  cols: Columns,
  table: EventTable,
  report: ReportBuilder,
): Promise<UserInfo> {
  let b: UserInfoBuilder | null = null;
  let idCol = "";
  await readTable(
    path,
    tableFormat(path),
    report,
    (get, line) => {
      if (!b) return;
      const id = idValue(path, line, idCol, get(idCol));
      const age = numberValue(path, line, "age", get("age"));
      if (age !== undefined && (!Number.isInteger(age) || age < 0 || age > 150)) {
        throw new DataError(
          path,
          line,
          "age",
          `expected an age in years (0-150), got ${quoteValue(String(age))}`,
        );
      }
      const gender = b.genderOf(textValue(get("gender")));
      const idx = b.lookup(id);
      if (idx >= 0) {
        b.set(idx, {
          gender,
          age,
          occupation: textValue(get("occupation")).trim(),
          zip: textValue(get("zip")).trim(),
        });
      }
    },
    (names, line) => {
      const c = pickColumn(names, [cols.user, "user", "userId", "user_id", "id"]);
      if (!c) {
        throw new DataError(
          path,
          line,
          cols.user,
          `no user id column (looked for "${cols.user}", "user", "userId", "user_id", "id")`,
        );
      }
      idCol = c;
      b = new UserInfoBuilder(table.users, {
        gender: names.includes("gender"),
        age: names.includes("age") ? "years" : null,
        occupation: names.includes("occupation"),
        zip: names.includes("zip"),
      });
    },
  );
  if (!b)
    throw new DataError(path, null, null, "the file is empty (expected a header line naming the columns)");
  return (b as UserInfoBuilder).finish(report, basename(path));
}

/** Tags file: the events' user, item and time columns plus "tag" (or "text", "query"). */
async function readTagsFile(
  path: string,
  cols: Columns,
  table: EventTable,
  report: ReportBuilder,
): Promise<TagEvents> {
  const b = new TagEventsBuilder(table.users, table.items);
  const times = new TimeParser();
  let tagCol = "tag";
  await readTable(
    path,
    tableFormat(path),
    report,
    (get, line) => {
      const u = idValue(path, line, cols.user, get(cols.user));
      const i = idValue(path, line, cols.item, get(cols.item));
      const tv = get(cols.time);
      if (tv === undefined || tv === "") throw new DataError(path, line, cols.time, "missing");
      let t: number;
      try {
        t = times.parseValue(tv, line);
      } catch (err) {
        if (err instanceof TimeValueError) throw new DataError(path, line, cols.time, err.message);
        throw err;
      }
      const text = textValue(get(tagCol));
      if (text === "") throw new DataError(path, line, tagCol, "expected a tag, got an empty value");
      b.add(u, i, t, text);
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
  );
  return b.finish(report, basename(path));
}
