/** `watchnext data cut-history --data D --last N --out O`: a short-history subset of a MovieLens release. */
import { parseArgs } from "node:util";
import { writeMovieLensLike } from "../../data/write-movielens.js";
import { cutHistories } from "../../eval/short-history.js";
import { loadFromArgs } from "../data-args.js";
import { CliError, optionError } from "../errors.js";
import { parseInteger } from "../values.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext data cut-history --data D --last N --out O [--lenient]

Writes a copy of the MovieLens release D in which every user keeps only their N most recent
events (by timestamp, ties in file order; users with N or fewer keep all), so models can be
measured on short histories. The events file is written in D's own layout; the side files
(movies, users, tags, genre/occupation names, links, tag genome) are copied unchanged, tags
included (they are side information, not cut). The cut has no random choice, so it needs no
seed: the same D and N always give the same files. Items left without events drop out of the
catalog when O is loaded. O is replaced atomically; O/SUBSET.json records how it was made.
Under the loo protocol a user of the subset has N - 2 training events.

Options:
  --data D     MovieLens release directory (ml-100k, ml-1m, ml-10m, ml-20m..ml-latest[-small])
  --last N     events kept per user (integer >= 1; 7 gives 5 training events under loo)
  --out O      output directory (replaced when it exists)
  --lenient    skip bad lines of D (counted and reported) instead of stopping
  -h, --help   show this help`;

export const dataCutHistory: Command = {
  summary: "write a short-history subset (each user's last N events) of a MovieLens release",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        data: { type: "string" },
        last: { type: "string" },
        out: { type: "string" },
        lenient: { type: "boolean" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    if (!values.out) throw new CliError(`--out is required\n\n${help}`);
    if (!values.last) throw new CliError(`--last is required\n\n${help}`);
    const last = parseInteger("--last", values.last, 1);
    const dataset = await loadFromArgs({ data: values.data, lenient: values.lenient });
    let cut;
    try {
      cut = cutHistories(dataset, last);
    } catch (err) {
      throw optionError(err);
    }
    const copied = writeMovieLensLike(cut.dataset, values.out, {
      command: "watchnext data cut-history",
      last,
      keptEvents: cut.keptEvents,
      droppedEvents: cut.droppedEvents,
      cutUsers: cut.cutUsers,
    });
    process.stderr.write(
      `kept ${cut.keptEvents} of ${cut.keptEvents + cut.droppedEvents} events ` +
        `(${cut.cutUsers} users cut to their last ${last}); copied ${copied.join(", ") || "no side files"}; ` +
        `wrote ${values.out}\n`,
    );
    return 0;
  },
};
