#!/usr/bin/env node
/**
 * The `watchnext` command: a thin dispatcher. Each command lives in its own file under
 * ./commands and wires library pieces together; no logic of its own belongs here.
 */
import { commands } from "./commands/index.js";
import { reportError } from "./exit.js";

const usage = `watchnext — two-stage deep recommender (Covington et al., RecSys 2016)

Usage: watchnext <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(22)} ${c.summary}`)
  .join("\n")}

Run \`watchnext <command> --help\` for a command's options.

Exit codes: 0 done; 1 bad or missing input (data, side files, model directory, a file that
cannot be read or written); 2 bad command line (unknown command or option, missing or invalid
option value, invalid --config); 70 internal error (a bug: please report it). Errors print one
or two lines; WATCHNEXT_DEBUG=1 adds the stack trace.`;

async function main(argv: string[]): Promise<number> {
  // Two-word commands ("data fetch", "train candidates") are looked up first.
  const two = argv.slice(0, 2).join(" ");
  const name = commands[two] ? two : argv[0];
  const rest = commands[two] ? argv.slice(2) : argv.slice(1);
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage);
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`watchnext: unknown command "${name}"; run \`watchnext --help\` for the list`);
    return 2;
  }
  commandName = name;
  return command.run(rest);
}

/** The command being run, for messages about its options. */
let commandName = "";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = reportError(err, commandName, process.env.WATCHNEXT_DEBUG === "1");
  },
);
