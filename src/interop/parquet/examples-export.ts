/**
 * Parquet export of the candidate generator's training examples, so that a trainer elsewhere
 * (PyTorch DDP / TorchRec, Spark) trains the same tower on the same inputs: one row per example,
 * packed exactly as watchnext packs a batch (bags as lists of table rows, weighted bags with their
 * weights, categorical rows, the dense block), and the validation queries in the same form with
 * their targets and the history to filter. The feature schema (tables, slots, which bags are
 * weighted, the dense columns), the model config and a manifest template that turns trained
 * weights back into a watchnext model directory travel as Parquet key-value metadata.
 * The rows are staged as CSV with DuckDB list literals (one string per row: far faster than
 * DuckDB's per-value appender from JavaScript), which DuckDB reads with the declared column types
 * and writes as Parquet (gzip pages, readable by every Parquet reader); the staged directory
 * replaces `outDir` atomically.
 */
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Dataset } from "../../data/dataset.js";
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type JsonValue } from "../../engine/model-file/index.js";
import type { QuerySet } from "../../eval/types.js";
import type { CandidateBatch } from "../../features/batch.js";
import type { CandidateFeatures } from "../../features/candidate-features.js";
import { outputFirstRow } from "../../features/item-index.js";
import { replaceDirectory, tempSibling } from "../../io/atomic.js";
import { CANDIDATE_MODEL_KIND } from "../../models/candidates/model-io.js";
import type { CandidateModel } from "../../models/candidates/model.js";
import { weightedBags } from "../onnx/export.js";

export const EXAMPLES_FORMAT = "watchnext-examples";
export const EXAMPLES_VERSION = 1;
export const EXAMPLE_FILES = { train: "candidate_train.parquet", valid: "candidate_valid.parquet" } as const;
/** Parquet key-value metadata keys. */
export const KV_SCHEMA = "watchnext.schema";
export const KV_MANIFEST = "watchnext.model_manifest";

/** One column of an export file, as documented in its schema metadata. */
export interface ExampleColumn {
  readonly name: string;
  readonly type: "INTEGER" | "DOUBLE" | "INTEGER[]" | "FLOAT[]";
  readonly doc: string;
}

export interface ExamplesSchema {
  readonly format: typeof EXAMPLES_FORMAT;
  readonly version: number;
  readonly protocol: string;
  readonly seed: number;
  readonly numItems: number;
  readonly numUsers: number;
  /** The candidate network's inputs (src/features/schema.ts) and which bags carry weights. */
  readonly features: JsonValue;
  readonly weightedBags: string[];
  readonly denseWidth: number;
  /** The resolved model config (features, network, train). */
  readonly config: JsonValue;
  /** The model's tensors (names and shapes) a trainer must write back, in the model file's layout. */
  readonly tensors: Record<string, number[]>;
  /** First row of output.embeddings for item 0 (1 when the output is tied to the input item table). */
  readonly outputFirstRow: number;
  readonly columns: { readonly train: ExampleColumn[]; readonly valid: ExampleColumn[] };
}

export interface ExamplesExportOptions {
  readonly protocol: string;
  readonly protocolParams: JsonValue;
  readonly seed: number;
  /** Epochs of examples to write (each epoch may draw a different sample); default 1. */
  readonly epochs?: number;
  readonly onProgress?: (rows: number, total: number) => void;
}

export interface ExamplesExportSummary {
  readonly trainRows: number;
  readonly validRows: number;
  readonly files: readonly string[];
}

type Duck = typeof import("@duckdb/node-api");

/** Columns shared by both files: each schema input, named as the feature. */
function featureColumns(features: CandidateFeatures, weighted: Set<string>): ExampleColumn[] {
  const cols: ExampleColumn[] = [];
  for (const f of features.schema.features) {
    if (f.kind === "bag") {
      cols.push({ name: f.name, type: "INTEGER[]", doc: `bag: rows of table "${f.table}"` });
      if (weighted.has(f.name))
        cols.push({ name: `${f.name}_weights`, type: "FLOAT[]", doc: `weight of each row of ${f.name}` });
    } else if (f.kind === "categorical") {
      cols.push({ name: f.name, type: "INTEGER", doc: `row of table "${f.table}" (0 = out of vocabulary)` });
    }
  }
  if (features.schema.denseWidth > 0)
    cols.push({
      name: "dense",
      type: "FLOAT[]",
      doc: `the ${features.schema.denseWidth} packed continuous features (see features: continuous offsets)`,
    });
  return cols;
}

