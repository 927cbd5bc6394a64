/**
 * The training path of both stages shared by `watchnext train`, `train ranker` and `quickstart`:
 * build the leak-free impressions and fit the sources and the ranker (src/models/ranking), then
 * write one two-stage model directory with the data, protocol, seed and timings in its manifest.
 */
import type { Dataset } from "../data/dataset.js";
import type { JsonValue } from "../engine/model-file/index.js";
import {
  trainTwoStage,
  type TrainedTwoStage,
  type TrainTwoStageOptions,
} from "../models/ranking/train-two-stage.js";
import { saveTwoStage } from "../models/ranking/two-stage-dir.js";

export interface TrainTwoStageModelOptions extends TrainTwoStageOptions {
  readonly seed: number;
  readonly protocol: "loo" | "temporal";
  /** Model directory to write (replaced atomically). */
  readonly out: string;
  /** More manifest metadata (e.g. which candidate model the ranker was trained over). */
  readonly extra?: Record<string, JsonValue>;
}

export async function trainTwoStageModel(
  dataset: Dataset,
  opts: TrainTwoStageModelOptions,
): Promise<{ trained: TrainedTwoStage; seconds: number }> {
  const started = performance.now();
  const trained = await trainTwoStage(dataset, {
    ...opts,
    impressions: { ...opts.impressions, protocol: opts.protocol },
  });
  const seconds = (performance.now() - started) / 1000;
  saveTwoStage(opts.out, trained.model, trained.log, {
    protocol: opts.protocol,
    protocolParams: JSON.parse(JSON.stringify(trained.impressions.split.params)) as JsonValue,
    metadata: {
      dataset: dataset.name,
      source: dataset.source,
      protocol: opts.protocol,
      seed: opts.seed,
      trainSeconds: seconds,
      impressionSeconds: trained.seconds.impressions,
      rankerSeconds: trained.seconds.ranker,
      impressions: JSON.parse(JSON.stringify(trained.impressions.options)) as JsonValue,
      interrupted: opts.signal?.aborted ?? false,
      ...opts.extra,
    },
  });
  return { trained, seconds };
}
