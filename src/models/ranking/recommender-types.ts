/**
 * What a two-stage recommendation looks like to its callers (library, CLI, HTTP service): the
 * ranked items with each source's score, the ranking logit and the expected engagement e^logit.
 */

import type { UserDemographicValues } from "../../data/dataset.js";

export interface RecommendedItem {
  /** Dataset item index. */
  readonly item: number;
  /** Source name -> its score for the item (absent: that source did not propose it). */
  readonly sourceScores: Readonly<Record<string, number>>;
  /** Candidate-generator score u·v (+ bias), always present. */
  readonly candidateScore: number;
  /** The ranker's logit (NaN under stage "candidates"). */
  readonly rankingLogit: number;
  /** e^logit, the expected engagement (NaN under stage "candidates"). */
  readonly expectedEngagement: number;
}

/** One user's input at request time: the history in time order (oldest first) and demographics from the store. */
export interface RecommendRequest {
  /** Dataset user index, or −1 for an anonymous session (no demographics). */
  readonly user: number;
  /** Request time, epoch seconds. */
  readonly time: number;
  readonly historyItems: Int32Array;
  readonly historyTimes: Float64Array;
  /** Engagement of each history event (the rating for MovieLens); drives the genre-affinity features. */
  readonly historyWeights?: Float32Array;
  /** Earlier served impressions of this user (item, epoch seconds), for the impression-history features. */
  readonly impressionItems?: Int32Array;
  readonly impressionTimes?: Float64Array;
  /**
   * The user's demographics now (the service: the store's), mapped through the model's fitted
   * vocabularies as training maps the users file; absent = the model's data (none for a new user).
   */
  readonly demographics?: UserDemographicValues;
  readonly k: number;
  readonly stage?: "two" | "candidates";
  /** Items that must not be returned besides the history (e.g. a genre filter's complement). */
  readonly allow?: (item: number) => boolean;
}