/** The schema metadata and the manifest template for `model` (untrained: names, shapes, config). */
export function examplesSchema(model: CandidateModel, opts: ExamplesExportOptions): ExamplesSchema {
  const features = model.features;
  const weighted = weightedBags(features.allocBatch(1));
  const shared = featureColumns(features, weighted);
  const tensors: Record<string, number[]> = {};
  for (const [name, t] of model.network.namedTensors()) tensors[name] = t.shape;
  return {
    format: EXAMPLES_FORMAT,
    version: EXAMPLES_VERSION,
    protocol: opts.protocol,
    seed: opts.seed,
    numItems: features.numItems,
    numUsers: features.numUsers,
    features: toJson(features.schema),
    weightedBags: [...weighted],
    denseWidth: features.schema.denseWidth,
    config: toJson({
      features: model.config.features,
      network: model.config.network,
      train: model.config.train,
    }),
    tensors,
    outputFirstRow: outputFirstRow(model.config.network.tieOutput),
    columns: {
      train: [
        {
          name: "epoch",
          type: "INTEGER",
          doc: "the epoch whose example sample this row belongs to (1-based)",
        },
        { name: "user", type: "INTEGER", doc: "dataset user index" },
        { name: "label", type: "INTEGER", doc: "the next-watch item (softmax class = dataset item index)" },
        { name: "label_time", type: "DOUBLE", doc: "the label's timestamp (seconds)" },
        ...shared,
      ],
      valid: [
        { name: "user", type: "INTEGER", doc: "dataset user index" },
        { name: "targets", type: "INTEGER[]", doc: "the held-out items (one under loo)" },
        { name: "history", type: "INTEGER[]", doc: "the query's history items: filtered from the ranking" },
        ...shared,
      ],
    },
  };
}

/**
 * The compact JSON of a candidates model manifest without `tensors` and `manifestSha256`: a trainer
 * appends `,"tensors":{"file":"tensors.safetensors","bytes":B,"sha256":"…"}}`, hashes that string
 * (the manifest checksum is SHA-256 of the compact JSON without manifestSha256) and writes it with
 * `"manifestSha256"` added (bench/peers/torch_candidates_parquet.py does).
 */
export function manifestTemplate(model: CandidateModel, data: Dataset, opts: ExamplesExportOptions): string {
  const manifest = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    kind: CANDIDATE_MODEL_KIND,
    createdAt: new Date().toISOString(),
    config: {
      model: { features: model.config.features, network: model.config.network, train: model.config.train },
      features: model.features.toJSON(),
    },
    vocabularies: {},
    metadata: {
      seed: model.seed,
      numItems: model.numItems,
      summary: null,
      dataset: data.name,
      source: data.source,
      protocol: opts.protocol,
      protocolParams: opts.protocolParams,
      trainedFrom: "parquet examples (watchnext export examples)",
    },
  };
  const text = JSON.stringify(manifest);
  return text.slice(0, -1);
}

