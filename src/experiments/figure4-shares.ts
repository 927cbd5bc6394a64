/**
 * The measurement behind the paper's Figure 4 (freshness): for next-watch queries in a test window,
 * how the model's probability mass — a full softmax over the catalog of the served scores u·v (+ the
 * item bias when the model has one), history items removed — spreads over items by days since
 * their release, against the share of the actual next watches by days since release.
 *
 * Release is each item's first event in the data (MovieLens has no upload dates; the synthetic
 * data's planted release times are not in its files). Ages are taken at each query's time, in day
 * bins of `binDays`; the last two slots collect older items ("tail") and items not yet released at
 * the query time ("unreleased": their first event is later, so no watch can fall there).
 */
import type { Dataset } from "../data/dataset.js";
import { numUsers } from "../data/dataset.js";
import { QuerySetBuilder } from "../eval/query-set.js";
import type { QueryBatch, QuerySet } from "../eval/types.js";
import { userEventOrder } from "../eval/user-order.js";

export const DAY_SECONDS = 86_400;

export interface AgeBins {
  /** Width of one bin in days. */
  readonly binDays: number;
  /** Bins [0, binDays), [binDays, 2·binDays), ...; older items go to the tail slot. */
  readonly numBins: number;
}

/** Slot index of the tail (age ≥ numBins · binDays) and of not-yet-released items. */
export const tailSlot = (bins: AgeBins): number => bins.numBins;
export const unreleasedSlot = (bins: AgeBins): number => bins.numBins + 1;

/** Each item's first event time (NaN for an item without events). */
export function itemReleaseTimes(dataset: Dataset): Float64Array {
  const release = new Float64Array(dataset.items.ids.length).fill(NaN);
  const { item, time } = dataset.events;
  for (let e = 0; e < item.length; e++) {
    const i = item[e];
    if (!(release[i] <= time[e])) release[i] = time[e];
  }
  return release;
}

export interface WindowQueries {
  /** One query per window event: its user, its time, the user's events before it; target = its item. */
  readonly queries: QuerySet;
  /** Window events skipped because their item was already in the user's history (repeats). */
  readonly repeats: number;
}

/**
 * Every event in (cut, end] of a user with history at or before `cut` becomes a next-watch query
 * at the event's time: the history is all of the user's earlier events (window events included,
 * as a served model would see them), the target the event's item.
 */
export function windowQueries(dataset: Dataset, cut: number, end: number): WindowQueries {
  const events = dataset.events;
  const { offsets, order } = userEventOrder(events, numUsers(dataset));
  const builder = new QuerySetBuilder(events);
  const seen = new Int32Array(dataset.items.ids.length);
  const target = new Int32Array(1);
  let repeats = 0;
  for (let u = 0; u < offsets.length - 1; u++) {
    const start = offsets[u];
    const stop = offsets[u + 1];
    if (start === stop || events.time[order[start]] > cut) continue;
    const stamp = u + 1;
    for (let i = start; i < stop; i++) {
      const e = order[i];
      const t = events.time[e];
      if (t > end) break;
      const item = events.item[e];
      if (t > cut) {
        if (seen[item] === stamp) repeats++;
        else {
          target[0] = item;
          builder.add(u, t, order, start, i, target);
        }
      }
      seen[item] = stamp;
    }
  }
  return { queries: builder.finish(), repeats };
}

/** Fills out[(q − start)·numItems + j] with query q's score of item j, for queries start..end. */
export type RangeScorer = (queries: QueryBatch, start: number, end: number, out: Float32Array) => void;

export interface AgeShares {
  /** Mean over queries of the model's probability mass per slot (bins, tail, unreleased); sums to 1. */
  readonly model: Float64Array;
  /** Share of the queries' targets (the actual next watches) per slot. */
  readonly empirical: Float64Array;
  /** Mean over queries of the share of the candidate items (released, not in history) per slot: a uniform model's mass. */
  readonly catalog: Float64Array;
  /**
   * The same two distributions restricted to the items first seen at or before `cut` (the ones in
   * the training data, which a model trained at the cut can know), each renormalized to sum to 1.
   */
  readonly modelKnown: Float64Array;
  readonly empiricalKnown: Float64Array;
  /** Queries whose target was first seen at or before `cut` (the denominator of empiricalKnown). */
  readonly knownTargets: number;
  /** Mean model mass on items first seen after `cut` (not in the training data). */
  readonly modelAfterCut: number;
  /** Share of targets first seen after `cut`. */
  readonly empiricalAfterCut: number;
  /** Mean model probability of the actual target (a likelihood, not a share). */
  readonly targetProbability: number;
  readonly queries: number;
}

