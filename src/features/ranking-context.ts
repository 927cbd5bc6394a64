/**
 * The time-dependent state the ranking features read besides the list itself: each item's event
 * times (recent popularity, first-seen time), each user's engagement per item (the ratings behind
 * the genre-affinity features), and each user's earlier impressions (the impression-history
 * features). Typed-array CSR, queried by binary search; serving can append new events.
 */
import type { Dataset } from "../data/dataset.js";
import type { QueryBatch } from "../eval/types.js";
import { buildUserSequences, countBefore } from "./user-sequences.js";

/** Every item's event times, sorted, with appended serving events kept per item. */
export class ItemTimeline {
  private readonly offsets: Int32Array;
  private readonly times: Float64Array;
  /** Events observed after construction (serving ingestion), per item, times sorted ascending. */
  private readonly extra = new Map<number, number[]>();
  readonly firstSeen: Float64Array;

  constructor(items: Int32Array, times: Float64Array, numItems: number) {
    const seq = buildUserSequences(items, times, numItems);
    this.offsets = seq.offsets;
    this.times = seq.times;
    this.firstSeen = new Float64Array(numItems).fill(Infinity);
    for (let i = 0; i < numItems; i++)
      if (seq.offsets[i + 1] > seq.offsets[i]) this.firstSeen[i] = seq.times[seq.offsets[i]];
  }

  static fromDataset(data: Dataset): ItemTimeline {
    return new ItemTimeline(data.events.item, data.events.time, data.items.ids.length);
  }

  get numItems(): number {
    return this.firstSeen.length;
  }

  /** Events of `item` with time < t. */
  countBefore(item: number, t: number): number {
    let n = countBefore(this.times, this.offsets[item], this.offsets[item + 1], t);
    // The map is empty until serving observes events: skip its lookup (three per candidate) then.
    const more = this.extra.size === 0 ? undefined : this.extra.get(item);
    if (more !== undefined) n += lowerBound(more, t);
    return n;
  }

  /** Records new events (serving ingestion). */
  observe(items: Int32Array, times: Float64Array): void {
    if (items.length !== times.length)
      throw new RangeError(`observeEvents: ${items.length} items but ${times.length} times`);
    for (let k = 0; k < items.length; k++) {
      const i = items[k];
      const t = times[k];
      if (!(Number.isInteger(i) && i >= 0 && i < this.numItems))
        throw new RangeError(`observeEvents: item ${i} at position ${k} is not in 0..${this.numItems - 1}`);
      if (!Number.isFinite(t))
        throw new RangeError(`observeEvents: time at position ${k} is not finite (${t})`);
      let list = this.extra.get(i);
      if (list === undefined) this.extra.set(i, (list = []));
      // Kept sorted so a count is a binary search, not a scan of every event ingested so far.
      if (list.length === 0 || list[list.length - 1] <= t) list.push(t);
      else list.splice(upperBound(list, t), 0, t);
      if (t < this.firstSeen[i]) this.firstSeen[i] = t;
    }
  }
}

/** Number of entries of the ascending `xs` below t. */
function lowerBound(xs: readonly number[], t: number): number {
  let a = 0;
  let b = xs.length;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (xs[m] < t) a = m + 1;
    else b = m;
  }
  return a;
}

/** Number of entries of the ascending `xs` at or below t. */
function upperBound(xs: readonly number[], t: number): number {
  let a = 0;
  let b = xs.length;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (xs[m] <= t) a = m + 1;
    else b = m;
  }
  return a;
}

/** Each user's engagement (rating) per item, for looking up the weights of a history. */
export class EngagementLookup {
  private readonly offsets: Int32Array;
  /** Per user, items sorted ascending with the weight of their latest event. */
  private readonly items: Int32Array;
  private readonly weights: Float32Array;
  /** Mean engagement over all events: the value of an unknown (user, item). */
  readonly mean: number;

