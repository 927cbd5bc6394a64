/**
 * `watchnext evaluate`: scores a trained model on a protocol's validation and test queries through
 * the shared evaluation path, printing a table or the JSON of `baselines --json` (results[0] = the
 * evaluated model). A two-stage directory is evaluated as two stages by default (the ranker over
 * the sources' union; items outside the list after it in stage-one order), plus the ranking
 * metrics on the test impression lists: weighted per-user loss, AUC, HR/NDCG@10 of the list against
 * the candidate generator's own order of it, and the union recall; `--stage candidates` evaluates
 * stage one alone from the same directory. For a large dataset, `--sample-users N` evaluates a
 * seeded uniform sample of the queries, and `--retrieval hnsw` scores stage one through the HNSW
 * index serving would use (metrics from its top-100 lists, plus their recall against exact top-100).
 */
import { parseArgs } from "node:util";
import { numItems } from "../../data/dataset.js";
import { readManifest } from "../../engine/model-file/index.js";
import { evaluate } from "../../eval/evaluate.js";
import { sampleQueries } from "../../eval/sample-queries.js";
import { rankingReport, unionRecall } from "../../eval/ranking-metrics.js";
import { formatTable } from "../../eval/report.js";
import { emptyReport, roundTo } from "../../eval/run-baselines.js";
import type { Metrics, Scorer, Split } from "../../eval/types.js";
import { CandidateModel } from "../../models/candidates/model.js";
import { CANDIDATE_MODEL_KIND } from "../../models/candidates/model-io.js";
import { dnnCandidateScores } from "../../models/ranking/impression-scores.js";
import { loadTwoStage, TWO_STAGE_MODEL_KIND } from "../../models/ranking/two-stage-dir.js";
import type { TwoStage } from "../../models/ranking/two-stage.js";
import { createIndex } from "../../retrieval/create-index.js";
import { evaluateIndex, type IndexEvaluationResult } from "../../retrieval/evaluate-index.js";
import { DEFAULT_HNSW_PARAMS } from "../../retrieval/hnsw-index.js";
import { dataHelp, dataOptions, loadFromArgs } from "../data-args.js";
import { CliError } from "../errors.js";
import {
  parseProtocolArgs,
  protocolHelp,
  protocolOptions,
  splitFromArgs,
  trainedProtocol,
} from "../protocol-args.js";
import { parseInteger, parseSeed } from "../values.js";
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
  --sample-users <N>     evaluate a seeded uniform sample of N queries of validation and of test
                         (loo: the same N users in both) instead of every user
  --sample-seed <N>      seed of that sample (default 1)
  --retrieval <kind>     exact (default: every item scored) or hnsw (stage candidates only: each
                         query's top 100 from the HNSW index serving uses, metrics from those
                         lists, MRR truncated at 100; also reports their recall against exact)
  --ef-search <N>        HNSW candidate list size per norm range (default ${DEFAULT_HNSW_PARAMS.efSearch})
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
        "sample-users": { type: "string" },
        "sample-seed": { type: "string" },
        retrieval: { type: "string" },
        "ef-search": { type: "string" },
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
    const retrieval = values.retrieval ?? "exact";
    if (retrieval !== "exact" && retrieval !== "hnsw")
      throw new CliError(`--retrieval: expected exact or hnsw, got "${retrieval}"`);
    if (retrieval === "hnsw" && stage !== "candidates")
      throw new CliError("--retrieval hnsw: scores the candidate generator alone (add --stage candidates)");
    if (values["ef-search"] !== undefined && retrieval !== "hnsw")
      throw new CliError("--ef-search applies to --retrieval hnsw only");
    const efSearch =
      values["ef-search"] === undefined
        ? DEFAULT_HNSW_PARAMS.efSearch
        : parseInteger("--ef-search", values["ef-search"], 1);
    const sampleUsers =
      values["sample-users"] === undefined ? null : parseInteger("--sample-users", values["sample-users"], 1);
    if (values["sample-seed"] !== undefined && sampleUsers === null)
      throw new CliError("--sample-seed applies to --sample-users only");
    const sampleSeed = parseSeed(values["sample-seed"]);
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
    let candidates: CandidateModel;
    let trainSeconds: number | undefined;
    if (twoStage) {
      const loaded = loadTwoStage(values.model, dataset);
      split = loaded.split;
      model = loaded.model;
      candidates = model.candidates;
      scorer = stage === "two" ? model.asScorer() : model.candidates.asScorer();
      const t = manifest.metadata.trainSeconds;
      trainSeconds = typeof t === "number" ? t : undefined;
    } else {
      split = splitFromArgs(dataset, protocolArgs);
      candidates = CandidateModel.load(values.model, split.train);
      scorer = candidates.asScorer();
      trainSeconds = candidates.summary?.seconds;
    }
    const valid = sampleUsers === null ? split.valid : sampleQueries(split.valid, sampleUsers, sampleSeed);
    const test = sampleUsers === null ? split.test : sampleQueries(split.test, sampleUsers, sampleSeed);
    const filterSeen = !values["no-filter-seen"];
    const options = { numItems: numItems(dataset), metrics: protocol, filterSeen } as const;
    const report = emptyReport(dataset, protocol, split, filterSeen);
    if (sampleUsers !== null)
      report.protocol_params = {
        ...report.protocol_params,
        sample: { users: sampleUsers, seed: sampleSeed, valid: valid.users.length, test: test.users.length },
      };
    let result: (typeof report.results)[number] & {
      ranking?: Record<string, unknown>;
      retrieval?: Record<string, unknown>;
    };
    if (retrieval === "hnsw") {
      const built = performance.now();
      const index = createIndex(candidates.itemVectors(), candidates.numItems, candidates.userDim, {
        kind: "hnsw",
        itemBias: candidates.itemBias(),
        efSearch,
      });
      const buildSeconds = (performance.now() - built) / 1000;
      const exact = createIndex(candidates.itemVectors(), candidates.numItems, candidates.userDim, {
        kind: "exact",
        itemBias: candidates.itemBias(),
      });
      const run = (queries: typeof valid): IndexEvaluationResult =>
        evaluateIndex(index, candidates.encodeQueries(queries), queries, {
          metrics: protocol,
          filterSeen,
          exact,
        });
      const v = run(valid);
      const t = run(test);
      result = {
        model: scorer.name,
        params: { ...scorer.params },
        valid: v.metrics,
        test: t.metrics,
        ...(trainSeconds !== undefined ? { train_seconds: roundTo(trainSeconds, 3) } : {}),
        eval_seconds: roundTo(t.searchSeconds, 3),
        retrieval: {
          kind: "hnsw",
          depth: t.depth,
          params: { ...DEFAULT_HNSW_PARAMS, efSearch },
          build_seconds: roundTo(buildSeconds, 3),
          valid_recall_vs_exact: roundTo(v.recallAgainstExact ?? 1, 4),
          test_recall_vs_exact: roundTo(t.recallAgainstExact ?? 1, 4),
          test_queries_per_second: roundTo(test.users.length / Math.max(t.searchSeconds, 1e-9), 1),
        },
      };
    } else {
      const v = evaluate(scorer, valid, options);
      const t = evaluate(scorer, test, options);
      result = {
        model: scorer.name,
        params: { ...scorer.params },
        valid: v.metrics,
        test: t.metrics,
        ...(trainSeconds !== undefined ? { train_seconds: roundTo(trainSeconds, 3) } : {}),
        eval_seconds: roundTo(t.seconds, 3),
        target_in_history: t.targetInHistory,
      };
    }
    if (model !== null && stage === "two") result.ranking = rankingMetrics(model, { ...split, test });
    report.results.push(result);
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(formatTable(report));
      if (result.ranking) console.log(formatRanking(result.ranking));
      if (sampleUsers !== null)
        console.log(
          `sample: ${valid.users.length} validation and ${test.users.length} test queries (seed ${sampleSeed})`,
        );
      if (result.retrieval) console.log(formatRetrieval(result.retrieval));
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

function formatRetrieval(r: Record<string, unknown>): string {
  return (
    `retrieval: hnsw top ${String(r.depth)} (MRR truncated there), built in ${String(r.build_seconds)} s; ` +
    `recall@${String(r.depth)} against exact: valid ${String(r.valid_recall_vs_exact)}, test ` +
    `${String(r.test_recall_vs_exact)}; ${String(r.test_queries_per_second)} test queries/s`
  );
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
