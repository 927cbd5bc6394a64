/** `watchnext data fetch <release>`: download, verify and unpack a MovieLens release. */
import { parseArgs } from "node:util";
import { fetchRelease, progressPrinter } from "../../data/fetch.js";
import { DEFAULT_FETCH_BASE, RELEASE_NAMES, isReleaseName } from "../../data/releases.js";
import { CliError } from "../errors.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext data fetch <${RELEASE_NAMES.join("|")}> [options]

Downloads the GroupLens archive, verifies its size and MD5 (the published <name>.zip.md5 and the
values known to watchnext), and unpacks it atomically into <dir>/<name>.

Options:
  --dir D          parent directory (default: data)
  --base URL       where <name>.zip lives (default: $WATCHNEXT_FETCH_BASE or ${DEFAULT_FETCH_BASE})
  --force          replace an existing <dir>/<name>
  --keep-archive   keep <dir>/<name>.zip after unpacking
  -h, --help       show this help`;

export const dataFetch: Command = {
  summary: "download + verify + unpack a MovieLens release",
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        dir: { type: "string", default: "data" },
        base: { type: "string" },
        force: { type: "boolean", default: false },
        "keep-archive": { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    const name = positionals[0];
    if (!name || positionals.length > 1) throw new CliError(`expected one release name\n\n${help}`);
    if (!isReleaseName(name)) {
      throw new CliError(`unknown release "${name}" (expected one of ${RELEASE_NAMES.join(", ")})`);
    }
    const result = await fetchRelease(name, {
      dir: values.dir,
      baseUrl: values.base,
      force: values.force,
      keepArchive: values["keep-archive"],
      onProgress: progressPrinter(process.stderr),
      log: (line) => process.stderr.write(`${line}\n`),
    });
    console.log(result.path);
    return 0;
  },
};
