/**
 * Model files: safetensors round trip and layout, model directory round trip, and rejection with
 * a clear ModelFileError of every corruption: truncation at random offsets, random bit flips in
 * either file, an oversized or malformed header, inconsistent offsets, an unknown format version.
 */
import { createHash } from "node:crypto";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { manifestChecksum } from "../src/engine/model-file/manifest.js";
import {
  loadModel,
  MANIFEST_FILE,
  MAX_HEADER_BYTES,
  ModelFileError,
  readTensors,
  saveModel,
  TENSORS_FILE,
  writeTensors,
  type ModelContents,
  type Tensor,
} from "../src/engine/model-file/index.js";
import { Rng } from "../src/engine/rng.js";

const root = mkdtempSync(join(tmpdir(), "watchnext-model-file-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCounter = 0;
const freshPath = (name: string) => join(root, `${name}-${++dirCounter}`);

function randomTensor(rng: Rng, shape: number[]): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { shape, data };
}

function sampleModel(): ModelContents {
  const rng = new Rng(61);
  return {
    kind: "candidates",
    config: { network: { widths: [32, 16], outputDim: 16 }, train: { lr: 0.001 } },
    vocabularies: {
      items: ["<oov>", "Toy Story (1995)", "Heat (1995)", "Amélie (2001)"],
      ages: ["<oov>", "18-24"],
    },
    metadata: { epochs: 3, seed: 42, dataset: "ml-100k", finalLoss: 5.25 },
    tensors: {
      "items.weight": randomTensor(rng, [4, 8]),
      empty: { shape: [0, 4], data: new Float32Array(0) }, // zero bytes between two tensors
      "tower.0.weight": randomTensor(rng, [8, 6]),
      "tower.0.bias": randomTensor(rng, [6]),
      scalar: { shape: [], data: Float32Array.of(3.5) },
    },
  };
}

/** Runs fn and returns the ModelFileError it must throw. */
function modelFileError(fn: () => unknown): ModelFileError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ModelFileError) return error;
    throw new Error(`expected a ModelFileError, got ${String(error)}`);
  }
  throw new Error("expected a ModelFileError, but nothing was thrown");
}

/** A tensor file from a raw header object (or string) and data length, bypassing the writer. */
function rawTensorFile(path: string, header: unknown, dataBytes: number, declaredLength?: bigint): void {
  const json = Buffer.from(typeof header === "string" ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declaredLength ?? BigInt(json.length));
  writeFileSync(path, Buffer.concat([prefix, json, Buffer.alloc(dataBytes)]));
}

describe("safetensors tensor files", () => {
  it("round-trip names, shapes and values exactly, with the safetensors layout", () => {
    const path = freshPath("t.safetensors");
    const { tensors } = sampleModel();
    writeTensors(path, tensors, { note: "hello" });
    const back = readTensors(path);
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      expect(back.tensors[name].shape).toEqual(t.shape);
      expect(Array.from(back.tensors[name].data)).toEqual(Array.from(t.data));
    }
    expect(back.metadata.note).toBe("hello");
    // Layout: u64 LE header length, JSON header (8-byte aligned end), contiguous F32 little-endian data.
    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString("utf8"));
    expect(header["tower.0.bias"]).toMatchObject({ dtype: "F32", shape: [6] });
    const [begin, end] = header["tower.0.bias"].data_offsets as [number, number];
    expect(end - begin).toBe(24);
    expect(bytes.readFloatLE(8 + n + begin)).toBe(tensors["tower.0.bias"].data[0]);
    expect(readdirSync(root).some((f) => f.includes(".tmp-"))).toBe(false);
  });

  it("refuses to write a tensor whose data does not match its shape", () => {
    const err = modelFileError(() =>
      writeTensors(freshPath("bad"), { w: { shape: [2, 3], data: new Float32Array(5) } }),
    );
    expect(err.message).toMatch(/tensor "w": shape \[2, 3\] does not match 5 values/);
  });

  it("rejects an oversized header length before reading it", () => {
    const path = freshPath("oversized");
    rawTensorFile(
      path,
      { a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } },
      4,
      BigInt(MAX_HEADER_BYTES + 1),
    );
    expect(modelFileError(() => readTensors(path)).message).toMatch(
      /header length \d+ exceeds the \d+-byte limit/,
    );
    rawTensorFile(path, {}, 0, 2n ** 63n);
    expect(modelFileError(() => readTensors(path)).message).toMatch(/exceeds the \d+-byte limit/);
  });

  it("rejects malformed headers with the reason", () => {
    const path = freshPath("malformed");
    const cases: [unknown, number, RegExp][] = [
      ['{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]', 4, /header is not valid JSON/],
      ["[1, 2]", 0, /header must be a JSON object/],
      [{ a: { dtype: "F16", shape: [2], data_offsets: [0, 4] } }, 4, /dtype "F16" is not supported/],
      [
        { a: { dtype: "F32", shape: [2, -1], data_offsets: [0, 4] } },
        4,
        /shape must be an array of non-negative integers/,
      ],
      [{ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, 8, /span 8 bytes but shape \[3\] needs 12/],
      [{ a: { dtype: "F32", shape: [1], data_offsets: [4, 0] } }, 4, /data_offsets must be \[begin, end\]/],
      [
        {
          a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
          b: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
        },
        8,
        /overlaps/,
      ],
      [{ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, 8, /gap before tensor "a"/],
      [
        { a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } },
        12,
        /8 unexpected bytes after the last tensor/,
      ],
      [{ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, 8, /needs 16 bytes but the file holds 8/],
      [{ a: { dtype: "F32", shape: [1], data_offsets: [0, 4], extra: 1 } }, 4, /unknown field "extra"/],
      [{ __metadata__: { n: 5 } }, 0, /"__metadata__.n" must be a string/],
    ];
    for (const [header, dataBytes, message] of cases) {
      rawTensorFile(path, header, dataBytes);
      const err = modelFileError(() => readTensors(path));
      expect(err.message).toMatch(message);
      expect(err.file).toBe(path);
    }
    writeFileSync(path, Buffer.from([1, 2, 3]));
    expect(modelFileError(() => readTensors(path)).message).toMatch(/too short/);
  });
});

