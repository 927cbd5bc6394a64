/**
 * The few ONNX messages an exported watchnext graph needs (ModelProto, GraphProto, NodeProto,
 * AttributeProto, TensorProto, ValueInfoProto, OperatorSetIdProto), encoded with the wire-format
 * writer under the field numbers of onnx/onnx.proto. Tensors carry their values as little-endian
 * raw_data; shapes may name symbolic dimensions ("batch") for inputs whose size varies per call.
 */
import { endianness } from "node:os";
import { ProtoWriter } from "./protobuf.js";

/** ONNX TensorProto.DataType codes used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
export type OnnxElemType = typeof ONNX_FLOAT | typeof ONNX_INT64;

/** IR version 8 (ONNX 1.10+) with the default-domain opset 17: every runtime since 2022 reads it. */
export const IR_VERSION = 8;
export const OPSET = 17;

export interface OnnxTensor {
  readonly name: string;
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

export type OnnxAttribute =
  | { readonly name: string; readonly int: number }
  | { readonly name: string; readonly float: number }
  | { readonly name: string; readonly ints: readonly number[] };

export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name: string;
  readonly attributes?: readonly OnnxAttribute[];
}

/** A graph input or output: element type and shape (a string = a symbolic dimension). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly elemType: OnnxElemType;
  readonly shape: readonly (number | string)[];
  readonly doc?: string;
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly doc?: string;
}

export interface OnnxModel {
  readonly graph: OnnxGraph;
  readonly producerVersion: string;
  /** ModelProto.metadata_props: free-form key/value strings (e.g. the source model's checksum). */
  readonly metadata: Readonly<Record<string, string>>;
}

// AttributeProto.AttributeType codes.
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

/** A protobuf message may not exceed 2 GiB; larger tables would need ONNX external data. */
const MAX_MESSAGE_BYTES = 2 ** 31 - 1;

export function encodeModel(model: OnnxModel): Uint8Array {
  if (endianness() !== "LE") throw new Error("ONNX export: raw tensor data is written little-endian only");
  const w = new ProtoWriter();
  w.varintField(1, IR_VERSION);
  w.stringField(2, "watchnext");
  w.stringField(3, model.producerVersion);
  w.messageField(7, (g) => writeGraph(g, model.graph));
  w.messageField(8, (o) => o.stringField(1, "").varintField(2, OPSET));
  for (const [key, value] of Object.entries(model.metadata))
    w.messageField(14, (m) => m.stringField(1, key).stringField(2, value));
  if (w.byteLength > MAX_MESSAGE_BYTES)
    throw new RangeError(
      `ONNX export: graph "${model.graph.name}" is ${w.byteLength} bytes, over the 2 GiB protobuf limit`,
    );
  return w.finish();
}

function writeGraph(w: ProtoWriter, g: OnnxGraph): void {
  for (const n of g.nodes) w.messageField(1, (m) => writeNode(m, n));
  w.stringField(2, g.name);
  for (const t of g.initializers) w.messageField(5, (m) => writeTensor(m, t));
  if (g.doc !== undefined) w.stringField(10, g.doc);
  for (const v of g.inputs) w.messageField(11, (m) => writeValueInfo(m, v));
  for (const v of g.outputs) w.messageField(12, (m) => writeValueInfo(m, v));
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.stringField(1, i);
  for (const o of n.outputs) w.stringField(2, o);
  w.stringField(3, n.name);
  w.stringField(4, n.opType);
  for (const a of n.attributes ?? []) w.messageField(5, (m) => writeAttribute(m, a));
}

function writeAttribute(w: ProtoWriter, a: OnnxAttribute): void {
  w.stringField(1, a.name);
  if ("int" in a) w.varintField(3, a.int).varintField(20, ATTR_INT);
  else if ("float" in a) w.floatField(2, a.float).varintField(20, ATTR_FLOAT);
  else {
    for (const v of a.ints) w.varintField(8, v);
    w.varintField(20, ATTR_INTS);
  }
}

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.data.length)
    throw new RangeError(
      `ONNX tensor "${t.name}": shape [${t.dims.join(", ")}] holds ${count} values, got ${t.data.length}`,
    );
  for (const d of t.dims) w.varintField(1, d);
  w.varintField(2, t.data instanceof Float32Array ? ONNX_FLOAT : ONNX_INT64);
  w.stringField(8, t.name);
  w.bytesField(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.stringField(1, v.name);
  // TypeProto { tensor_type = 1: Tensor { elem_type = 1, shape = 2 { dim = 1 { value = 1 | param = 2 } } } }
  w.messageField(2, (type) =>
    type.messageField(1, (tensor) => {
      tensor.varintField(1, v.elemType);
      tensor.messageField(2, (shape) => {
        for (const d of v.shape)
          shape.messageField(1, (dim) =>
            typeof d === "number" ? dim.varintField(1, d) : dim.stringField(2, d),
          );
      });
    }),
  );
  if (v.doc !== undefined) w.stringField(3, v.doc);
}
