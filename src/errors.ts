/**
 * The base class of every error meant for the person running watchnext rather than for a
 * programmer: a bad input file, option, configuration or model directory. Its message alone says
 * what is wrong and where (file, line, field or key path, and what was expected), so the CLI prints
 * it without a stack trace. Each layer throws its own subclass (DataError, FetchError, ZipError,
 * ModelFileError, CliError, and the config validator's error); callers recognise them with
 * `instanceof UserError`.
 */
export class UserError extends Error {
  override name = "UserError";
}
