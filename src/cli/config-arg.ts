/**
 * `--config <file|json>`: a model configuration given on the command line as inline JSON (starting
 * with `{`) or as the path of a JSON file. Every training command reads it here, so a bad file or
 * bad JSON is reported the same way (a CliError naming the flag); the model's own validator then
 * checks the keys.
 */
import { readFileSync } from "node:fs";
import { CliError } from "./errors.js";

/** The parsed JSON of a `--config`-style argument (`{}` when absent); `flag` names it in errors. */
export function readConfigArg(arg: string | undefined, flag = "--config"): unknown {
  if (arg === undefined) return {};
  let text = arg;
  if (!arg.trim().startsWith("{")) {
    try {
      text = readFileSync(arg, "utf8");
    } catch (err) {
      throw new CliError(`${flag}: cannot read ${arg}: ${(err as Error).message}`, { cause: err });
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${flag}: not valid JSON (${(err as Error).message})`, { cause: err });
  }
}
