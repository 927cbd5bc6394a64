/**
 * `watchnext evaluate`: scores a trained candidate generator on a protocol's validation and test
 * queries through the shared evaluation path, printing a table or the JSON of `baselines --json`.
 */
import { parseArgs } from "node:util";
import { numItems } from "../../data/dataset.js";
import { evaluate } from "../../eval/evaluate.js";
import { formatTable } from "../../eval/report.js";
import { emptyReport, roundTo } from "../../eval/run-baselines.js";
import { readManifest } from "../../engine/model-file/index.js";
import { CandidateModel } from "../../models/candidates/model.js";
import { CANDIDATE_MODEL_KIND } from "../../models/candidates/model-io.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { CliError } from "../errors.js";
import {
  parseProtocolArgs,
  protocolHelp,
  protocolOptions,
  splitFromArgs,
  trainedProtocol,
} from "../protocol-args.js";
import type { Command } from "./command.js";

const help = `Usage: watchnext evaluate --model <dir> --data <path> [--protocol loo|temporal] [--json]

Evaluates a trained candidate generator on the protocol's validation and test queries (the same
split and scoring path as \`watchnext baselines\`): HR/NDCG@10/50/100 and MRR for loo,
Recall/NDCG/MAP@K for temporal. --data must be the dataset the model was trained on. Without
protocol options, the protocol and temporal cut the model was trained with are used.

  --model <dir>          model directory written by \`watchnext train candidates\`
  --no-filter-seen       keep the query's history items in the ranking
  --json                 print the report as JSON (the shape of \`baselines --json\`)

${protocolHelp}

${dataHelp}`;

export const evaluateCommand: Command = {
  summary: "Evaluate a trained candidate generator (validation + test)",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dataOptions,
        ...protocolOptions,
        model: { type: "string" },
        "no-filter-seen": { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(help);
      return 0;
    }
    if (!values.model) throw new CliError(`--model <dir> is required\n\n${help}`);
    const metadata = readManifest(values.model, CANDIDATE_MODEL_KIND).metadata;
    const protocolArgs = parseProtocolArgs(values, trainedProtocol(metadata));
    const protocol = protocolArgs.protocol;
    const dataset = await loadFromArgs(values);
    const split = splitFromArgs(dataset, protocolArgs);
    const model = CandidateModel.load(values.model, split.train);
    const filterSeen = !values["no-filter-seen"];
    const options = { numItems: numItems(dataset), metrics: protocol, filterSeen } as const;
    const scorer = model.asScorer();
    const valid = evaluate(scorer, split.valid, options);
    const test = evaluate(scorer, split.test, options);
    const report = emptyReport(dataset, protocol, split, filterSeen);
    report.results.push({
      model: scorer.name,
      params: { ...scorer.params },
      valid: valid.metrics,
      test: test.metrics,
      ...(model.summary ? { train_seconds: roundTo(model.summary.seconds, 3) } : {}),
      eval_seconds: roundTo(test.seconds, 3),
      target_in_history: test.targetInHistory,
    });
    console.log(values.json ? JSON.stringify(report, null, 2) : formatTable(report));
    return 0;
  },
};