  constructor(data: Dataset) {
    const e = data.events;
    const numUsers = data.users.ids.length;
    const seq = buildUserSequences(e.user, e.time, numUsers);
    const offsets = new Int32Array(numUsers + 1);
    const items: number[] = [];
    const weights: number[] = [];
    let sum = 0;
    for (let u = 0; u < numUsers; u++) {
      const byItem = new Map<number, number>();
      for (let k = seq.offsets[u]; k < seq.offsets[u + 1]; k++) {
        const ev = seq.eventIndex[k];
        byItem.set(e.item[ev], e.weight[ev]);
        sum += e.weight[ev];
      }
      const sorted = [...byItem.keys()].sort((a, b) => a - b);
      for (const i of sorted) {
        items.push(i);
        weights.push(byItem.get(i) as number);
      }
      offsets[u + 1] = items.length;
    }
    this.offsets = offsets;
    this.items = Int32Array.from(items);
    this.weights = Float32Array.from(weights);
    this.mean = e.user.length > 0 ? sum / e.user.length : 1;
  }

  get(user: number, item: number): number {
    if (user < 0 || user + 1 >= this.offsets.length) return this.mean;
    let a = this.offsets[user];
    let b = this.offsets[user + 1];
    while (a < b) {
      const m = (a + b) >>> 1;
      if (this.items[m] < item) a = m + 1;
      else b = m;
    }
    return a < this.offsets[user + 1] && this.items[a] === item ? this.weights[a] : this.mean;
  }

  /** The weight of every history event of a query batch (parallel to historyItems). */
  historyWeights(batch: QueryBatch): Float32Array {
    const out = new Float32Array(batch.historyItems.length);
    for (let q = 0; q < batch.users.length; q++)
      for (let h = batch.historyOffsets[q]; h < batch.historyOffsets[q + 1]; h++)
        out[h] = this.get(batch.users[q], batch.historyItems[h]);
    return out;
  }
}

/** Earlier impressions per user (item, time), sorted by time within each user. */
export class ImpressionLog {
  constructor(
    readonly offsets: Int32Array,
    readonly items: Int32Array,
    readonly times: Float64Array,
  ) {}

  start(user: number): number {
    return user >= 0 && user + 1 < this.offsets.length ? this.offsets[user] : 0;
  }

  end(user: number): number {
    return user >= 0 && user + 1 < this.offsets.length ? this.offsets[user + 1] : 0;
  }

  static empty(numUsers: number): ImpressionLog {
    return new ImpressionLog(new Int32Array(numUsers + 1), new Int32Array(0), new Float64Array(0));
  }

  /** The impressions of every list in `sets` (each candidate shown at its list's time). */
  static fromLists(
    numUsers: number,
    sets: ReadonlyArray<{
      users: Int32Array;
      times: Float64Array;
      listOffsets: Int32Array;
      items: Int32Array;
    }>,
  ): ImpressionLog {
    let total = 0;
    for (const s of sets) total += s.items.length;
    const user = new Int32Array(total);
    const time = new Float64Array(total);
    const item = new Int32Array(total);
    let w = 0;
    for (const s of sets) {
      for (let l = 0; l < s.users.length; l++) {
        for (let c = s.listOffsets[l]; c < s.listOffsets[l + 1]; c++) {
          user[w] = s.users[l];
          time[w] = s.times[l];
          item[w++] = s.items[c];
        }
      }
    }
    const seq = buildUserSequences(user, time, numUsers);
    return new ImpressionLog(
      seq.offsets,
      Int32Array.from(seq.eventIndex, (k) => item[k]),
      seq.times,
    );
  }
}

/** One request's earlier impressions (serving: the store passes them with the request). */
export class RequestImpressions {
  constructor(
    readonly user: number,
    readonly items: Int32Array,
    readonly times: Float64Array,
  ) {
    for (let k = 1; k < times.length; k++)
      if (!(times[k] >= times[k - 1]))
        throw new RangeError(
          `impressionTimes must be sorted ascending (position ${k}: ${times[k]} < ${times[k - 1]})`,
        );
  }

  start(): number {
    return 0;
  }

  end(user: number): number {
    return user === this.user ? this.items.length : 0;
  }
}
