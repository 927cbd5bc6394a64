/**
 * The error every data reader throws on bad input. Its message names the file, the line, the
 * field and what was expected, e.g. `ratings.csv:1042: field 'timestamp': expected an integer,
 * got "abc"`, so a person can open the file at that line and see the problem.
 */
import { basename } from "node:path";
import { UserError } from "../errors.js";

export class DataError extends UserError {
  override name = "DataError";
  /** Path of the offending file, as it was given to the reader. */
  readonly file: string;
  /** 1-based line number, or null for problems with the file as a whole (empty, missing). */
  readonly line: number | null;
  /** Name of the offending field, or null when the problem is not tied to one field. */
  readonly field: string | null;
  /** The part of the message after the location (e.g. `expected an integer, got "abc"`). */
  readonly detail: string;

  constructor(file: string, line: number | null, field: string | null, detail: string) {
    super(formatLocation(file, line, field) + detail);
    this.file = file;
    this.line = line;
    this.field = field;
    this.detail = detail;
  }
}

/**
 * `ratings.csv:1042: field 'timestamp': ` — with a line, the file's base name keeps messages short;
 * without one (empty file, unknown directory layout) the whole path says which one was meant.
 */
function formatLocation(file: string, line: number | null, field: string | null): string {
  let s = line !== null ? basename(file) || file : file;
  if (line !== null) s += `:${line}`;
  s += ": ";
  if (field !== null) s += `field '${field}': `;
  return s;
}

/** Quotes a raw value for an error message, shortened so one bad line cannot flood the terminal. */
export function quoteValue(raw: string): string {
  const shown = raw.length > 60 ? `${raw.slice(0, 57)}...` : raw;
  return JSON.stringify(shown);
}
