/**
 * "Popular in the last 7 / 30 days before t": an item's score for a query at time t is its number of
 * events in [t − days, t) in the fitting data (plus events observed since, when serving); ties, and
 * items with no event in the window, are ordered by overall popularity in the fitting data, then by
 * lower item index. Only the window's events are touched per query (binary search over the events
 * sorted by time), never the whole log; the window's distinct items are ordered by one sort of
 * packed keys, the rest of the list follows the precomputed overall order.
 *
 * A window holding many more events than there are items (30 days of a dense log) is counted from
 * prefix counts instead: every `stride` events of the time-sorted log a checkpoint holds each item's
 * count so far, so a window's counts are two checkpoints' difference plus the events between each
 * end and its checkpoint — at most numItems + 2·stride steps, whatever the window's size. The
 * checkpoints take at most CHECKPOINT_BYTES (the stride doubles when the log outgrows them), are
 * built lazily up to the newest window asked for, and are rebuilt from the first changed position
 * when served events are merged into the log. Both ways give the same counts, hence the same lists.
 */
import { numItems, type Dataset } from "../../data/dataset.js";
import type { QueryBatch } from "../../eval/types.js";
import { fingerprintOf, fitRecordOf, type FitDataFingerprint } from "./fit-data.js";
import { allocTopN } from "./select.js";
import type { FittedSource, TypedSourceFactory, SourceFitRecord, SourceTopN } from "./source.js";

const DAY_SECONDS = 86_400;
/** Memory the prefix-count checkpoints may take (per source). */
const CHECKPOINT_BYTES = 16 * 1024 * 1024;
/** Smallest checkpoint stride (events). */
const MIN_STRIDE = 512;

export type PopularName = "pop7" | "pop30";

export const POPULAR_DAYS: Readonly<Record<PopularName, number>> = { pop7: 7, pop30: 30 };

export class PopularSource implements FittedSource {
  readonly params: { readonly days: number };
  readonly fitRecord: SourceFitRecord;
  readonly fitData: FitDataFingerprint;
  private readonly numItems: number;
  /**
   * Event times ascending and their items (fitting data, then observed events): the first `size`
   * entries; the arrays have room to grow, so events newer than the log are appended in place.
   */
  private times: Float64Array;
  private items: Int32Array;
  private size: number;
  private readonly overallCount: Float64Array;
  /** Items by overall count desc, then index asc; rank[item] = its position. */
  private readonly overallOrder: Int32Array;
  private readonly overallRank: Int32Array;
  private orderStale = false;
  private readonly count: Int32Array;
  private readonly stamp: Int32Array;
  private stampValue = 0;
  private keys = new Float64Array(256);
  private heap = new Float64Array(0);
  /** Events between two checkpoints (a power of two times the initial stride). */
  private stride: number;
  /** Checkpoint j (row j, numItems wide) = each item's count among the first j·stride logged events. */
  private checkpoints = new Int32Array(0);
  /** Checkpoints 0 .. built − 1 are valid (row 0, all zeros, always is). */
  private built = 1;
  private readonly maxCheckpoints: number;

  /** checkpoints: the initial stride and the most checkpoints kept (defaults from CHECKPOINT_BYTES; tests use small ones). */
  constructor(
    readonly name: PopularName,
    fit: Dataset,
    checkpoints: { readonly stride?: number; readonly max?: number } = {},
  ) {
    const stride = checkpoints.stride ?? MIN_STRIDE;
    if (!(Number.isInteger(stride) && stride >= 1))
      throw new RangeError(`${name}: checkpoint stride must be a positive integer, got ${stride}`);
    this.params = { days: POPULAR_DAYS[name] };
    this.fitRecord = fitRecordOf(name, fit);
    this.fitData = fingerprintOf(fit);
    this.numItems = numItems(fit);
    const n = fit.events.time.length;
    const order = new Int32Array(n);
    for (let e = 0; e < n; e++) order[e] = e;
    const t = fit.events.time;
    order.sort((a, b) => t[a] - t[b] || a - b);
    this.times = Float64Array.from(order, (e) => t[e]);
    this.items = Int32Array.from(order, (e) => fit.events.item[e]);
    this.size = n;
    this.overallCount = new Float64Array(this.numItems);
    for (let e = 0; e < n; e++) this.overallCount[fit.events.item[e]]++;
    this.overallOrder = new Int32Array(this.numItems);
    this.overallRank = new Int32Array(this.numItems);
    this.reorder();
    this.count = new Int32Array(this.numItems);
    this.stamp = new Int32Array(this.numItems);
    this.maxCheckpoints =
      checkpoints.max ?? Math.max(2, Math.floor(CHECKPOINT_BYTES / (4 * Math.max(1, this.numItems))));
    if (!(Number.isInteger(this.maxCheckpoints) && this.maxCheckpoints >= 2))
      throw new RangeError(`${name}: at least 2 checkpoints, got ${this.maxCheckpoints}`);
    this.stride = stride;
    while (this.size / this.stride + 1 > this.maxCheckpoints) this.stride *= 2;
  }

