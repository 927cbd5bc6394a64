/**
 * Opt-in on-disk cache of built impressions (`.watchnext-cache/`, gitignored): building training
 * lists fits every source K times, so tuning runs reuse them. The key hashes everything the result
 * depends on (dataset fingerprint, protocol and its options, seed, sources, list lengths, folds,
 * points, window, source settings, pre-fitted sources); a hit restores the three impression sets
 * and the training-part sources (the DNN from its saved weights, the others refitted on the
 * protocol's training part, refused if those events differ). One file of typed arrays with a
 * SHA-256 in its header, written into a temporary directory renamed into place.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Dataset } from "../../data/dataset.js";
import { replaceDirectory, tempSibling, writeFileSynced } from "../../io/atomic.js";
import type { Split } from "../../eval/types.js";
import type { ImpressionSet } from "../../features/impressions.js";
import { fingerprintOf } from "../sources/fit-data.js";
import { loadSource, saveSource, type SourceSettings } from "../sources/registry.js";
import type { FittedSource } from "../sources/source.js";
import type { ModelGroup, RankingImpressions, ResolvedImpressionOptions } from "./impression-builder.js";
import { linkPreviousLists } from "./impression-history.js";

const FORMAT = "watchnext-impressions";
const VERSION = 1;
const LISTS_FILE = "lists.bin";
export const DEFAULT_CACHE_ROOT = ".watchnext-cache";

/** The cache directory for these inputs, or null when caching is off. */
export function impressionCacheDir(
  cache: boolean | string | undefined,
  dataset: Dataset,
  opts: ResolvedImpressionOptions,
  settings: SourceSettings | undefined,
  fitted: readonly FittedSource[] | undefined,
): string | null {
  const env = process.env.WATCHNEXT_IMPRESSION_CACHE;
  const choice = cache ?? (env === undefined || env === "" || env === "0" ? false : env === "1" ? true : env);
  if (choice === false) return null;
  const root = choice === true ? DEFAULT_CACHE_ROOT : choice;
  const key = {
    format: FORMAT,
    version: VERSION,
    dataset: fingerprintOf(dataset),
    options: opts,
    settings: settings ?? {},
    fitted: (fitted ?? []).map((s) => ({ name: s.name, params: s.params, fitData: s.fitData })),
  };
  const hash = createHash("sha256").update(JSON.stringify(key)).digest("hex").slice(0, 24);
  return resolve(root, `impressions-${dataset.name.replace(/[^A-Za-z0-9_.-]/g, "_")}-${hash}`);
}

type Column = Int32Array | Float64Array | Float32Array | Uint8Array | Int8Array;
const SET_COLUMNS = [
  "users",
  "times",
  "historyOffsets",
  "historyItems",
  "historyTimes",
  "historyWeights",
  "listOffsets",
  "items",
  "positive",
  "weight",
  "sourceScores",
  "sourceRanks",
] as const;
const SETS = ["train", "valid", "test"] as const;

interface Header {
  format: string;
  version: number;
  sha256: string;
  sources: string[];
  groups: ModelGroupJSON[];
  validGroup: number;
  testGroup: number;
  columns: Array<{ name: string; type: string; length: number; offset: number }>;
}

interface ModelGroupJSON {
  label: string;
  events: number;
  /** Column names holding each source's lastSeenTime. */
  fitRecords: Array<{ source: string; column: string }>;
}

function typeName(c: Column): string {
  return c.constructor.name;
}

function makeColumn(type: string, bytes: Uint8Array, length: number, where: string): Column {
  const copy = (n: number) => {
    const b = new ArrayBuffer(length * n);
    new Uint8Array(b).set(bytes.subarray(0, length * n));
    return b;
  };
  switch (type) {
    case "Int32Array":
      return new Int32Array(copy(4));
    case "Float64Array":
      return new Float64Array(copy(8));
    case "Float32Array":
      return new Float32Array(copy(4));
    case "Uint8Array":
      return new Uint8Array(copy(1));
    case "Int8Array":
      return new Int8Array(copy(1));
    default:
      throw new Error(`${where}: unknown column type ${type}`);
  }
}

