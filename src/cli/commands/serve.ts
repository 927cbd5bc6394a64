/**
 * `watchnext serve`: the HTTP service (src/serve) on a model directory and a store. Prints one
 * "listening on <url>" line on stdout when ready; SIGINT / SIGTERM stop it gracefully (in-flight
 * requests finish, buffered impressions are written, the store is closed).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { describeStore, DEFAULT_STORE } from "../../serve/store/open-store.js";
import { DEFAULT_HOST, DEFAULT_PORT, startServer } from "../../serve/start.js";
import { CliError } from "../errors.js";
import type { Command } from "./command.js";
import { UserError } from "../../errors.js";
import { ServeError } from "../../serve/errors.js";
import { DEFAULT_WORKERS } from "../../serve/recommend-workers.js";

const help = `Usage: watchnext serve --model <dir> [--data <path>] [--store sqlite:<file>|postgres://…]
                       [--port 8080] [--host 127.0.0.1] [--token <t> | --token-file <f>]
                       [--exact-below 100000] [--index-cache <file>] [--feed-poll-ms 1000]
                       [--workers ${DEFAULT_WORKERS}] [--log-level info]

Serves recommendations, event ingestion and the web page over HTTP (API under /v1, OpenAPI at
/openapi.json, metrics at /metrics).

  --model <dir>        model directory written by \`watchnext train\` (a candidates-only one serves stage one)
  --data <path>        dataset that seeds an EMPTY store (the data the model was trained on);
                       once seeded, the store is the truth and --data is not read again
  --store <spec>       sqlite:<file> (default ${DEFAULT_STORE}) or postgres://user@host:port/db
                       (several instances can share one PostgreSQL database)
  --port <n>           port (default ${DEFAULT_PORT}; 0 = any free port)
  --host <addr>        address to listen on (default ${DEFAULT_HOST})
  --token <t>          require \`Authorization: Bearer <t>\` on write and admin routes
  --token-file <f>     read the token from a file (first line), keeping it out of the process list
  --exact-below <n>    catalog size from which retrieval uses HNSW instead of exact top-k (default 100000)
  --index-cache <f>    keep a built HNSW index in this file and reuse it when it matches the model
  --feed-poll-ms <n>   on PostgreSQL, how often events other instances ingested are replayed into
                       this one's popularity features and sources (default 1000; also on a request
                       that finds them older, never delaying it)
  --workers <n>        worker threads that compute recommendations, each holding the model (default
                       ${DEFAULT_WORKERS} here: one per core up to 8; 0 = on the event loop, the default on one core)
  --log-level <l>      fatal|error|warn|info|debug (default info; requests are not logged one by one)`;

export const serveCommand: Command = {
  summary: "Serve recommendations and event ingestion over HTTP (with the web page)",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        model: { type: "string" },
        data: { type: "string" },
        store: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        token: { type: "string" },
        "token-file": { type: "string" },
        "log-level": { type: "string" },
        "exact-below": { type: "string" },
        "index-cache": { type: "string" },
        "feed-poll-ms": { type: "string" },
        workers: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    if (!values.model) throw new CliError(`--model <dir> is required\n\n${help}`);
    const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new CliError(`--port: expected an integer 0..65535, got "${values.port}"`);
    if (values.token !== undefined && values["token-file"] !== undefined)
      throw new CliError("give --token or --token-file, not both");
    let token = values.token;
    if (values["token-file"] !== undefined) {
      let text: string;
      try {
        text = readFileSync(values["token-file"], "utf8");
      } catch (error) {
        throw new CliError(`--token-file: cannot read ${values["token-file"]}: ${(error as Error).message}`);
      }
      token = text.split(/\r?\n/)[0].trim();
      if (token === "") throw new CliError(`--token-file: ${values["token-file"]} is empty`);
    }
    if (token !== undefined && token === "") throw new CliError("--token: the token is empty");
    const level = values["log-level"] ?? "info";
    if (!["fatal", "error", "warn", "info", "debug", "trace"].includes(level))
      throw new CliError(`--log-level: expected fatal|error|warn|info|debug, got "${level}"`);
    const exactBelow = values["exact-below"] === undefined ? undefined : Number(values["exact-below"]);
    if (exactBelow !== undefined && !(Number.isInteger(exactBelow) && exactBelow >= 0))
      throw new CliError(`--exact-below: expected a non-negative integer, got "${values["exact-below"]}"`);
    const feedPollMs = values["feed-poll-ms"] === undefined ? undefined : Number(values["feed-poll-ms"]);
    if (feedPollMs !== undefined && !(Number.isInteger(feedPollMs) && feedPollMs >= 1))
      throw new CliError(`--feed-poll-ms: expected a positive integer, got "${values["feed-poll-ms"]}"`);
    const workers = values.workers === undefined ? undefined : Number(values.workers);
    if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0))
      throw new CliError(`--workers: expected a non-negative integer, got "${values.workers}"`);
    const store = values.store ?? DEFAULT_STORE;
    const log = (line: string) => console.error(`watchnext serve: ${line}`);
    log(`store ${describeStore(store)}`);
    let server;
    try {
      server = await startServer({
        modelDir: values.model,
        data: values.data,
        store,
        port,
        host: values.host ?? DEFAULT_HOST,
        token,
        logger: { level },
        exactBelow,
        indexCache: values["index-cache"],
        feedPollMs,
        workers,
        log,
      });
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new ServeError((error as Error).message, { cause: error });
    }
    if (token === undefined)
      log("no --token: write and admin routes are open to anyone who can reach the port");
    console.log(`watchnext serve: listening on ${server.url}`);
    const running = server;
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log(`${signal}: stopping (finishing in-flight requests)`);
        running.close().then(resolve, (error: unknown) => {
          console.error(error);
          resolve();
        });
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
    log("stopped");
    return 0;
  },
};
