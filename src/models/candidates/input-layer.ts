/**
 * The candidate network's input layer, derived from the feature schema: every table is an engine
 * EmbeddingTable, every bag feature an EmbeddingBag and every categorical feature an
 * EmbeddingLookup writing into a slot of one concatenated row per example (features that share a
 * slot are summed, e.g. an item's id + genre + year embeddings); continuous features are copied in
 * after them. An ordered input (schema.sequence) adds one slot, the causal encoder's output
 * (./sequence-input.ts), before the continuous ones. Backward scatters the slot gradients into the
 * tables' touched rows.
 */
import { EmbeddingBag, EmbeddingLookup, EmbeddingTable } from "../../engine/layers/embedding.js";
import type { Parameter } from "../../engine/layers/parameter.js";
import type { Kernels } from "../../engine/kernels/kernels.js";
import type { Rng } from "../../engine/rng.js";
import type { BagInput, CandidateBatch } from "../../features/batch.js";
import type { FeatureSchema } from "../../features/schema.js";
import { SequenceInput } from "./sequence-input.js";

interface BagSlot {
  readonly name: string;
  readonly layer: EmbeddingBag;
  /** Column of the concatenated input where this feature's slot starts. */
  readonly offset: number;
  /** Whether an earlier feature already wrote the slot (this one adds to it). */
  readonly accumulate: boolean;
}

interface LookupSlot {
  readonly name: string;
  readonly layer: EmbeddingLookup;
  readonly offset: number;
  readonly accumulate: boolean;
}

interface DenseSlot {
  readonly srcOffset: number;
  readonly width: number;
  readonly offset: number;
}

export class InputLayer {
  readonly tables = new Map<string, EmbeddingTable>();
  readonly width: number;
  private readonly bags: BagSlot[] = [];
  private readonly lookups: LookupSlot[] = [];
  private readonly dense: DenseSlot[] = [];
  /** The ordered watch input and its slot's column, when the schema has one. */
  readonly sequence: SequenceInput | null = null;
  readonly sequenceOffset: number = -1;
  /** Tables kept fixed (pre-trained, frozen): no gradient, not among the parameters. */
  private readonly frozen = new Set<string>();
  /** The batch's bag CSR views for the current batch size (reused: offsets cut to size + 1). */
  private readonly views = new Map<string, BagInput>();

  /**
   * Tables are created in schema order from `rng`, rows ~ N(0, initStd²), row 0 = 0; tables in
   * `shared` are used as given (several input layers over one set of tables, e.g. the ranker's
   * query and impression inputs sharing the item table).
   */
  constructor(
    kernels: Kernels,
    schema: FeatureSchema,
    capacity: number,
    rng: Rng,
    initStd: number,
    shared?: ReadonlyMap<string, EmbeddingTable>,
  ) {
    for (const t of schema.tables) {
      const given = shared?.get(t.name);
      this.tables.set(
        t.name,
        given ?? new EmbeddingTable(t.name, t.rows, t.dim, rng, { init: { kind: "normal", std: initStd } }),
      );
    }
    const slots = new Map<string, { offset: number; dim: number; first: string }>();
    let width = 0;
    for (const f of schema.features) {
      if (f.kind === "continuous") continue;
      const table = this.tables.get(f.table);
      if (!table) throw new Error(`feature schema: feature "${f.name}" uses unknown table "${f.table}"`);
      const slotName = f.kind === "bag" && f.slot !== undefined ? f.slot : `#${f.name}`;
      const slot = slots.get(slotName);
      if (slot !== undefined && slot.dim !== table.dim) {
        throw new Error(
          `feature schema: features "${slot.first}" and "${f.name}" share slot "${slotName}" but their tables have dims ${slot.dim} and ${table.dim}`,
        );
      }
      const offset = slot?.offset ?? width;
      if (slot === undefined) {
        slots.set(slotName, { offset, dim: table.dim, first: f.name });
        width += table.dim;
      }
      const accumulate = slot !== undefined;
      if (f.kind === "bag")
        this.bags.push({ name: f.name, layer: new EmbeddingBag(kernels, table), offset, accumulate });
      else {
        const layer = new EmbeddingLookup(kernels, table, capacity);
        this.lookups.push({ name: f.name, layer, offset, accumulate });
      }
    }
    if (schema.sequence !== undefined) {
      this.sequence = new SequenceInput(kernels, schema.sequence, this.tables, capacity, rng);
      this.sequenceOffset = width;
      width += this.sequence.width;
    }
    for (const f of schema.features) {
      if (f.kind !== "continuous") continue;
      if (f.offset + f.width > schema.denseWidth) {
        throw new Error(
          `feature schema: continuous feature "${f.name}" exceeds denseWidth ${schema.denseWidth}`,
        );
      }
      this.dense.push({ srcOffset: f.offset, width: f.width, offset: width });
      width += f.width;
    }
    if (width === 0) throw new Error("feature schema: no input features (every feature group is off)");
    this.width = width;
  }

