/**
 * `watchnext train candidates`: trains the candidate generator on a protocol's training part with
 * early stopping on its validation queries, shows live progress, and writes the model directory.
 * Ctrl-C stops after the current step and saves the best model so far.
 */
import { parseArgs } from "node:util";
import { progressPrinter } from "../../models/candidates/progress.js";
import { resolveCandidateModelConfig, type CandidateConfigInput } from "../../models/candidates/config.js";
import { trainCandidatesModel } from "../candidates-training.js";
import { readConfigArg } from "../config-arg.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { CliError } from "../errors.js";
import { parseProtocolArgs, protocolHelp, protocolOptions, splitFromArgs } from "../protocol-args.js";
import { parseInteger, parseSeed } from "../values.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext train candidates --data <path> --out <dir> [--config <json>] [--protocol loo|temporal] [--seed N]

Trains the candidate generator (the paper's Section 3 network) on the protocol's training part,
early-stopping on validation NDCG@10, and writes the model directory (manifest + safetensors).
Without --config the tuned defaults are used (docs/results/candidates-tuning.md). Ctrl-C stops
after the current step and saves the best model so far.

  --out <dir>            model directory to write (replaced atomically)
  --config <file|json>   partial config: {"features": {...}, "network": {...}, "train": {...}}
  --seed <N>             seed of every random choice (default 1)
  --valid-users <N>      validate each epoch on a seeded sample of N validation users instead of
                         all (large datasets; the same users every epoch)
  --quiet                no progress output

${protocolHelp}

${dataHelp}`;

export const trainCandidates: Command = {
  summary: "Train the candidate generator and write a model directory",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dataOptions,
        ...protocolOptions,
        out: { type: "string" },
        config: { type: "string" },
        seed: { type: "string" },
        "valid-users": { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    if (!values.out) throw new CliError(`--out <dir> is required\n\n${help}`);
    const config = readConfigArg(values.config) as CandidateConfigInput;
    // Fail on a bad config before loading data: a ConfigError names the key path (no stack trace).
    resolveCandidateModelConfig(config, "--config");
    const protocolArgs = parseProtocolArgs(values);
    const seed = parseSeed(values.seed);
    const validUsers =
      values["valid-users"] === undefined
        ? undefined
        : parseInteger("--valid-users", values["valid-users"], 1);
    const dataset = await loadFromArgs(values);
    const split = splitFromArgs(dataset, protocolArgs);
    const onProgress = values.quiet ? undefined : progressPrinter();

    const controller = new AbortController();
    const onSigint = () => {
      if (!controller.signal.aborted)
        process.stderr.write("\ninterrupt: finishing the current step, keeping the best model\n");
      controller.abort();
    };
    process.on("SIGINT", onSigint);
    try {
      const { model, seconds } = await trainCandidatesModel(dataset, split, {
        config,
        seed,
        out: values.out,
        onProgress,
        signal: controller.signal,
        validUsers,
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
