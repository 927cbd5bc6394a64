/**
 * Parquet export of the candidate generator's training examples, so that a trainer elsewhere
 * (PyTorch DDP / TorchRec, Spark) trains the same tower on the same inputs: one row per example,
 * packed exactly as watchnext packs a batch (bags as lists of table rows, weighted bags with their
 * weights, categorical rows, the dense block), and the validation queries in the same form with
 * their targets and the history to filter. The feature schema (tables, slots, which bags are
 * weighted, the dense columns), the model config and a manifest template that turns trained
 * weights back into a watchnext model directory travel as Parquet key-value metadata.
 * Written through DuckDB (./csv-stage.ts; gzip pages, readable by every Parquet reader) into a
 * staged directory that replaces `outDir` atomically.
 */
import { mkdirSync, rmSync } from "node:fs";
import type { Dataset } from "../../data/dataset.js";
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type JsonValue } from "../../engine/model-file/index.js";
import type { QuerySet } from "../../eval/types.js";
import { outputFirstRow } from "../../features/item-index.js";
import { replaceDirectory, tempSibling } from "../../io/atomic.js";
import { CANDIDATE_MODEL_KIND } from "../../models/candidates/model-io.js";
import type { CandidateModel } from "../../models/candidates/model.js";
import { weightedBags } from "../onnx/export.js";
import {
  kvMetadata,
  listCell,
  schemaCells,
  writeParquet,
  yieldToLoop,
  type ExampleColumn,
} from "./csv-stage.js";

import { IMPRESSION_FILES, writeRankerImpressions, type RankerImpressions } from "./impressions-export.js";

export type { ExampleColumn } from "./csv-stage.js";

export const EXAMPLES_FORMAT = "watchnext-examples";
export const EXAMPLES_VERSION = 1;
export const EXAMPLE_FILES = { train: "candidate_train.parquet", valid: "candidate_valid.parquet" } as const;
/** Parquet key-value metadata keys. */
export const KV_SCHEMA = "watchnext.schema";
export const KV_MANIFEST = "watchnext.model_manifest";

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
  /** Also write the ranker's impressions (./impressions-export.ts). */
  readonly ranker?: RankerImpressions;
}

export interface ExamplesExportSummary {
  readonly trainRows: number;
  readonly validRows: number;
  /** Candidate rows of the ranker's training and validation lists, when written. */
  readonly rankerRows: { readonly train: number; readonly valid: number } | null;
  readonly files: readonly string[];
}

type Duck = typeof import("@duckdb/node-api");

/** The schema metadata and the manifest template for `model` (untrained: names, shapes, config). */
export function examplesSchema(model: CandidateModel, opts: ExamplesExportOptions): ExamplesSchema {
  const features = model.features;
  const weighted = weightedBags(features.allocBatch(1));
  const shared = schemaCells(features.schema, weighted).map((c) => c.column);
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
    const kv = kvMetadata({
      [KV_SCHEMA]: JSON.stringify(schema),
      [KV_MANIFEST]: manifestTemplate(model, data, opts),
    });
    const features = model.features;
    const cells = schemaCells(features.schema, weightedBags(features.allocBatch(1)));
    const epochs = opts.epochs ?? 1;
    const sets = Array.from({ length: epochs }, (_, e) => features.examples(e + 1));
    const total = sets.reduce((a, s) => a + s.size, 0) + valid.users.length;
    let done = 0;
    const write = (
      file: string,
      columns: readonly ExampleColumn[],
      fill: (emit: (line: string) => void) => Promise<void>,
    ) => writeParquet(connection, stage, file, columns, kv, fill);
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
            emit(`${head},${cells.map((c) => c.write(batch, b)).join(",")}\n`);
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
          const targets = listCell(valid.targetItems, valid.targetOffsets[q], valid.targetOffsets[q + 1]);
          const history = listCell(valid.historyItems, valid.historyOffsets[q], valid.historyOffsets[q + 1]);
          emit(`${valid.users[q]},${targets},${history},${cells.map((c) => c.write(batch, b)).join(",")}\n`);
        }
        done += n;
        opts.onProgress?.(done, total);
        await yieldToLoop();
      }
    });
    const files: string[] = [EXAMPLE_FILES.train, EXAMPLE_FILES.valid];
    let rankerRows = null;
    if (opts.ranker) {
      rankerRows = await writeRankerImpressions(connection, stage, opts.ranker);
      files.push(IMPRESSION_FILES.train, IMPRESSION_FILES.valid);
    }
    replaceDirectory(stage, outDir);
    return { trainRows, validRows: valid.users.length, rankerRows, files };
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

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
