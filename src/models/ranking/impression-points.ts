/**
 * The queries impression lists are made for, with their positives:
 *  - training points (loo): for each chosen user, up to M of the most recent positions j ≥ 1 of their
 *    training sequence; the query is the history before j at the time of event j, the positives
 *    are the watches j .. j + W − 1 (W = positive window);
 *  - protocol points (validation / test, and the temporal protocol's earlier cuts): a QuerySet of
 *    the protocol, its targets the positives; history and target engagements are read from the
 *    user's time-ordered events (the protocols cut each user's history as a prefix of that order).
 */
import type { Dataset } from "../../data/dataset.js";
import type { QuerySet } from "../../eval/types.js";
import type { UserEventOrder } from "../../eval/user-order.js";
import type { ListPositives, ListQueries } from "./impression-lists.js";

export interface ListPoints {
  readonly queries: ListQueries;
  readonly positives: ListPositives;
}

/** Training points of `users` (ascending) in `train`, whose time order is `order`. */
export function trainingPoints(
  train: Dataset,
  order: UserEventOrder,
  users: Int32Array,
  maxPoints: number,
  window: number,
): ListPoints {
  const ev = train.events;
  const { offsets } = order;
  const pointsOf = (u: number): number => Math.max(0, Math.min(maxPoints, offsets[u + 1] - offsets[u] - 1));
  let nq = 0;
  let nh = 0;
  let np = 0;
  for (const u of users) {
    const len = offsets[u + 1] - offsets[u];
    for (let j = len - pointsOf(u); j < len; j++) {
      nq++;
      nh += j;
      np += Math.min(window, len - j);
    }
  }
  const q = allocPoints(nq, nh, np);
  let k = 0;
  let h = 0;
  let p = 0;
  for (const u of users) {
    const start = offsets[u];
    const len = offsets[u + 1] - start;
    for (let j = len - pointsOf(u); j < len; j++) {
      const e = order.order[start + j];
      q.users[k] = u;
      q.times[k] = ev.time[e];
      for (let i = 0; i < j; i++) {
        const he = order.order[start + i];
        q.historyItems[h] = ev.item[he];
        q.historyTimes[h] = ev.time[he];
        q.historyWeights[h++] = ev.weight[he];
      }
      q.historyOffsets[k + 1] = h;
      for (let i = j; i < Math.min(len, j + window); i++) {
        const pe = order.order[start + i];
        q.posItems[p] = ev.item[pe];
        q.posWeights[p++] = ev.weight[pe];
      }
      q.posOffsets[++k] = p;
    }
  }
  return finish(q);
}

/**
 * The points of a protocol QuerySet built from `data` (the dataset the split was made from, or one
 * whose users' event orders extend it as prefixes), `order` being data's user event order.
 */
export function protocolPoints(
  set: QuerySet,
  data: Dataset,
  order: UserEventOrder,
  where: string,
): ListPoints {
  const ev = data.events;
  const nq = set.users.length;
  const q = allocPoints(nq, set.historyItems.length, set.targetItems.length);
  for (let k = 0; k < nq; k++) {
    const u = set.users[k];
    const start = order.offsets[u];
    const end = order.offsets[u + 1];
    const hs = set.historyOffsets[k];
    const he = set.historyOffsets[k + 1];
    if (he - hs > end - start)
      throw new Error(`${where}: query ${k} (user ${u}) has a longer history than the user's events`);
    for (let h = hs; h < he; h++) {
      const e = order.order[start + (h - hs)];
      if (ev.item[e] !== set.historyItems[h])
        throw new Error(
          `${where}: query ${k} (user ${u}): history is not a prefix of the user's time-ordered events`,
        );
      q.historyItems[h] = set.historyItems[h];
      q.historyTimes[h] = set.historyTimes[h];
      q.historyWeights[h] = ev.weight[e];
    }
    q.users[k] = u;
    q.times[k] = set.times[k];
    q.historyOffsets[k + 1] = he;
    for (let t = set.targetOffsets[k]; t < set.targetOffsets[k + 1]; t++) {
      const item = set.targetItems[t];
      let w = NaN;
      for (let i = start + (he - hs); i < end; i++) {
        const e = order.order[i];
        if (ev.item[e] === item) {
          w = ev.weight[e];
          break;
        }
      }
      if (Number.isNaN(w))
        throw new Error(
          `${where}: query ${k} (user ${u}): target item ${item} has no event after the history`,
        );
      q.posItems[t] = item;
      q.posWeights[t] = w;
    }
    q.posOffsets[k + 1] = set.targetOffsets[k + 1];
  }
  return finish(q);
}

interface PointArrays {
  users: Int32Array;
  times: Float64Array;
  historyOffsets: Int32Array;
  historyItems: Int32Array;
  historyTimes: Float64Array;
  historyWeights: Float32Array;
  posOffsets: Int32Array;
  posItems: Int32Array;
  posWeights: Float32Array;
}

function allocPoints(nq: number, nh: number, np: number): PointArrays {
  return {
    users: new Int32Array(nq),
    times: new Float64Array(nq),
    historyOffsets: new Int32Array(nq + 1),
    historyItems: new Int32Array(nh),
    historyTimes: new Float64Array(nh),
    historyWeights: new Float32Array(nh),
    posOffsets: new Int32Array(nq + 1),
    posItems: new Int32Array(np),
    posWeights: new Float32Array(np),
  };
}

function finish(a: PointArrays): ListPoints {
  return {
    queries: {
      users: a.users,
      times: a.times,
      historyOffsets: a.historyOffsets,
      historyItems: a.historyItems,
      historyTimes: a.historyTimes,
      historyWeights: a.historyWeights,
    },
    positives: { offsets: a.posOffsets, items: a.posItems, weights: a.posWeights },
  };
}