  /** Keeps a table fixed from now on (call before the optimizer is built from parameters()). */
  freeze(table: string): void {
    if (!this.tables.has(table)) throw new Error(`input layer: no table "${table}" to freeze`);
    this.frozen.add(table);
  }

  isFrozen(table: string): boolean {
    return this.frozen.has(table);
  }

  /** Every trainable table's parameter (sparse rows, lazy Adam), then the sequence encoder's (dense). */
  parameters(): Parameter[] {
    const tables = [...this.tables.values()]
      .filter((t) => !this.frozen.has(t.param.name))
      .map((t) => t.param);
    return [...tables, ...(this.sequence?.parameters() ?? [])];
  }

  /** Writes the concatenated input rows [size × width] of the batch into out (`training`: encoder dropout on). */
  forward(batch: CandidateBatch, out: Float32Array, training = false): void {
    const n = batch.size;
    const w = this.width;
    for (const s of this.bags) s.layer.forward(this.bagView(batch, s.name), out, w, s.offset, s.accumulate);
    for (const s of this.lookups) s.layer.forward(this.ids(batch, s.name), n, out, w, s.offset, s.accumulate);
    this.sequence?.forward(batch, out, w, this.sequenceOffset, training);
    const src = batch.dense;
    const sw = batch.denseWidth;
    for (const d of this.dense) {
      for (let b = 0; b < n; b++) {
        const so = b * sw + d.srcOffset;
        const o = b * w + d.offset;
        for (let c = 0; c < d.width; c++) out[o + c] = src[so + c];
      }
    }
  }

  /** Adds the gradient of the input rows into the tables and records the touched rows. */
  backward(batch: CandidateBatch, gradIn: Float32Array): void {
    const n = batch.size;
    const w = this.width;
    for (const s of this.bags)
      if (!this.frozen.has(s.layer.table.param.name))
        s.layer.backward(this.bagView(batch, s.name), gradIn, w, s.offset);
    for (const s of this.lookups)
      if (!this.frozen.has(s.layer.table.param.name))
        s.layer.backward(this.ids(batch, s.name), n, gradIn, w, s.offset);
    this.sequence?.backward(batch, gradIn, w, this.sequenceOffset, this.frozen);
  }

  /** The feature's bag cut to the batch's examples; the view is rebuilt only when its arrays change. */
  private bagView(batch: CandidateBatch, name: string): BagInput {
    const bag = batch.bags[name];
    if (!bag) throw new Error(`candidate batch: missing bag feature "${name}"`);
    const n = batch.size;
    let view = this.views.get(name);
    if (
      view === undefined ||
      view.offsets.buffer !== bag.offsets.buffer ||
      view.offsets.byteOffset !== bag.offsets.byteOffset ||
      view.offsets.length !== n + 1 ||
      view.indices !== bag.indices ||
      view.weights !== bag.weights
    ) {
      view = { offsets: bag.offsets.subarray(0, n + 1), indices: bag.indices, weights: bag.weights };
      this.views.set(name, view);
    }
    return view;
  }

  private ids(batch: CandidateBatch, name: string): Int32Array {
    const ids = batch.categorical[name];
    if (!ids) throw new Error(`candidate batch: missing categorical feature "${name}"`);
    return ids;
  }
}
