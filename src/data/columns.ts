/**
 * Builders for the columnar form: an id dictionary that numbers external ids densely in order of
 * first appearance, and growable typed-array event columns. Both are tuned for tens of millions
 * of rows: canonical integer ids (the MovieLens case) are looked up in a typed array without
 * making a string, and columns grow geometrically from an estimate of the row count.
 */
import type { Events, IdDictionary } from "./dataset.js";

const ZERO = 48;
/** Integer ids below this are looked up in a dense table (16 MB at most); larger ones in a Map. */
const DENSE_ID_LIMIT = 1 << 22;

export class IdDictionaryBuilder {
  readonly ids: string[] = [];
  /** numeric id -> dense index + 1 (0 = absent). */
  private table = new Int32Array(1024);
  private readonly bigNumeric = new Map<number, number>();
  private readonly byText = new Map<string, number>();

  get size(): number {
    return this.ids.length;
  }

  /**
   * The canonical integer value of id bytes ("0", "17"; not "017", "-3", "1.0"), or -1 when the
   * id must be treated as text. Keeps "017" and "17" distinct, as they are distinct strings.
   */
  static numericKey(buf: Uint8Array, s: number, e: number): number {
    const len = e - s;
    if (len < 1 || len > 9 || (len > 1 && buf[s] === ZERO)) return -1;
    let v = 0;
    for (let i = s; i < e; i++) {
      const d = buf[i] - ZERO;
      if (d < 0 || d > 9) return -1;
      v = v * 10 + d;
    }
    return v;
  }

  /** Index of a canonical integer id, or -1. */
  findNumeric(v: number): number {
    if (v < DENSE_ID_LIMIT) return v < this.table.length ? this.table[v] - 1 : -1;
    const idx = this.bigNumeric.get(v);
    return idx === undefined ? -1 : idx;
  }

  /** Index of a canonical integer id, adding it if new. */
  internNumeric(v: number): number {
    if (v < DENSE_ID_LIMIT) {
      if (v >= this.table.length) {
        let n = this.table.length;
        while (n <= v) n *= 2;
        const t = new Int32Array(Math.min(n, DENSE_ID_LIMIT));
        t.set(this.table);
        this.table = t;
      }
      const found = this.table[v];
      if (found !== 0) return found - 1;
      const idx = this.ids.length;
      this.ids.push(String(v));
      this.table[v] = idx + 1;
      return idx;
    }
    const found = this.bigNumeric.get(v);
    if (found !== undefined) return found;
    const idx = this.ids.length;
    this.ids.push(String(v));
    this.bigNumeric.set(v, idx);
    return idx;
  }

  /** Index of an id given as text, or -1. */
  find(id: string): number {
    const v = numericKeyOfText(id);
    if (v >= 0) return this.findNumeric(v);
    const idx = this.byText.get(id);
    return idx === undefined ? -1 : idx;
  }

  /** Index of an id given as text, adding it if new. */
  intern(id: string): number {
    const v = numericKeyOfText(id);
    if (v >= 0) return this.internNumeric(v);
    const found = this.byText.get(id);
    if (found !== undefined) return found;
    const idx = this.ids.length;
    this.ids.push(id);
    this.byText.set(id, idx);
    return idx;
  }

  finish(): IdDictionary {
    const index = new Map<string, number>();
    for (let i = 0; i < this.ids.length; i++) index.set(this.ids[i], i);
    return { ids: this.ids, index };
  }
}

function numericKeyOfText(id: string): number {
  const len = id.length;
  if (len < 1 || len > 9 || (len > 1 && id.charCodeAt(0) === ZERO)) return -1;
  let v = 0;
  for (let i = 0; i < len; i++) {
    const d = id.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Rows per storage chunk once a file is large; small files start with small chunks. */
const MAX_CHUNK = 1 << 20;
const FIRST_CHUNK = 1 << 12;

/**
 * Append-only event columns, stored in chunks so growing never copies (or doubles) what is
 * already stored; `finish` concatenates one column at a time, releasing that column's chunks, so
 * peak memory stays near one copy of the data plus one column.
 */
export class EventColumns {
  length = 0;
  private readonly users: Int32Array[] = [];
  private readonly items: Int32Array[] = [];
  private readonly times: Float64Array[] = [];
  private readonly weights: Float32Array[] = [];
  private readonly sizes: number[] = [];
  private u = new Int32Array(0);
  private i = new Int32Array(0);
  private t = new Float64Array(0);
  private w = new Float32Array(0);
  private pos = 0;

  push(user: number, item: number, time: number, weight: number): void {
    let p = this.pos;
    if (p === this.u.length) {
      this.newChunk();
      p = 0;
    }
    this.u[p] = user;
    this.i[p] = item;
    this.t[p] = time;
    this.w[p] = weight;
    this.pos = p + 1;
    this.length++;
  }

  private newChunk(): void {
    if (this.sizes.length > 0) this.sizes[this.sizes.length - 1] = this.pos;
    const n = Math.min(MAX_CHUNK, this.u.length === 0 ? FIRST_CHUNK : this.u.length * 2);
    this.u = new Int32Array(n);
    this.i = new Int32Array(n);
    this.t = new Float64Array(n);
    this.w = new Float32Array(n);
    this.users.push(this.u);
    this.items.push(this.i);
    this.times.push(this.t);
    this.weights.push(this.w);
    this.sizes.push(0);
    this.pos = 0;
  }

  /** The rows as exact-length Events. The builder is empty afterwards. */
  finish(): Events {
    if (this.sizes.length > 0) this.sizes[this.sizes.length - 1] = this.pos;
    const n = this.length;
    const sizes = this.sizes;
    this.u = new Int32Array(0);
    this.i = new Int32Array(0);
    this.t = new Float64Array(0);
    this.w = new Float32Array(0);
    const concat = <T extends Int32Array | Float64Array | Float32Array>(chunks: T[], out: T): T => {
      let o = 0;
      for (let c = 0; c < chunks.length; c++) {
        out.set(chunks[c].subarray(0, sizes[c]), o);
        o += sizes[c];
      }
      chunks.length = 0; // release this column's chunks before the next column is allocated
      return out;
    };
    const user = concat(this.users, new Int32Array(n));
    const item = concat(this.items, new Int32Array(n));
    const time = concat(this.times, new Float64Array(n));
    const weight = concat(this.weights, new Float32Array(n));
    this.length = 0;
    this.sizes.length = 0;
    return { user, item, time, weight };
  }
}
