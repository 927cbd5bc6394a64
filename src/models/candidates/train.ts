/**
 * The training loop of the candidate generator: epochs over shuffled rollback examples, one
 * network step per batch, validation HR/NDCG@10 after each epoch, early stopping on NDCG@10 with
 * the best epoch's weights restored, progress events, and a clean stop on an abort signal (the
 * current step finishes, the best weights so far are kept).
 */
import { Rng } from "../../engine/rng.js";
import { trainingOrder } from "../../features/candidate-examples.js";
import type { CandidateFeatures } from "../../features/candidate-features.js";
import { chooseSoftmax, type CandidateConfig, type SoftmaxChoice } from "./config.js";
import type { CandidateNetwork } from "./network.js";
import { restoreTensors, snapshotTensors } from "../../engine/optim/snapshot.js";

/** Validation figures after an epoch (HR@10 is Recall@10 under the temporal protocol). */
export interface ValidationMetrics {
  readonly hr10: number;
  readonly ndcg10: number;
}

export type TrainingEvent =
  | {
      /** Once before the first step: what this run trains with. */
      readonly kind: "start";
      readonly softmax: SoftmaxChoice;
      /** Feature groups the data turned off, with why (features.config.autoOff). */
      readonly autoOff: Readonly<Record<string, string>>;
      readonly epochs: number;
    }
  | {
      readonly kind: "step";
      readonly epoch: number;
      readonly epochs: number;
      readonly step: number;
      readonly stepsPerEpoch: number;
      readonly examplesPerSecond: number;
      readonly loss: number;
      /** Seconds left in this epoch at the current speed. */
      readonly etaSeconds: number;
    }
  | {
      readonly kind: "epoch";
      readonly epoch: number;
      readonly epochs: number;
      readonly loss: number;
      readonly valid: ValidationMetrics | null;
      readonly best: boolean;
      readonly seconds: number;
      readonly examplesPerSecond: number;
    }
  | {
      readonly kind: "stop";
      readonly reason: StopReason;
      readonly bestEpoch: number;
      readonly seconds: number;
    };

export type StopReason = "early-stop" | "max-epochs" | "interrupted";

export interface TrainingSummary {
  /** The softmax the run trained with and why ("auto" resolved by catalog size). */
  readonly softmax: SoftmaxChoice;
  readonly epochs: number;
  readonly bestEpoch: number;
  readonly bestValid: ValidationMetrics | null;
  readonly stopReason: StopReason;
  readonly seconds: number;
  /** Wall-clock seconds from the start until the end of the best epoch. */
  readonly secondsToBest: number;
  readonly examples: number;
  readonly history: ReadonlyArray<{
    epoch: number;
    loss: number;
    hr10: number | null;
    ndcg10: number | null;
    seconds: number;
  }>;
}

export interface TrainLoopOptions {
  /** Validation of the current weights (early stopping on its NDCG@10); absent = no early stopping. */
  readonly validate?: () => ValidationMetrics;
  readonly onProgress?: (event: TrainingEvent) => void;
  readonly signal?: AbortSignal;
}

const PROGRESS_INTERVAL_MS = 250;

