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
