/**
 * The `temporal` protocol (global time split, next-window holdout): train on interactions up to a
 * cut time T; each user with history up to T is asked for the items they interact with in
 * (T, T + window] that are not already in that history.
 *
 * Validation repeats the same rule one step earlier, inside the training period, so it never looks
 * past T: the validation cut Tv is the same quantile of the training interactions' timestamps; the
 * validation model is fitted on the interactions up to Tv (`validTrain`) and asked for the items in
 * (Tv, min(Tv + window, T)].
 *
 * Cut times are event timestamps: the quantile q of n sorted timestamps is the one at index
 * floor(q·(n−1)). Events at exactly the cut belong to the history side (≤ T), targets are > T.
 */
import { numItems, numUsers, type Dataset } from "../data/dataset.js";
import { QuerySetBuilder } from "./query-set.js";
import { withEvents } from "./subset.js";
import type { QuerySet, Split } from "./types.js";
import { userEventOrder, type UserEventOrder } from "./user-order.js";

export interface TemporalOptions {
  /** Cut at this quantile of all interaction timestamps (default 0.9). Ignored when cutTime is set. */
  readonly cutQuantile?: number;
  /** Explicit cut time in seconds since the epoch. */
  readonly cutTime?: number;
  /** Target window after the cut in days (default 30), or "all" for everything after it. */
  readonly windowDays?: number | "all";
}

const DAY_SECONDS = 86_400;

export function splitTemporal(dataset: Dataset, options: TemporalOptions = {}): Split {
  const q = options.cutQuantile ?? 0.9;
  if (!(q > 0 && q < 1)) throw new RangeError(`temporal split: cutQuantile must be in (0, 1), got ${q}`);
  const windowDays = options.windowDays ?? 30;
  if (windowDays !== "all" && !(windowDays > 0))
    throw new RangeError(`temporal split: windowDays must be a positive number or "all", got ${windowDays}`);
  const window = windowDays === "all" ? Infinity : windowDays * DAY_SECONDS;
  const events = dataset.events;
  const n = events.time.length;
  if (n === 0) throw new RangeError(`temporal split: dataset ${dataset.name} has no interactions`);

  const cut = options.cutTime ?? quantileTime(events.time, q, Infinity);
  const beforeCut = countAtMost(events.time, cut);
  if (beforeCut === 0 || beforeCut === n)
    throw new RangeError(
      `temporal split: cut time ${isoTime(cut)} leaves ${beforeCut === 0 ? "no training" : "no test"} interactions in ${dataset.name}`,
    );
  const validCut = quantileTime(events.time, q, cut);
  if (countAtMost(events.time, validCut) === beforeCut)
    throw new RangeError(
      `temporal split: no interactions between the validation cut and the cut ${isoTime(cut)}`,
    );

  const order = userEventOrder(events, numUsers(dataset));
  const scratch = { history: new Int32Array(numItems(dataset)), target: new Int32Array(numItems(dataset)) };
  const test = holdoutQueries(dataset, order, cut, cut + window, scratch);
  scratch.history.fill(0);
  scratch.target.fill(0);
  const valid = holdoutQueries(dataset, order, validCut, Math.min(validCut + window, cut), scratch);
  if (test.queries.users.length === 0)
    throw new RangeError(
      `temporal split: no user of ${dataset.name} has a target in the window after ${isoTime(cut)}`,
    );

  return {
    protocol: "temporal",
    train: withEvents(dataset, atMost(events.time, cut)),
    validTrain: withEvents(dataset, atMost(events.time, validCut)),
    valid: valid.queries,
    test: test.queries,
    params: {
      cutTime: cut,
      cut: isoTime(cut),
      validCutTime: validCut,
      validCut: isoTime(validCut),
      windowDays,
      cutQuantile: options.cutTime === undefined ? q : null,
      evaluatedUsers: test.queries.users.length,
      usersWithoutTargets: test.usersWithoutTargets,
      validUsers: valid.queries.users.length,
    },
  };
}

/** The timestamp at quantile q among timestamps ≤ upTo (index floor(q·(n−1)) of the sorted ones). */
function quantileTime(time: Float64Array, q: number, upTo: number): number {
  const sorted = time.filter((t) => t <= upTo).sort();
  return sorted[Math.floor(q * (sorted.length - 1))];
}

function countAtMost(time: Float64Array, cut: number): number {
  let c = 0;
  for (let e = 0; e < time.length; e++) if (time[e] <= cut) c++;
  return c;
}

function atMost(time: Float64Array, cut: number): Uint8Array {
  const keep = new Uint8Array(time.length);
  for (let e = 0; e < time.length; e++) keep[e] = time[e] <= cut ? 1 : 0;
  return keep;
}

function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/**
 * One query per user with history ≤ cut and at least one new item in (cut, end]. Scratch arrays
 * hold per-item stamps (user + 1) so membership tests need no clearing between users.
 */
function holdoutQueries(
  dataset: Dataset,
  { offsets, order }: UserEventOrder,
  cut: number,
  end: number,
  scratch: { history: Int32Array; target: Int32Array },
): { queries: QuerySet; usersWithoutTargets: number } {
  const events = dataset.events;
  const builder = new QuerySetBuilder(events);
  const targets: number[] = [];
  let usersWithoutTargets = 0;
  for (let u = 0; u < numUsers(dataset); u++) {
    const start = offsets[u];
    const stop = offsets[u + 1];
    let split = start;
    while (split < stop && events.time[order[split]] <= cut) split++;
    if (split === start || split === stop) continue;
    const stamp = u + 1;
    for (let i = start; i < split; i++) scratch.history[events.item[order[i]]] = stamp;
    targets.length = 0;
    for (let i = split; i < stop && events.time[order[i]] <= end; i++) {
      const item = events.item[order[i]];
      if (scratch.history[item] === stamp || scratch.target[item] === stamp) continue;
      scratch.target[item] = stamp;
      targets.push(item);
    }
    if (targets.length === 0) {
      usersWithoutTargets++;
      continue;
    }
    builder.add(u, cut, order, start, split, targets);
  }
  return { queries: builder.finish(), usersWithoutTargets };
}
