/**
 * Ranker variants over one set of impression lists: the path shared by the ranking experiments
 * (bench/ranking-experiments.ts) and the paper's Table 1 (`watchnext experiment table1`). The
 * impression lists and their sources are built once per dataset and seed (or loaded from the
 * impression cache); each variant is then one ranker trained on the training lists with early
 * stopping on the validation lists' weighted per-user loss, and scored on the held-out lists.
 */
import type { Dataset } from "../../data/dataset.js";
import { evaluate } from "../../eval/evaluate.js";
import { rankingReport, weightedPerUserLoss } from "../../eval/ranking-metrics.js";
import type { Metrics } from "../../eval/types.js";
import { EngagementLookup, ItemTimeline } from "../../features/ranking-context.js";
import type { RankingInput } from "../../features/ranking-features.js";
import { DnnSource } from "../sources/dnn.js";
import type { FittedSource } from "../sources/source.js";
import type { RankerConfigInput } from "./config.js";
import { buildImpressions, type ImpressionOptions, type RankingImpressions } from "./impression-builder.js";
import { dnnCandidateScores } from "./impression-scores.js";
import { Ranker, type RankerEpoch } from "./ranker.js";
import { rankingInputs } from "./train-two-stage.js";
import { TwoStage } from "./two-stage.js";

/** One dataset's impression lists with everything a ranker variant trains and is scored on. */
export interface RankerWorkbench {
  readonly dataset: Dataset;
  readonly seed: number;
  readonly impressions: RankingImpressions;
  readonly inputs: ReturnType<typeof rankingInputs>;
  /** The protocol's training part (the rankers' features are fitted on it). */
  readonly train: Dataset;
  readonly timeline: ItemTimeline;
}

/** Builds (or loads from the impression cache) the lists of `dataset` for `seed`. */
export async function prepareRankerWorkbench(
  dataset: Dataset,
  options: ImpressionOptions & { readonly seed: number },
): Promise<RankerWorkbench> {
  const impressions = await buildImpressions(dataset, options);
  const train = impressions.split.train;
  return {
    dataset,
    seed: options.seed,
    impressions,
    inputs: rankingInputs(impressions, dataset),
    train,
    timeline: ItemTimeline.fromDataset(train),
  };
}

function dnnOf(list: readonly FittedSource[]): DnnSource {
  const dnn = list.find((s) => s.name === "dnn");
  if (!(dnn instanceof DnnSource)) throw new Error("ranker variants: the sources must include the dnn");
  return dnn;
}

/**
 * The baselines every variant is compared with: the lists ordered by the candidate generator's
 * u·v (ranking metrics) and the candidate generator alone over the catalog (loo/temporal metrics);
 * validation always, test when `test` is set.
 */
export function stageOneReport(wb: RankerWorkbench, test: boolean): Record<string, Metrics> {
  const imp = wb.impressions;
  const numItems = wb.dataset.items.ids.length;
  const out: Record<string, Metrics> = {
    validDnnOrder: rankingReport(imp.valid, dnnCandidateScores(dnnOf(imp.validSources).model, imp.valid)),
    validStageOne: evaluate(dnnOf(imp.validSources).model.asScorer(), imp.split.valid, {
      numItems,
      ks: [10],
    }).metrics,
  };
  if (test) {
    out.testDnnOrder = rankingReport(imp.test, dnnCandidateScores(dnnOf(imp.testSources).model, imp.test));
    out.testStageOne = evaluate(dnnOf(imp.testSources).model.asScorer(), imp.split.test, {
      numItems,
    }).metrics;
  }
  return out;
}

export interface RankerVariantOptions {
  readonly seed: number;
  readonly onEpoch?: (e: RankerEpoch) => void;
  readonly signal?: AbortSignal;
}

export interface FittedRankerVariant {
  readonly ranker: Ranker;
  /** Wall seconds of Ranker.fit (features, packing, training with early stopping). */
  readonly seconds: number;
}

/** Trains one ranker of `config` on the workbench's training lists (early stopping on validation). */
export async function fitRankerVariant(
  wb: RankerWorkbench,
  config: RankerConfigInput,
  options: RankerVariantOptions,
): Promise<FittedRankerVariant> {
  const t0 = performance.now();
  const ranker = await Ranker.fit(wb.train, wb.timeline, wb.inputs.train, {
    config,
    seed: options.seed,
    valid: wb.inputs.valid,
    validLoss: weightedPerUserLoss,
    onEpoch: options.onEpoch,
    signal: options.signal,
  });
  return { ranker, seconds: (performance.now() - t0) / 1000 };
}

/** Ranking metrics (weighted per-user loss, AUC, list HR/NDCG@10, MRR) of a ranker on a set's lists. */
export function listMetrics(ranker: Ranker, input: RankingInput): Metrics {
  return rankingReport(input.set, ranker.score(input));
}

/**
 * The two-stage model of `ranker` over the workbench's sources, scored by the protocol's metrics
 * over the whole catalog (items outside the list rank after it, in stage-one order).
 */
export function twoStageMetrics(wb: RankerWorkbench, ranker: Ranker, set: "valid" | "test"): Metrics {
  const imp = wb.impressions;
  const sources = set === "valid" ? imp.validSources : imp.testSources;
  const model = new TwoStage(
    dnnOf(sources).model,
    sources.map((source, k) => ({ source, n: imp.options.topN[k] })),
    ranker,
    wb.timeline,
    new EngagementLookup(wb.dataset),
    wb.inputs.log,
  );
  const numItems = wb.dataset.items.ids.length;
  return evaluate(model.asScorer(), imp.split[set], set === "valid" ? { numItems, ks: [10] } : { numItems })
    .metrics;
}
