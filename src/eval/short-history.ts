/**
 * Short-history subsets: each user's history cut to their last N events (by time, ties in file
 * order, the order every protocol uses), so a model's behaviour on sparse logs (e-commerce users
 * with a handful of events) can be measured on MovieLens. The cut is deterministic: it keeps the N
 * most recent events of every user and drops the rest; users with N or fewer events keep all of
 * theirs. Dictionaries and side information are shared with the full dataset (src/eval/subset.ts),
 * so under `loo` a user keeps N − 2 training events, one validation and one test target.
 */
import { numUsers, type Dataset } from "../data/dataset.js";
import { withEvents } from "./subset.js";
import { userEventOrder } from "./user-order.js";

export interface ShortHistoryCut {
  /** The dataset with only the kept events, in file order. */
  readonly dataset: Dataset;
  /** Events kept per user at most. */
  readonly last: number;
  readonly keptEvents: number;
  readonly droppedEvents: number;
  /** Users who lost events (had more than `last`). */
  readonly cutUsers: number;
}

/** Keeps each user's `last` most recent events (last ≥ 1). */
export function cutHistories(dataset: Dataset, last: number): ShortHistoryCut {
  if (!Number.isInteger(last) || last < 1)
    throw new RangeError(`cut histories: last must be an integer >= 1, got ${last}`);
  const events = dataset.events;
  const { offsets, order } = userEventOrder(events, numUsers(dataset));
  const keep = new Uint8Array(events.user.length);
  let kept = 0;
  let cutUsers = 0;
  for (let u = 0; u < numUsers(dataset); u++) {
    const start = offsets[u];
    const end = offsets[u + 1];
    if (end - start > last) cutUsers++;
    for (let k = Math.max(start, end - last); k < end; k++) {
      keep[order[k]] = 1;
      kept++;
    }
  }
  return {
    dataset: withEvents(dataset, keep),
    last,
    keptEvents: kept,
    droppedEvents: events.user.length - kept,
    cutUsers,
  };
}
