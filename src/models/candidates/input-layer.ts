/**
 * The candidate network's input layer, derived from the feature schema: every bag and categorical
 * feature is embedded through its table into a slot of one concatenated row per example (features
 * that share a slot are summed, e.g. an item's id + genre + year embeddings), and continuous
 * features are copied in after them. Backward scatters the slot gradients into the tables' rows.
 */
import type { Kernels } from "../../engine/kernels/kernels.js";
import type { Rng } from "../../engine/rng.js";
import type { CandidateBatch } from "../../features/batch.js";
import type { FeatureSchema } from "../../features/schema.js";
import { TableParam } from "./params.js";

interface EmbeddedInput {
  readonly kind: "bag" | "categorical";
  readonly name: string;
  readonly table: TableParam;
  /** Column of the concatenated input where this feature's slot starts. */
  readonly offset: number;
  /** Whether an earlier feature already wrote the slot (this one adds to it). */
  readonly accumulate: boolean;
}

/** A bag derived from the watch bag: its R most recent entries (the bag is oldest first). */
interface RecentInput {
  readonly name: string;
  readonly count: number;
  readonly table: TableParam;
  readonly offset: number;
  readonly offsets: Int32Array;
  readonly indices: Int32Array;
}

interface DenseInput {
  readonly name: string;
  readonly srcOffset: number;
  readonly width: number;
  readonly offset: number;
}

export class InputLayer {
  readonly tables = new Map<string, TableParam>();
  readonly width: number;
  private readonly embedded: EmbeddedInput[] = [];
  private readonly recent: RecentInput[] = [];
  private readonly dense: DenseInput[] = [];
  private readonly watchFeature: string | null;
  /** offsets 0..capacity, so a univalent feature can run through the bag kernels. */
  private readonly identityOffsets: Int32Array;

  constructor(
    readonly schema: FeatureSchema,
    capacity: number,
    recentWatches: readonly number[] = [],
    itemIds: { readonly feature: string; readonly table: string } | null = null,
  ) {
    for (const t of schema.tables) this.tables.set(t.name, new TableParam(t.name, t.rows, t.dim));
    const slots = new Map<string, number>();
    let width = 0;
    for (const f of schema.features) {
      if (f.kind === "continuous") continue;
      const table = this.tables.get(f.table);
      if (!table) throw new Error(`feature schema: feature "${f.name}" uses unknown table "${f.table}"`);
      const slotName = f.kind === "bag" && f.slot !== undefined ? f.slot : `#${f.name}`;
      let offset = slots.get(slotName);
      const accumulate = offset !== undefined;
      if (offset === undefined) {
        offset = width;
        slots.set(slotName, offset);
        width += table.dim;
      } else {
        const first = this.embedded.find((e) => e.offset === offset);
        if (first && first.table.dim !== table.dim) {
          throw new Error(
            `feature schema: features "${first.name}" and "${f.name}" share slot "${slotName}" but their tables have dims ${first.table.dim} and ${table.dim}`,
          );
        }
      }
      this.embedded.push({ kind: f.kind, name: f.name, table, offset, accumulate });
    }
    this.watchFeature = itemIds?.feature ?? null;
    if (recentWatches.length > 0) {
      const table = itemIds ? this.tables.get(itemIds.table) : undefined;
      if (!itemIds || !table)
        throw new Error("network.recentWatches: the feature schema has no watched-item bag");
      for (const count of recentWatches) {
        this.recent.push({
          name: `recent${count}`,
          count,
          table,
          offset: width,
          offsets: new Int32Array(capacity + 1),
          indices: new Int32Array(capacity * count),
        });
        width += table.dim;
      }
    }
    for (const f of schema.features) {
      if (f.kind !== "continuous") continue;
      if (f.offset + f.width > schema.denseWidth) {
        throw new Error(
          `feature schema: continuous feature "${f.name}" exceeds denseWidth ${schema.denseWidth}`,
        );
      }
      this.dense.push({ name: f.name, srcOffset: f.offset, width: f.width, offset: width });
      width += f.width;
    }
    if (width === 0) throw new Error("feature schema: no input features (every feature group is off)");
    this.width = width;
    this.identityOffsets = new Int32Array(capacity + 1);
    for (let i = 0; i <= capacity; i++) this.identityOffsets[i] = i;
  }

  init(rng: Rng, std: number): void {
    for (const t of this.tables.values()) t.initNormal(rng, std);
  }

  /** Writes the concatenated input rows [size × width] of the batch into out. */
  forward(k: Kernels, batch: CandidateBatch, out: Float32Array): void {
    const n = batch.size;
    const w = this.width;
    for (const e of this.embedded) {
      const t = e.table;
      if (e.kind === "bag") {
        const bag = batch.bags[e.name];
        if (!bag) throw new Error(`candidate batch: missing bag feature "${e.name}"`);
        k.embeddingBagForward(
          t.value,
          t.dim,
          bag.offsets.subarray(0, n + 1),
          bag.indices,
          bag.weights,
          out,
          w,
          e.offset,
          e.accumulate,
        );
      } else {
        const ids = batch.categorical[e.name];
        if (!ids) throw new Error(`candidate batch: missing categorical feature "${e.name}"`);
        k.embeddingBagForward(
          t.value,
          t.dim,
          this.identityOffsets.subarray(0, n + 1),
          ids,
          null,
          out,
          w,
          e.offset,
          e.accumulate,
        );
      }
    }
    for (const r of this.recent) {
      this.fillRecent(batch, r);
      const t = r.table;
      k.embeddingBagForward(
        t.value,
        t.dim,
        r.offsets.subarray(0, n + 1),
        r.indices,
        null,
        out,
        w,
        r.offset,
        false,
      );
    }
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
  backward(k: Kernels, batch: CandidateBatch, gradIn: Float32Array): void {
    const n = batch.size;
    for (const e of this.embedded) {
      const t = e.table;
      if (e.kind === "bag") {
        const bag = batch.bags[e.name];
        const offsets = bag.offsets.subarray(0, n + 1);
        k.embeddingBagBackward(
          gradIn,
          this.width,
          e.offset,
          t.dim,
          offsets,
          bag.indices,
          bag.weights,
          t.grad,
        );
        t.touch(bag.indices, offsets[0], offsets[n]);
      } else {
        const ids = batch.categorical[e.name];
        k.embeddingBagBackward(
          gradIn,
          this.width,
          e.offset,
          t.dim,
          this.identityOffsets.subarray(0, n + 1),
          ids,
          null,
          t.grad,
        );
        t.touch(ids, 0, n);
      }
    }
    for (const r of this.recent) {
      const t = r.table;
      k.embeddingBagBackward(
        gradIn,
        this.width,
        r.offset,
        t.dim,
        r.offsets.subarray(0, n + 1),
        r.indices,
        null,
        t.grad,
      );
      t.touch(r.indices, 0, r.offsets[n]);
    }
  }

  /** The last `count` entries of each example's watch bag, as CSR. */
  private fillRecent(batch: CandidateBatch, r: RecentInput): void {
    const bag = batch.bags[this.watchFeature as string];
    if (!bag) throw new Error(`candidate batch: missing bag feature "${String(this.watchFeature)}"`);
    let o = 0;
    r.offsets[0] = 0;
    for (let b = 0; b < batch.size; b++) {
      const end = bag.offsets[b + 1];
      const start = Math.max(bag.offsets[b], end - r.count);
      for (let i = start; i < end; i++) r.indices[o++] = bag.indices[i];
      r.offsets[b + 1] = o;
    }
  }
}
