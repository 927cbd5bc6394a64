/**
 * ONNX export of a trained model, so that ONNX Runtime (Python, Java, C#, the browser) or Triton
 * can serve it: the candidate tower (packed inputs → user vector), the item matrix (+ bias) and an
 * exact scoring graph over it, and the ranker (query and impression inputs → logit). The graphs
 * compute what the engine computes, layer for layer (./network-graph.ts); `onnx.json` beside them
 * lists every input and output with its dtype and shape, the item order and the checksums.
 */
import { createHash } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { replaceDirectory, tempSibling, writeFileAtomic } from "../../io/atomic.js";
import type { CandidateModel } from "../../models/candidates/model.js";
import type { Ranker } from "../../models/ranking/ranker.js";
import type { CandidateBatch } from "../../features/batch.js";
import { FLOAT, GraphBuilder } from "./graph-builder.js";
import { inputLayerGraph, towerGraph, type GraphInputSpec } from "./network-graph.js";
import { encodeModel, IR_VERSION, OPSET, type OnnxGraph } from "./onnx-proto.js";

export const ONNX_EXPORT_FORMAT = "watchnext-onnx";
export const ONNX_EXPORT_VERSION = 1;
export const ONNX_MANIFEST_FILE = "onnx.json";

/** The files of an export directory. */
export const ONNX_FILES = {
  candidateTower: "candidate_tower.onnx",
  items: "items.onnx",
  scores: "candidate_scores.onnx",
  ranker: "ranker.onnx",
} as const;

export interface GraphDescription {
  readonly file: string;
  readonly sha256: string;
  readonly inputs: readonly GraphInputSpec[];
  readonly outputs: readonly GraphInputSpec[];
}

/** One exported graph before it is written. */
interface ExportedGraph {
  readonly file: string;
  readonly graph: OnnxGraph;
  readonly inputs: readonly GraphInputSpec[];
  readonly outputs: readonly GraphInputSpec[];
}

/** The bag features of a packed batch that carry per-row weights (the rest are plain means). */
export function weightedBags(batch: CandidateBatch): Set<string> {
  return new Set(
    Object.entries(batch.bags)
      .filter(([, b]) => b.weights !== null)
      .map(([name]) => name),
  );
}

/** The candidate tower: the packed inputs of one batch of users → `user` [batch, userDim]. */
export function candidateTowerGraph(model: CandidateModel): ExportedGraph {
  const net = model.network;
  const g = new GraphBuilder(
    "watchnext_candidate_tower",
    "candidate generator: packed user features -> user vector",
  );
  const weighted = weightedBags(model.features.allocBatch(1));
  const input = inputLayerGraph(g, model.features.schema, net.input.tables, weighted, "", "batch");
  if (input.width !== net.input.width)
    throw new Error(`ONNX export: input width ${input.width} differs from the network's ${net.input.width}`);
  const user = towerGraph(g, net.tower, input.output);
  const out: GraphInputSpec = {
    name: "user",
    dtype: "float32",
    shape: ["batch", net.userDim],
    doc: "the user vector u (score of item i = u . item_vectors[i] + item_bias[i])",
  };
  g.output(user, { name: out.name, elemType: FLOAT, shape: out.shape, doc: out.doc });
  return { file: ONNX_FILES.candidateTower, graph: g.build(), inputs: input.inputs, outputs: [out] };
}

/** The item matrix (row i = dataset item i) and bias as outputs of a graph without inputs. */
export function itemsGraph(model: CandidateModel): ExportedGraph {
  const g = new GraphBuilder("watchnext_items", "candidate generator: item output embeddings (and bias)");
  const N = model.numItems;
  const d = model.userDim;
  const outputs: GraphInputSpec[] = [
    { name: "item_vectors", dtype: "float32", shape: [N, d], doc: "row i = item i's output embedding v_i" },
  ];
  g.output(g.floats("items.vectors", [N, d], model.itemVectors()), {
    name: "item_vectors",
    elemType: FLOAT,
    shape: [N, d],
  });
  const bias = model.itemBias();
  if (bias) {
    outputs.push({ name: "item_bias", dtype: "float32", shape: [N], doc: "per-item logit bias b_i" });
    g.output(g.floats("items.bias", [N], bias), { name: "item_bias", elemType: FLOAT, shape: [N] });
  }
  return { file: ONNX_FILES.items, graph: g.build(), inputs: [], outputs };
}

/** Exact retrieval scores: `user` [batch, d] → `scores` [batch, numItems] = u · v_i + b_i. */
export function scoresGraph(model: CandidateModel): ExportedGraph {
  const g = new GraphBuilder(
    "watchnext_candidate_scores",
    "candidate generator: user vectors -> item scores",
  );
  const N = model.numItems;
  const d = model.userDim;
  const input: GraphInputSpec = { name: "user", dtype: "float32", shape: ["batch", d], doc: "user vectors" };
  const user = g.input({ name: input.name, elemType: FLOAT, shape: input.shape });
  const v = g.floats("items.vectors", [N, d], model.itemVectors());
  const bias = model.itemBias() ?? new Float32Array(N);
  const scores = g.node("Gemm", [user, v, g.floats("items.bias", [N], bias)], [{ name: "transB", int: 1 }]);
  const out: GraphInputSpec = {
    name: "scores",
    dtype: "float32",
    shape: ["batch", N],
    doc: "score of every item (column i = item i); remove the user's watched items before taking the top k",
  };
  g.output(scores, { name: out.name, elemType: FLOAT, shape: out.shape });
  return { file: ONNX_FILES.scores, graph: g.build(), inputs: [input], outputs: [out] };
}

