/** An error whose message is meant for the person at the terminal (no stack trace). */
export class CliError extends Error {
  override name = "CliError";
}
