/** Model files: safetensors tensor files and verified, atomically written model directories. */
export { ModelFileError } from "./errors.js";
export {
  MAX_HEADER_BYTES,
  readTensors,
  writeTensors,
  type DecodedTensors,
  type Tensor,
} from "./safetensors.js";
export {
  MANIFEST_FILE,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  TENSORS_FILE,
  type JsonValue,
  type Manifest,
} from "./manifest.js";
export { loadModel, readManifest, saveModel, type LoadedModel, type ModelContents } from "./model-dir.js";
