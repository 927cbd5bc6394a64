/**
 * The candidate generator's features: fitted on the training split only (candidate-fit.ts), they
 * declare the network's inputs (candidate-schema.ts) and fill packed CandidateBatches
 * (candidate-packing.ts), both for training examples (rollback next-watch, capped per user) and
 * for evaluation / serving queries; their fitted state round-trips through JSON
 * (candidate-json.ts). See candidate-config.ts for the groups and their switches.
 *
 * Equal timestamps: each user's training events are sorted by time, ties in file order (stable),
 * exactly as the evaluation protocol orders a history. A rollback example with its label at
 * position p of that sequence takes positions 0..p-1 as its input, so an event with the same
 * timestamp as the label but earlier in the file is an input — as it is in an evaluation query's
 * history. Tags (search tokens) count only when applied strictly before the label time.
 */
import type { Dataset } from "../data/dataset.js";
import type { QueryBatch } from "../eval/types.js";
import type { CandidateBatch } from "./batch.js";
import {
  resolveCandidateConfig,
  type CandidateFeatureConfigInput,
  type ResolvedCandidateConfig,
} from "./candidate-config.js";
import type { ExampleSet } from "./candidate-examples.js";
import { fitCandidateFeatures } from "./candidate-fit.js";
import { fittedFromJSON, type CandidateFeaturesJSON } from "./candidate-json.js";
import { CandidateFeatureSet } from "./candidate-packing.js";
import type { FeatureSchema } from "./schema.js";
import { buildUserSequences } from "./user-sequences.js";

export type { ExampleSet } from "./candidate-examples.js";
export type { CandidateFeaturesJSON } from "./candidate-json.js";
export { CANDIDATE_FEATURES, ITEM_TABLE, WATCH_SLOT } from "./candidate-schema.js";

export interface CandidateFeatures {
  readonly config: ResolvedCandidateConfig;
  readonly schema: FeatureSchema;
  readonly numItems: number;
  readonly numUsers: number;
  /** Each user's training events sorted by time (stable): user u's are seqItems[seqOffsets[u] .. seqOffsets[u+1]). */
  readonly seqOffsets: Int32Array;
  readonly seqItems: Int32Array;
  readonly seqTimes: Float64Array;
  readonly minTrainTime: number;
  readonly maxTrainTime: number;

  /**
   * The training examples. `epoch` re-seeds random choices (uniform selection, heldout labels) so
   * each epoch may see a different sample; the same (config seed, epoch) always gives the same set.
   */
  examples(epoch?: number): ExampleSet;
  /** A batch with room for maxSize examples; fill it with fillTrainBatch / fillQueryBatch. */
  allocBatch(maxSize: number): CandidateBatch;
  /**
   * Fills `batch` with examples order[start..end) of `set` (end − start ≤ the batch's capacity) and
   * returns the batch size. Bag offsets beyond `size` repeat the last offset (empty bags), and dense
   * rows beyond `size` are zero, so a consumer may process the full capacity or only `size` rows.
   */
  fillTrainBatch(
    set: ExampleSet,
    order: Int32Array,
    start: number,
    end: number,
    batch: CandidateBatch,
  ): number;
  /**
   * Fills `batch` with queries start..end of `queries` for evaluation / serving: watches = the ≤ maxLen
   * most recent history items, tags applied strictly before the query time, example age 0,
   * continuous user features relative to the query time. Labels are −1.
   */
  fillQueryBatch(queries: QueryBatch, start: number, end: number, batch: CandidateBatch): number;
  toJSON(): CandidateFeaturesJSON;
}

/** Each user's events of `data` sorted by time, with the items in that order. */
function sequences(data: Dataset, numUsers: number) {
  const seq = buildUserSequences(data.events.user, data.events.time, numUsers);
  const items = Int32Array.from(seq.eventIndex, (i) => data.events.item[i]);
  return { seq, items };
}

/** Fits features on the training split `train` (its events only; side info is shared with the full dataset). */
export function buildCandidateFeatures(
  train: Dataset,
  config: CandidateFeatureConfigInput = {},
): CandidateFeatures {
  const cfg = resolveCandidateConfig(train, config);
  const { seq, items } = sequences(train, train.users.ids.length);
  const fitted = fitCandidateFeatures(train, cfg, seq);
  return new CandidateFeatureSet(fitted, train, seq.offsets, items, seq.times);
}

/**
 * Rebuilds fitted features for serving from their JSON and a dataset with the same dictionaries
 * (same items and users, in the same order): vocabularies, normalizers and time range come from the
 * JSON; side information (genres, years, demographics, tags) and the users' event sequences from
 * `data`.
 */
export function candidateFeaturesFromJSON(json: CandidateFeaturesJSON, data: Dataset): CandidateFeatures {
  const fitted = fittedFromJSON(json);
  if (data.items.ids.length !== fitted.numItems || data.users.ids.length !== fitted.numUsers) {
    throw new RangeError(
      `candidate features JSON: fitted for ${fitted.numItems} items / ${fitted.numUsers} users, but ${data.name} has ` +
        `${data.items.ids.length} items / ${data.users.ids.length} users (the dictionaries must match)`,
    );
  }
  const { seq, items } = sequences(data, fitted.numUsers);
  return new CandidateFeatureSet(fitted, data, seq.offsets, items, seq.times);
}
