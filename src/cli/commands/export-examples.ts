/**
 * `watchnext export examples`: writes the candidate generator's training examples and validation
 * queries as Parquet (src/interop/parquet), with the feature schema, the model config and a
 * manifest template as key-value metadata, for training the same tower on another system.
 */
import { parseArgs } from "node:util";
import { buildCandidateFeatures } from "../../features/candidate-features.js";
import { writeExamplesParquet } from "../../interop/parquet/examples-export.js";
import { resolveCandidateModelConfig, type CandidateConfigInput } from "../../models/candidates/config.js";
import { CandidateModel, withSeed } from "../../models/candidates/model.js";
import { readConfigArg } from "../config-arg.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { CliError } from "../errors.js";
import { parseProtocolArgs, protocolHelp, protocolOptions, splitFromArgs } from "../protocol-args.js";
import { parseInteger, parseSeed } from "../values.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext export examples --data <path> --format parquet --out <dir> [--config <json>] [--protocol loo|temporal] [--seed N] [--epochs N]

Writes the candidate generator's inputs, packed exactly as \`train candidates\` packs them, for a
trainer on another system (docs/interop.md; bench/peers/torch_candidates_parquet.py trains from
them and writes a model directory that \`watchnext evaluate\` loads):

  candidate_train.parquet   one row per training example (epoch, user, label, label_time, features)
  candidate_valid.parquet   one row per validation query (user, targets, history, features)

Both carry key-value metadata: watchnext.schema (the inputs, column docs, config, tensor names
and shapes) and watchnext.model_manifest (the model manifest a trainer completes).

  --format parquet       the output format (Parquet is the one written)
  --out <dir>            directory to write (replaced atomically)
  --config <file|json>   partial candidate config, as for \`train candidates\`
  --seed <N>             seed of the example sample (as \`train candidates --seed\`; default 1)
  --epochs <N>           epochs of example samples to write (default 1; the epoch column tells them apart)

${protocolHelp}

${dataHelp}`;

export const exportExamples: Command = {
  summary: "Export the candidate generator's training examples as Parquet",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dataOptions,
        ...protocolOptions,
        format: { type: "string" },
        out: { type: "string" },
        config: { type: "string" },
        seed: { type: "string" },
        epochs: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    if (values.format !== "parquet")
      throw new CliError(
        `--format: expected parquet, got ${values.format === undefined ? "nothing" : `"${values.format}"`}\n\n${help}`,
      );
    if (!values.out) throw new CliError(`--out <dir> is required\n\n${help}`);
    const input = readConfigArg(values.config) as CandidateConfigInput;
    const seed = parseSeed(values.seed);
    const config = resolveCandidateModelConfig(withSeed(input, seed), "--config");
    const epochs = values.epochs === undefined ? 1 : parseInteger("--epochs", values.epochs, 1);
    const protocolArgs = parseProtocolArgs(values);
    const dataset = await loadFromArgs(values);
    const split = splitFromArgs(dataset, protocolArgs);
    const features = buildCandidateFeatures(split.train, config.features);
    const model = CandidateModel.create(config, features, seed);
    const summary = await writeExamplesParquet(values.out, model, dataset, split.valid, {
      protocol: split.protocol,
      protocolParams: JSON.parse(JSON.stringify(split.params)),
      seed,
      epochs,
    });
    console.log(
      `wrote ${values.out}: ${summary.trainRows} training examples, ${summary.validRows} validation queries (${summary.files.join(", ")})`,
    );
    return 0;
  },
};
