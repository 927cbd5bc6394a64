/**
 * The `loo` protocol (leave-last-out, next-watch): per user, the last interaction is the test
 * target and the second-to-last the validation target; training data is everything before the
 * validation target. Users with fewer than 3 interactions stay in training only. The validation
 * query's history is the training sequence; the test query's history adds the validation item
 * (the model is not retrained on it). See docs: protocol.md.
 */
import { numUsers, type Dataset } from "../data/dataset.js";
import { QuerySetBuilder } from "./query-set.js";
import { withEvents } from "./subset.js";
import type { Split } from "./types.js";
import { userEventOrder } from "./user-order.js";

/** Fewest interactions a user needs to get a validation and a test query. */
export const LOO_MIN_INTERACTIONS = 3;

export function splitLoo(dataset: Dataset): Split {
  const events = dataset.events;
  const { offsets, order } = userEventOrder(events, numUsers(dataset));
  const keep = new Uint8Array(events.user.length).fill(1);
  const valid = new QuerySetBuilder(events);
  const test = new QuerySetBuilder(events);
  let trainOnlyUsers = 0;
  const target = new Int32Array(1);
  for (let u = 0; u < numUsers(dataset); u++) {
    const start = offsets[u];
    const end = offsets[u + 1];
    if (end === start) continue;
    if (end - start < LOO_MIN_INTERACTIONS) {
      trainOnlyUsers++;
      continue;
    }
    const validEvent = order[end - 2];
    const testEvent = order[end - 1];
    keep[validEvent] = 0;
    keep[testEvent] = 0;
    target[0] = events.item[validEvent];
    valid.add(u, events.time[validEvent], order, start, end - 2, target);
    target[0] = events.item[testEvent];
    test.add(u, events.time[testEvent], order, start, end - 1, target);
  }
  return {
    protocol: "loo",
    train: withEvents(dataset, keep),
    valid: valid.finish(),
    test: test.finish(),
    params: { minInteractions: LOO_MIN_INTERACTIONS, evaluatedUsers: test.size, trainOnlyUsers },
  };
}
