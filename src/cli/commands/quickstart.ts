/**
 * `watchnext quickstart`: from nothing to a running recommender in one command. Uses --data or
 * fetches ml-100k, trains the model (or reuses the one trained on the same data files and config),
 * prints its test HR@10 / NDCG@10, and serves the API and the web page on the embedded SQLite
 * store, printing the URL. Ctrl-C during training keeps nothing; Ctrl-C while serving stops cleanly.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fetchRelease, progressPrinter as fetchProgress } from "../../data/fetch.js";
import { progressPrinter } from "../../models/candidates/progress.js";
import { startServer, type RunningServer } from "../../serve/start.js";
import { dataHelp, dataOptions, loadFromArgs, loadOptionsFromArgs } from "../data-args.js";
import { CliError } from "../errors.js";
import { prepareQuickstartModel, type PreparedModel } from "../quickstart-model.js";
import type { Command } from "./command.js";
import { readConfigArg } from "../config-arg.js";
import { parseSeed } from "../values.js";
import { resolveCandidateModelConfig, type CandidateConfigInput } from "../../models/candidates/config.js";

const DEFAULT_RELEASE = "ml-100k";

const help = `Usage: watchnext quickstart [--data <path>] [--port 8080] [--host 127.0.0.1] [options]

Without --data, downloads and verifies ml-100k into <data-dir>/ml-100k (once). Trains the
recommender on the leave-one-out training part, or reuses the model trained on the same data files,
config and seed (kept in <models>/quickstart-<key>), prints its test HR@10 and NDCG@10, and serves
the HTTP API and the web page on an SQLite store (<models>/quickstart-<key>.db, seeded from the
data on first run; events posted later stay in it). Open the printed URL. Ctrl-C stops.

  --port <n>             port to listen on (default 8080; 0 = any free port)
  --host <addr>          address to listen on (default 127.0.0.1)
  --models <dir>         where models and the store are kept (default ./models)
  --data-dir <dir>       where ml-100k is fetched when --data is absent (default ./data)
  --config <file|json>   partial model config, as for \`train candidates\`
  --seed <N>             seed of every random choice (default 1)
  --retrain              train even when a matching model exists
  --token <t>            require "Authorization: Bearer <t>" on write and admin routes

${dataHelp}`;

function parsePort(value: string | undefined): number {
  const port = value === undefined ? 8080 : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`--port: expected an integer 0..65535, got "${value}"`);
  return port;
}

/** The --data path, or ml-100k under --data-dir (fetched and verified if not there yet). */
async function dataPath(data: string | undefined, dataDir: string): Promise<string> {
  if (data !== undefined) return data;
  const path = join(dataDir, DEFAULT_RELEASE);
  // fetchRelease unpacks atomically, so an existing directory is a complete release.
  if (existsSync(path)) return path;
  console.error(`watchnext quickstart: no --data: fetching ${DEFAULT_RELEASE} into ${dataDir}`);
  const result = await fetchRelease(DEFAULT_RELEASE, {
    dir: dataDir,
    onProgress: fetchProgress(process.stderr),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  return result.path;
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((done) => {
    const on = (signal: string) => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      done(signal);
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

export const quickstart: Command = {
  summary: "Fetch ml-100k (or use --data), train or reuse a model, evaluate, serve API + web page",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dataOptions,
        port: { type: "string" },
        host: { type: "string" },
        models: { type: "string" },
        "data-dir": { type: "string" },
        config: { type: "string" },
        seed: { type: "string" },
        retrain: { type: "boolean" },
        token: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    const port = parsePort(values.port);
    const host = values.host ?? "127.0.0.1";
    const config = readConfigArg(values.config) as CandidateConfigInput;
    resolveCandidateModelConfig(config, "--config");
    const seed = parseSeed(values.seed);
    const modelsDir = resolve(values.models ?? "models");
    const data = await dataPath(values.data, values["data-dir"] ?? "data");
    const dataset = await loadFromArgs({ ...values, data });

    const controller = new AbortController();
    const onSigint = () => {
      if (!controller.signal.aborted)
        process.stderr.write("\ninterrupt: stopping training; the partial model is not kept\n");
      controller.abort();
    };
    process.on("SIGINT", onSigint);
    let prepared: PreparedModel;
    try {
      prepared = await prepareQuickstartModel({
        dataPath: data,
        loadOptions: loadOptionsFromArgs(values),
        dataset,
        modelsDir,
        config,
        seed,
        retrain: values.retrain,
        onProgress: progressPrinter(),
        signal: controller.signal,
        log: (line) => console.error(`watchnext quickstart: ${line}`),
      });
    } finally {
      process.off("SIGINT", onSigint);
    }
    if (prepared.interrupted) return 130;
    console.log(
      `test (leave-one-out, ${dataset.name}): HR@10 ${prepared.test.hr10.toFixed(4)}  NDCG@10 ${prepared.test.ndcg10.toFixed(4)}`,
    );

    let server: RunningServer;
    try {
      server = await startServer({
        modelDir: prepared.dir,
        store: `sqlite:${join(modelsDir, `quickstart-${prepared.key}.db`)}`,
        data,
        port,
        host,
        token: values.token,
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EADDRINUSE")
        throw new CliError(
          `--port: ${host}:${port} is already in use; pick another port, or --port 0 for any free one`,
        );
      throw err;
    }
    console.log(`watchnext quickstart: serving on ${server.url}/ (Ctrl-C to stop)`);
    const signal = await untilSignal();
    console.error(`watchnext quickstart: ${signal}: stopping`);
    await server.close();
    return 0;
  },
};
