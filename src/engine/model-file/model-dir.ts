/**
 * A saved model is a directory: manifest.json plus one safetensors file. saveModel writes both
 * into a temporary sibling directory, fsyncs, and renames it into place, so a crash leaves either
 * the previous model or the new one under the final name, never half of one. loadModel checks the
 * manifest, then the tensor file's size and SHA-256 against it, then the tensor header.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fsyncDirectory, tempSibling, writeFileSynced } from "./atomic-write.js";
import { ModelFileError } from "./errors.js";
import {
  decodeManifest,
  encodeManifest,
  MANIFEST_FILE,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  sha256Hex,
  TENSORS_FILE,
  type JsonValue,
  type Manifest,
} from "./manifest.js";
import { decodeTensors, encodeTensors, type Tensor } from "./safetensors.js";

export interface ModelContents {
  kind: string;
  config: JsonValue;
  vocabularies: Record<string, string[]>;
  metadata: Record<string, JsonValue>;
  tensors: Record<string, Tensor>;
}

export interface LoadedModel extends ModelContents {
  manifest: Manifest;
}

/** Writes a model directory at `dir` atomically, replacing any model already there. */
export function saveModel(dir: string, model: ModelContents): void {
  const target = resolve(dir);
  mkdirSync(dirname(target), { recursive: true });
  const chunks = encodeTensors(
    model.tensors,
    { format: "pt", producer: "watchnext" },
    join(target, TENSORS_FILE),
  );
  const hash = createHash("sha256");
  for (const chunk of chunks) hash.update(chunk);
  const bytes = chunks.reduce((n, c) => n + c.length, 0);
  const manifest = encodeManifest({
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    kind: model.kind,
    createdAt: new Date().toISOString(),
    config: model.config,
    vocabularies: model.vocabularies,
    metadata: model.metadata,
    tensors: { file: TENSORS_FILE, bytes, sha256: hash.digest("hex") },
  });
  const temp = tempSibling(target, "tmp");
  try {
    mkdirSync(temp);
    writeFileSynced(join(temp, TENSORS_FILE), chunks);
    writeFileSynced(join(temp, MANIFEST_FILE), [manifest]);
    fsyncDirectory(temp);
    if (existsSync(target)) {
      // A directory cannot be renamed over a non-empty one: move the old model aside first.
      const old = tempSibling(target, "old");
      renameSync(target, old);
      renameSync(temp, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(temp, target);
    }
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  fsyncDirectory(dirname(target));
}

/** Reads and verifies a model directory; `expectKind` rejects a model of another family. */
export function loadModel(dir: string, expectKind?: string): LoadedModel {
  const manifestPath = join(dir, MANIFEST_FILE);
  const manifest = decodeManifest(readBytes(manifestPath), manifestPath);
  if (expectKind !== undefined && manifest.kind !== expectKind) {
    throw new ModelFileError(manifestPath, `holds a "${manifest.kind}" model, expected "${expectKind}"`);
  }
  const tensorsPath = join(dir, manifest.tensors.file);
  const bytes = readBytes(tensorsPath);
  if (bytes.length !== manifest.tensors.bytes) {
    throw new ModelFileError(
      tensorsPath,
      `is ${bytes.length} bytes but the manifest records ${manifest.tensors.bytes} (truncated or replaced)`,
    );
  }
  if (sha256Hex(bytes) !== manifest.tensors.sha256) {
    throw new ModelFileError(tensorsPath, "SHA-256 does not match the manifest (corrupt or replaced)");
  }
  const { tensors } = decodeTensors(bytes, tensorsPath);
  return {
    kind: manifest.kind,
    config: manifest.config,
    vocabularies: manifest.vocabularies,
    metadata: manifest.metadata,
    tensors,
    manifest,
  };
}

function readBytes(path: string): Uint8Array {
  try {
    if (!statSync(path).isFile()) throw new Error("not a regular file");
    return readFileSync(path);
  } catch (error) {
    throw new ModelFileError(path, `cannot read (${(error as Error).message})`, { cause: error });
  }
}
