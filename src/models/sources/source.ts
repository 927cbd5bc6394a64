/**
 * Candidate sources: the models that propose a shortlist for the ranker (the paper's "candidates
 * from different sources"). Each is fitted on an interaction set and then, for any user history at
 * a time t, returns its top-N items with scores. Sources are inductive over users: the history in
 * the query is all they look at, so a source can rank a user it never trained on (fold models,
 * serving of new events).
 */
import type { Dataset } from "../../data/dataset.js";
import type { JsonValue } from "../../engine/model-file/index.js";
import type { QueryBatch } from "../../eval/types.js";

/** Names of the built-in sources; a source list is any subset. */
export type SourceName = "dnn" | "ease" | "itemknn" | "pop7" | "pop30";

/** Top-N of each query, row-major [numQueries × n]; items −1 (score NaN) past the end of a short list. */
export interface SourceTopN {
  readonly n: number;
  readonly items: Int32Array;
  readonly scores: Float32Array;
}

export interface CandidateSource {
  readonly name: SourceName;
  /** Top-n items per query, best first, the query's history excluded. */
  topN(queries: QueryBatch, n: number): SourceTopN;
}

/** What a fitted source was fitted on (the leakage test reads it). */
export interface SourceFitRecord {
  readonly source: SourceName;
  /** Users whose events the source saw, and the latest event time it saw for each (−Infinity: none). */
  readonly lastSeenTime: Float64Array;
}

/**
 * A source after fitting (what the built-in factories return): its settings, what it was fitted on,
 * and serving's event feed. Save / restore with saveSource / loadSource (src/models/sources/io.ts).
 */
export interface FittedSource extends CandidateSource {
  /** The hyper-parameters it was fitted with (e.g. EASE's chosen λ), as JSON. */
  readonly params: Readonly<Record<string, JsonValue>>;
  readonly fitRecord: SourceFitRecord;
  /** The fitting events' fingerprint (a saved source is restored only onto the same events). */
  readonly fitData: import("./fit-data.js").FitDataFingerprint;
  /** New events (serving): the recent-popularity sources count them; the others ignore them. */
  observeEvents(items: Int32Array, times: Float64Array): void;
}

export interface SourceFitOptions {
  readonly seed: number;
  /** Validation queries the source may use for early stopping / tuning (never the ranked labels). */
  readonly valid?: import("../../eval/types.js").QuerySet;
  /** Metric family of `valid` (default "loo"). */
  readonly validProtocol?: "loo" | "temporal";
}

export interface SourceFactory {
  readonly name: SourceName;
  fit(train: Dataset, options: SourceFitOptions): Promise<CandidateSource>;
}

/** A factory whose fit returns a concrete fitted source (what the built-in factories are). */
export interface TypedSourceFactory<S extends FittedSource> extends SourceFactory {
  fit(train: Dataset, options: SourceFitOptions): Promise<S>;
}
