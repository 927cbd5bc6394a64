/**
 * A dataset restricted to some of its events (a protocol's training data). Dictionaries and side
 * information are shared, not copied, so item and user indices mean the same thing in the subset.
 */
import type { Dataset, Events } from "../data/dataset.js";

/** The dataset with only the events whose `keep` flag is set, in file order. */
export function withEvents(dataset: Dataset, keep: Uint8Array): Dataset {
  const src = dataset.events;
  let count = 0;
  for (let e = 0; e < keep.length; e++) count += keep[e];
  const events: Events = {
    user: new Int32Array(count),
    item: new Int32Array(count),
    time: new Float64Array(count),
    weight: new Float32Array(count),
  };
  let k = 0;
  for (let e = 0; e < keep.length; e++) {
    if (!keep[e]) continue;
    events.user[k] = src.user[e];
    events.item[k] = src.item[e];
    events.time[k] = src.time[e];
    events.weight[k] = src.weight[e];
    k++;
  }
  return { ...dataset, events };
}
