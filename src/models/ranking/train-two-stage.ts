/**
 * Training both stages into one model: the impression builder fits the sources (fold models for
 * the training lists, the protocol's training part for the validation / test lists and serving),
 * the ranker trains on the training lists with early stopping on the validation lists' weighted
 * per-user loss, and the result is a TwoStage model (sources fitted on the training part + ranker)
 * ready to save as one directory.
 */
import type { Dataset } from "../../data/dataset.js";
import type { Kernels } from "../../engine/kernels/kernels.js";
import { weightedPerUserLoss } from "../../eval/ranking-metrics.js";
import { EngagementLookup, ImpressionLog, ItemTimeline } from "../../features/ranking-context.js";
import type { RankingInput } from "../../features/ranking-features.js";
import { DnnSource } from "../sources/dnn.js";
import type { FittedSource } from "../sources/source.js";
import type { RankerConfigInput } from "./config.js";
import { buildImpressions, type ImpressionOptions, type RankingImpressions } from "./impression-builder.js";
import { Ranker, type RankerEpoch } from "./ranker.js";
import { TwoStage } from "./two-stage.js";

export interface TrainTwoStageOptions {
  readonly seed?: number;
  readonly ranker?: RankerConfigInput;
  /** Impression-builder options (protocol, sources, top-N, folds, points, cache, ...). */
  readonly impressions?: ImpressionOptions;
  /** Already-fitted sources on the split's training part (e.g. a `--candidates` model). */
  readonly fitted?: readonly FittedSource[];
  readonly log?: (line: string) => void;
  readonly onEpoch?: (e: RankerEpoch) => void;
  readonly signal?: AbortSignal;
  readonly kernels?: Kernels;
}

export interface TrainedTwoStage {
  readonly model: TwoStage;
  readonly impressions: RankingImpressions;
  /** Earlier impressions: every training and validation list (shown at its list's time). */
  readonly log: ImpressionLog;
  readonly inputs: {
    readonly train: RankingInput;
    readonly valid: RankingInput;
    readonly test: RankingInput;
  };
  readonly seconds: { readonly impressions: number; readonly ranker: number };
}

/** The ranking inputs of the builder's three sets over one impression log. */
export function rankingInputs(
  imp: RankingImpressions,
  dataset: Dataset,
): { log: ImpressionLog; train: RankingInput; valid: RankingInput; test: RankingInput } {
  const n = dataset.users.ids.length;
  // Features count only impressions strictly before a list's time, so one log of the training and
  // validation lists serves all three sets (a list never sees itself or a later one).
  const log = ImpressionLog.fromLists(n, [imp.train, imp.valid]);
  const lookup = new EngagementLookup(dataset);
  const input = (set: RankingImpressions["train"]): RankingInput => ({
    set,
    historyWeights: set.historyWeights ?? lookup.historyWeights(set),
    impressions: log,
  });
  return { log, train: input(imp.train), valid: input(imp.valid), test: input(imp.test) };
}

export async function trainTwoStage(
  dataset: Dataset,
  options: TrainTwoStageOptions = {},
): Promise<TrainedTwoStage> {
  const seed = options.seed ?? 1;
  const t0 = performance.now();
  const imp = await buildImpressions(dataset, {
    ...options.impressions,
    seed,
    fitted: options.fitted ?? options.impressions?.fitted,
    log: options.log,
  });
  const t1 = performance.now();
  const inputs = rankingInputs(imp, dataset);
  const train = imp.split.train;
  const timeline = ItemTimeline.fromDataset(train);
  const ranker = await Ranker.fit(train, timeline, inputs.train, {
    config: options.ranker,
    seed,
    valid: inputs.valid,
    validLoss: weightedPerUserLoss,
    onEpoch: options.onEpoch,
    signal: options.signal,
    kernels: options.kernels,
  });
  const t2 = performance.now();
  const dnn = imp.testSources.find((s) => s.name === "dnn");
  if (!(dnn instanceof DnnSource))
    throw new Error("train: the sources must include the candidate generator (dnn)");
  const slots = imp.testSources.map((source, k) => ({ source, n: imp.options.topN[k] }));
  const model = new TwoStage(dnn.model, slots, ranker, timeline, new EngagementLookup(dataset), inputs.log);
  return {
    model,
    impressions: imp,
    log: inputs.log,
    inputs: { train: inputs.train, valid: inputs.valid, test: inputs.test },
    seconds: { impressions: (t1 - t0) / 1000, ranker: (t2 - t1) / 1000 },
  };
}
