/**
 * `watchnext train` (both stages) and `watchnext train ranker` (the ranker over an existing
 * candidate generator): build the leak-free impression lists, train the ranker with early stopping
 * on the validation lists' weighted per-user loss, and write one two-stage model directory.
 * Ctrl-C stops the ranker after the current epoch and saves the best epoch so far.
 */
import { parseArgs } from "node:util";
import type { Dataset } from "../../data/dataset.js";
import { readManifest, type JsonValue } from "../../engine/model-file/index.js";
import { makeSplit } from "../../eval/run-baselines.js";
import { resolveCandidateModelConfig, type CandidateConfigInput } from "../../models/candidates/config.js";
import { CANDIDATE_MODEL_KIND } from "../../models/candidates/model-io.js";
import { resolveRankerConfig, type RankerConfigInput } from "../../models/ranking/config.js";
import { loadSource, parseSourceNames } from "../../models/sources/registry.js";
import type { FittedSource } from "../../models/sources/source.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { readConfigArg } from "../config-arg.js";
import { CliError } from "../errors.js";
import { trainTwoStageModel } from "../two-stage-training.js";
import { parseProtocolArgs } from "../protocol-args.js";
import { parseSeed } from "../values.js";
import type { Command } from "./command.js";

const commonHelp = `  --out <dir>            model directory to write (replaced atomically)
  --config <file|json>   partial ranker config: {"features": {...}, "network": {...}, "train": {...}}
                         (defaults: docs/results/ranking-tuning.md)
  --sources <list>       candidate sources, comma-separated (default dnn,ease,itemknn,pop7,pop30)
  --seed <N>             seed of every random choice (default 1)
  --cache                reuse / store the impression lists and fold sources in .watchnext-cache/
  --quiet                no progress output`;

const trainHelp = `Usage: watchnext train --data <path> --out <dir> [--protocol loo|temporal] [--seed N] [--config <json>]

Trains both stages into one model directory: the candidate sources (the YouTube-DNN candidate
generator, EASE, ItemKNN, popular in the last 7/30 days) on the protocol's training part, fold
models that make leak-free training impression lists, and the ranker (weighted logistic
regression, early stopping on the validation lists' weighted per-user loss). Evaluate it with
\`watchnext evaluate\`, recommend with \`watchnext recommend\`.

  --protocol <name>      loo (default) or temporal
  --candidates-config <file|json>
                         partial candidate-generator config (as \`train candidates --config\`), for the
                         DNN of the training part and of every fold
${commonHelp}

${dataHelp}`;

const rankerHelp = `Usage: watchnext train ranker --data <path> --candidates <dir> --out <dir> [--seed N] [--config <json>]

Trains the ranker over an existing candidate generator (\`watchnext train candidates\` output; its
protocol is used): fits the other sources and the fold models itself, then writes a two-stage model
directory holding the candidate generator, the sources and the ranker.

  --candidates <dir>     candidate generator directory (the "dnn" source of the test lists and of serving)
${commonHelp}

${dataHelp}`;