/** Lets pending events (SIGINT, timers) run between steps. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function trainLoop(
  net: CandidateNetwork,
  features: CandidateFeatures,
  config: CandidateConfig,
  seed: number,
  opts: TrainLoopOptions,
): Promise<TrainingSummary> {
  const t = config.train;
  const rng = new Rng(seed);
  const batch = features.allocBatch(t.batchSize);
  const started = performance.now();
  let bestScore = -Infinity;
  let bestEpoch = 0;
  let bestValid: ValidationMetrics | null = null;
  let bestWeights: Map<string, Float32Array> | null = null;
  let secondsToBest = 0;
  let sinceBest = 0;
  let stopReason: StopReason = "max-epochs";
  let examples = 0;
  let epoch = 0;
  const history: Array<{
    epoch: number;
    loss: number;
    hr10: number | null;
    ndcg10: number | null;
    seconds: number;
  }> = [];
  const aborted = () => opts.signal?.aborted === true;
  const softmax = chooseSoftmax(t, features.numItems);
  opts.onProgress?.({ kind: "start", softmax, autoOff: features.config.autoOff, epochs: t.epochs });

  const lossWeights = new Float32Array(t.batchSize);
  for (epoch = 1; epoch <= t.epochs && !aborted(); epoch++) {
    net.lrScale = t.lrDecay ** (epoch - 1);
    const set = features.examples(epoch);
    const order = trainingOrder(set, rng);
    const steps = Math.ceil(set.size / t.batchSize);
    const epochStart = performance.now();
    let lastReport = epochStart;
    let lossSum = 0;
    let lossCount = 0;
    let done = 0;
    for (let s = 0; s < steps; s++) {
      const start = s * t.batchSize;
      const end = Math.min(set.size, start + t.batchSize);
      features.fillTrainBatch(set, order, start, end, batch);
      if (set.weight !== null)
        for (let b = start; b < end; b++) lossWeights[b - start] = set.weight[order[b]];
      const loss = net.trainStep(
        batch,
        rng,
        set.weight === null ? null : lossWeights.subarray(0, end - start),
      );
      if (!Number.isFinite(loss)) {
        throw new Error(
          `training diverged at epoch ${epoch}, step ${s + 1}: loss ${loss} (try a lower train.lr)`,
        );
      }
      lossSum += loss * (end - start);
      lossCount += end - start;
      done += end - start;
      const now = performance.now();
      if (now - lastReport >= PROGRESS_INTERVAL_MS) {
        lastReport = now;
        const rate = done / ((now - epochStart) / 1000);
        opts.onProgress?.({
          kind: "step",
          epoch,
          epochs: t.epochs,
          step: s + 1,
          stepsPerEpoch: steps,
          examplesPerSecond: rate,
          loss: lossSum / lossCount,
          etaSeconds: (set.size - done) / rate,
        });
        await yieldToEventLoop();
        if (aborted()) break;
      }
    }
    examples += done;
    const epochSeconds = (performance.now() - epochStart) / 1000;
    const meanLoss = lossSum / Math.max(1, lossCount);
    if (aborted() && done < set.size) {
      // An interrupted epoch is not validated: the best completed epoch is kept.
      history.push({ epoch, loss: meanLoss, hr10: null, ndcg10: null, seconds: epochSeconds });
      break;
    }
    const valid = opts.validate ? opts.validate() : null;
    const score = valid ? valid.ndcg10 : -meanLoss;
    const best = score > bestScore;
    if (best) {
      bestScore = score;
      bestEpoch = epoch;
      bestValid = valid;
      secondsToBest = (performance.now() - started) / 1000;
      bestWeights = snapshotTensors(net.tensors(), bestWeights);
      sinceBest = 0;
    } else {
      sinceBest++;
    }
    history.push({
      epoch,
      loss: meanLoss,
      hr10: valid?.hr10 ?? null,
      ndcg10: valid?.ndcg10 ?? null,
      seconds: epochSeconds,
    });
    opts.onProgress?.({
      kind: "epoch",
      epoch,
      epochs: t.epochs,
      loss: meanLoss,
      valid,
      best,
      seconds: epochSeconds,
      examplesPerSecond: done / epochSeconds,
    });
    await yieldToEventLoop();
    if (opts.validate && sinceBest >= t.patience) {
      stopReason = "early-stop";
      break;
    }
  }
  if (aborted()) stopReason = "interrupted";
  if (bestWeights) restoreTensors(net.tensors(), bestWeights);
  const seconds = (performance.now() - started) / 1000;
  opts.onProgress?.({ kind: "stop", reason: stopReason, bestEpoch, seconds });
  return {
    softmax,
    epochs: history.length,
    bestEpoch,
    bestValid,
    stopReason,
    seconds,
    secondsToBest,
    examples,
    history,
  };
}
