/**
 * Tensor files in the safetensors layout, readable by the `safetensors` Python package:
 *
 *   [8-byte little-endian header length N] [N bytes of JSON header] [tensor bytes]
 *
 * with header {name: {dtype: "F32", shape, data_offsets: [begin, end]}, "__metadata__": {...}}
 * and offsets relative to the first tensor byte. watchnext writes float32 only, little-endian,
 * pads the header with spaces so tensor data starts 8-byte aligned, and on reading checks
 * everything: header size bound, JSON shape, dtype, sizes = product(shape)·4, offsets that tile
 * the data exactly (no gaps, overlaps or trailing bytes). The header is parsed as JSON, never run.
 */
import { readFileSync } from "node:fs";
import { endianness } from "node:os";
import { writeFileAtomic } from "../../io/atomic.js";
import { ModelFileError } from "./errors.js";

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** Upper bound on the JSON header: far above any real model's, far below a memory problem. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;

const LITTLE_ENDIAN_HOST = endianness() === "LE";
const METADATA_KEY = "__metadata__";

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The file's bytes as chunks: length prefix, header, then each tensor's data. */
export function encodeTensors(
  tensors: Readonly<Record<string, Tensor>>,
  metadata: Readonly<Record<string, string>> = {},
  file = "tensors",
): Uint8Array[] {
  const header: Record<string, unknown> = { [METADATA_KEY]: { ...metadata } };
  const datas: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    if (name === "" || name === METADATA_KEY) throw new ModelFileError(file, `invalid tensor name "${name}"`);
    const { shape, data } = tensor;
    if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new ModelFileError(
        file,
        `tensor "${name}": shape [${shape.join(", ")}] must be non-negative integers`,
      );
    }
    if (elementCount(shape) !== data.length) {
      throw new ModelFileError(
        file,
        `tensor "${name}": shape [${shape.join(", ")}] does not match ${data.length} values`,
      );
    }
    const bytes = data.length * 4;
    header[name] = { dtype: "F32", shape: [...shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
    datas.push(littleEndianBytes(data));
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8 - 8;
  if (padded > MAX_HEADER_BYTES) {
    throw new ModelFileError(file, `header of ${padded} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(json.length), true);
  return [prefix, json, ...datas];
}

function littleEndianBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/** Writes tensors to `path` atomically (temp file, fsync, rename). */
export function writeTensors(
  path: string,
  tensors: Readonly<Record<string, Tensor>>,
  metadata: Readonly<Record<string, string>> = {},
): void {
  writeFileAtomic(path, encodeTensors(tensors, metadata, path));
}

export interface DecodedTensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** Parses and fully validates a tensor file's bytes; `file` names it in errors. */
export function decodeTensors(bytes: Uint8Array, file: string): DecodedTensors {
  const fail = (problem: string): never => {
    throw new ModelFileError(file, problem);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short for a tensor file (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(
      `header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a tensor file)`,
    );
  }
  const n = Number(headerLength);
  if (8 + n > bytes.length)
    fail(`header length ${n} runs past the end of the ${bytes.length}-byte file (truncated?)`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail("header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    return fail(`header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    fail("header must be a JSON object");
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const entries: { name: string; shape: number[]; begin: number; end: number }[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      metadata = parseMetadata(value, fail);
      continue;
    }
    entries.push({ name, ...parseEntry(name, value, fail) });
  }
  // The tensors must tile [0, dataLength) exactly: sorted by offset, each starting where the last ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end); // empty tensors first at a shared offset
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected) {
      fail(
        e.begin < expected
          ? `tensor "${e.name}" overlaps the previous tensor (offset ${e.begin} < ${expected})`
          : `gap before tensor "${e.name}" (offset ${e.begin}, expected ${expected})`,
      );
    }
    expected = e.end;
  }
  if (expected !== dataLength) {
    fail(
      expected > dataLength
        ? `tensor data needs ${expected} bytes but the file holds ${dataLength} after the header (truncated?)`
        : `${dataLength - expected} unexpected bytes after the last tensor`,
    );
  }
  const tensors: Record<string, Tensor> = Object.create(null) as Record<string, Tensor>;
  for (const e of entries) {
    tensors[e.name] = {
      shape: e.shape,
      data: readFloat32(bytes, dataStart + e.begin, (e.end - e.begin) / 4),
    };
  }
  return { tensors, metadata };
}

function parseMetadata(value: unknown, fail: (problem: string) => never): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    fail(`"${METADATA_KEY}" must be an object`);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string") fail(`"${METADATA_KEY}.${k}" must be a string`);
    out[k] = v as string;
  }
  return out;
}

function parseEntry(
  name: string,
  value: unknown,
  fail: (problem: string) => never,
): { shape: number[]; begin: number; end: number } {
  const where = `tensor "${name}"`;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    fail(`${where}: entry must be an object`);
  const entry = value as Record<string, unknown>;
  for (const key of Object.keys(entry)) {
    if (key !== "dtype" && key !== "shape" && key !== "data_offsets")
      fail(`${where}: unknown field "${key}"`);
  }
  if (entry.dtype !== "F32")
    fail(`${where}: dtype ${JSON.stringify(entry.dtype)} is not supported (expected "F32")`);
  const shape = entry.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`${where}: shape must be an array of non-negative integers`);
  }
  const offsets = entry.data_offsets;
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[1] < offsets[0]
  ) {
    fail(`${where}: data_offsets must be [begin, end] with 0 <= begin <= end`);
  }
  const [begin, end] = offsets as [number, number];
  const count = elementCount(shape as number[]);
  if (end - begin !== count * 4) {
    fail(
      `${where}: data_offsets span ${end - begin} bytes but shape [${(shape as number[]).join(", ")}] needs ${count * 4}`,
    );
  }
  return { shape: shape as number[], begin, end };
}

function readFloat32(bytes: Uint8Array, start: number, count: number): Float32Array {
  const out = new Float32Array(count);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes.subarray(start, start + count * 4));
  } else {
    const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * 4);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

/** Reads and validates a tensor file. */
export function readTensors(path: string): DecodedTensors {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ModelFileError(path, `cannot read (${(error as Error).message})`, { cause: error });
  }
  return decodeTensors(bytes, path);
}
