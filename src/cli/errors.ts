/**
 * CLI errors: a bad command-line argument is a `CliError`, a `UserError` like any other, so the
 * dispatcher prints its message without a stack trace.
 */
import { UserError } from "../errors.js";

export class CliError extends UserError {
  override name = "CliError";
}

/**
 * The error to rethrow for `err`: library functions throw RangeErrors for out-of-range options (a
 * temporal cut that leaves no test data, a synth size of 0); on the command line those options
 * came from the user, so they become CliErrors. Anything else is rethrown unchanged.
 *
 *   try { ... } catch (err) { throw optionError(err); }
 */
export function optionError(err: unknown): unknown {
  return err instanceof RangeError ? new CliError(err.message, { cause: err }) : err;
}
