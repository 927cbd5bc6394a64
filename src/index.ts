/** watchnext's public library surface. */
export type * from "./data/dataset.js";
export type * from "./data/load-options.js";
export type * from "./eval/types.js";
export type * from "./engine/kernels/kernels.js";
