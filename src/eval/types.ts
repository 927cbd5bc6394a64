/**
 * What the protocols hand to models and what models hand back. One scoring path serves every
 * model (baselines and neural), so every number compares like for like.
 */
import type { Dataset, UserDemographicValues } from "../data/dataset.js";

/**
 * A batch of evaluation queries: for each query, the user, the time the recommendation is made,
 * and the user's input history (items in time order, oldest first) as CSR.
 */
export interface QueryBatch {
  readonly users: Int32Array;
  /** Query time (seconds): the target's timestamp (loo) or the cut time (temporal). */
  readonly times: Float64Array;
  /** History of query q: historyItems[historyOffsets[q] .. historyOffsets[q+1]). */
  readonly historyOffsets: Int32Array;
  readonly historyItems: Int32Array;
  readonly historyTimes: Float64Array;
  /**
   * Per query, demographics given with the request (serving: the store's current values), used
   * instead of the dataset's for that query's user; absent or null = the dataset's (none for a user
   * outside it).
   */
  readonly demographics?: readonly (UserDemographicValues | null)[];
}

/** A model under evaluation: fills a [batch x numItems] row-major score matrix. Higher is better. */
export interface Scorer {
  readonly name: string;
  /** Hyper-parameters to report. */
  readonly params: Readonly<Record<string, unknown>>;
  score(batch: QueryBatch, out: Float32Array): void;
}

/** A protocol's evaluation queries with their targets (CSR: one target for loo, a set for temporal). */
export interface QuerySet extends QueryBatch {
  readonly targetOffsets: Int32Array;
  readonly targetItems: Int32Array;
}

/** A protocol split of a dataset. `train` shares the dataset's dictionaries and side information. */
export interface Split {
  readonly protocol: "loo" | "temporal";
  readonly train: Dataset;
  readonly valid: QuerySet;
  readonly test: QuerySet;
  /**
   * The data to fit on before scoring `valid`, when it differs from `train` (temporal: the events
   * up to the validation cut, so validation never sees its own targets). Absent: fit on `train`.
   */
  readonly validTrain?: Dataset;
  /** Protocol parameters to report (cut time, window, ...). */
  readonly params: Readonly<Record<string, unknown>>;
}

/** Metric name -> mean over evaluated users. */
export type Metrics = Record<string, number>;

/** The JSON shape of `baselines --json` and `evaluate --json`. */
export interface EvaluationReport {
  dataset: string;
  protocol: "loo" | "temporal";
  n_users: number;
  n_items: number;
  /** The split's parameters (cut times, window, evaluated users, ...). */
  protocol_params?: Record<string, unknown>;
  /** Whether history items were removed from the rankings (default true). */
  filter_seen?: boolean;
  results: Array<{
    model: string;
    params: Record<string, unknown>;
    valid: Metrics;
    test: Metrics;
    train_seconds?: number;
    /** Seconds spent scoring and ranking the test queries. */
    eval_seconds?: number;
    /** Test users whose target was already in their input history (a miss when seen is filtered). */
    target_in_history?: number;
    /** Every hyper-parameter setting tried and its validation metrics, when the model was tuned. */
    tuning?: Array<{ params: Record<string, unknown>; valid: Metrics }>;
  }>;
}
