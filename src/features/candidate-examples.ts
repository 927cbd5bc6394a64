/**
 * Training example selection for the candidate generator (the paper's Section 3.5). Rollback:
 * every label is one watch and its inputs are only the events before it in the user's sequence;
 * at most `perUserCap` labels per user (the most recent, or a seeded uniform sample over the
 * history) so heavy users do not dominate the loss. Heldout (the Figure 5 alternative): labels are
 * random watches predicted from all the user's other watches.
 */
import { Rng } from "../engine/rng.js";
import type { ExampleConfig } from "./candidate-config.js";

/**
 * Training examples as parallel typed arrays. Example e is the user's training event at position
 * pos[e] of its time-sorted sequence; label/time repeat that event's item and timestamp; weight[e]
 * is its loss weight (recency weighting, mean 1 over the set), null when every example weighs 1.
 */
export interface ExampleSet {
  readonly mode: "rollback" | "heldout";
  readonly size: number;
  readonly user: Int32Array;
  readonly pos: Int32Array;
  readonly label: Int32Array;
  readonly time: Float64Array;
  /** Per-example loss weights (recency), or null for unit weights. */
  readonly weight: Float32Array | null;
  /** Every-position training (groupWindows): the windows the examples fall in. */
  readonly windows?: ExampleWindows;
}

/**
 * Windows of every-position training: window w holds examples first[w] .. first[w+1) (one user's,
 * positions ascending) and its ordered input is the user's positions start[w] .. end[w) (≤ maxLen
 * slots); the example at position p reads the slot p − 1 − start[w], the last watch before its
 * label, so no example sees its own label or anything after it.
 */
export interface ExampleWindows {
  readonly count: number;
  readonly first: Int32Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** The window of each example. */
  readonly of: Int32Array;
}

/**
 * Marks `k` of the `m` candidates chosen uniformly at random (selection sampling, Knuth's
 * algorithm S: one pass, output in increasing order), calling `take(i)` for each.
 */
function sampleSorted(m: number, k: number, rng: Rng, take: (i: number) => void): void {
  let need = k;
  for (let i = 0; i < m && need > 0; i++) {
    if (rng.nextFloat() * (m - i) < need) {
      take(i);
      need--;
    }
  }
}

/** Selects examples over users' sequences (offsets/items/times: CSR of each user's time-sorted training events). */
export function selectExamples(
  offsets: Int32Array,
  items: Int32Array,
  times: Float64Array,
  cfg: ExampleConfig,
  epoch = 0,
): ExampleSet {
  const numUsers = offsets.length - 1;
  const cap = cfg.perUserCap > 0 ? cfg.perUserCap : Number.MAX_SAFE_INTEGER;
  const rng = new Rng(cfg.seed).fork(epoch);
  // Rollback labels: positions minHistory..n-1; heldout labels: any position, when ≥ minHistory others remain.
  const first = cfg.mode === "rollback" ? cfg.minHistory : 0;
  let total = 0;
  for (let u = 0; u < numUsers; u++) {
    const n = offsets[u + 1] - offsets[u];
    const m = cfg.mode === "rollback" ? n - first : n - 1 >= cfg.minHistory ? n : 0;
    if (m > 0) total += Math.min(m, cap);
  }
  const user = new Int32Array(total);
  const pos = new Int32Array(total);
  let w = 0;
  let curUser = 0;
  let curFirst = 0;
  const take = (i: number): void => {
    user[w] = curUser;
    pos[w] = curFirst + i;
    w++;
  };
  for (let u = 0; u < numUsers; u++) {
    const n = offsets[u + 1] - offsets[u];
    const m = cfg.mode === "rollback" ? n - first : n - 1 >= cfg.minHistory ? n : 0;
    if (m <= 0) continue;
    curUser = u;
    const k = Math.min(m, cap);
    if (k === m) {
      curFirst = first;
      for (let i = 0; i < m; i++) take(i);
    } else if (cfg.mode === "rollback" && cfg.selection === "recent") {
      curFirst = first + m - k;
      for (let i = 0; i < k; i++) take(i);
    } else {
      // Uniform over the history; heldout labels are always random watches.
      curFirst = first;
      sampleSorted(m, k, rng, take);
    }
  }
  const label = new Int32Array(total);
  const time = new Float64Array(total);
  for (let e = 0; e < total; e++) {
    const at = offsets[user[e]] + pos[e];
    label[e] = items[at];
    time[e] = times[at];
  }
  const set: ExampleSet = { mode: cfg.mode, size: total, user, pos, label, time, weight: null };
  if (cfg.recencyHalfLifeDays <= 0) return set;
  return { ...set, weight: recencyWeights(set.time, times, cfg.recencyHalfLifeDays) };
}

