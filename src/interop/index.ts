/** The interop surface: ONNX export of trained models, Parquet export of training data. */
export {
  writeOnnxExport,
  ONNX_FILES,
  ONNX_MANIFEST_FILE,
  type OnnxExportManifest,
  type OnnxExportSource,
  type GraphDescription,
} from "./onnx/export.js";
export { schemaFeeds, rankerFeeds, type FeedTensor } from "./onnx/feeds.js";
export type { GraphInputSpec } from "./onnx/network-graph.js";
export {
  writeExamplesParquet,
  EXAMPLE_FILES,
  KV_SCHEMA,
  KV_MANIFEST,
  type ExamplesSchema,
  type ExamplesExportOptions,
  type ExamplesExportSummary,
  type ExampleColumn,
} from "./parquet/examples-export.js";
export { IMPRESSION_FILES, KV_RANKER_SCHEMA, type RankerImpressions } from "./parquet/impressions-export.js";