/**
 * The ranker: query inputs per list (`query.*`, batch `lists`), impression inputs per candidate
 * (`impression.*`, batch `candidates`), `list_index` [candidates] = the list of each candidate →
 * `logit` [candidates] (serving orders by it; e^logit is the expected engagement).
 */
export function rankerGraph(ranker: Ranker): ExportedGraph {
  const net = ranker.network;
  const g = new GraphBuilder("watchnext_ranker", "ranker: query and impression features -> logit");
  const empty = ranker.features.allocBatch(1, 1);
  const schema = ranker.features.schema;
  const q = inputLayerGraph(g, schema.query, net.tables, weightedBags(empty.query), "query.", "lists");
  const imp = inputLayerGraph(
    g,
    schema.impression,
    net.tables,
    weightedBags(empty.impression),
    "impression.",
    "candidates",
  );
  if (q.width !== net.queryInput.width || imp.width !== net.impressionInput.width)
    throw new Error("ONNX export: ranker input widths differ from the network's");
  const listIndex: GraphInputSpec = {
    name: "list_index",
    dtype: "int64",
    shape: ["candidates"],
    doc: "for each candidate, the row of its list in the query inputs",
  };
  const li = g.input({ name: listIndex.name, elemType: 7, shape: listIndex.shape, doc: listIndex.doc });
  const perCandidate = g.node("Gather", [q.output, li], [{ name: "axis", int: 0 }]);
  const x = g.node("Concat", [perCandidate, imp.output], [{ name: "axis", int: 1 }]);
  const logits = towerGraph(g, net.tower, x);
  const flat = g.node("Reshape", [logits, g.int64s("flat", [-1])]);
  const out: GraphInputSpec = {
    name: "logit",
    dtype: "float32",
    shape: ["candidates"],
    doc: "the ranker's logit of each candidate (order each list by it)",
  };
  g.output(flat, { name: out.name, elemType: FLOAT, shape: out.shape });
  return {
    file: ONNX_FILES.ranker,
    graph: g.build(),
    inputs: [...q.inputs, ...imp.inputs, listIndex],
    outputs: [out],
  };
}

export interface OnnxExportSource {
  readonly candidates: CandidateModel;
  readonly ranker: Ranker | null;
  /** External id of each item (item i = row i of item_vectors, row i + 1 of the item input table). */
  readonly itemIds: readonly string[];
  /** The exported model directory's manifest checksum. */
  readonly modelSha256: string;
}

export interface OnnxExportManifest {
  readonly format: typeof ONNX_EXPORT_FORMAT;
  readonly version: number;
  readonly irVersion: number;
  readonly opset: number;
  readonly modelSha256: string;
  readonly graphs: Record<string, GraphDescription>;
  readonly itemIds: readonly string[];
}

/** Writes every graph and onnx.json into `outDir` (staged in a sibling, then swapped in). */
export function writeOnnxExport(outDir: string, source: OnnxExportSource): OnnxExportManifest {
  const parts = [
    candidateTowerGraph(source.candidates),
    itemsGraph(source.candidates),
    scoresGraph(source.candidates),
  ];
  if (source.ranker) parts.push(rankerGraph(source.ranker));
  const stage = tempSibling(outDir, "onnx");
  mkdirSync(stage, { recursive: true });
  try {
    const graphs: Record<string, GraphDescription> = {};
    for (const p of parts) {
      const bytes = encodeModel({
        graph: p.graph,
        producerVersion: `${ONNX_EXPORT_FORMAT} ${ONNX_EXPORT_VERSION}`,
        metadata: { "watchnext.model_sha256": source.modelSha256 },
      });
      writeFileAtomic(join(stage, p.file), [bytes]);
      graphs[p.file.replace(/\.onnx$/, "")] = {
        file: p.file,
        sha256: createHash("sha256").update(bytes).digest("hex"),
        inputs: p.inputs,
        outputs: p.outputs,
      };
    }
    const manifest: OnnxExportManifest = {
      format: ONNX_EXPORT_FORMAT,
      version: ONNX_EXPORT_VERSION,
      irVersion: IR_VERSION,
      opset: OPSET,
      modelSha256: source.modelSha256,
      graphs,
      itemIds: source.itemIds,
    };
    writeFileAtomic(join(stage, ONNX_MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
    replaceDirectory(stage, outDir);
    return manifest;
  } catch (err) {
    rmSync(stage, { recursive: true, force: true });
    throw err;
  }
}
