/**
 * `watchnext export examples`: writes the candidate generator's training examples and validation
 * queries as Parquet (src/interop/parquet), with the feature schema, the model config and a
 * manifest template as key-value metadata, for training the same tower on another system.
 */
import { parseArgs } from "node:util";
import type { Dataset } from "../../data/dataset.js";
import { buildCandidateFeatures } from "../../features/candidate-features.js";
import { ItemTimeline } from "../../features/ranking-context.js";
import { RankingFeatures } from "../../features/ranking-features.js";
import type { RankerImpressions } from "../../interop/parquet/impressions-export.js";
import { resolveRankerConfig, type RankerConfigInput } from "../../models/ranking/config.js";
import { buildImpressions } from "../../models/ranking/impression-builder.js";
import { rankingInputs } from "../../models/ranking/train-two-stage.js";
import { parseSourceNames } from "../../models/sources/registry.js";
import { writeExamplesParquet } from "../../interop/parquet/examples-export.js";
import { resolveCandidateModelConfig, type CandidateConfigInput } from "../../models/candidates/config.js";
import { CandidateModel, withSeed } from "../../models/candidates/model.js";
import { readConfigArg } from "../config-arg.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { CliError } from "../errors.js";
import {
  parseProtocolArgs,
  protocolHelp,
  protocolOptions,
  splitFromArgs,
  type ProtocolArgs,
} from "../protocol-args.js";
import { parseInteger, parseSeed } from "../values.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext export examples --data <path> --format parquet --out <dir> [--config <json>] [--protocol loo|temporal] [--seed N] [--epochs N] [--ranker [--sources <list>] [--ranker-config <json>]]

Writes the candidate generator's inputs, packed exactly as \`train candidates\` packs them, for a
trainer on another system (docs/interop.md; bench/peers/torch_candidates_parquet.py trains from
them and writes a model directory that \`watchnext evaluate\` loads):

  candidate_train.parquet   one row per training example (epoch, user, label, label_time, features)
  candidate_valid.parquet   one row per validation query (user, targets, history, features)
  ranker_train.parquet      (--ranker) one row per candidate of the ranker's leak-free training
                            lists (list, user, time, item, label, weight, query.*, impression.*)
  ranker_valid.parquet      (--ranker) the same for the validation lists

Both carry key-value metadata: watchnext.schema (the inputs, column docs, config, tensor names
and shapes) and watchnext.model_manifest (the model manifest a trainer completes); the ranker's files carry
watchnext.ranker_schema (query and impression inputs, config, tensor names and shapes).

  --format parquet       the output format (Parquet is the one written)
  --out <dir>            directory to write (replaced atomically)
  --config <file|json>   partial candidate config, as for \`train candidates\`
  --seed <N>             seed of the example sample (as \`train candidates --seed\`; default 1)
  --epochs <N>           epochs of example samples to write (default 1; the epoch column tells them apart)
  --ranker               also build and write the ranker's impressions as \`watchnext train\` does
                         (fits the candidate sources and the fold models: minutes on ml-100k)
  --sources <list>       with --ranker: candidate sources (default dnn,ease,itemknn,pop7,pop30)
  --ranker-config <file|json>
                         with --ranker: partial ranker config (its features group shapes the inputs)
  --quiet                no progress output

${protocolHelp}

${dataHelp}`;

/** The ranker's training and validation impression lists, built as `watchnext train` builds them. */
async function rankerImpressions(
  dataset: Dataset,
  protocolArgs: ProtocolArgs,
  seed: number,
  candidates: CandidateConfigInput,
  values: { sources?: string; "ranker-config"?: string },
  log: ((line: string) => void) | undefined,
): Promise<RankerImpressions> {
  const rankerInput = readConfigArg(values["ranker-config"], "--ranker-config") as RankerConfigInput;
  const rankerConfig = resolveRankerConfig(rankerInput, "--ranker-config");
  let sources;
  try {
    sources =
      values.sources === undefined ? undefined : parseSourceNames(values.sources.split(","), "--sources");
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (sources && !sources.includes("dnn"))
    throw new CliError("--sources: must include dnn (the candidate generator)");
  const imp = await buildImpressions(dataset, {
    protocol: protocolArgs.protocol,
    temporal: protocolArgs.temporal,
    sources,
    seed,
    settings: { dnn: { config: candidates } },
    log,
  });
  const inputs = rankingInputs(imp, dataset);
  const train = imp.split.train;
  const features = RankingFeatures.fit(
    train,
    ItemTimeline.fromDataset(train),
    inputs.train,
    rankerConfig.features,
  );
  return { features, config: rankerConfig, train: inputs.train, valid: inputs.valid, seed };
}

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
        ranker: { type: "boolean" },
        sources: { type: "string" },
        "ranker-config": { type: "string" },
        quiet: { type: "boolean" },
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
    const log = values.quiet ? undefined : (line: string) => console.error(`watchnext: ${line}`);
    const ranker = values.ranker
      ? await rankerImpressions(dataset, protocolArgs, seed, input, values, log)
      : undefined;
    const summary = await writeExamplesParquet(values.out, model, dataset, split.valid, {
      protocol: split.protocol,
      protocolParams: JSON.parse(JSON.stringify(split.params)),
      seed,
      epochs,
      ranker,
    });
    const lists = summary.rankerRows
      ? `, ranker candidates ${summary.rankerRows.train} training / ${summary.rankerRows.valid} validation`
      : "";
    console.log(
      `wrote ${values.out}: ${summary.trainRows} training examples, ${summary.validRows} validation queries${lists} (${summary.files.join(", ")})`,
    );
    return 0;
  },
};
