/**
 * Each user's events in time order, the ordering both protocols start from: a stable sort by
 * timestamp in which ties keep file order. Returned as CSR over event indices so callers read a
 * user's sequence without copying the event columns.
 */
import type { Events } from "../data/dataset.js";

export interface UserEventOrder {
  /** Events of user u: order[offsets[u] .. offsets[u+1]), oldest first. */
  readonly offsets: Int32Array;
  /** Event indices into the Events columns. */
  readonly order: Int32Array;
}

export function userEventOrder(events: Events, numUsers: number): UserEventOrder {
  const n = events.user.length;
  const offsets = new Int32Array(numUsers + 1);
  for (let e = 0; e < n; e++) offsets[events.user[e] + 1]++;
  for (let u = 0; u < numUsers; u++) offsets[u + 1] += offsets[u];
  // Counting sort by user keeps file order within a user; the per-user time sort below is then
  // stable because its comparator falls back to the event index (= file order).
  const order = new Int32Array(n);
  const fill = offsets.slice(0, numUsers);
  for (let e = 0; e < n; e++) order[fill[events.user[e]]++] = e;
  const time = events.time;
  const byTime = (a: number, b: number): number => time[a] - time[b] || a - b;
  for (let u = 0; u < numUsers; u++) {
    const start = offsets[u];
    const end = offsets[u + 1];
    if (end - start < 2 || isSorted(order, start, end, time)) continue;
    order.subarray(start, end).sort(byTime);
  }
  return { offsets, order };
}

function isSorted(order: Int32Array, start: number, end: number, time: Float64Array): boolean {
  for (let i = start + 1; i < end; i++) if (time[order[i]] < time[order[i - 1]]) return false;
  return true;
}
