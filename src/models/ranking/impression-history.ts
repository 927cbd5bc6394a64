/**
 * Earlier impressions: what a user was shown before a list, for the "number of earlier impressions
 * of this item to this user and time since the last" features. The lists of all sets form one log;
 * each list points to the same user's previous list (training points, then the validation point,
 * then the test point), so a list's earlier impressions are
 * found by walking that chain. `collect` returns them in the serving form (RecommendRequest's
 * impressionItems / impressionTimes: item and the time it was shown, oldest list first), so the
 * features are computed by the same code in training and serving.
 */
import type { ImpressionSet } from "../../features/impressions.js";

/** Which set a list belongs to in the log. */
export const IMPRESSION_SETS = ["train", "valid", "test"] as const;
export type ImpressionSetName = (typeof IMPRESSION_SETS)[number];

/** For list l of one set: the same user's previous list, as (set code into IMPRESSION_SETS, list index); set −1 = none. */
export interface PreviousLists {
  readonly set: Int8Array;
  readonly list: Int32Array;
}

export type ImpressionLog = Readonly<Record<ImpressionSetName, ImpressionSet>>;
export type ImpressionChains = Readonly<Record<ImpressionSetName, PreviousLists>>;

/**
 * Links every list to the same user's previous one in the order (user, time, set, index): lists at
 * the same time (ratings in the same second) follow each other in point order, training before
 * validation before test, so every earlier list is on the chain (time since the last can be 0).
 */
export function linkPreviousLists(log: ImpressionLog): ImpressionChains {
  const sizes = IMPRESSION_SETS.map((s) => log[s].users.length);
  const total = sizes.reduce((a, b) => a + b, 0);
  const setOf = new Int8Array(total);
  const listOf = new Int32Array(total);
  let k = 0;
  IMPRESSION_SETS.forEach((_, s) => {
    for (let l = 0; l < sizes[s]; l++) {
      setOf[k] = s;
      listOf[k++] = l;
    }
  });
  const user = (g: number): number => log[IMPRESSION_SETS[setOf[g]]].users[listOf[g]];
  const time = (g: number): number => log[IMPRESSION_SETS[setOf[g]]].times[listOf[g]];
  const order = new Int32Array(total);
  for (let g = 0; g < total; g++) order[g] = g;
  order.sort((a, b) => user(a) - user(b) || time(a) - time(b) || a - b);
  const out = {
    train: { set: new Int8Array(sizes[0]).fill(-1), list: new Int32Array(sizes[0]).fill(-1) },
    valid: { set: new Int8Array(sizes[1]).fill(-1), list: new Int32Array(sizes[1]).fill(-1) },
    test: { set: new Int8Array(sizes[2]).fill(-1), list: new Int32Array(sizes[2]).fill(-1) },
  };
  for (let r = 1; r < total; r++) {
    const g = order[r];
    const prev = order[r - 1];
    if (user(prev) !== user(g)) continue;
    const target = out[IMPRESSION_SETS[setOf[g]]];
    target.set[listOf[g]] = setOf[prev];
    target.list[listOf[g]] = listOf[prev];
  }
  return out;
}

/** Reusable output of collect(): the first `count` entries are valid. */
export class EarlierImpressions {
  items = new Int32Array(1024);
  times = new Float64Array(1024);
  count = 0;

  private reserve(n: number): void {
    if (n <= this.items.length) return;
    let size = this.items.length;
    while (size < n) size *= 2;
    const items = new Int32Array(size);
    items.set(this.items.subarray(0, this.count));
    const times = new Float64Array(size);
    times.set(this.times.subarray(0, this.count));
    this.items = items;
    this.times = times;
  }

  /** The earlier impressions of list l of set `set` (item, time shown), oldest list first. */
  collect(log: ImpressionLog, chains: ImpressionChains, set: ImpressionSetName, l: number): this {
    // Walk back to count, then fill oldest-first.
    let n = 0;
    let s: number = chains[set].set[l];
    let p = chains[set].list[l];
    let depth = 0;
    while (s >= 0) {
      const imp = log[IMPRESSION_SETS[s]];
      n += imp.listOffsets[p + 1] - imp.listOffsets[p];
      depth++;
      const c = chains[IMPRESSION_SETS[s]];
      const ns = c.set[p];
      p = c.list[p];
      s = ns;
    }
    this.reserve(n);
    this.count = n;
    let at = n;
    s = chains[set].set[l];
    p = chains[set].list[l];
    for (let d = 0; d < depth; d++) {
      const imp = log[IMPRESSION_SETS[s]];
      const from = imp.listOffsets[p];
      const to = imp.listOffsets[p + 1];
      at -= to - from;
      this.items.set(imp.items.subarray(from, to), at);
      this.times.fill(imp.times[p], at, at + (to - from));
      const c = chains[IMPRESSION_SETS[s]];
      const ns = c.set[p];
      p = c.list[p];
      s = ns;
    }
    return this;
  }
}
