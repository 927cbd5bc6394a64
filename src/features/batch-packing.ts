/**
 * Packing examples into a batch's typed arrays, for any stage's batch (candidate generation today,
 * ranking next): allocating CSR bags, growing them without losing the filled prefix, and opening /
 * closing a batch so that rows past its size read as empty bags, zero dense rows and label −1.
 */
import type { BagInput, CandidateBatch } from "./batch.js";

/** The parts of a batch the packing helpers touch. */
export type PackedBatch = Pick<CandidateBatch, "size" | "labels" | "bags" | "dense" | "denseWidth">;

/** An empty bag for up to maxSize rows with room for indexCapacity indices (weighted: per-index weights). */
export function allocBag(maxSize: number, indexCapacity: number, weighted: boolean): BagInput {
  return {
    offsets: new Int32Array(maxSize + 1),
    indices: new Int32Array(Math.max(indexCapacity, 1)),
    weights: weighted ? new Float32Array(Math.max(indexCapacity, 1)) : null,
  };
}

/** Makes room for `need` indices in a bag, growing its buffers geometrically (keeps the filled prefix). */
export function ensureBag(bag: BagInput, need: number): void {
  if (need <= bag.indices.length) return;
  const cap = Math.max(need, bag.indices.length * 2);
  const indices = new Int32Array(cap);
  indices.set(bag.indices);
  bag.indices = indices;
  if (bag.weights !== null) {
    const weights = new Float32Array(cap);
    weights.set(bag.weights);
    bag.weights = weights;
  }
}

/** Throws unless `size` rows fit the batch and its dense width is the schema's. */
export function checkBatchFits(size: number, batch: PackedBatch, denseWidth: number, what: string): void {
  if (!(size >= 0) || size > batch.labels.length) {
    throw new RangeError(`${what}: ${size} rows do not fit a batch allocated for ${batch.labels.length}`);
  }
  if (batch.denseWidth !== denseWidth) {
    throw new RangeError(
      `${what}: batch has dense width ${batch.denseWidth}, the schema needs ${denseWidth}`,
    );
  }
}

/** Starts filling a batch from row 0: every bag empty, every dense value 0. */
export function beginBatch(batch: PackedBatch): void {
  for (const bag of Object.values(batch.bags)) bag.offsets[0] = 0;
  batch.dense.fill(0);
}

/** Ends a batch of `size` rows: bag offsets past `size` repeat the end (empty bags), labels past it are −1. */
export function endBatch(batch: PackedBatch, size: number): void {
  batch.size = size;
  for (const bag of Object.values(batch.bags)) {
    const end = bag.offsets[size];
    bag.offsets.fill(end, size + 1);
  }
  for (let b = size; b < batch.labels.length; b++) batch.labels[b] = -1;
}
