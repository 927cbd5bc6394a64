/**
 * A saved model is a directory: manifest.json plus one safetensors file. saveModel writes both
 * into a temporary sibling directory, fsyncs, and renames it into place, so a crash leaves either
 * the previous model or the new one under the final name, never half of one. loadModel checks the
 * manifest, then the tensor file's size and SHA-256 against it, then the tensor header.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { replaceDirectory, tempSibling, writeFileSynced } from "../../io/atomic.js";
import { ModelFileError } from "./errors.js";
import {
  decodeManifest,
  encodeManifest,
  MANIFEST_FILE,
  MAX_MANIFEST_BYTES,
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
  checkReplaceable(target);
  const temp = tempSibling(target, "tmp");
  try {
    mkdirSync(temp);
    writeFileSynced(join(temp, TENSORS_FILE), chunks);
    writeFileSynced(join(temp, MANIFEST_FILE), [manifest]);
    replaceDirectory(temp, target);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Only a previous model may be replaced: a directory holding anything but manifest.json and a
 * tensor file (say, a project folder passed by mistake) is refused rather than deleted.
 */
function checkReplaceable(target: string): void {
  if (!existsSync(target)) return;
  if (!statSync(target).isDirectory()) {
    throw new ModelFileError(target, "exists and is not a directory; refusing to replace it with a model");
  }
  const entries = readdirSync(target);
  const foreign = entries.filter((name) => name !== MANIFEST_FILE && !name.endsWith(".safetensors"));
  if (foreign.length > 0 || (entries.length > 0 && !entries.includes(MANIFEST_FILE))) {
    throw new ModelFileError(
      target,
      `exists and is not a watchnext model directory (holds ${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", ..." : ""}); refusing to replace it`,
    );
  }
}

/**
 * Reads and verifies a model directory's manifest only (not the tensors): enough to learn a model's
 * kind, config and metadata cheaply. `expectKind` rejects a model of another family.
 */
export function readManifest(dir: string, expectKind?: string): Manifest {
  const manifestPath = join(dir, MANIFEST_FILE);
  const manifestBytes = readBytes(manifestPath, (size) =>
    size > MAX_MANIFEST_BYTES ? `${size} bytes exceeds the ${MAX_MANIFEST_BYTES}-byte limit` : null,
  );
  const manifest = decodeManifest(manifestBytes, manifestPath);
  if (expectKind !== undefined && manifest.kind !== expectKind) {
    throw new ModelFileError(manifestPath, `holds a "${manifest.kind}" model, expected "${expectKind}"`);
  }
  return manifest;
}

/** Reads and verifies a model directory; `expectKind` rejects a model of another family. */
export function loadModel(dir: string, expectKind?: string): LoadedModel {
  const manifest = readManifest(dir, expectKind);
  const tensorsPath = join(dir, manifest.tensors.file);
  const bytes = readBytes(tensorsPath, (size) =>
    size !== manifest.tensors.bytes
      ? `is ${size} bytes but the manifest records ${manifest.tensors.bytes} (truncated or replaced)`
      : null,
  );
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

/** Reads a regular file, refusing before the read when its size is not acceptable. */
function readBytes(path: string, checkSize: (size: number) => string | null): Uint8Array {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new Error("not a regular file");
    size = stat.size;
  } catch (error) {
    throw new ModelFileError(path, `cannot read (${(error as Error).message})`, { cause: error });
  }
  const problem = checkSize(size);
  if (problem !== null) throw new ModelFileError(path, problem);
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ModelFileError(path, `cannot read (${(error as Error).message})`, { cause: error });
  }
}
