/**
 * Per-user histories in memory, kept fresh from the store: each read asks the store only for the
 * user's events after the sequence number the cache already holds (one indexed query, usually
 * empty), so an event acknowledged by any instance counts in this instance's very next response,
 * and no request re-reads a whole history. Histories are kept in time order (ties in arrival
 * order), as the models expect.
 */
import type { Store } from "./store/store.js";

export interface History {
  /** Events in time order: [0, length). */
  length: number;
  items: Int32Array;
  times: Float64Array;
  weights: Float32Array;
  /** Store sequence number of the latest event held. */
  seq: number;
}

/** Default bound on the events held (about 16 bytes each); least recently used users go first. */
export const DEFAULT_MAX_CACHED_EVENTS = 20_000_000;

export class HistoryCache {
  /** In least-recently-used order (a read moves the user to the end). */
  private readonly users = new Map<number, History>();
  private events = 0;

  constructor(
    private readonly store: Store,
    private readonly maxEvents = DEFAULT_MAX_CACHED_EVENTS,
  ) {}

  /** The user's up-to-date history (the arrays are the cache's own: read, don't keep). */
  async get(user: number): Promise<History> {
    let h = this.users.get(user);
    if (h) this.users.delete(user);
    else
      h = {
        length: 0,
        items: new Int32Array(8),
        times: new Float64Array(8),
        weights: new Float32Array(8),
        seq: 0,
      };
    this.users.set(user, h);
    const from = h.seq;
    const fresh = await this.store.userEventsAfter(user, from);
    // Sequence numbers are dense per user: a concurrent read may already have applied a prefix.
    const skip = h.seq - from;
    const before = h.length;
    for (let i = skip; i < fresh.items.length; i++)
      insert(h, fresh.items[i], fresh.times[i], fresh.weights[i]);
    h.seq = Math.max(h.seq, fresh.lastSeq);
    // Count only what the cache still holds (a concurrent read may have evicted this entry meanwhile).
    if (this.users.get(user) === h) {
      this.events += h.length - before;
      this.evict(user);
    }
    return h;
  }

  /** Drops least recently used users (never `keep`) while over the bound; they reload on their next read. */
  private evict(keep: number): void {
    for (const [u, h] of this.users) {
      if (this.events <= this.maxEvents) return;
      if (u === keep) continue;
      this.users.delete(u);
      this.events -= h.length;
    }
  }

  /** Users and events held. */
  get size(): { users: number; events: number } {
    return { users: this.users.size, events: this.events };
  }
}

function insert(h: History, item: number, time: number, weight: number): void {
  if (h.length === h.items.length) {
    const cap = h.items.length * 2;
    const items = new Int32Array(cap);
    items.set(h.items);
    const times = new Float64Array(cap);
    times.set(h.times);
    const weights = new Float32Array(cap);
    weights.set(h.weights);
    h.items = items;
    h.times = times;
    h.weights = weights;
  }
  // Upper bound of `time`: events with an equal time keep arrival order.
  let lo = 0;
  let hi = h.length;
  if (hi > 0 && h.times[hi - 1] <= time) lo = hi;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (h.times[mid] <= time) lo = mid + 1;
    else hi = mid;
  }
  if (lo < h.length) {
    h.items.copyWithin(lo + 1, lo, h.length);
    h.times.copyWithin(lo + 1, lo, h.length);
    h.weights.copyWithin(lo + 1, lo, h.length);
  }
  h.items[lo] = item;
  h.times[lo] = time;
  h.weights[lo] = weight;
  h.length++;
}
