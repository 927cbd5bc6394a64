/**
 * Parquet export of the ranker's impressions (the leak-free training lists and the validation
 * lists that `watchnext train` builds from its candidate sources): one row per candidate with its
 * list, user, item, label and weight, the list's query features and the candidate's impression
 * features, packed exactly as the ranker packs a batch (query inputs prefixed `query.`, impression
 * inputs `impression.`). The ranking schema, the ranker config and its tensor names and shapes
 * travel as key-value metadata.
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { getKernels } from "../../engine/kernels/index.js";
import type { JsonValue } from "../../engine/model-file/index.js";
import { Rng } from "../../engine/rng.js";
import type { RankingFeatures, RankingInput } from "../../features/ranking-features.js";
import type { RankerConfig } from "../../models/ranking/config.js";
import { RankingNetwork } from "../../models/ranking/network.js";
import { weightedBags } from "../onnx/export.js";
import { kvMetadata, schemaCells, writeParquet, yieldToLoop, type ExampleColumn } from "./csv-stage.js";

export const IMPRESSION_FILES = { train: "ranker_train.parquet", valid: "ranker_valid.parquet" } as const;
export const KV_RANKER_SCHEMA = "watchnext.ranker_schema";
export const IMPRESSIONS_FORMAT = "watchnext-impressions";

export interface RankerImpressions {
  readonly features: RankingFeatures;
  readonly config: RankerConfig;
  readonly train: RankingInput;
  readonly valid: RankingInput;
  readonly seed: number;
}

/** Lists packed per pass. */
const LISTS_PER_PASS = 64;

/** Writes ranker_train.parquet and ranker_valid.parquet into `stage`; returns their row counts. */
export async function writeRankerImpressions(
  connection: DuckDBConnection,
  stage: string,
  ranker: RankerImpressions,
  onRows?: (n: number) => void,
): Promise<{ train: number; valid: number }> {
  const f = ranker.features;
  const empty = f.allocBatch(1, 1);
  const query = schemaCells(f.schema.query, weightedBags(empty.query), "query.");
  const impression = schemaCells(f.schema.impression, weightedBags(empty.impression), "impression.");
  const columns: ExampleColumn[] = [
    { name: "list", type: "INTEGER", doc: "the impression list (rows of one list are contiguous)" },
    { name: "user", type: "INTEGER", doc: "dataset user index" },
    { name: "time", type: "DOUBLE", doc: "the list's time (seconds): features see only what came before" },
    { name: "item", type: "INTEGER", doc: "the candidate (dataset item index)" },
    { name: "label", type: "FLOAT", doc: "1 = watched at / after the list's time, 0 = not" },
    {
      name: "weight",
      type: "FLOAT",
      doc: "the weighted logistic loss's weight (engagement for positives, 1 for negatives)",
    },
    ...query.map((c) => c.column),
    ...impression.map((c) => c.column),
  ];
  const tensors: Record<string, number[]> = {};
  const net = new RankingNetwork(
    getKernels(),
    ranker.config,
    f.schema,
    { lists: 1, candidates: 1 },
    new Rng(ranker.seed),
  );
  for (const p of net.parameters()) tensors[p.name] = [...p.shape];
  const schema = {
    format: IMPRESSIONS_FORMAT,
    version: 1,
    seed: ranker.seed,
    tables: f.schema.tables,
    query: f.schema.query,
    impression: f.schema.impression,
    config: ranker.config,
    tensors,
    columns,
  };
  const kv = kvMetadata({ [KV_RANKER_SCHEMA]: JSON.stringify(toJson(schema)) });
  const counts = { train: 0, valid: 0 };
  for (const which of ["train", "valid"] as const) {
    const input = ranker[which];
    const set = input.set;
    await writeParquet(connection, stage, IMPRESSION_FILES[which], columns, kv, async (emit) => {
      const lists = set.users.length;
      for (let l0 = 0; l0 < lists; l0 += LISTS_PER_PASS) {
        const l1 = Math.min(lists, l0 + LISTS_PER_PASS);
        const batch = f.allocBatch(l1 - l0, set.listOffsets[l1] - set.listOffsets[l0]);
        f.clear(batch);
        for (let l = l0; l < l1; l++) f.append(input, l, batch);
        for (let l = 0; l < batch.lists; l++) {
          const head = `${l0 + l},${set.users[l0 + l]},${set.times[l0 + l]}`;
          const q = query.map((c) => c.write(batch.query, l)).join(",");
          for (let c = batch.listOffsets[l]; c < batch.listOffsets[l + 1]; c++) {
            const imp = impression.map((cell) => cell.write(batch.impression, c)).join(",");
            emit(`${head},${batch.items[c]},${batch.labels[c]},${batch.weights[c]},${q},${imp}\n`);
          }
        }
        counts[which] += batch.size;
        onRows?.(batch.size);
        await yieldToLoop();
      }
    });
  }
  return counts;
}

function toJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value)) as JsonValue;
}