describe("model directories", () => {
  it("round-trip kind, config, vocabularies, metadata and tensors", () => {
    const dir = freshPath("model");
    const model = sampleModel();
    saveModel(dir, model);
    expect(readdirSync(dir).sort()).toEqual([MANIFEST_FILE, TENSORS_FILE].sort());
    const loaded = loadModel(dir, "candidates");
    expect(loaded.kind).toBe("candidates");
    expect(loaded.config).toEqual(model.config);
    expect(loaded.vocabularies).toEqual(model.vocabularies);
    expect(loaded.metadata).toEqual(model.metadata);
    expect(loaded.manifest.formatVersion).toBe(1);
    for (const [name, t] of Object.entries(model.tensors)) {
      expect(Array.from(loaded.tensors[name].data)).toEqual(Array.from(t.data));
    }
    expect(modelFileError(() => loadModel(dir, "ranking")).message).toMatch(
      /holds a "candidates" model, expected "ranking"/,
    );
  });

  it("replaces an existing model atomically, leaving no temporary directories", () => {
    const dir = freshPath("replace");
    saveModel(dir, sampleModel());
    const second = sampleModel();
    second.metadata = { epochs: 9 };
    saveModel(dir, second);
    expect(loadModel(dir).metadata).toEqual({ epochs: 9 });
    expect(readdirSync(root).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("refuses to replace a directory or file that is not a model", () => {
    const dir = freshPath("project");
    mkdirSync(dir);
    writeFileSync(join(dir, "notes.txt"), "keep me");
    expect(modelFileError(() => saveModel(dir, sampleModel())).message).toMatch(
      /not a watchnext model directory/,
    );
    expect(readFileSync(join(dir, "notes.txt"), "utf8")).toBe("keep me");
    const file = freshPath("plain-file");
    writeFileSync(file, "x");
    expect(modelFileError(() => saveModel(file, sampleModel())).message).toMatch(/not a directory/);
    const empty = freshPath("empty-dir");
    mkdirSync(empty);
    saveModel(empty, sampleModel());
    expect(loadModel(empty).kind).toBe("candidates");
  });

  it("reports a missing model directory clearly", () => {
    const err = modelFileError(() => loadModel(join(root, "nope")));
    expect(err.message).toMatch(/manifest\.json: cannot read/);
  });

  it("rejects the tensor file truncated at 10 random offsets", () => {
    const rng = new Rng(71);
    const dir = freshPath("truncate");
    saveModel(dir, sampleModel());
    const path = join(dir, TENSORS_FILE);
    const original = readFileSync(path);
    for (let trial = 0; trial < 10; trial++) {
      const length = rng.nextInt(original.length);
      writeFileSync(path, original);
      truncateSync(path, length);
      const err = modelFileError(() => loadModel(dir));
      expect(err.file).toBe(path);
      expect(err.message).toMatch(/is \d+ bytes but the manifest records \d+ \(truncated or replaced\)/);
      // The tensor reader alone (no manifest) rejects it too.
      expect(modelFileError(() => readTensors(path)).message).toMatch(
        /truncated|too short|not valid|gap|needs/,
      );
    }
  });

  it("rejects the manifest truncated at 10 random offsets", () => {
    const rng = new Rng(72);
    const dir = freshPath("truncate-manifest");
    saveModel(dir, sampleModel());
    const path = join(dir, MANIFEST_FILE);
    const original = readFileSync(path);
    for (let trial = 0; trial < 10; trial++) {
      writeFileSync(path, original.subarray(0, rng.nextInt(original.length - 1)));
      const err = modelFileError(() => loadModel(dir));
      expect(err.file).toBe(path);
      expect(err.message).toMatch(/not a valid JSON manifest/);
    }
  });

  it("rejects 10 random bit flips anywhere in either file", () => {
    const rng = new Rng(73);
    const dir = freshPath("flip");
    saveModel(dir, sampleModel());
    const files = [join(dir, MANIFEST_FILE), join(dir, TENSORS_FILE)];
    const originals = files.map((f) => readFileSync(f));
    const hitFiles = new Set<string>();
    for (let trial = 0; trial < 10; trial++) {
      // Alternate files so both are exercised; any byte, any bit.
      const which = trial % 2;
      const bytes = Buffer.from(originals[which]);
      const offset = rng.nextInt(bytes.length);
      bytes[offset] ^= 1 << rng.nextInt(8);
      writeFileSync(files[which], bytes);
      const err = modelFileError(() => loadModel(dir));
      expect(err.file).toBe(files[which]);
      expect(err.message).toMatch(
        /SHA-256 does not match|manifestSha256 does not match|not a valid JSON manifest|format|must/,
      );
      hitFiles.add(files[which]);
      writeFileSync(files[which], originals[which]);
    }
    expect(hitFiles.size).toBe(2);
    expect(loadModel(dir).kind).toBe("candidates");
  });

  it("rejects a bit flip in a string value of the manifest (valid JSON, wrong content)", () => {
    const dir = freshPath("flip-string");
    saveModel(dir, sampleModel());
    const path = join(dir, MANIFEST_FILE);
    const text = readFileSync(path, "utf8");
    const at = text.indexOf("Heat (1995)");
    const bytes = Buffer.from(text);
    bytes[Buffer.byteLength(text.slice(0, at))] ^= 0x20; // "Heat" → "heat"
    writeFileSync(path, bytes);
    expect(modelFileError(() => loadModel(dir)).message).toMatch(/manifestSha256 does not match/);
  });

  it("rejects an unknown format version and a foreign format with clear messages", () => {
    const dir = freshPath("version");
    saveModel(dir, sampleModel());
    const path = join(dir, MANIFEST_FILE);
    const manifest = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
    for (const [patch, message] of [
      [{ formatVersion: 2 }, /formatVersion 2 is not supported \(this version of watchnext reads 1\)/],
      [{ formatVersion: "1" }, /formatVersion "1" is not supported/],
      [{ format: "pytorch" }, /format "pytorch" is not "watchnext-model"/],
    ] as const) {
      // Re-signed, so the version check itself (not the checksum) must reject it.
      const edited: Record<string, unknown> = { ...manifest, ...patch };
      edited.manifestSha256 = manifestChecksum(edited);
      writeFileSync(path, JSON.stringify(edited));
      const err = modelFileError(() => loadModel(dir));
      expect(err.file).toBe(path);
      expect(err.message).toMatch(message);
    }
  });

  it("validates the tensor header even when the manifest's hash matches a bad tensor file", () => {
    const dir = freshPath("resigned");
    saveModel(dir, sampleModel());
    const tensorsPath = join(dir, TENSORS_FILE);
    const manifestPath = join(dir, MANIFEST_FILE);
    const resign = () => {
      const bytes = readFileSync(tensorsPath);
      const m = JSON.parse(readFileSync(manifestPath, "utf8")) as Record<string, Record<string, unknown>>;
      m.tensors = { ...m.tensors, bytes: bytes.length, sha256: createSha256(bytes) };
      (m as Record<string, unknown>).manifestSha256 = manifestChecksum(m);
      writeFileSync(manifestPath, JSON.stringify(m));
    };
    rawTensorFile(
      tensorsPath,
      { a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } },
      4,
      BigInt(MAX_HEADER_BYTES) * 4n,
    );
    resign();
    expect(modelFileError(() => loadModel(dir)).message).toMatch(/exceeds the \d+-byte limit/);
    rawTensorFile(tensorsPath, '{"a": [', 0);
    resign();
    expect(modelFileError(() => loadModel(dir)).message).toMatch(/header is not valid JSON/);
  });
});

function createSha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
