/**
 * How an error that reaches the command line is shown and which exit code it gives. Errors meant
 * for the user (UserError: data, side files, model directory, options, config) and the system's
 * file errors print one or two lines with no stack trace; anything else is a bug and says so.
 * WATCHNEXT_DEBUG=1 adds the stack trace to every kind. The codes are listed in `watchnext --help`.
 */
import { ConfigError } from "../config/resolve-config.js";
import { UserError } from "../errors.js";
import { CliError } from "./errors.js";

export const EXIT = {
  /** Bad or missing input: data, side files, model directory, a file that cannot be read or written. */
  input: 1,
  /** Bad command line: unknown command or option, missing or invalid option value, invalid config. */
  usage: 2,
  /** Internal error (EX_SOFTWARE): a bug. */
  internal: 70,
} as const;

/** node:util parseArgs errors (unknown option, missing value, stray positional) carry these codes. */
const PARSE_ARGS_CODES = new Set([
  "ERR_PARSE_ARGS_UNKNOWN_OPTION",
  "ERR_PARSE_ARGS_INVALID_OPTION_VALUE",
  "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL",
]);

function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : undefined;
}

/** Prints `err` for a person on stderr and returns the exit code. */
export function reportError(err: unknown, command: string, debug: boolean): number {
  const where = command ? `watchnext ${command}` : "watchnext";
  const code = codeOf(err);
  let text: string;
  let exit: number;
  if (err instanceof CliError || err instanceof ConfigError) {
    // Some commands append their whole --help to a usage error; point to it instead.
    const message = (err as Error).message;
    const cut = message.indexOf("\n\nUsage:");
    text =
      cut < 0
        ? `watchnext: ${message}`
        : `watchnext: ${message.slice(0, cut)}\nRun \`${where} --help\` for its options.`;
    exit = EXIT.usage;
  } else if (err instanceof UserError) {
    text = `watchnext: ${err.message}`;
    exit = EXIT.input;
  } else if (code !== undefined && PARSE_ARGS_CODES.has(code)) {
    // parseArgs says e.g. "Unknown option '--nope'. To specify a positional argument starting with a '-', ...".
    const first = (err as Error).message.split(". ")[0].replace(/\.$/, "");
    text = `${where}: ${first}\nRun \`${where} --help\` for its options.`;
    exit = EXIT.usage;
  } else if (code !== undefined && typeof (err as { syscall?: unknown }).syscall === "string") {
    // A file the command was asked to read or write (ENOENT, EACCES, ENOSPC, ...).
    text = `watchnext: ${(err as Error).message}`;
    exit = EXIT.input;
  } else {
    const message = err instanceof Error ? err.message : String(err);
    text =
      `watchnext: internal error: ${message}\n` +
      (debug ? "" : "This is a bug; run again with WATCHNEXT_DEBUG=1 for the stack trace and report it.");
    exit = EXIT.internal;
  }
  console.error(text.trimEnd());
  if (debug && err instanceof Error && err.stack) console.error(err.stack);
  return exit;
}