/** Writes the training examples and validation queries of `model`'s features into `outDir`. */
export async function writeExamplesParquet(
  outDir: string,
  model: CandidateModel,
  data: Dataset,
  valid: QuerySet,
  opts: ExamplesExportOptions,
): Promise<ExamplesExportSummary> {
  const duck: Duck = await import("@duckdb/node-api");
  const threads = Number(process.env.WATCHNEXT_THREADS);
  const instance = await duck.DuckDBInstance.create(
    ":memory:",
    Number.isInteger(threads) && threads >= 1 ? { threads: String(threads) } : {},
  );
  const connection = await instance.connect();
  const stage = tempSibling(outDir, "examples");
  mkdirSync(stage, { recursive: true });
  try {
    const schema = examplesSchema(model, opts);
    const kv = Object.entries({
      [KV_SCHEMA]: JSON.stringify(schema),
      [KV_MANIFEST]: manifestTemplate(model, data, opts),
    })
      .map(([k, v]) => `'${sqlString(k)}': '${sqlString(v)}'`)
      .join(", ");
    const features = model.features;
    const shared = featureColumns(features, weightedBags(features.allocBatch(1)));
    const cells = shared.map(cellWriter);
    const epochs = opts.epochs ?? 1;
    const sets = Array.from({ length: epochs }, (_, e) => features.examples(e + 1));
    const total = sets.reduce((a, s) => a + s.size, 0) + valid.users.length;
    let done = 0;
    const write = async (
      file: string,
      columns: readonly ExampleColumn[],
      fill: (emit: (line: string) => void) => Promise<void>,
    ): Promise<void> => {
      const csv = join(stage, `${file}.csv`);
      const fd = openSync(csv, "wx");
      let pending: string[] = [];
      let size = 0;
      const flush = () => {
        writeSync(fd, pending.join(""));
        pending = [];
        size = 0;
      };
      try {
        writeSync(fd, columns.map((c) => c.name).join(",") + "\n");
        await fill((line) => {
          pending.push(line);
          size += line.length;
          if (size > 1 << 22) flush();
        });
        flush();
      } finally {
        closeSync(fd);
      }
      const types = columns.map((c) => `'${c.name}': '${c.type}'`).join(", ");
      await connection.run(
        `COPY (SELECT * FROM read_csv('${sqlString(csv)}', header = true, quote = '"', columns = {${types}})) ` +
          `TO '${sqlString(join(stage, file))}' (FORMAT parquet, COMPRESSION gzip, KV_METADATA {${kv}})`,
      );
      rmSync(csv);
    };
    let trainRows = 0;
    await write(EXAMPLE_FILES.train, schema.columns.train, async (emit) => {
      const batch = features.allocBatch(CHUNK);
      for (let e = 0; e < sets.length; e++) {
        const set = sets[e];
        const order = Int32Array.from({ length: set.size }, (_, i) => i);
        for (let s = 0; s < set.size; s += CHUNK) {
          const n = features.fillTrainBatch(set, order, s, Math.min(set.size, s + CHUNK), batch);
          for (let b = 0; b < n; b++) {
            const head = `${e + 1},${set.user[s + b]},${batch.labels[b]},${batch.labelTimes[b]}`;
            emit(`${head},${cells.map((c) => c(batch, b)).join(",")}\n`);
          }
          trainRows += n;
          done += n;
          opts.onProgress?.(done, total);
          await yieldToLoop();
        }
      }
    });
    await write(EXAMPLE_FILES.valid, schema.columns.valid, async (emit) => {
      const batch = features.allocBatch(CHUNK);
      for (let s = 0; s < valid.users.length; s += CHUNK) {
        const n = features.fillQueryBatch(valid, s, Math.min(valid.users.length, s + CHUNK), batch);
        for (let b = 0; b < n; b++) {
          const q = s + b;
          const targets = list(valid.targetItems, valid.targetOffsets[q], valid.targetOffsets[q + 1]);
          const history = list(valid.historyItems, valid.historyOffsets[q], valid.historyOffsets[q + 1]);
          emit(`${valid.users[q]},${targets},${history},${cells.map((c) => c(batch, b)).join(",")}\n`);
        }
        done += n;
        opts.onProgress?.(done, total);
        await yieldToLoop();
      }
    });
    replaceDirectory(stage, outDir);
    return { trainRows, validRows: valid.users.length, files: [EXAMPLE_FILES.train, EXAMPLE_FILES.valid] };
  } catch (err) {
    rmSync(stage, { recursive: true, force: true });
    throw err;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Examples packed per pass (one reused batch). */
const CHUNK = 4096;

/** A quoted CSV cell holding a DuckDB list literal of values[start, end). */
function list(values: Int32Array | Float32Array, start: number, end: number): string {
  return `"[${values.subarray(start, end).join(",")}]"`;
}

type CellWriter = (batch: CandidateBatch, b: number) => string;

/** One feature column's CSV cell for example b of a packed batch. */
function cellWriter(c: ExampleColumn): CellWriter {
  if (c.name === "dense")
    return (batch, b) => list(batch.dense, b * batch.denseWidth, (b + 1) * batch.denseWidth);
  if (c.type === "INTEGER") return (batch, b) => String(batch.categorical[c.name][b]);
  if (c.type === "FLOAT[]") {
    const bagName = c.name.slice(0, -"_weights".length);
    return (batch, b) => {
      const bag = batch.bags[bagName];
      return list(bag.weights as Float32Array, bag.offsets[b], bag.offsets[b + 1]);
    };
  }
  return (batch, b) => {
    const bag = batch.bags[c.name];
    return list(bag.indices, bag.offsets[b], bag.offsets[b + 1]);
  };
}

function sqlString(s: string): string {
  return s.replaceAll("'", "''");
}

/** Lets progress output and Ctrl-C through between chunks. */
function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
