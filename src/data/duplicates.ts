/**
 * Counts events whose (user, item, timestamp) repeats an earlier event. Such rows are kept — a log
 * may legitimately record two plays in the same second — but reported, since in a ratings file
 * they usually mean the file was concatenated twice. Linear time: events are bucketed by user
 * (counting sort), and within a user only items seen more than once are compared by time.
 */
import type { Events } from "./dataset.js";

export interface DuplicateCount {
  readonly count: number;
  /** The first few duplicates as [earlier event index, repeating event index] (file order). */
  readonly examples: ReadonlyArray<readonly [number, number]>;
}

export function countDuplicateEvents(
  events: Events,
  numUsers: number,
  numItems: number,
  maxExamples = 3,
): DuplicateCount {
  const n = events.user.length;
  const { user, item, time } = events;
  const offsets = new Int32Array(numUsers + 1);
  for (let k = 0; k < n; k++) offsets[user[k] + 1]++;
  for (let u = 0; u < numUsers; u++) offsets[u + 1] += offsets[u];
  const order = new Int32Array(n);
  const fill = offsets.slice(0, numUsers);
  for (let k = 0; k < n; k++) order[fill[user[k]]++] = k;

  // stamp[i] = u + 1 when item i was already seen for user u.
  const stamp = new Int32Array(numItems);
  let duplicates = 0;
  const examples: [number, number][] = [];
  for (let u = 0; u < numUsers; u++) {
    const a = offsets[u];
    const b = offsets[u + 1];
    // Once the user repeats an item, switch to exact (item -> times) bookkeeping for the rest.
    let times: Map<number, Map<number, number>> | null = null;
    for (let p = a; p < b; p++) {
      const k = order[p];
      const i = item[k];
      if (times === null) {
        if (stamp[i] !== u + 1) {
          stamp[i] = u + 1;
          continue;
        }
        times = new Map();
        for (let q = a; q < p; q++) addTime(times, item[order[q]], time[order[q]], order[q]);
      }
      const earlier = addTime(times, i, time[k], k);
      if (earlier >= 0) {
        duplicates++;
        if (examples.length < maxExamples) examples.push([earlier, k]);
      }
    }
  }
  // Users were visited in index order; show the examples in file order.
  examples.sort((x, y) => x[1] - y[1]);
  return { count: duplicates, examples };
}

/** Records (item, time) at event k; returns the earlier event with the same pair, or -1. */
function addTime(times: Map<number, Map<number, number>>, i: number, t: number, k: number): number {
  let first = times.get(i);
  if (!first) {
    first = new Map();
    times.set(i, first);
  }
  const earlier = first.get(t);
  if (earlier !== undefined) return earlier;
  first.set(t, k);
  return -1;
}
