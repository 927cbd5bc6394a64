/**
 * manifest.json: what a model directory holds and how to check it. Format name and version,
 * model kind, configuration, vocabularies, training metadata, and the tensor file's name, size and
 * SHA-256. The manifest carries its own SHA-256 (over its JSON without that field), so a flipped
 * bit anywhere in it is detected too, not only in the tensors.
 */
import { createHash } from "node:crypto";
import { ModelFileError } from "./errors.js";

export const MODEL_FORMAT = "watchnext-model";
export const MODEL_FORMAT_VERSION = 1;
export const MANIFEST_FILE = "manifest.json";
export const TENSORS_FILE = "tensors.safetensors";
/** Bound on manifest.json (vocabularies of a few million tokens fit). */
export const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface Manifest {
  format: typeof MODEL_FORMAT;
  formatVersion: typeof MODEL_FORMAT_VERSION;
  /** The model family, e.g. "candidates" or "ranking". */
  kind: string;
  createdAt: string;
  config: JsonValue;
  /** Vocabulary name → tokens in index order. */
  vocabularies: Record<string, string[]>;
  /** Training metadata: data set, epochs, losses, timings, seeds. */
  metadata: Record<string, JsonValue>;
  tensors: { file: string; bytes: number; sha256: string };
  /** SHA-256 of this manifest's JSON with this field removed. */
  manifestSha256: string;
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The checksum of a manifest object: SHA-256 of its JSON without the manifestSha256 field. */
export function manifestChecksum(manifest: Record<string, unknown>): string {
  const rest: Record<string, unknown> = { ...manifest };
  delete rest.manifestSha256;
  return sha256Hex(JSON.stringify(rest));
}

/** Serialises a manifest (computing its checksum) as indented JSON. */
export function encodeManifest(manifest: Omit<Manifest, "manifestSha256">): Uint8Array {
  const full = { ...manifest, manifestSha256: manifestChecksum(manifest) };
  return new TextEncoder().encode(JSON.stringify(full, null, 2) + "\n");
}

/** Parses and verifies manifest bytes: format, version, checksum, then every field's type. */
export function decodeManifest(bytes: Uint8Array, file: string): Manifest {
  const fail = (problem: string): never => {
    throw new ModelFileError(file, problem);
  };
  if (bytes.length > MAX_MANIFEST_BYTES)
    fail(`${bytes.length} bytes exceeds the ${MAX_MANIFEST_BYTES}-byte limit`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    return fail(`not a valid JSON manifest (${(error as Error).message}; truncated or corrupt?)`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return fail("manifest must be a JSON object");
  const m = value as Record<string, unknown>;
  if (m.format !== MODEL_FORMAT) fail(`format ${JSON.stringify(m.format)} is not "${MODEL_FORMAT}"`);
  if (m.formatVersion !== MODEL_FORMAT_VERSION) {
    fail(
      `formatVersion ${JSON.stringify(m.formatVersion)} is not supported (this version of watchnext reads ${MODEL_FORMAT_VERSION})`,
    );
  }
  if (typeof m.manifestSha256 !== "string") fail("manifestSha256 is missing");
  if (m.manifestSha256 !== manifestChecksum(m)) {
    fail("manifestSha256 does not match the manifest's content (corrupt or edited)");
  }
  if (typeof m.kind !== "string" || m.kind === "") fail("kind must be a non-empty string");
  if (typeof m.createdAt !== "string") fail("createdAt must be a string");
  if (!("config" in m)) fail("config is missing");
  if (!isPlainObject(m.vocabularies)) fail("vocabularies must be an object");
  for (const [name, tokens] of Object.entries(m.vocabularies as Record<string, unknown>)) {
    if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === "string")) {
      fail(`vocabularies.${name} must be an array of strings`);
    }
  }
  if (!isPlainObject(m.metadata)) fail("metadata must be an object");
  const t = m.tensors;
  if (!isPlainObject(t)) return fail("tensors must be an object");
  const tensors = t as Record<string, unknown>;
  if (
    typeof tensors.file !== "string" ||
    !/^[A-Za-z0-9._-]+$/.test(tensors.file) ||
    tensors.file.startsWith(".")
  ) {
    fail(
      `tensors.file must be a plain file name inside the model directory, got ${JSON.stringify(tensors.file)}`,
    );
  }
  if (!Number.isSafeInteger(tensors.bytes) || (tensors.bytes as number) < 8)
    fail("tensors.bytes must be an integer >= 8");
  if (typeof tensors.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(tensors.sha256)) {
    fail("tensors.sha256 must be 64 lowercase hex digits");
  }
  return m as unknown as Manifest;
}

function isPlainObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