const options = {
  ...dataOptions,
  "candidates-config": { type: "string" },
  out: { type: "string" },
  config: { type: "string" },
  protocol: { type: "string" },
  sources: { type: "string" },
  seed: { type: "string" },
  cache: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function parseRankerConfig(arg: string | undefined): RankerConfigInput {
  const config = readConfigArg(arg) as RankerConfigInput;
  try {
    resolveRankerConfig(config, "--config");
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  return config;
}

async function run(
  values: Record<string, string | boolean | undefined>,
  dataset: Dataset,
  protocol: "loo" | "temporal",
  fitted: (train: Dataset) => FittedSource[],
  candidatesConfig: CandidateConfigInput | undefined,
  extra: Record<string, JsonValue>,
): Promise<number> {
  const quiet = values.quiet === true;
  const log = quiet ? undefined : (line: string) => console.error(`watchnext: ${line}`);
  const seed = parseSeed(values.seed as string | undefined);
  const config = parseRankerConfig(values.config as string | undefined);
  let sources;
  try {
    sources =
      values.sources === undefined
        ? undefined
        : parseSourceNames(String(values.sources).split(","), "--sources");
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (sources && !sources.includes("dnn"))
    throw new CliError("--sources: must include dnn (the candidate generator)");
  const split = makeSplit(dataset, protocol);
  const controller = new AbortController();
  const onSigint = () => {
    if (!controller.signal.aborted)
      process.stderr.write("\ninterrupt: finishing the current epoch, keeping the best ranker\n");
    controller.abort();
  };
  process.on("SIGINT", onSigint);
  try {
    const { trained, seconds } = await trainTwoStageModel(dataset, {
      seed,
      protocol,
      out: values.out as string,
      ranker: config,
      impressions: {
        sources,
        cache: values.cache === true ? true : undefined,
        settings: candidatesConfig ? { dnn: { config: candidatesConfig } } : undefined,
      },
      fitted: fitted(split.train),
      log,
      onEpoch: (e) =>
        log?.(
          `ranker epoch ${e.epoch}: train loss ${e.trainLoss.toFixed(4)}` +
            (e.validLoss === null ? "" : `, valid weighted per-user loss ${e.validLoss.toFixed(4)}`) +
            ` (${e.seconds.toFixed(1)} s)`,
        ),
      signal: controller.signal,
      extra,
    });
    const s = trained.model.ranker?.summary;
    console.log(
      `saved ${String(values.out)} (ranker best epoch ${s?.bestEpoch ?? 0}, valid weighted per-user loss ${s?.bestValidLoss?.toFixed(4) ?? "-"}; ${seconds.toFixed(1)} s)`,
    );
    return controller.signal.aborted ? 130 : 0;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

export const trainTwoStageCommand: Command = {
  summary: "Train both stages (candidate sources + ranker) into one model directory",
  async run(args) {
    const { values } = parseArgs({ args, options });
    if (values.help) {
      console.log(trainHelp);
      return 0;
    }
    if (!values.out) throw new CliError(`--out <dir> is required\n\n${trainHelp}`);
    parseRankerConfig(values.config);
    const given = values["candidates-config"];
    const candidatesConfig =
      given === undefined ? undefined : (readConfigArg(given, "--candidates-config") as CandidateConfigInput);
    try {
      resolveCandidateModelConfig(candidatesConfig, "--candidates-config");
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const protocol = parseProtocolArgs({ protocol: values.protocol }).protocol;
    const dataset = await loadFromArgs(values);
    return run(values, dataset, protocol, () => [], candidatesConfig, {});
  },
};

export const trainRankerCommand: Command = {
  summary: "Train the ranker over a trained candidate generator (writes a two-stage directory)",
  async run(args) {
    const { values } = parseArgs({ args, options: { ...options, candidates: { type: "string" } } });
    if (values.help) {
      console.log(rankerHelp);
      return 0;
    }
    if (!values.out) throw new CliError(`--out <dir> is required\n\n${rankerHelp}`);
    if (!values.candidates) throw new CliError(`--candidates <dir> is required\n\n${rankerHelp}`);
    if (values.protocol !== undefined)
      throw new CliError("--protocol: train ranker uses the candidate model's protocol");
    parseRankerConfig(values.config);
    const candidates = values.candidates;
    if (values["candidates-config"] !== undefined)
      throw new CliError(
        "--candidates-config: train ranker trains the folds with the given candidate model's config",
      );
    const manifest = readManifest(candidates, CANDIDATE_MODEL_KIND);
    const trainedWith = manifest.metadata.protocol;
    const protocol = parseProtocolArgs({
      protocol: typeof trainedWith === "string" ? trainedWith : undefined,
    }).protocol;
    // The fold DNNs are trained with the given candidate generator's own configuration.
    const saved = (manifest.config as { model?: CandidateConfigInput } | null)?.model;
    const dataset = await loadFromArgs(values);
    return run(values, dataset, protocol, (train) => [loadSource(candidates, train)], saved, {
      candidatesFrom: candidates,
    });
  },
};
