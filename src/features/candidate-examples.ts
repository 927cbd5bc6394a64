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
  readonly weight: Float32Array | null;
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
  return cfg.recencyBy === "sampling"
    ? recencyResample(set, times, cfg.recencyHalfLifeDays, rng)
    : { ...set, weight: recencyWeights(set.time, times, cfg.recencyHalfLifeDays) };
}

const DAY = 86_400;

/** 2^(−(t_max − t_e)/halfLife) per example, t_max the latest training event (summed in `cum` order). */
function recencyDecay(exampleTimes: Float64Array, times: Float64Array, halfLifeDays: number): Float64Array {
  let tMax = -Infinity;
  for (let i = 0; i < times.length; i++) if (times[i] > tMax) tMax = times[i];
  const rate = 1 / (halfLifeDays * DAY);
  return Float64Array.from(exampleTimes, (t) => Math.pow(2, -(tMax - t) * rate));
}

/**
 * Recency loss weights: example e weighs ∝ 2^(−(t_max − t_e) / halfLife), scaled to mean 1 so an
 * epoch's total weight (and so the step size) equals the unweighted one's; in expectation the same
 * objective as recencyResample, without drawing duplicates or dropping examples.
 */
export function recencyWeights(
  exampleTimes: Float64Array,
  times: Float64Array,
  halfLifeDays: number,
): Float32Array {
  const decay = recencyDecay(exampleTimes, times, halfLifeDays);
  let total = 0;
  for (let e = 0; e < decay.length; e++) total += decay[e];
  const scale = decay.length / total;
  return Float32Array.from(decay, (w) => w * scale);
}

/**
 * Recency-weighted examples: `set.size` draws with replacement, example e with probability
 * ∝ 2^(−(t_max − t_e) / halfLife), t_max the latest training event. Returned in example order
 * (draws sorted), so batches still walk users in order before the trainer shuffles them.
 */
export function recencyResample(
  set: ExampleSet,
  times: Float64Array,
  halfLifeDays: number,
  rng: Rng,
): ExampleSet {
  const n = set.size;
  const decay = recencyDecay(set.time, times, halfLifeDays);
  const cum = new Float64Array(n);
  let total = 0;
  for (let e = 0; e < n; e++) {
    total += decay[e];
    cum[e] = total;
  }
  const picks = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const x = rng.nextFloat() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (cum[m] > x) hi = m;
      else lo = m + 1;
    }
    picks[k] = lo;
  }
  picks.sort();
  return {
    mode: set.mode,
    size: n,
    user: Int32Array.from(picks, (e) => set.user[e]),
    pos: Int32Array.from(picks, (e) => set.pos[e]),
    label: Int32Array.from(picks, (e) => set.label[e]),
    time: Float64Array.from(picks, (e) => set.time[e]),
    weight: null,
  };
}
