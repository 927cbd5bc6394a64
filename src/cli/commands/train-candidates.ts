/**
 * `watchnext train candidates`: trains the candidate generator on a protocol's training part with
 * early stopping on its validation queries, shows live progress, and writes the model directory.
 * Ctrl-C stops after the current step and saves the best model so far.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { makeSplit } from "../../eval/run-baselines.js";
import { CandidateModel } from "../../models/candidates/model.js";
import { progressPrinter } from "../../models/candidates/progress.js";
import { mergeCandidateConfig, type CandidateFeatureConfigInput } from "../../features/candidate-config.js";
import { resolveCandidateModelConfig, type CandidateConfigInput } from "../../models/candidates/config.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { CliError } from "../errors.js";
import type { Dataset } from "../../data/dataset.js";
import type { TrainingEvent } from "../../models/candidates/train.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext train candidates --data <path> --out <dir> [--config <json>] [--protocol loo|temporal] [--seed N]

Trains the candidate generator (the paper's Section 3 network) on the protocol's training part,
early-stopping on validation NDCG@10, and writes the model directory (manifest + safetensors).
Without --config the tuned defaults are used (docs/results/candidates-tuning.md). Ctrl-C stops
after the current step and saves the best model so far.

  --out <dir>            model directory to write (replaced atomically)
  --config <file|json>   partial config: {"features": {...}, "network": {...}, "train": {...}}
  --protocol <name>      loo (default) or temporal
  --seed <N>             seed of every random choice (default 1)
  --quiet                no progress output

${dataHelp}`;

export function readConfigArg(arg: string | undefined): CandidateConfigInput {
  if (arg === undefined) return {};
  const text = arg.trim().startsWith("{") ? arg : readFileOrFail(arg);
  try {
    return JSON.parse(text) as CandidateConfigInput;
  } catch (err) {
    throw new CliError(`--config: not valid JSON (${(err as Error).message})`);
  }
}

/** `--config` read and checked before any data is loaded: a bad key fails with its path, not a stack trace. */
export function checkedConfigArg(arg: string | undefined): CandidateConfigInput {
  const config = readConfigArg(arg);
  try {
    resolveCandidateModelConfig(config, "--config");
    mergeCandidateConfig(config.features as CandidateFeatureConfigInput);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  return config;
}

function readFileOrFail(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new CliError(`--config: cannot read ${path}: ${(err as Error).message}`);
  }
}

export function parseProtocol(value: string | undefined): "loo" | "temporal" {
  const p = value ?? "loo";
  if (p !== "loo" && p !== "temporal") throw new CliError(`--protocol: expected loo or temporal, got "${p}"`);
  return p;
}

export function parseSeed(value: string | undefined): number {
  const seed = value === undefined ? 1 : Number(value);
  if (!Number.isInteger(seed) || seed < 0)
    throw new CliError(`--seed: expected a non-negative integer, got "${value}"`);
  return seed;
}

export interface TrainCandidatesOptions {
  readonly config: CandidateConfigInput;
  readonly protocol: "loo" | "temporal";
  readonly seed: number;
  /** Model directory to write (replaced atomically). */
  readonly out: string;
  readonly onProgress?: (event: TrainingEvent) => void;
  readonly signal?: AbortSignal;
}

/**
 * The training path of `train candidates` (also used by `quickstart`): fit on the protocol's
 * training part with early stopping on its validation queries, save with the data and protocol in
 * the manifest. Aborting the signal keeps the best model so far (marked interrupted).
 */
export async function trainCandidatesModel(
  dataset: Dataset,
  opts: TrainCandidatesOptions,
): Promise<{ model: CandidateModel; seconds: number }> {
  const { config, protocol, seed, onProgress, signal } = opts;
  const split = makeSplit(dataset, protocol);
  const started = performance.now();
  // Temporal validation trains on data up to the validation cut; the final model is then
  // refitted on the whole training part for the chosen number of epochs.
  let model = await CandidateModel.fit(split.validTrain ?? split.train, {
    config,
    valid: split.valid,
    validProtocol: protocol,
    seed,
    onProgress,
    signal,
  });
  if (split.validTrain && !signal?.aborted && model.summary) {
    const epochs = Math.max(1, model.summary.bestEpoch);
    const tuned = model.summary;
    model = await CandidateModel.fit(split.train, {
      config: { ...config, train: { ...config.train, epochs } },
      seed,
      onProgress,
      signal,
    });
    model.summary = { ...tuned, ...model.summary, bestValid: tuned.bestValid };
  }
  const seconds = (performance.now() - started) / 1000;
  model.save(opts.out, {
    dataset: dataset.name,
    source: dataset.source,
    protocol,
    protocolParams: JSON.parse(JSON.stringify(split.params)),
    trainSeconds: seconds,
    interrupted: signal?.aborted ?? false,
  });
  return { model, seconds };
}

export const trainCandidates: Command = {
  summary: "Train the candidate generator and write a model directory",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dataOptions,
        out: { type: "string" },
        config: { type: "string" },
        protocol: { type: "string" },
        seed: { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    if (!values.out) throw new CliError(`--out <dir> is required\n\n${help}`);
    const config = checkedConfigArg(values.config);
    const protocol = parseProtocol(values.protocol);
    const seed = parseSeed(values.seed);
    const dataset = await loadFromArgs(values);
    const onProgress = values.quiet ? undefined : progressPrinter();

    const controller = new AbortController();
    const onSigint = () => {
      if (!controller.signal.aborted)
        process.stderr.write("\ninterrupt: finishing the current step, keeping the best model\n");
      controller.abort();
    };
    process.on("SIGINT", onSigint);
    try {
      const { model, seconds } = await trainCandidatesModel(dataset, {
        config,
        protocol,
        seed,
        out: values.out,
        onProgress,
        signal: controller.signal,
      });
      const s = model.summary;
      const best = s?.bestValid
        ? `, valid HR@10 ${s.bestValid.hr10.toFixed(4)} NDCG@10 ${s.bestValid.ndcg10.toFixed(4)}`
        : "";
      console.log(`saved ${values.out} (best epoch ${s?.bestEpoch ?? 0}${best}; ${seconds.toFixed(1)} s)`);
      return controller.signal.aborted ? 130 : 0;
    } finally {
      process.off("SIGINT", onSigint);
    }
  },
};
