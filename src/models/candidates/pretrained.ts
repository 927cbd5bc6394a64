/**
 * Pre-trained initial tables for the candidate network: word2vec (SGNS) vectors of the search
 * tokens, trained on the training users' tag sentences (+ the tag genome when the dataset directory
 * has one), and item2vec vectors of the item ids, trained on the training users' watch sequences.
 * They overwrite the random rows of the "token" / item table before training (row 0, out of
 * vocabulary, stays zero), rescaled so their entries have the network's embedding init std (the
 * tower's first layer then sees inputs of the usual size); the network freezes them when the
 * config says "frozen". The tables are network parameters, so the model file saves them.
 * SGNS runs on the engine pool: deterministic for the seed at WATCHNEXT_THREADS=1 only.
 */
import { statSync } from "node:fs";
import type { Dataset } from "../../data/dataset.js";
import { readTagGenome } from "../../data/read-genome.js";
import type { Kernels } from "../../engine/kernels/kernels.js";
import type { EmbeddingTable } from "../../engine/layers/embedding.js";
import { trainSgns, type WordVectors } from "../../engine/word2vec/sgns.js";
import type { CandidateFeatures } from "../../features/candidate-features.js";
import { itemCorpus, lastEventTimes, tokenCorpus } from "../../features/embedding-corpus.js";
import { TOKEN_TABLE } from "../../features/candidate-schema.js";
import { itemInputRow } from "../../features/item-index.js";
import type { CandidateNetwork } from "./network.js";

/** What was pre-trained, for the training display and the manifest. */
export interface PretrainedReport {
  readonly table: string;
  readonly source: "word2vec" | "item2vec";
  /** Table rows that received a pre-trained vector (of rows − 1 non-OOV rows). */
  readonly rowsFilled: number;
  readonly rows: number;
}

/** Copies vectors[key] into table row rowOf(key) for every key with a row, rescaled to `std`. */
function fill(table: EmbeddingTable, v: WordVectors, rowOf: (key: string) => number, std: number): number {
  if (v.dim !== table.dim)
    throw new Error(`pretrained: ${v.dim}-d vectors for the ${table.dim}-d table ${table.param.name}`);
  let sq = 0;
  for (let i = 0; i < v.vectors.length; i++) sq += v.vectors[i] * v.vectors[i];
  const scale = sq === 0 ? 0 : std / Math.sqrt(sq / v.vectors.length);
  const data = table.data;
  let filled = 0;
  for (let k = 0; k < v.keys.length; k++) {
    const row = rowOf(v.keys[k]);
    if (row <= 0) continue;
    for (let d = 0; d < v.dim; d++) data[row * v.dim + d] = v.vectors[k * v.dim + d] * scale;
    filled++;
  }
  return filled;
}

async function genomeOf(train: Dataset) {
  if (!["ml-20m", "ml-25m", "ml-32m", "movielens-csv"].includes(train.format)) return null;
  try {
    if (!statSync(train.source).isDirectory()) return null;
  } catch {
    return null;
  }
  return readTagGenome(train.source);
}

/** Fills the pre-trained tables the config asks for; returns what it did (empty when nothing). */
export async function applyPretrained(
  network: CandidateNetwork,
  features: CandidateFeatures,
  train: Dataset,
  seed: number,
  kernels: Kernels,
): Promise<PretrainedReport[]> {
  const cfg = features.config;
  const std = network.config.network.embeddingInitStd;
  const out: PretrainedReport[] = [];
  const tokenTable = network.input.tables.get(TOKEN_TABLE);
  if (cfg.search.enabled && cfg.search.init === "word2vec" && tokenTable !== undefined) {
    const vocab = features.toJSON().vocabularies.token?.values ?? [];
    const rowOf = new Map(vocab.map((v, i) => [v, i + 1]));
    const corpus = tokenCorpus(train, await genomeOf(train), lastEventTimes(train));
    const { vectors } = trainSgns(corpus, { dim: tokenTable.dim, seed }, kernels);
    const filled = fill(tokenTable, vectors, (k) => rowOf.get(k) ?? 0, std);
    out.push({ table: TOKEN_TABLE, source: "word2vec", rowsFilled: filled, rows: tokenTable.rows });
  }
  const itemTableName = network.shape.itemIds?.table;
  const itemTable = itemTableName === undefined ? undefined : network.input.tables.get(itemTableName);
  if (cfg.itemSideInfo.idInit === "item2vec" && itemTable !== undefined) {
    const { vectors } = trainSgns(itemCorpus(train), { dim: itemTable.dim, seed }, kernels);
    const n = features.numItems;
    const filled = fill(itemTable, vectors, (k) => itemInputRow(train.items.index.get(k) ?? -1, n), std);
    out.push({ table: itemTable.param.name, source: "item2vec", rowsFilled: filled, rows: itemTable.rows });
  }
  return out;
}
