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
 * pos[e] of its time-sorted sequence; label/time repeat that event's item and timestamp.
 */
export interface ExampleSet {
  readonly mode: "rollback" | "heldout";
  readonly size: number;
  readonly user: Int32Array;
  readonly pos: Int32Array;
  readonly label: Int32Array;
  readonly time: Float64Array;
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
  return { mode: cfg.mode, size: total, user, pos, label, time };
}
