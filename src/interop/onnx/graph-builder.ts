/**
 * Building an ONNX graph node by node: fresh value names, initializers added once by name (a table
 * shared by two inputs is stored once), small int64 constants, and declared inputs and outputs.
 * `build()` returns the plain OnnxGraph that onnx-proto.ts encodes.
 */
import {
  ONNX_FLOAT,
  ONNX_INT64,
  type OnnxAttribute,
  type OnnxGraph,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from "./onnx-proto.js";

export class GraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers = new Map<string, OnnxTensor>();
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly names = new Set<string>();
  private count = 0;

  constructor(
    readonly name: string,
    readonly doc: string,
  ) {}

  /** Declares a graph input; returns its name. */
  input(info: OnnxValueInfo): string {
    this.claim(info.name);
    this.inputs.push(info);
    return info.name;
  }

  /** Declares `value` as graph output `info.name` (through an Identity node when the names differ). */
  output(value: string, info: OnnxValueInfo): void {
    if (value !== info.name) this.node("Identity", [value], [], info.name);
    this.outputs.push(info);
  }

  /** A float32 initializer (once per name: a second call must pass the same array). */
  floats(name: string, dims: readonly number[], data: Float32Array): string {
    const had = this.initializers.get(name);
    if (had !== undefined) {
      if (had.data !== data)
        throw new Error(`ONNX graph ${this.name}: two different tensors named "${name}"`);
      return name;
    }
    this.claim(name);
    this.initializers.set(name, { name, dims, data });
    return name;
  }

  /** A small int64 constant (axes, shapes, column lists) under a fresh name. */
  int64s(hint: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = this.fresh(hint);
    this.initializers.set(name, { name, dims, data: BigInt64Array.from(values, (v) => BigInt(v)) });
    return name;
  }

  /** A scalar float constant under a fresh name. */
  scalar(hint: string, value: number): string {
    const name = this.fresh(hint);
    this.initializers.set(name, { name, dims: [], data: Float32Array.of(value) });
    return name;
  }

  /** Adds a node with one output (named `out`, or fresh from the op) and returns that output. */
  node(
    opType: string,
    inputs: readonly string[],
    attributes: readonly OnnxAttribute[] = [],
    out?: string,
  ): string {
    const output = out ?? this.fresh(opType.toLowerCase());
    if (out !== undefined) this.claim(out);
    this.nodes.push({
      opType,
      inputs,
      outputs: [output],
      name: `${opType}_${this.nodes.length}`,
      attributes,
    });
    return output;
  }

  build(): OnnxGraph {
    return {
      name: this.name,
      doc: this.doc,
      nodes: this.nodes,
      initializers: [...this.initializers.values()],
      inputs: this.inputs,
      outputs: this.outputs,
    };
  }

  private fresh(hint: string): string {
    let name: string;
    do name = `${hint}_${this.count++}`;
    while (this.names.has(name));
    this.names.add(name);
    return name;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`ONNX graph ${this.name}: value name "${name}" used twice`);
    this.names.add(name);
  }
}

export const FLOAT = ONNX_FLOAT;
export const INT64 = ONNX_INT64;
