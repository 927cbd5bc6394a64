#!/usr/bin/env node
/**
 * The `watchnext` command: a thin dispatcher. Each command lives in its own file under
 * ./commands and wires library pieces together; no logic of its own belongs here.
 */
import { commands } from "./commands/index.js";
import { UserError } from "../errors.js";

const usage = `watchnext — two-stage deep recommender (Covington et al., RecSys 2016)

Usage: watchnext <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(22)} ${c.summary}`)
  .join("\n")}

Run \`watchnext <command> --help\` for a command's options.`;

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
    console.error(`watchnext: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Errors meant for the user (bad file, option, config, model directory) print without a stack.
    if (err instanceof UserError) {
      console.error(`watchnext: ${err.message}`);
    } else {
      console.error(err);
    }
    process.exitCode = 1;
  },
);
