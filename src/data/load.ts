/**
 * The one entry point for reading data: `loadDataset(path)` recognises the layout (any MovieLens
 * release directory, one of its files, or a generic CSV/TSV/JSONL event log) and returns the
 * columnar Dataset. Bad input throws a DataError naming file, line and field, unless
 * `lenient` is set, in which case bad lines are skipped and counted in `dataset.report`.
 */
import type { Dataset } from "./dataset.js";
import { DataError } from "./errors.js";
import { detectLayout } from "./detect.js";
import type { LoadOptions } from "./load-options.js";
import { readDat } from "./read-dat.js";
import { readLog } from "./read-log.js";
import { readMl100k } from "./read-ml100k.js";
import { readMovieLensCsv } from "./read-movielens-csv.js";

export async function loadDataset(path: string, options: LoadOptions = {}): Promise<Dataset> {
  const layout = await detectLayout(path, options);
  if (layout.kind !== "log") rejectLogOptions(path, layout.kind, options);
  switch (layout.kind) {
    case "ml-100k":
      return readMl100k(layout.dir, options);
    case "ml-1m":
    case "ml-10m":
      return readDat(layout.dir, layout.kind, options);
    case "movielens-csv":
      return readMovieLensCsv(layout.dir, options);
    case "log":
      return readLog(layout.file, layout.input, options);
  }
}

/** Column and side-file options describe event logs; given with a MovieLens release they would be ignored. */
function rejectLogOptions(path: string, kind: string, o: LoadOptions): void {
  const given = [
    ["--user-col", o.userCol],
    ["--item-col", o.itemCol],
    ["--time-col", o.timeCol],
    ["--weight-col", o.weightCol],
    ["--users-file", o.usersFile],
    ["--items-file", o.itemsFile],
    ["--tags-file", o.tagsFile],
    ["--delimiter", o.delimiter],
    ["--encoding", o.encoding],
    ["--item-id-col", o.itemIdCol],
    ["--item-category-cols", o.itemCategoryCols],
    ["--item-title-col", o.itemTitleCol],
    ["--item-time-col", o.itemTimeCol],
    ["--user-id-col", o.userIdCol],
    ["--user-category-cols", o.userCategoryCols],
    ["--user-number-cols", o.userNumberCols],
  ].filter(([, v]) => v !== undefined);
  if (given.length > 0) {
    throw new DataError(
      path,
      null,
      null,
      `${given.map(([f]) => f).join(", ")} apply to event log files; this is a ${kind} directory, whose layout is fixed`,
    );
  }
}
