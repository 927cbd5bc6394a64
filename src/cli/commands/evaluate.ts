/**
 * `watchnext evaluate`: scores a trained model on a protocol's validation and test queries through
 * the shared evaluation path, printing a table or the JSON of `baselines --json` (results[0] = the
 * evaluated model). A two-stage directory is evaluated as two stages by default (the ranker over
 * the sources' union; items outside the list after it in stage-one order), plus the ranking
 * metrics on the test impression lists: weighted per-user loss, AUC, HR/NDCG@10 of the list against
 * the candidate generator's own order of it, and the union recall; `--stage candidates` evaluates
 * stage one alone from the same directory.
 */
import { parseArgs } from "node:util";
import { numItems } from "../../data/dataset.js";
import { readManifest } from "../../engine/model-file/index.js";
import { evaluate } from "../../eval/evaluate.js";
import { rankingReport, unionRecall } from "../../eval/ranking-metrics.js";
import { formatTable } from "../../eval/report.js";
import { emptyReport, roundTo } from "../../eval/run-baselines.js";
import type { Metrics, Scorer, Split } from "../../eval/types.js";
import { CandidateModel } from "../../models/candidates/model.js";
import { CANDIDATE_MODEL_KIND } from "../../models/candidates/model-io.js";
import { dnnCandidateScores } from "../../models/ranking/impression-scores.js";
import { loadTwoStage, TWO_STAGE_MODEL_KIND } from "../../models/ranking/two-stage-dir.js";
import type { TwoStage } from "../../models/ranking/two-stage.js";
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

const help = `Usage: watchnext evaluate --model <dir> --data <path> [--stage two|candidates] [--json]

Evaluates a trained model on the protocol's validation and test queries (the same split and
scoring path as \`watchnext baselines\`): HR/NDCG@10/50/100 and MRR for loo, Recall/NDCG/MAP@K for
temporal. --data must be the dataset the model was trained on. Without protocol options, the
protocol and temporal cut the model was trained with are used. A two-stage directory (\`watchnext
train\`) also reports the ranking metrics of the test impression lists (weighted per-user loss,
AUC, list HR/NDCG@10, each for the ranker and for the candidate generator's order; union recall).

  --model <dir>          model directory (\`watchnext train\` or \`watchnext train candidates\`)
  --stage <name>         two (default for a two-stage directory) or candidates (stage one alone)
  --no-filter-seen       keep the query's history items in the ranking
  --json                 print the report as JSON (the shape of \`baselines --json\`)

${protocolHelp}

${dataHelp}`;

export const evaluateCommand: Command = {
  summary: "Evaluate a trained model (two stages or the candidate generator; validation + test)",
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        ...dataOptions,
        ...protocolOptions,
        model: { type: "string" },
        stage: { type: "string" },
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
    const manifest = readManifest(values.model);
    const twoStage = manifest.kind === TWO_STAGE_MODEL_KIND;
    if (!twoStage && manifest.kind !== CANDIDATE_MODEL_KIND)
      throw new CliError(
        `${values.model}: holds a "${manifest.kind}" model, expected a two-stage or candidates directory`,
      );
    const stage = values.stage ?? (twoStage ? "two" : "candidates");
    if (stage !== "two" && stage !== "candidates")
      throw new CliError(`--stage: expected two or candidates, got "${stage}"`);
    if (stage === "two" && !twoStage)
      throw new CliError(
        `--stage two: ${values.model} holds the candidate generator only (train both stages with \`watchnext train\`)`,
      );
    const protocolArgs = parseProtocolArgs(values, trainedProtocol(manifest.metadata));
    const protocol = protocolArgs.protocol;
    const trainedWith = manifest.metadata.protocol;
    if (twoStage && protocol !== trainedWith)
      throw new CliError(
        `--protocol: the two-stage model was trained under ${String(trainedWith)}; its sources cannot be re-split`,
      );
    const dataset = await loadFromArgs(values);
    let split: Split;
    let scorer: Scorer;
    let model: TwoStage | null = null;
    let trainSeconds: number | undefined;
    if (twoStage) {
      const loaded = loadTwoStage(values.model, dataset);
      split = loaded.split;
      model = loaded.model;
      scorer = stage === "two" ? model.asScorer() : model.candidates.asScorer();
      const t = manifest.metadata.trainSeconds;
      trainSeconds = typeof t === "number" ? t : undefined;
    } else {
      split = splitFromArgs(dataset, protocolArgs);
      const candidates = CandidateModel.load(values.model, split.train);
      scorer = candidates.asScorer();
      trainSeconds = candidates.summary?.seconds;
    }
    const filterSeen = !values["no-filter-seen"];
    const options = { numItems: numItems(dataset), metrics: protocol, filterSeen } as const;
    const valid = evaluate(scorer, split.valid, options);
    const test = evaluate(scorer, split.test, options);
    const report = emptyReport(dataset, protocol, split, filterSeen);
    const result: (typeof report.results)[number] & { ranking?: Record<string, unknown> } = {
      model: scorer.name,
      params: { ...scorer.params },
      valid: valid.metrics,
      test: test.metrics,
      ...(trainSeconds !== undefined ? { train_seconds: roundTo(trainSeconds, 3) } : {}),
      eval_seconds: roundTo(test.seconds, 3),
      target_in_history: test.targetInHistory,
    };
    if (model !== null && stage === "two") result.ranking = rankingMetrics(model, split);
    report.results.push(result);
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(formatTable(report));
      if (result.ranking) console.log(formatRanking(result.ranking));
    }
    return 0;
  },
};

/** Ranking metrics of the test impression lists: the ranker vs the candidate generator's order. */
function rankingMetrics(model: TwoStage, split: Split): Record<string, unknown> {
  const ranker = model.ranker;
  if (ranker === null) return {};
  const set = model.labeledLists(split.test);
  const logits = ranker.score(model.input(set));
  const round = (m: Metrics) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, roundTo(v, 4)]));
  const recall = unionRecall(set);
  return {
    lists: set.users.length,
    ranker: round(rankingReport(set, logits)),
    candidates_order: round(rankingReport(set, dnnCandidateScores(model.candidates, set))),
    union_recall: {
      mean_list_size: roundTo(recall.meanListSize, 1),
      union: roundTo(recall.union, 4),
      ...Object.fromEntries(Object.entries(recall.perSource).map(([k, v]) => [k, roundTo(v, 4)])),
    },
  };
}

function formatRanking(r: Record<string, unknown>): string {
  const fmt = (m: unknown) =>
    Object.entries(m as Record<string, number>)
      .map(([k, v]) => `${k} ${v}`)
      .join("  ");
  return [
    `ranking (test impression lists, ${String(r.lists)} lists):`,
    `  ranker:           ${fmt(r.ranker)}`,
    `  candidates order: ${fmt(r.candidates_order)}`,
    `  union recall:     ${fmt(r.union_recall)}`,
  ].join("\n");
}
