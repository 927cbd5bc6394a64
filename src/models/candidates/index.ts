/** The candidate generator's public surface: the model, its config, training events and model files. */
export { CandidateModel, softmaxMode, type FitOptions, type Recommendations } from "./model.js";
export {
  chooseSoftmax,
  defaultCandidateConfig,
  defaultNetworkConfig,
  defaultTrainConfig,
  resolveCandidateModelConfig,
  towerWidths,
  type CandidateConfig,
  type CandidateConfigInput,
  type CandidateNetworkConfig,
  type CandidateTrainConfig,
  type SoftmaxChoice,
} from "./config.js";
export type { StopReason, TrainingEvent, TrainingSummary, ValidationMetrics } from "./train.js";
export { progressPrinter as trainingProgressPrinter } from "./progress.js";
export { CANDIDATE_MODEL_KIND } from "./model-io.js";