const DAY = 86_400;

/**
 * Recency loss weights (the project note's "learn more from recent data"): example e weighs
 * ∝ 2^(−(t_max − t_e) / halfLife), t_max the latest training event, scaled to mean 1 so an epoch's
 * total weight (and so the step size) equals the unweighted one's. Measured against drawing the
 * examples ∝ the same decay (docs/results/embeddings.md): as good or better, and every example is
 * still seen once per epoch.
 */
export function recencyWeights(
  exampleTimes: Float64Array,
  times: Float64Array,
  halfLifeDays: number,
): Float32Array {
  let tMax = -Infinity;
  for (let i = 0; i < times.length; i++) if (times[i] > tMax) tMax = times[i];
  const rate = 1 / (halfLifeDays * DAY);
  const decay = Float64Array.from(exampleTimes, (t) => Math.pow(2, -(tMax - t) * rate));
  let total = 0;
  for (let e = 0; e < decay.length; e++) total += decay[e];
  const scale = decay.length / total;
  return Float32Array.from(decay, (w) => w * scale);
}

/**
 * Groups a rollback set's examples into windows of at most maxLen positions, from each user's
 * latest label backwards: the window of latest label p has input positions s .. p − 1 with
 * s = max(0, p − maxLen) and covers the labels in [s + max(1, minContext), p] (every label down to
 * position 0 when s = 0), so each of them reads at least minContext ordered watches (or its whole
 * history when shorter). minContext 0 or 1: windows do not overlap (each input slot of a window
 * before its last label is some label's context); minContext = maxLen / 2: the windows' inputs
 * overlap by half (stride maxLen / 2, about twice the encoder work) and no label sees fewer than
 * maxLen / 2 watches. Every example is in exactly one window; the examples keep their order.
 */
export function groupWindows(set: ExampleSet, maxLen: number, minContext = 0): ExampleSet {
  if (set.mode !== "rollback")
    throw new RangeError("groupWindows: every-position windows need rollback examples");
  if (!Number.isInteger(minContext) || minContext < 0 || minContext > maxLen)
    throw new RangeError(
      `groupWindows: minContext must be an integer in 0 .. maxLen (${maxLen}), got ${minContext}`,
    );
  const least = Math.max(1, minContext);
  const n = set.size;
  const of = new Int32Array(n);
  // At most one window per example; trimmed at the end.
  const first = new Int32Array(n + 1);
  const start = new Int32Array(n);
  const end = new Int32Array(n);
  let count = 0;
  let a = 0;
  while (a < n) {
    let b = a + 1;
    while (b < n && set.user[b] === set.user[a]) b++;
    for (let k = a + 1; k < b; k++) {
      if (set.pos[k] < set.pos[k - 1])
        throw new RangeError(`groupWindows: example ${k} is out of position order for user ${set.user[a]}`);
    }
    // Windows of this user from the latest label back; collected in reverse, then numbered forwards.
    const ends: number[] = [];
    let hi = b;
    while (hi > a) {
      const p = set.pos[hi - 1];
      const s0 = Math.max(0, p - maxLen);
      let lo = hi - 1;
      while (lo > a && (set.pos[lo - 1] >= s0 + least || s0 === 0)) lo--;
      ends.push(lo, hi, s0, p);
      hi = lo;
    }
    for (let k = ends.length - 4; k >= 0; k -= 4) {
      const [lo, hiK, s0, p] = [ends[k], ends[k + 1], ends[k + 2], ends[k + 3]];
      first[count] = lo;
      start[count] = s0;
      end[count] = p;
      for (let e = lo; e < hiK; e++) of[e] = count;
      count++;
    }
    a = b;
  }
  first[count] = n;
  return {
    ...set,
    windows: {
      count,
      first: first.slice(0, count + 1),
      start: start.slice(0, count),
      end: end.slice(0, count),
      of,
    },
  };
}

/**
 * The order in which an epoch visits the examples: a shuffle of them, or with windows a shuffle
 * of the windows, each window's examples kept together (so a batch runs its encoder once per
 * window rather than once per example).
 */
export function trainingOrder(set: ExampleSet, rng: Rng): Int32Array {
  const order = new Int32Array(set.size);
  const w = set.windows;
  if (w === undefined) {
    for (let i = 0; i < set.size; i++) order[i] = i;
    rng.shuffle(order);
    return order;
  }
  const windows = new Int32Array(w.count);
  for (let i = 0; i < w.count; i++) windows[i] = i;
  rng.shuffle(windows);
  let k = 0;
  for (let i = 0; i < w.count; i++) {
    const win = windows[i];
    for (let e = w.first[win]; e < w.first[win + 1]; e++) order[k++] = e;
  }
  return order;
}
