/**
 * The `--data` option set every command that reads data shares, so a generic event log works
 * wherever a MovieLens directory does. Use it with node:util parseArgs:
 *
 *   const { values } = parseArgs({ args, options: { ...dataOptions, k: { type: "string" } } });
 *   const dataset = await loadFromArgs(values); // throws CliError when --data is missing
 *
 * and append `dataHelp` to the command's --help text.
 */
import type { ParseArgsConfig } from "node:util";
import type { Dataset } from "../data/dataset.js";
import type { LoadOptions } from "../data/load-options.js";
import { loadDataset } from "../data/load.js";
import { formatReport } from "../data/report.js";
import { parseDelimiter } from "../data/sniff.js";
import { CliError } from "./errors.js";

export const dataOptions = {
  data: { type: "string" },
  lenient: { type: "boolean" },
  "user-col": { type: "string" },
  "item-col": { type: "string" },
  "time-col": { type: "string" },
  "weight-col": { type: "string" },
  "users-file": { type: "string" },
  "items-file": { type: "string" },
  "tags-file": { type: "string" },
  delimiter: { type: "string" },
  encoding: { type: "string" },
  "item-id-col": { type: "string" },
  "item-category-cols": { type: "string" },
  "item-title-col": { type: "string" },
  "item-time-col": { type: "string" },
  "user-id-col": { type: "string" },
  "user-category-cols": { type: "string" },
  "user-number-cols": { type: "string" },
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

export const dataHelp = `Data options:
  --data <path>          MovieLens directory (ml-100k, ml-1m, ml-10m, ml-20m/25m/32m, ml-latest[-small])
                         or an event log file: delimited text with a header (separator and quoting
                         sniffed whatever the name), JSONL, or Parquet; gzipped text is read as is
  --lenient              skip bad lines (counted and reported) instead of stopping at the first
  --user-col <name>      log column with the user id (default "user")
  --item-col <name>      log column with the item id (default "item")
  --time-col <name>      log column with the time: epoch s, epoch ms or ISO-8601 (default "timestamp")
  --weight-col <name>    log column with the engagement weight (default: every event weighs 1)
  --delimiter <sep>      field separator of the log and its side files instead of the sniffed one:
                         one or two characters, or tab, comma, semicolon, pipe, space
  --encoding <enc>       text encoding: utf8 (default; invalid bytes are an error) or latin1
  --users-file <path>    log side file: user id column + gender, age, occupation, zip when present
    --user-id-col <c>          its user id column (default: --user-col's name, user, userId, id)
    --user-category-cols <a,b> columns that become categorical user features (cell "x|y" = bag)
    --user-number-cols <n,m>   columns that become numeric user features (quantile-normalized)
  --items-file <path>    log side file: item id column + title, genres (a|b|c), year when present
    --item-id-col <c>          its item id column (default: --item-col's name, item, itemId, id)
    --item-category-cols <a,b> columns that become categorical item features (cell "x|y" = bag)
    --item-title-col <t>       its title column (default "title")
    --item-time-col <r>        its release time column: a year, epoch s/ms or ISO-8601
  --tags-file <path>     log side file: user, item, tag, time columns`;

/** The parsed values of `dataOptions` (a command's parseArgs result has at least these). */
export interface DataArgValues {
  data?: string;
  lenient?: boolean;
  "user-col"?: string;
  "item-col"?: string;
  "time-col"?: string;
  "weight-col"?: string;
  "users-file"?: string;
  "items-file"?: string;
  "tags-file"?: string;
  delimiter?: string;
  encoding?: string;
  "item-id-col"?: string;
  "item-category-cols"?: string;
  "item-title-col"?: string;
  "item-time-col"?: string;
  "user-id-col"?: string;
  "user-category-cols"?: string;
  "user-number-cols"?: string;
}

/** "a,b" -> ["a", "b"]; a flag given empty or with an empty name is an error. */
function columnList(flag: string, v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const names = v.split(",").map((s) => s.trim());
  if (names.some((n) => n === ""))
    throw new CliError(`${flag}: expected column names separated by commas, got ${JSON.stringify(v)}`);
  return names;
}

/** A side-file column flag without its side file would be ignored: say so instead. */
function requireFile(
  values: DataArgValues,
  file: "items-file" | "users-file",
  flags: readonly (keyof DataArgValues)[],
): void {
  if (values[file] !== undefined) return;
  const given = flags.filter((f) => values[f] !== undefined);
  if (given.length > 0)
    throw new CliError(
      `--${given.join(", --")} ${given.length === 1 ? "names a column" : "name columns"} of --${file}, which is not given`,
    );
}

export function loadOptionsFromArgs(values: DataArgValues): LoadOptions {
  requireFile(values, "items-file", ["item-id-col", "item-category-cols", "item-title-col", "item-time-col"]);
  requireFile(values, "users-file", ["user-id-col", "user-category-cols", "user-number-cols"]);
  const enc = values.encoding;
  if (enc !== undefined && enc !== "utf8" && enc !== "latin1") {
    throw new CliError(`--encoding: expected utf8 or latin1, got ${JSON.stringify(enc)}`);
  }
  if (values.delimiter !== undefined) {
    try {
      parseDelimiter(values.delimiter);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  return {
    lenient: values.lenient ?? false,
    userCol: values["user-col"],
    itemCol: values["item-col"],
    timeCol: values["time-col"],
    weightCol: values["weight-col"],
    usersFile: values["users-file"],
    itemsFile: values["items-file"],
    tagsFile: values["tags-file"],
    delimiter: values.delimiter,
    encoding: enc,
    itemIdCol: values["item-id-col"],
    itemCategoryCols: columnList("--item-category-cols", values["item-category-cols"]),
    itemTitleCol: values["item-title-col"],
    itemTimeCol: values["item-time-col"],
    userIdCol: values["user-id-col"],
    userCategoryCols: columnList("--user-category-cols", values["user-category-cols"]),
    userNumberCols: columnList("--user-number-cols", values["user-number-cols"]),
  };
}

/**
 * Loads `--data` with the other data flags and prints the load report (skipped lines, duplicates,
 * warnings) to stderr. On a terminal, large files also show read progress.
 */
export async function loadFromArgs(values: DataArgValues): Promise<Dataset> {
  if (!values.data)
    throw new CliError("--data <path> is required (a MovieLens directory or an event log file)");
  const options: LoadOptions = { ...loadOptionsFromArgs(values), onProgress: progressPrinter() };
  const dataset = await loadDataset(values.data, options);
  for (const line of formatReport(dataset.report)) console.error(`watchnext: data: ${line}`);
  return dataset;
}

/** Prints "reading 42%" on a terminal for files over 64 MB, at most once per percent. */
function progressPrinter(): LoadOptions["onProgress"] {
  if (!process.stderr.isTTY) return undefined;
  let shown = -1;
  return (read, total) => {
    if (total < 64 << 20) return;
    const pct = Math.floor((100 * read) / total);
    if (pct === shown) return;
    shown = pct;
    process.stderr.write(pct >= 100 ? "\r\x1b[K" : `\rreading ${pct}%`);
  };
}
