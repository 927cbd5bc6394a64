/**
 * The item side of an index that accepts new items while it serves: row-major vectors, the
 * optional per-item logit bias, and which items are searchable. The caller's arrays are kept by
 * reference until the first addition, then copied once into buffers with headroom that grow by
 * doubling, so adding one item at a time stays cheap. An item added without a vector ("reserved")
 * keeps its id — ids stay dense, equal to dataset item indices — but is never returned.
 */
import { checkVectors } from "./vector-index.js";

export class ItemRows {
  private data: Float32Array;
  private biasData: Float32Array | null;
  /** 1 = searchable; null while every item is. */
  private searchableData: Uint8Array | null = null;
  private owned = false;
  private count: number;

  /**
   * vectors: size×dim row-major; itemBias: size entries or null; searchable: size flags (0 =
   * reserved) or null for all searchable. All kept by reference until the first addition (do not mutate).
   */
  constructor(
    vectors: Float32Array,
    size: number,
    readonly dim: number,
    itemBias: Float32Array | null,
    searchable: Uint8Array | null = null,
  ) {
    checkVectors(vectors, size, dim);
    if (itemBias !== null) checkBias(itemBias, size, 0);
    if (searchable !== null && searchable.length < size) {
      throw new RangeError(`searchable flags hold ${searchable.length} entries, expected ${size}`);
    }
    this.data = vectors;
    this.biasData = itemBias;
    this.searchableData = searchable;
    this.count = size;
  }

  get size(): number {
    return this.count;
  }

  /** The size×dim vectors (a view: valid until the next addition). Reserved items' rows are 0. */
  get vectors(): Float32Array {
    return this.data.subarray(0, this.count * this.dim);
  }

  /** The per-item bias (a view), or null when the index has none. */
  get bias(): Float32Array | null {
    return this.biasData === null ? null : this.biasData.subarray(0, this.count);
  }

  get hasBias(): boolean {
    return this.biasData !== null;
  }

  /** True unless the item was added without a vector. */
  isSearchable(item: number): boolean {
    return this.searchableData === null || this.searchableData[item] === 1;
  }

  /**
   * Appends `count` items (ids size .. size + count − 1, returned as the first id). vectors null
   * reserves them (never searchable); otherwise it holds count×dim finite values, and itemBias
   * must be given (count entries) exactly when the index has a bias.
   */
  append(vectors: Float32Array | null, count: number, itemBias: Float32Array | null = null): number {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`addItems: count must be a non-negative integer, got ${count}`);
    }
    if (vectors !== null) {
      checkVectors(vectors, count, this.dim);
      if (this.hasBias && itemBias === null) {
        throw new RangeError(
          "addItems: this index scores u·v + bias, so itemBias (one entry per new item) is required",
        );
      }
      if (!this.hasBias && itemBias !== null) {
        throw new RangeError("addItems: this index was built without an item bias, so itemBias must be null");
      }
      if (itemBias !== null) checkBias(itemBias, count, this.count);
    } else if (itemBias !== null) {
      throw new RangeError("addItems: reserved items (vectors null) take no itemBias");
    }
    const first = this.count;
    this.reserve(first + count);
    if (vectors !== null) {
      this.data.set(vectors.subarray(0, count * this.dim), first * this.dim);
      if (itemBias !== null && this.biasData !== null) this.biasData.set(itemBias.subarray(0, count), first);
      if (this.searchableData !== null) this.searchableData.fill(1, first, first + count);
    } else if (count > 0) {
      this.data.fill(0, first * this.dim, (first + count) * this.dim);
      if (this.biasData !== null) this.biasData.fill(0, first, first + count);
      if (this.searchableData === null) {
        this.searchableData = new Uint8Array(this.data.length / this.dim).fill(1);
      }
      this.searchableData.fill(0, first, first + count);
    }
    this.count = first + count;
    return first;
  }

  private reserve(size: number): void {
    const capacity = this.data.length / this.dim;
    if (this.owned && size <= capacity) return;
    const cap = Math.max(size, this.owned ? 2 * capacity : size + (size >> 3) + 16);
    const data = new Float32Array(cap * this.dim);
    data.set(this.data.subarray(0, this.count * this.dim));
    this.data = data;
    if (this.biasData !== null) {
      const bias = new Float32Array(cap);
      bias.set(this.biasData.subarray(0, this.count));
      this.biasData = bias;
    }
    if (this.searchableData !== null) {
      const searchable = new Uint8Array(cap);
      searchable.set(this.searchableData.subarray(0, this.count));
      this.searchableData = searchable;
    }
    this.owned = true;
  }
}

function checkBias(bias: Float32Array, count: number, firstId: number): void {
  if (bias.length < count) {
    throw new RangeError(`item bias holds ${bias.length} values, expected one per item (${count})`);
  }
  for (let i = 0; i < count; i++) {
    if (!Number.isFinite(bias[i])) {
      throw new RangeError(`item bias of item ${firstId + i} is ${bias[i]}, expected a finite number`);
    }
  }
}