  /** Makes checkpoints 0 .. j valid (j·stride ≤ size), coarsening the stride if they would not fit. */
  private buildCheckpoints(j: number): void {
    const ni = this.numItems;
    while (j + 1 > this.maxCheckpoints) {
      // Keep every other checkpoint: row k of the new stride is row 2k of the old one.
      const rows = Math.ceil(this.built / 2);
      for (let k = 1; k < rows; k++) this.checkpoints.copyWithin(k * ni, 2 * k * ni, (2 * k + 1) * ni);
      this.built = rows;
      this.stride *= 2;
      j = Math.floor(j / 2);
    }
    if (j < this.built) return;
    if (this.checkpoints.length < (j + 1) * ni) {
      const grown = new Int32Array(Math.min(this.maxCheckpoints, Math.max(j + 1, 2 * this.built)) * ni);
      grown.set(this.checkpoints.subarray(0, this.built * ni));
      this.checkpoints = grown;
    }
    const cp = this.checkpoints;
    for (let r = this.built; r <= j; r++) {
      cp.copyWithin(r * ni, (r - 1) * ni, r * ni);
      for (let e = (r - 1) * this.stride; e < r * this.stride; e++) cp[r * ni + this.items[e]]++;
    }
    this.built = j + 1;
  }

  /** count[i] = item i's events among logged events lo .. hi − 1, from the checkpoints. */
  private countFromCheckpoints(lo: number, hi: number, count: Int32Array): void {
    const ni = this.numItems;
    const jh = Math.floor(hi / this.stride);
    this.buildCheckpoints(jh);
    // The stride may have doubled while building: index with the current one.
    const jl = Math.floor(lo / this.stride);
    const jh2 = Math.floor(hi / this.stride);
    const cp = this.checkpoints;
    const a = jl * ni;
    const b = jh2 * ni;
    for (let i = 0; i < ni; i++) count[i] = cp[b + i] - cp[a + i];
    for (let e = jh2 * this.stride; e < hi; e++) count[this.items[e]]++;
    for (let e = jl * this.stride; e < lo; e++) count[this.items[e]]--;
  }

  private reorder(): void {
    const c = this.overallCount;
    for (let i = 0; i < this.numItems; i++) this.overallOrder[i] = i;
    this.overallOrder.sort((a, b) => c[b] - c[a] || a - b);
    for (let r = 0; r < this.numItems; r++) this.overallRank[this.overallOrder[r]] = r;
    this.orderStale = false;
  }

  /** Appends events (serving); times need not be sorted. */
  observeEvents(items: Int32Array, times: Float64Array): void {
    if (items.length !== times.length)
      throw new RangeError(`${this.name}.observeEvents: ${items.length} items but ${times.length} times`);
    for (let k = 0; k < items.length; k++) {
      const i = items[k];
      if (!(Number.isInteger(i) && i >= 0 && i < this.numItems))
        throw new RangeError(
          `${this.name}.observeEvents: item ${i} at position ${k} outside the catalog of ${this.numItems}`,
        );
      if (!Number.isFinite(times[k]))
        throw new RangeError(`${this.name}.observeEvents: time ${times[k]} at position ${k} is not finite`);
    }
    if (items.length === 0) return;
    const n = this.size;
    const m = items.length;
    const order = new Int32Array(m);
    for (let k = 0; k < m; k++) order[k] = k;
    order.sort((a, b) => times[a] - times[b] || a - b);
    // Serving events usually come after the whole log: appended in place (room doubles when
    // full), so ingestion does not copy the log per batch. Otherwise they are merged in.
    const appendOnly = n === 0 || this.times[n - 1] <= times[order[0]];
    let t = this.times;
    let it = this.items;
    if (!appendOnly || n + m > t.length) {
      // Room doubles only when full: a merge into a log that still has room keeps its size.
      const cap = n + m > t.length ? Math.max(n + m, 2 * t.length) : t.length;
      t = new Float64Array(cap);
      it = new Int32Array(cap);
    }
    if (appendOnly) {
      if (t !== this.times) {
        t.set(this.times.subarray(0, n));
        it.set(this.items.subarray(0, n));
      }
      for (let k = 0; k < m; k++) {
        t[n + k] = times[order[k]];
        it[n + k] = items[order[k]];
      }
    } else {
      // Checkpoints past the first merged position count the old order: rebuilt when next needed.
      this.built = Math.min(this.built, Math.floor(this.lowerBoundAfter(times[order[0]]) / this.stride) + 1);
      // Merge the sorted new events into the sorted log (new events after old ones at equal times).
      let a = 0;
      let b = 0;
      for (let k = 0; k < n + m; k++) {
        if (b >= m || (a < n && this.times[a] <= times[order[b]])) {
          t[k] = this.times[a];
          it[k] = this.items[a++];
        } else {
          t[k] = times[order[b]];
          it[k] = items[order[b++]];
        }
      }
    }
    this.times = t;
    this.items = it;
    this.size = n + m;
    for (let k = 0; k < m; k++) this.overallCount[items[k]]++;
    this.orderStale = true;
  }

