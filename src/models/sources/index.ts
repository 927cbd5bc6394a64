/** Candidate sources (the ranker's shortlists): the contract, the built-in sources, their persistence. */
export type * from "./source.js";
export { DnnSource, dnnSourceFactory, type DnnSourceOptions } from "./dnn.js";
export {
  ScorerSource,
  easeSourceFactory,
  fitEaseSource,
  fitItemKnnSource,
  itemKnnSourceFactory,
  type EaseSourceOptions,
  type ItemKnnSourceOptions,
} from "./item-item.js";
export { PopularSource, popularSourceFactory, POPULAR_DAYS, type PopularName } from "./popular.js";
export { fingerprintOf, fitRecordOf, lastSeenTimes, type FitDataFingerprint } from "./fit-data.js";
export {
  DEFAULT_TOP_N,
  SOURCE_NAMES,
  SOURCE_MODEL_KIND,
  loadSource,
  parseSourceNames,
  saveSource,
  sourceFactory,
  type FittedSourceFactory,
  type SourceSettings,
} from "./registry.js";
export { allocTopN, topNFromScores } from "./select.js";
