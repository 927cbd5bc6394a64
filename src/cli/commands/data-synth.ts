/** `watchnext data synth --out D`: write a synthetic ml-latest-style dataset with planted structure. */
import { parseArgs } from "node:util";
import { SYNTH_DEFAULTS, writeSynthetic } from "../../data/synth.js";
import { CliError, optionError } from "../errors.js";
import { parseInteger, parseSeed } from "../values.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext data synth --out D [options]

Writes ratings.csv, movies.csv, tags.csv (ml-latest layout) and users.csv
(userId,gender,age,occupation,zip) with planted taste clusters, drift, release-time popularity
spikes and cluster-correlated tags. The same seed gives byte-identical files.

Options:
  --out D         output directory (required)
  --users N       number of users (default ${SYNTH_DEFAULTS.users})
  --items N       number of items (default ${SYNTH_DEFAULTS.items})
  --events N      target number of ratings (default ${SYNTH_DEFAULTS.events})
  --clusters N    taste clusters (default ${SYNTH_DEFAULTS.clusters})
  --seed N        random seed (default ${SYNTH_DEFAULTS.seed})
  -h, --help      show this help`;

/** Sizes are checked for range by the generator (its RangeErrors become CliErrors). */
function intOption(name: string, value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseInteger(`--${name}`, value);
}

export const dataSynth: Command = {
  summary: "write a synthetic MovieLens-style dataset",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        out: { type: "string" },
        users: { type: "string" },
        items: { type: "string" },
        events: { type: "string" },
        clusters: { type: "string" },
        seed: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    if (!values.out) throw new CliError(`--out is required\n\n${help}`);
    const started = Date.now();
    let data;
    try {
      data = await writeSynthetic(values.out, {
        users: intOption("users", values.users),
        items: intOption("items", values.items),
        events: intOption("events", values.events),
        clusters: intOption("clusters", values.clusters),
        seed: parseSeed(values.seed, SYNTH_DEFAULTS.seed),
      });
    } catch (err) {
      throw optionError(err);
    }
    process.stderr.write(
      `wrote ${data.ratings.user.length} ratings, ${data.tags.user.length} tags, ` +
        `${data.users.cluster.length} users, ${data.items.title.length} items to ${values.out} ` +
        `in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    return 0;
  },
};
