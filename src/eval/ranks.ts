/**
 * Pessimistic full-catalog ranks of a query's targets. A target's rank is 1 + the number of
 * non-excluded items ranked ahead of it, where ties count against the target (an item with an equal
 * score is ahead), so a constant scorer cannot look good. A NaN score is treated pessimistically
 * too: a NaN item is ahead of every target, a NaN target is behind every item.
 *
 * With several targets (temporal), the pessimistic order places tied non-targets ahead of each
 * target and orders targets among themselves by score; target p (0-based, by descending score) then
 * has rank 1 + p + #{non-target, non-excluded items with score ≥ its score}.
 */

/** Marks excluded items and targets with a stamp unique to each call: nothing to clear between queries. */
export class RankScratch {
  private readonly excluded: Int32Array;
  private readonly targetMark: Int32Array;
  private stamp = 0;
  private targetScores = new Float64Array(16);
  private buckets = new Int32Array(17);
  private liveTargets = new Int32Array(16);

  constructor(readonly numItems: number) {
    this.excluded = new Int32Array(numItems);
    this.targetMark = new Int32Array(numItems);
  }

  /**
   * Ranks of targets[0..m) given scores[0..numItems) and the excluded items (may repeat). Writes
   * ranks sorted ascending into `ranks`; a target that is itself excluded gets rank Infinity (a miss).
   */
  ranks(
    scores: Float32Array,
    targets: Int32Array,
    tFrom: number,
    tTo: number,
    exclude: Int32Array,
    eFrom: number,
    eTo: number,
    ranks: Float64Array,
  ): void {
    const stamp = ++this.stamp;
    const n = this.numItems;
    for (let i = eFrom; i < eTo; i++) this.excluded[exclude[i]] = stamp;
    // Live targets (not excluded, deduplicated), by descending score with NaN as -Infinity.
    const m = tTo - tFrom;
    if (this.targetScores.length < m) {
      this.targetScores = new Float64Array(m);
      this.buckets = new Int32Array(m + 1);
      this.liveTargets = new Int32Array(m);
    }
    let live = 0;
    for (let i = tFrom; i < tTo; i++) {
      const t = targets[i];
      if (this.excluded[t] === stamp || this.targetMark[t] === stamp) continue;
      this.targetMark[t] = stamp;
      this.liveTargets[live++] = t;
    }
    const ts = this.targetScores;
    const liveTargets = this.liveTargets;
    for (let p = 0; p < live; p++) ts[p] = scoreOrMin(scores[liveTargets[p]]);
    sortDescending(ts, live);

    if (live === 1) {
      // One target: a single counting pass (the loo hot path).
      const t = ts[0];
      let ahead = 0;
      for (let j = 0; j < n; j++) if (!(scores[j] < t)) ahead++;
      ahead--; // the target itself
      for (let i = eFrom; i < eTo; i++) {
        const j = exclude[i];
        // Count each distinct excluded item once: unmark as we go.
        if (this.excluded[j] === stamp) {
          this.excluded[j] = 0;
          if (!(scores[j] < t)) ahead--;
        }
      }
      ranks[0] = ahead + 1;
    } else if (live > 1) {
      // buckets[p] counts items whose score x is ≥ ts[p] but < ts[p-1]: x ≥ ts[q] for all q ≥ p.
      const b = this.buckets;
      b.fill(0, 0, live + 1);
      for (let j = 0; j < n; j++) b[firstAtMost(ts, live, scores[j])]++;
      for (let p = 0; p < live; p++) b[firstAtMost(ts, live, scores[liveTargets[p]])]--;
      for (let i = eFrom; i < eTo; i++) {
        const j = exclude[i];
        if (this.excluded[j] === stamp) {
          this.excluded[j] = 0;
          b[firstAtMost(ts, live, scores[j])]--;
        }
      }
      let ahead = 0;
      for (let p = 0; p < live; p++) {
        ahead += b[p];
        ranks[p] = ahead + p + 1;
      }
    }
    for (let p = live; p < m; p++) ranks[p] = Infinity;
  }
}

function scoreOrMin(x: number): number {
  return Number.isNaN(x) ? -Infinity : x;
}

/** Index of the first p in ts[0..m) (descending) with ts[p] ≤ x, or m; NaN x is ≥ everything. */
function firstAtMost(ts: Float64Array, m: number, x: number): number {
  if (Number.isNaN(x)) return 0;
  let lo = 0;
  let hi = m;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid] <= x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function sortDescending(a: Float64Array, m: number): void {
  a.subarray(0, m).sort().reverse();
}