  /** The min(n, keys.length) largest of `keys` (distinct), ascending, in a scratch view. */
  private largest(keys: Float64Array, n: number): Float64Array {
    if (keys.length <= n) return keys.sort();
    if (this.heap.length < n) this.heap = new Float64Array(n);
    const h = this.heap;
    let size = 0;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      let i: number;
      if (size < n) {
        // Sift up.
        i = size++;
        while (i > 0) {
          const p = (i - 1) >> 1;
          if (h[p] <= key) break;
          h[i] = h[p];
          i = p;
        }
        h[i] = key;
        continue;
      }
      if (key <= h[0]) continue;
      // Replace the smallest and sift down.
      i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const c = l + 1 < n && h[l + 1] < h[l] ? l + 1 : l;
        if (h[c] >= key) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = key;
    }
    return h.subarray(0, size).sort();
  }

  /** Number of logged events at or before `time` (where a new event at `time` is merged). */
  private lowerBoundAfter(time: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] <= time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Number of logged events before `time` (binary search). */
  private lowerBound(time: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid] < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  topN(queries: QueryBatch, n: number): SourceTopN {
    if (!(Number.isInteger(n) && n > 0))
      throw new RangeError(`${this.name} topN: n must be a positive integer, got ${n}`);
    if (this.orderStale) this.reorder();
    const nq = queries.users.length;
    const out = allocTopN(nq, n);
    const ni = this.numItems;
    const window = this.params.days * DAY_SECONDS;
    const { count, stamp, overallOrder, overallRank } = this;
    for (let q = 0; q < nq; q++) {
      const t = queries.times[q];
      // Stamps: s = history item (excluded), s + 1 = counted in the window. Two values per query.
      const s = (this.stampValue += 2) - 1;
      for (let h = queries.historyOffsets[q]; h < queries.historyOffsets[q + 1]; h++)
        stamp[queries.historyItems[h]] = s;
      const lo = this.lowerBound(t - window);
      const hi = this.lowerBound(t);
      let touched = 0;
      const keep = (i: number): void => {
        if (this.keys.length <= touched) {
          const grown = new Float64Array(this.keys.length * 2);
          grown.set(this.keys);
          this.keys = grown;
        }
        this.keys[touched++] = i;
      };
      if (hi - lo > ni + 2 * this.stride) {
        this.countFromCheckpoints(lo, hi, count);
        for (let i = 0; i < ni; i++) {
          if (count[i] === 0 || stamp[i] === s) continue;
          stamp[i] = s + 1;
          keep(i);
        }
      } else {
        for (let e = lo; e < hi; e++) {
          const i = this.items[e];
          if (stamp[i] === s) continue;
          if (stamp[i] !== s + 1) {
            stamp[i] = s + 1;
            count[i] = 0;
            keep(i);
          }
          count[i]++;
        }
      }
      // Packed key: count desc, then overall rank asc (unique per item, exact in float64).
      const keys = this.keys.subarray(0, touched);
      for (let k = 0; k < touched; k++) {
        const i = keys[k];
        keys[k] = count[i] * ni + (ni - 1 - overallRank[i]);
      }
      // Only the n largest keys are needed: a bounded min-heap, then a sort of those n alone.
      const best = this.largest(keys, n);
      const base = q * n;
      let filled = 0;
      for (let k = best.length - 1; k >= 0 && filled < n; k--) {
        const key = best[k];
        const c = Math.floor(key / ni);
        const i = overallOrder[ni - 1 - (key - c * ni)];
        out.items[base + filled] = i;
        out.scores[base + filled++] = c;
      }
      for (let r = 0; r < ni && filled < n; r++) {
        const i = overallOrder[r];
        if (stamp[i] === s || stamp[i] === s + 1) continue;
        out.items[base + filled] = i;
        out.scores[base + filled++] = 0;
      }
    }
    return out;
  }
}

export function popularSourceFactory(name: PopularName): TypedSourceFactory<PopularSource> {
  return { name, fit: async (train) => new PopularSource(name, train) };
}
