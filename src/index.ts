/** watchnext's public library surface. */
export type * from "./data/dataset.js";
export type * from "./data/load-options.js";
export type * from "./eval/types.js";
export type * from "./engine/kernels/kernels.js";
export * from "./engine/index.js";
export { UserError } from "./errors.js";
export { loadDataset } from "./data/load.js";
export { DataError } from "./data/errors.js";
export { summarizeDataset, type DatasetSummary } from "./data/summary.js";
export { fetchRelease, type FetchOptions, type FetchResult } from "./data/fetch.js";
export { generateSynthetic, writeSynthetic, type SynthData, type SynthOptions } from "./data/synth.js";
export { ConfigError } from "./config/resolve-config.js";
export * from "./features/index.js";
export * from "./eval/index.js";
export * from "./models/candidates/index.js";
export * from "./retrieval/index.js";
export * from "./interop/index.js";
