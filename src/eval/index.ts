/** Evaluation: protocols, the shared scoring path, metrics, baselines and reports. */
export type * from "./types.js";
export { splitLoo, LOO_MIN_INTERACTIONS } from "./split-loo.js";
export { splitTemporal, type TemporalOptions } from "./split-temporal.js";
export {
  evaluate,
  evaluateSplit,
  defaultBatchSize,
  type EvaluateOptions,
  type EvaluationResult,
} from "./evaluate.js";
export { MetricAccumulator, metricNames, DEFAULT_KS, type MetricFamily } from "./metrics.js";
export { RankScratch } from "./ranks.js";
export { userEventOrder, type UserEventOrder } from "./user-order.js";
export { sampleQueries, sampleQueryIndices, selectQueries } from "./sample-queries.js";
export { fitMostPop } from "./baselines/most-pop.js";
export { fitItemKnn, type ItemKnnParams } from "./baselines/item-knn.js";
export { fitEase, easeGram, EASE_LAMBDAS, type EaseGram } from "./baselines/ease.js";
export { binaryInteractions, type BinaryInteractions } from "./baselines/interactions.js";
export {
  runBaselines,
  makeSplit,
  BASELINE_NAMES,
  type BaselineName,
  type RunBaselinesOptions,
} from "./run-baselines.js";
export { formatTable, markdownReport, type MarkdownOptions } from "./report.js";
