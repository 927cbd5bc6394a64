/**
 * The YouTube-DNN candidate generator as a candidate source: top-N by u·v (+ bias) through the
 * model's recommend() (the engine's topK kernel, batched). The user vector is computed from the
 * query history, so a model fitted on other users ranks any user.
 */
import type { Dataset } from "../../data/dataset.js";
import type { JsonValue } from "../../engine/model-file/index.js";
import type { QueryBatch } from "../../eval/types.js";
import type { CandidateConfigInput } from "../candidates/config.js";
import { CandidateModel } from "../candidates/model.js";
import { fingerprintOf, type FitDataFingerprint } from "./fit-data.js";
import { tailToNaN } from "./select.js";
import type {
  FittedSource,
  TypedSourceFactory,
  SourceFitOptions,
  SourceFitRecord,
  SourceTopN,
} from "./source.js";

export class DnnSource implements FittedSource {
  readonly name = "dnn" as const;
  readonly fitRecord: SourceFitRecord;

  constructor(
    readonly model: CandidateModel,
    readonly fitData: FitDataFingerprint,
  ) {
    this.fitRecord = { source: "dnn", lastSeenTime: modelLastSeen(model) };
  }

  get params(): Readonly<Record<string, JsonValue>> {
    const p = this.model.asScorer().params;
    return JSON.parse(JSON.stringify(p)) as Record<string, JsonValue>;
  }

  /** users: the queries' user vectors when the caller already encoded them (the same top-N). */
  topN(queries: QueryBatch, n: number, users?: Float32Array): SourceTopN {
    if (!(Number.isInteger(n) && n > 0))
      throw new RangeError(`dnn topN: n must be a positive integer, got ${n}`);
    const r =
      users === undefined
        ? this.model.recommend(queries, n, true)
        : this.model.recommendFor(users, queries, n, true);
    tailToNaN(r.items, r.scores);
    return { n, items: r.items, scores: r.scores };
  }

  observeEvents(): void {
    // The user vector comes from the request's history; nothing to update.
  }
}

/** What the model trained on: the latest time of each user's training sequence (the feature state). */
function modelLastSeen(model: CandidateModel): Float64Array {
  const f = model.features;
  const nu = f.seqOffsets.length - 1;
  const last = new Float64Array(nu).fill(-Infinity);
  for (let u = 0; u < nu; u++)
    if (f.seqOffsets[u + 1] > f.seqOffsets[u]) last[u] = f.seqTimes[f.seqOffsets[u + 1] - 1];
  return last;
}

export interface DnnSourceOptions {
  /** Partial candidate-generator config over the tuned defaults. */
  readonly config?: CandidateConfigInput;
  /**
   * Train exactly this many epochs without validation (fold models reuse the epoch the model fitted
   * on the protocol's training part stopped at). Absent: early stopping on `valid` when given.
   */
  readonly epochs?: number;
  readonly onLog?: (line: string) => void;
}

export function dnnSourceFactory(options: DnnSourceOptions = {}): TypedSourceFactory<DnnSource> {
  return {
    name: "dnn",
    async fit(train: Dataset, o: SourceFitOptions): Promise<DnnSource> {
      const base = options.config ?? {};
      const config: CandidateConfigInput =
        options.epochs === undefined
          ? base
          : { ...base, train: { ...base.train, epochs: options.epochs, patience: options.epochs } };
      const t0 = performance.now();
      const model = await CandidateModel.fit(train, {
        config,
        seed: o.seed,
        valid: options.epochs === undefined ? o.valid : undefined,
        validProtocol: o.validProtocol,
      });
      options.onLog?.(
        `dnn: fitted on ${train.events.user.length} events in ${((performance.now() - t0) / 1000).toFixed(1)} s, ` +
          `best epoch ${model.summary?.bestEpoch ?? 0}`,
      );
      return new DnnSource(model, fingerprintOf(train));
    },
  };
}
