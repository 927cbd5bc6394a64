/**
 * The training path of the candidate generator shared by `train candidates` and `quickstart`: fit on
 * the protocol's training part with early stopping on its validation queries, then save with the
 * data and protocol in the manifest. Under `temporal`, validation trains on the data up to the
 * validation cut; the final model is then refitted on the whole training part for the chosen number
 * of epochs. Aborting the signal keeps the best model so far (marked interrupted).
 */
import type { Dataset } from "../data/dataset.js";
import type { Split } from "../eval/types.js";
import type { CandidateConfigInput } from "../models/candidates/config.js";
import { CandidateModel } from "../models/candidates/model.js";
import type { TrainingEvent } from "../models/candidates/train.js";

export interface TrainCandidatesOptions {
  readonly config: CandidateConfigInput;
  readonly seed: number;
  /** Model directory to write (replaced atomically). */
  readonly out: string;
  readonly onProgress?: (event: TrainingEvent) => void;
  readonly signal?: AbortSignal;
  /** Validate each epoch on a seeded sample of this many validation queries (absent: all). */
  readonly validUsers?: number;
}

export async function trainCandidatesModel(
  dataset: Dataset,
  split: Split,
  opts: TrainCandidatesOptions,
): Promise<{ model: CandidateModel; seconds: number }> {
  const { config, seed, onProgress, signal } = opts;
  const started = performance.now();
  let model = await CandidateModel.fit(split.validTrain ?? split.train, {
    config,
    valid: split.valid,
    validUsers: opts.validUsers,
    validProtocol: split.protocol,
    seed,
    onProgress,
    signal,
  });
  if (split.validTrain && !signal?.aborted && model.summary) {
    const epochs = Math.max(1, model.summary.bestEpoch);
    const tuned = model.summary;
    model = await CandidateModel.fit(split.train, {
      config: { ...config, train: { ...config.train, epochs } },
      seed,
      onProgress,
      signal,
    });
    model.summary = { ...tuned, ...model.summary, bestValid: tuned.bestValid };
  }
  const seconds = (performance.now() - started) / 1000;
  model.save(opts.out, {
    dataset: dataset.name,
    source: dataset.source,
    protocol: split.protocol,
    protocolParams: JSON.parse(JSON.stringify(split.params)),
    trainSeconds: seconds,
    interrupted: signal?.aborted ?? false,
    ...(opts.validUsers !== undefined ? { validUsers: opts.validUsers } : {}),
  });
  return { model, seconds };
}
