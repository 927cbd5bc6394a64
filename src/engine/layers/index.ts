/** Layers with explicit forward/backward passes over preallocated buffers. */
export { Dropout } from "./dropout.js";
export {
  EmbeddingBag,
  EmbeddingLookup,
  EmbeddingTable,
  type Bags,
  type EmbeddingTableOptions,
} from "./embedding.js";
export { CausalSelfAttention } from "./attention.js";
export { LayerNorm } from "./layer-norm.js";
export { Linear, type LinearOptions } from "./linear.js";
export { softmaxCrossEntropyLoss, weightedLogisticLoss } from "./losses.js";
export { Parameter, type ParameterKind } from "./parameter.js";
export { ReluTower, type ReluTowerOptions } from "./relu-tower.js";
export { TransformerBlock, type BlockActivation, type TransformerBlockOptions } from "./transformer-block.js";
export { TransformerEncoder, type TransformerEncoderConfig } from "./transformer-encoder.js";
export { FullSoftmaxHead, SampledSoftmaxHead, type SoftmaxHeadOptions } from "./softmax-head.js";
