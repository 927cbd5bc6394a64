/**
 * Saving and loading a trained candidate generator through the engine's model files: the config,
 * the fitted feature state and the training summary go into the manifest, every weight into the
 * safetensors file. Loading needs the dataset the model was trained on (same item and user
 * dictionaries): side information and user histories come from it.
 */
import type { Dataset } from "../../data/dataset.js";
import type { Kernels } from "../../engine/kernels/kernels.js";
import { getKernels } from "../../engine/kernels/index.js";
import {
  loadModel,
  ModelFileError,
  saveModel,
  type JsonValue,
  type Tensor,
} from "../../engine/model-file/index.js";
import { candidateFeaturesFromJSON, type CandidateFeaturesJSON } from "../../features/candidate-features.js";
import { chooseSoftmax, resolveCandidateModelConfig, type CandidateConfigInput } from "./config.js";
import { CandidateModel } from "./model.js";
import type { TrainingSummary } from "./train.js";

export const CANDIDATE_MODEL_KIND = "candidates";

interface SavedConfig {
  model: CandidateConfigInput;
  features: CandidateFeaturesJSON;
}

export function saveCandidateModel(
  model: CandidateModel,
  dir: string,
  extra: Record<string, JsonValue> = {},
): void {
  const tensors: Record<string, Tensor> = {};
  for (const [name, t] of model.network.namedTensors()) tensors[name] = { shape: t.shape, data: t.data };
  const config: SavedConfig = {
    model: { features: model.config.features, network: model.config.network, train: model.config.train },
    features: model.features.toJSON(),
  };
  saveModel(dir, {
    kind: CANDIDATE_MODEL_KIND,
    config: toJson(config),
    vocabularies: {},
    metadata: { seed: model.seed, numItems: model.numItems, summary: toJson(model.summary), ...extra },
    tensors,
  });
}

export function loadCandidateModel(
  dir: string,
  data: Dataset,
  kernels: Kernels = getKernels(),
): CandidateModel {
  const loaded = loadModel(dir, CANDIDATE_MODEL_KIND);
  const saved = loaded.config as unknown as SavedConfig;
  let config;
  try {
    config = resolveCandidateModelConfig(saved.model, "manifest config.model");
  } catch (err) {
    throw new ModelFileError(dir, (err as Error).message, { cause: err });
  }
  if (
    saved.features.numItems !== data.items.ids.length ||
    saved.features.numUsers !== data.users.ids.length
  ) {
    throw new ModelFileError(
      dir,
      `the model was trained on ${saved.features.numItems} items / ${saved.features.numUsers} users, ` +
        `but ${data.source} has ${data.items.ids.length} / ${data.users.ids.length}: pass the data it was trained on`,
    );
  }
  let features;
  try {
    features = candidateFeaturesFromJSON(saved.features, data);
  } catch (err) {
    // The fitted-feature JSON's own checks: a manifest that is not what training wrote.
    if (err instanceof TypeError || err instanceof RangeError)
      throw new ModelFileError(dir, `manifest config.features: ${err.message}`, { cause: err });
    throw err;
  }
  const seed = typeof loaded.metadata.seed === "number" ? loaded.metadata.seed : 1;
  const model = CandidateModel.create(config, features, seed, kernels);
  for (const [name, t] of model.network.namedTensors()) {
    const stored = loaded.tensors[name];
    if (!stored) throw new ModelFileError(dir, `tensor "${name}" is missing from the model file`);
    if (stored.data.length !== t.data.length || stored.shape.join("x") !== t.shape.join("x")) {
      throw new ModelFileError(
        dir,
        `tensor "${name}" has shape [${stored.shape.join(", ")}], expected [${t.shape.join(", ")}]`,
      );
    }
    t.data.set(stored.data);
  }
  const summary = (loaded.metadata.summary ?? null) as unknown as TrainingSummary | null;
  // Models saved before the summary recorded the softmax: it follows from the config and catalog.
  model.summary =
    summary === null || summary.softmax !== undefined
      ? summary
      : { ...summary, softmax: chooseSoftmax(config.train, features.numItems) };
  return model;
}

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
