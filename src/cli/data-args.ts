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
} as const satisfies NonNullable<ParseArgsConfig["options"]>;

export const dataHelp = `Data options:
  --data <path>          MovieLens directory (ml-100k, ml-1m, ml-10m, ml-20m/25m/32m, ml-latest[-small])
                         or an event log file (.csv, .tsv, .jsonl with a header / one object per line)
  --lenient              skip bad lines (counted and reported) instead of stopping at the first
  --user-col <name>      log column with the user id (default "user")
  --item-col <name>      log column with the item id (default "item")
  --time-col <name>      log column with the time: epoch s, epoch ms or ISO-8601 (default "timestamp")
  --weight-col <name>    log column with the engagement weight (default: every event weighs 1)
  --users-file <path>    log side file: user id column + gender, age, occupation, zip
  --items-file <path>    log side file: item id column + title, genres (a|b|c), year
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
}

export function loadOptionsFromArgs(values: DataArgValues): LoadOptions {
  return {
    lenient: values.lenient ?? false,
    userCol: values["user-col"],
    itemCol: values["item-col"],
    timeCol: values["time-col"],
    weightCol: values["weight-col"],
    usersFile: values["users-file"],
    itemsFile: values["items-file"],
    tagsFile: values["tags-file"],
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
