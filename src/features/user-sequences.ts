/**
 * Each user's events sorted by time as CSR, the order every history in watchnext uses: by
 * timestamp, ties kept in file order (a stable sort), matching the evaluation protocol.
 */

export interface UserSequences {
  /** User u's events are positions offsets[u] .. offsets[u+1). */
  readonly offsets: Int32Array;
  /** Index of each position's event in the source arrays. */
  readonly eventIndex: Int32Array;
  readonly times: Float64Array;
}

/** Groups rows by user (counting sort keeps file order) and stably sorts each user's rows by time. */
export function buildUserSequences(user: Int32Array, time: Float64Array, numUsers: number): UserSequences {
  const n = user.length;
  const offsets = new Int32Array(numUsers + 1);
  for (let i = 0; i < n; i++) {
    const u = user[i];
    if (u < 0 || u >= numUsers)
      throw new RangeError(`user sequences: row ${i} has user index ${u}, expected 0..${numUsers - 1}`);
    offsets[u + 1]++;
  }
  for (let u = 0; u < numUsers; u++) offsets[u + 1] += offsets[u];
  const fill = offsets.slice(0, numUsers);
  const eventIndex = new Int32Array(n);
  for (let i = 0; i < n; i++) eventIndex[fill[user[i]]++] = i;

  const times = new Float64Array(n);
  for (let u = 0; u < numUsers; u++) {
    const a = offsets[u];
    const b = offsets[u + 1];
    let sorted = true;
    for (let k = a + 1; k < b && sorted; k++) sorted = time[eventIndex[k]] >= time[eventIndex[k - 1]];
    if (!sorted) {
      // Array.prototype.sort is stable, and rows enter in file order, so ties keep file order.
      const rows = Array.from(eventIndex.subarray(a, b));
      rows.sort((x, y) => time[x] - time[y]);
      eventIndex.set(rows, a);
    }
    for (let k = a; k < b; k++) times[k] = time[eventIndex[k]];
  }
  return { offsets, eventIndex, times };
}

/** Number of positions in [lo, hi) whose time is < t (times sorted ascending within the range). */
export function countBefore(times: Float64Array, lo: number, hi: number, t: number): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (times[m] < t) a = m + 1;
    else b = m;
  }
  return a - lo;
}

/** Number of positions in [lo, hi) whose time is ≤ t (times sorted ascending within the range). */
export function countAtOrBefore(times: Float64Array, lo: number, hi: number, t: number): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (times[m] <= t) a = m + 1;
    else b = m;
  }
  return a - lo;
}