export function saveCachedImpressions(
  dir: string,
  imp: RankingImpressions,
  log: (line: string) => void,
): void {
  const columns = new Map<string, Column>();
  for (const s of SETS) {
    const set = imp[s] as unknown as Record<string, Column | undefined>;
    for (const c of SET_COLUMNS) {
      const col = set[c];
      if (col !== undefined) columns.set(`${s}.${c}`, col);
    }
  }
  columns.set("trainGroup", imp.trainGroup);
  const groups: ModelGroupJSON[] = imp.groups.map((g, k) => ({
    label: g.label,
    events: g.events,
    fitRecords: g.fitRecords.map((r) => {
      const column = `group${k}.${r.source}`;
      columns.set(column, r.lastSeenTime);
      return { source: r.source, column };
    }),
  }));
  const hash = createHash("sha256");
  const layout: Header["columns"] = [];
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, col] of columns) {
    const bytes = new Uint8Array(col.buffer, col.byteOffset, col.byteLength);
    layout.push({ name, type: typeName(col), length: col.length, offset });
    hash.update(bytes);
    chunks.push(bytes);
    offset += bytes.length;
  }
  const header: Header = {
    format: FORMAT,
    version: VERSION,
    sha256: hash.digest("hex"),
    sources: [...imp.sources],
    groups,
    validGroup: imp.validGroup,
    testGroup: imp.testGroup,
    columns: layout,
  };
  const headerBytes = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32LE(headerBytes.length);
  mkdirSync(dirname(dir), { recursive: true });
  const temp = tempSibling(dir, "tmp");
  try {
    mkdirSync(temp);
    writeFileSynced(join(temp, LISTS_FILE), [prefix, headerBytes, ...chunks]);
    imp.testSources.forEach((s) => saveSource(s, join(temp, "test-sources", s.name)));
    if (imp.validSources !== imp.testSources)
      imp.validSources.forEach((s) => saveSource(s, join(temp, "valid-sources", s.name)));
    // A concurrent writer may have cached the same (deterministic) lists first: keep theirs.
    if (existsSync(dir)) rmSync(temp, { recursive: true, force: true });
    else replaceDirectory(temp, dir);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  log(`impressions: cached in ${dir}`);
}

/** The cached impressions for `split`, or null when there is no cache entry. */
export function loadCachedImpressions(
  dir: string,
  split: Split,
  opts: ResolvedImpressionOptions,
  log: (line: string) => void,
): RankingImpressions | null {
  const file = join(dir, LISTS_FILE);
  if (!existsSync(file)) return null;
  const bytes = readFileSync(file);
  const headerLength = bytes.readUInt32LE(0);
  const header = JSON.parse(bytes.subarray(4, 4 + headerLength).toString("utf8")) as Header;
  if (header.format !== FORMAT || header.version !== VERSION)
    throw new Error(`${file}: not a ${FORMAT} v${VERSION} cache file (delete ${dir} to rebuild)`);
  const payload = bytes.subarray(4 + headerLength);
  if (createHash("sha256").update(payload).digest("hex") !== header.sha256)
    throw new Error(`${file}: SHA-256 does not match its header (corrupt; delete ${dir} to rebuild)`);
  const columns = new Map<string, Column>();
  for (const c of header.columns) {
    const width =
      { Int32Array: 4, Float64Array: 8, Float32Array: 4, Uint8Array: 1, Int8Array: 1 }[c.type] ?? 1;
    columns.set(
      c.name,
      makeColumn(c.type, payload.subarray(c.offset, c.offset + c.length * width), c.length, file),
    );
  }
  const get = <T extends Column>(name: string, type: abstract new (n: number) => T): T => {
    const col = columns.get(name);
    if (col === undefined) throw new Error(`${file}: column ${name} is missing`);
    if (!(col instanceof type))
      throw new Error(`${file}: column ${name} is a ${typeName(col)}, expected ${type.name}`);
    return col;
  };
  const setOf = (s: (typeof SETS)[number]): ImpressionSet => ({
    users: get(`${s}.users`, Int32Array),
    times: get(`${s}.times`, Float64Array),
    historyOffsets: get(`${s}.historyOffsets`, Int32Array),
    historyItems: get(`${s}.historyItems`, Int32Array),
    historyTimes: get(`${s}.historyTimes`, Float64Array),
    historyWeights: columns.has(`${s}.historyWeights`) ? get(`${s}.historyWeights`, Float32Array) : undefined,
    sources: header.sources,
    listOffsets: get(`${s}.listOffsets`, Int32Array),
    items: get(`${s}.items`, Int32Array),
    positive: get(`${s}.positive`, Uint8Array),
    weight: get(`${s}.weight`, Float32Array),
    sourceScores: get(`${s}.sourceScores`, Float32Array),
    sourceRanks: get(`${s}.sourceRanks`, Int32Array),
  });
  const groups: ModelGroup[] = header.groups.map((g) => ({
    label: g.label,
    events: g.events,
    fitRecords: g.fitRecords.map((r) => ({
      source: r.source as FittedSource["name"],
      lastSeenTime: get(r.column, Float64Array),
    })),
  }));
  const testSources = opts.sources.map((name) => loadSource(join(dir, "test-sources", name), split.train));
  const validDir = join(dir, "valid-sources");
  const validSources = existsSync(validDir)
    ? opts.sources.map((name) => loadSource(join(validDir, name), split.validTrain ?? split.train))
    : testSources;
  const train = setOf("train");
  const valid = setOf("valid");
  const test = setOf("test");
  log(`impressions: loaded from cache ${dir}`);
  return {
    options: opts,
    split,
    sources: opts.sources,
    train,
    valid,
    test,
    groups,
    trainGroup: get("trainGroup", Int32Array),
    validGroup: header.validGroup,
    testGroup: header.testGroup,
    previous: linkPreviousLists({ train, valid, test }),
    testSources,
    validSources,
  };
}
