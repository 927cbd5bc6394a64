/**
 * One-file persistence for HnswIndex, so an index can be saved beside a model and reloaded by the
 * server without a rebuild. Layout: the 8-byte magic "WNHNSW01", a little-endian uint32 header
 * length, a JSON header (dim, size, parameters, and per range its item count, M² and graph byte
 * length; version 2 adds whether items carry a bias and the reserved item ids), then per range its
 * item ids (int32 LE) followed by hnswlib's own graph file. The item vectors (and biases) are read
 * back out of the graphs (hnswlib stores them as float32), so nothing is stored twice. Writes are
 * atomic (temp file + fsync + rename); version 1 files still load.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import hnswlib from "hnswlib-node";
import { ModelFileError } from "../engine/model-file/errors.js";
import { writeFileAtomic } from "../io/atomic.js";
import { checkParams, HnswIndex, type HnswParams, type HnswRange } from "./hnsw-index.js";

const MAGIC = "WNHNSW01";

interface HnswFileHeader {
  format: "watchnext-hnsw";
  version: 1 | 2;
  dim: number;
  size: number;
  params: HnswParams;
  ranges: { count: number; maxSqNorm: number; graphBytes: number }[];
  /** Version 2: items scored u·v + b (the graphs hold [v, b, ·]). */
  itemBias?: boolean;
  /** Version 2: ids reserved without a vector (in no range). */
  reserved?: number[];
}

/** Runs fn with a fresh private temp directory (hnswlib reads and writes graphs only by path). */
function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "watchnext-hnsw-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Saves the index to `path` atomically (replacing any previous file). */
export function saveHnswIndex(index: HnswIndex, path: string): void {
  const graphs = withTempDir((dir) =>
    index.ranges.map((range, r) => {
      const file = join(dir, `range-${r}.bin`);
      range.graph.writeIndexSync(file);
      return readFileSync(file);
    }),
  );
  const reserved: number[] = [];
  for (let item = 0; item < index.size; item++) if (!index.isSearchable(item)) reserved.push(item);
  const header: HnswFileHeader = {
    format: "watchnext-hnsw",
    version: 2,
    dim: index.dim,
    size: index.size,
    params: { ...index.params, efSearch: index.getEfSearch() },
    itemBias: index.itemBias !== null,
    reserved,
    ranges: index.ranges.map((range, r) => ({
      count: range.items.length,
      maxSqNorm: range.maxSqNorm,
      graphBytes: graphs[r].length,
    })),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  const prefix = Buffer.alloc(12);
  prefix.write(MAGIC, 0, "latin1");
  prefix.writeUInt32LE(headerBytes.length, 8);
  const chunks: Uint8Array[] = [prefix, headerBytes];
  index.ranges.forEach((range, r) => {
    chunks.push(int32ToLE(range.items), graphs[r]);
  });
  writeFileAtomic(path, chunks);
}

/** Loads an index written by saveHnswIndex; errors (ModelFileError) name the file and what was wrong. */
export function loadHnswIndex(path: string): HnswIndex {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new ModelFileError(path, `cannot read (${(error as Error).message})`, { cause: error });
  }
  const fail = (what: string): never => {
    throw new ModelFileError(path, `not a valid watchnext HNSW index file: ${what}`);
  };
  if (bytes.length < 12 || bytes.toString("latin1", 0, 8) !== MAGIC) fail(`expected magic "${MAGIC}"`);
  const headerLength = bytes.readUInt32LE(8);
  if (12 + headerLength > bytes.length) fail(`header length ${headerLength} exceeds the file`);
  let header: HnswFileHeader;
  try {
    header = JSON.parse(bytes.toString("utf8", 12, 12 + headerLength)) as HnswFileHeader;
  } catch (error) {
    return fail(`header is not JSON (${(error as Error).message})`);
  }
  if (header.format !== "watchnext-hnsw" || (header.version !== 1 && header.version !== 2)) {
    fail(`header format/version is ${header.format}/${header.version}, expected watchnext-hnsw/1 or 2`);
  }
  const { dim, size } = header;
  const params = checkParams(header.params);
  const hasBias = header.itemBias === true;
  const reserved = header.reserved ?? [];
  const vectors = new Float32Array(size * dim);
  const bias = hasBias ? new Float32Array(size) : null;
  const searchable = new Uint8Array(size).fill(1);
  for (const item of reserved) {
    if (!Number.isInteger(item) || item < 0 || item >= size)
      fail(`reserved item ${item} is not in 0..${size - 1}`);
    searchable[item] = 0;
  }
  let offset = 12 + headerLength;
  let total = 0;
  const ranges = withTempDir((dir) =>
    header.ranges.map((meta, r): HnswRange => {
      const idBytes = meta.count * 4;
      if (offset + idBytes + meta.graphBytes > bytes.length) fail(`range ${r} runs past the end of the file`);
      const items = new Int32Array(meta.count);
      for (let i = 0; i < meta.count; i++) {
        items[i] = bytes.readInt32LE(offset + 4 * i);
        if (items[i] < 0 || items[i] >= size)
          fail(`range ${r} item ${i} is ${items[i]}, expected 0..${size - 1}`);
      }
      offset += idBytes;
      const file = join(dir, `range-${r}.bin`);
      writeFileSync(file, bytes.subarray(offset, offset + meta.graphBytes));
      offset += meta.graphBytes;
      const graph = new hnswlib.HierarchicalNSW("l2", dim + (hasBias ? 2 : 1));
      graph.readIndexSync(file);
      if (graph.getCurrentCount() !== meta.count) {
        fail(`range ${r} graph holds ${graph.getCurrentCount()} points, expected ${meta.count}`);
      }
      for (let label = 0; label < meta.count; label++) {
        const point = graph.getPoint(label);
        vectors.set(point.slice(0, dim), items[label] * dim);
        if (bias !== null) bias[items[label]] = point[dim];
      }
      total += meta.count;
      return { items, maxSqNorm: meta.maxSqNorm, graph };
    }),
  );
  if (total + reserved.length !== size) {
    fail(`ranges hold ${total} items and ${reserved.length} are reserved, expected ${size} in all`);
  }
  return new HnswIndex(vectors, size, dim, params, ranges, {
    itemBias: bias,
    searchable: reserved.length > 0 ? searchable : null,
  });
}

function int32ToLE(values: Int32Array): Buffer {
  const out = Buffer.alloc(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeInt32LE(values[i], 4 * i);
  return out;
}
