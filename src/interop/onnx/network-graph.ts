/**
 * The network pieces as ONNX nodes, mirroring the engine layer by layer: the schema-driven input
 * layer (src/models/candidates/input-layer.ts: bags averaged or weighted-summed, categorical
 * lookups, features sharing a slot summed, slots in first-appearance order, then the continuous
 * columns) and the ReLU tower (one Gemm per Linear, Relu where the engine applies it).
 *
 * Input conventions (how a serving system feeds the graph):
 * - a bag feature `<name>`: int64 [batch, <name>_length], the table rows of the bag, padded with −1
 *   (any length ≥ the longest bag; an all −1 row is an empty bag = zero vector). Mean bags average
 *   the non-padding rows; weighted bags also take `<name>_weights`: float32 [batch, <name>_length],
 *   the packed per-row weights (0 for padding), and sum weight × row.
 * - a categorical feature `<name>`: int64 [batch], the table row (0 = out of vocabulary).
 * - the continuous features: one float32 [batch, denseWidth] input `dense`, the packed dense block.
 */
import type { EmbeddingTable } from "../../engine/layers/embedding.js";
import type { ReluTower } from "../../engine/layers/relu-tower.js";
import type { FeatureSchema } from "../../features/schema.js";
import { FLOAT, INT64, type GraphBuilder } from "./graph-builder.js";

/** How one schema's inputs are named and fed (also written to the export's manifest). */
export interface GraphInputSpec {
  readonly name: string;
  readonly dtype: "int64" | "float32";
  readonly shape: readonly (number | string)[];
  readonly doc: string;
}

export interface InputLayerGraph {
  /** Name of the [batch, width] concatenated input. */
  readonly output: string;
  readonly width: number;
  readonly inputs: readonly GraphInputSpec[];
}

/**
 * Emits the input layer of `schema` over `tables` (by table name): inputs are `${prefix}<feature>`
 * (and `${prefix}dense`), the batch dimension is `batch`. `weighted` names the bag features packed
 * with per-row weights.
 */
export function inputLayerGraph(
  g: GraphBuilder,
  schema: FeatureSchema,
  tables: ReadonlyMap<string, EmbeddingTable>,
  weighted: ReadonlySet<string>,
  prefix: string,
  batch: string,
): InputLayerGraph {
  const inputs: GraphInputSpec[] = [];
  const declare = (spec: GraphInputSpec): string => {
    inputs.push(spec);
    const elemType = spec.dtype === "int64" ? INT64 : FLOAT;
    return g.input({ name: spec.name, elemType, shape: spec.shape, doc: spec.doc });
  };
  const axis1 = g.int64s("axis1", [1]);
  const axis2 = g.int64s("axis2", [2]);
  const zeroId = g.int64s("zero_id", [0], []);
  const one = g.scalar("one", 1);
  const slots = new Map<string, { value: string; dim: number }>();
  const order: string[] = [];
  for (const f of schema.features) {
    if (f.kind === "continuous") continue;
    const table = tables.get(f.table);
    if (!table) throw new Error(`ONNX export: feature "${f.name}" uses unknown table "${f.table}"`);
    const weights = g.floats(`table.${f.table}`, [table.rows, table.dim], table.data);
    const name = `${prefix}${f.name}`;
    let value: string;
    if (f.kind === "categorical") {
      const ids = declare({
        name,
        dtype: "int64",
        shape: [batch],
        doc: `row of table "${f.table}" (0 = out of vocabulary)`,
      });
      value = g.node("Gather", [weights, ids], [{ name: "axis", int: 0 }]);
    } else {
      const length = `${name}_length`;
      const ids = declare({
        name,
        dtype: "int64",
        shape: [batch, length],
        doc: `rows of table "${f.table}", padded with -1`,
      });
      const valid = g.node("GreaterOrEqual", [ids, zeroId]);
      const safe = g.node("Where", [valid, ids, zeroId]);
      const rows = g.node("Gather", [weights, safe], [{ name: "axis", int: 0 }]); // [batch, length, dim]
      const mask = g.node("Cast", [valid], [{ name: "to", int: FLOAT }]);
      let w: string;
      if (weighted.has(f.name)) {
        const given = declare({
          name: `${name}_weights`,
          dtype: "float32",
          shape: [batch, length],
          doc: `per-row weights of bag "${name}" (0 for padding)`,
        });
        w = g.node("Mul", [given, mask]);
      } else {
        // The mean over the non-padding rows; an empty bag stays the zero vector.
        const count = g.node("ReduceSum", [mask, axis1], [{ name: "keepdims", int: 1 }]);
        w = g.node("Div", [mask, g.node("Max", [count, one])]);
      }
      const weightedRows = g.node("Mul", [rows, g.node("Unsqueeze", [w, axis2])]);
      value = g.node("ReduceSum", [weightedRows, axis1], [{ name: "keepdims", int: 0 }]);
    }
    const slotName = f.kind === "bag" && f.slot !== undefined ? f.slot : `#${f.name}`;
    const slot = slots.get(slotName);
    if (slot === undefined) {
      slots.set(slotName, { value, dim: table.dim });
      order.push(slotName);
    } else {
      if (slot.dim !== table.dim)
        throw new Error(`ONNX export: slot "${slotName}" mixes dims ${slot.dim} and ${table.dim}`);
      slots.set(slotName, { value: g.node("Add", [slot.value, value]), dim: slot.dim });
    }
  }
  const parts = order.map((s) => (slots.get(s) as { value: string }).value);
  let width = order.reduce((a, s) => a + (slots.get(s) as { dim: number }).dim, 0);
  const columns: number[] = [];
  for (const f of schema.features)
    if (f.kind === "continuous") for (let c = 0; c < f.width; c++) columns.push(f.offset + c);
  if (schema.denseWidth > 0) {
    const dense = declare({
      name: `${prefix}dense`,
      dtype: "float32",
      shape: [batch, schema.denseWidth],
      doc: "the packed continuous features (already normalized)",
    });
    const identity = columns.length === schema.denseWidth && columns.every((c, i) => c === i);
    parts.push(
      identity
        ? dense
        : g.node("Gather", [dense, g.int64s("dense_columns", columns)], [{ name: "axis", int: 1 }]),
    );
    width += columns.length;
  }
  if (parts.length === 0) throw new Error("ONNX export: the feature schema has no inputs");
  const output = parts.length === 1 ? parts[0] : g.node("Concat", parts, [{ name: "axis", int: 1 }]);
  return { output, width, inputs };
}

/** The tower on `x` ([batch, inDim]): Gemm (+ Relu) per layer; returns the output's name. */
export function towerGraph(g: GraphBuilder, tower: ReluTower, x: string): string {
  let h = x;
  for (const layer of tower.layers) {
    const w = g.floats(layer.weight.name, [layer.inDim, layer.outDim], layer.weight.data);
    const b = g.floats(layer.bias.name, [layer.outDim], layer.bias.data);
    h = g.node("Gemm", [h, w, b]);
    if (layer.relu) h = g.node("Relu", [h]);
  }
  return h;
}
