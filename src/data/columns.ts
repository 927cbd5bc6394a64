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

/** Append-only event columns. */
export class EventColumns {
  length = 0;
  user: Int32Array;
  item: Int32Array;
  time: Float64Array;
  weight: Float32Array;

  constructor(capacity = 1 << 16) {
    this.user = new Int32Array(capacity);
    this.item = new Int32Array(capacity);
    this.time = new Float64Array(capacity);
    this.weight = new Float32Array(capacity);
  }

  /** Makes room for at least `n` rows in total (used with an estimate from the file size). */
  reserve(n: number): void {
    if (n <= this.user.length) return;
    const grow = <T extends Int32Array | Float64Array | Float32Array>(a: T, make: (k: number) => T): T => {
      const b = make(n);
      b.set(a.subarray(0, this.length));
      return b;
    };
    this.user = grow(this.user, (k) => new Int32Array(k));
    this.item = grow(this.item, (k) => new Int32Array(k));
    this.time = grow(this.time, (k) => new Float64Array(k));
    this.weight = grow(this.weight, (k) => new Float32Array(k));
  }

  push(user: number, item: number, time: number, weight: number): void {
    const k = this.length;
    if (k === this.user.length) this.reserve(Math.ceil(k * 1.5) + 1024);
    this.user[k] = user;
    this.item[k] = item;
    this.time[k] = time;
    this.weight[k] = weight;
    this.length = k + 1;
  }

  /**
   * The filled part as Events. Small slack is kept as a view (no copy, so peak memory stays low
   * for huge files); large slack is copied away so it is not held forever.
   */
  finish(): Events {
    const n = this.length;
    const cap = this.user.length;
    if (n === cap) return { user: this.user, item: this.item, time: this.time, weight: this.weight };
    const copy = cap - n > cap / 8;
    const cut = <T extends Int32Array | Float64Array | Float32Array>(a: T): T =>
      (copy ? a.slice(0, n) : a.subarray(0, n)) as T;
    return { user: cut(this.user), item: cut(this.item), time: cut(this.time), weight: cut(this.weight) };
  }
}