/** Share of mass by days since release, averaged over `queries` (see the module comment). */
export function ageShares(
  score: RangeScorer,
  queries: QuerySet,
  numItems: number,
  release: Float64Array,
  cut: number,
  bins: AgeBins,
  batchQueries = 256,
): AgeShares {
  const slots = bins.numBins + 2;
  const model = new Float64Array(slots);
  const empirical = new Float64Array(slots);
  const catalog = new Float64Array(slots);
  const modelKnown = new Float64Array(slots);
  const empiricalKnown = new Float64Array(slots);
  const perQuery = new Float64Array(slots);
  const perQueryKnown = new Float64Array(slots);
  const counts = new Float64Array(slots);
  const slot = new Int32Array(numItems);
  const inHistory = new Int32Array(numItems);
  const binSeconds = bins.binDays * DAY_SECONDS;
  const n = queries.users.length;
  const out = new Float32Array(Math.min(batchQueries, Math.max(n, 1)) * numItems);
  let afterCut = 0;
  let empiricalAfter = 0;
  let targetP = 0;
  let knownTargets = 0;
  for (let s = 0; s < n; s += batchQueries) {
    const e = Math.min(n, s + batchQueries);
    score(queries, s, e, out);
    for (let q = s; q < e; q++) {
      const t = queries.times[q];
      const stamp = q + 1;
      for (let h = queries.historyOffsets[q]; h < queries.historyOffsets[q + 1]; h++)
        inHistory[queries.historyItems[h]] = stamp;
      const row = (q - s) * numItems;
      let max = -Infinity;
      for (let j = 0; j < numItems; j++) {
        const age = t - release[j];
        slot[j] = age >= 0 ? Math.min(Math.floor(age / binSeconds), bins.numBins) : bins.numBins + 1;
        if (inHistory[j] !== stamp && out[row + j] > max) max = out[row + j];
      }
      let sum = 0;
      let sumKnown = 0;
      perQuery.fill(0);
      perQueryKnown.fill(0);
      counts.fill(0);
      let after = 0;
      for (let j = 0; j < numItems; j++) {
        if (inHistory[j] === stamp) continue;
        const p = Math.exp(out[row + j] - max);
        sum += p;
        perQuery[slot[j]] += p;
        counts[slot[j]]++;
        if (release[j] > cut) after += p;
        else {
          sumKnown += p;
          perQueryKnown[slot[j]] += p;
        }
      }
      let released = 0;
      for (let k = 0; k <= bins.numBins; k++) released += counts[k];
      for (let k = 0; k < slots; k++) {
        model[k] += perQuery[k] / sum;
        if (k !== bins.numBins + 1 && released > 0) catalog[k] += counts[k] / released;
        if (sumKnown > 0) modelKnown[k] += perQueryKnown[k] / sumKnown;
      }
      afterCut += after / sum;
      const target = queries.targetItems[queries.targetOffsets[q]];
      empirical[slot[target]]++;
      if (release[target] > cut) empiricalAfter++;
      else {
        knownTargets++;
        empiricalKnown[slot[target]]++;
      }
      if (inHistory[target] !== stamp) targetP += Math.exp(out[row + target] - max) / sum;
    }
  }
  const mean = (a: Float64Array) => a.map((v) => (n > 0 ? v / n : NaN));
  return {
    model: mean(model),
    empirical: mean(empirical),
    catalog: mean(catalog),
    modelKnown: mean(modelKnown),
    empiricalKnown: empiricalKnown.map((v) => (knownTargets > 0 ? v / knownTargets : NaN)),
    knownTargets,
    modelAfterCut: n > 0 ? afterCut / n : NaN,
    empiricalAfterCut: n > 0 ? empiricalAfter / n : NaN,
    targetProbability: n > 0 ? targetP / n : NaN,
    queries: n,
  };
}

/** Label of slot k ("0–6 d", ..., "≥ 91 d", "not yet released"). */
export function slotLabel(bins: AgeBins, k: number): string {
  if (k === bins.numBins) return `≥ ${bins.numBins * bins.binDays} d`;
  if (k === bins.numBins + 1) return "not yet released";
  return `${k * bins.binDays}–${(k + 1) * bins.binDays - 1} d`;
}
