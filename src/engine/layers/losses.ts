/**
 * Loss helpers over kernel outputs, each returning the batch-mean loss and writing the gradient
 * of that mean. The softmax heads (softmax-head.ts) build on the same kernels for the candidate
 * generator; these thin forms serve logits a caller already holds (e.g. the ranking network's
 * single logit per impression).
 */
import type { Kernels } from "../kernels/kernels.js";

/**
 * Mean softmax cross-entropy over rows×cols logits; overwrites logits with dMeanLoss/dlogits.
 */
export function softmaxCrossEntropyLoss(
  kernels: Kernels,
  logits: Float32Array,
  rows: number,
  cols: number,
  labels: Int32Array,
): number {
  if (rows === 0) return 0;
  return kernels.softmaxCrossEntropy(logits, rows, cols, labels, 1 / rows, null) / rows;
}

/**
 * The paper's weighted logistic regression for ranking (positives weighted by watch time,
 * negatives by 1), averaged over the n impressions; grad[i] = dMeanLoss/dlogits[i].
 */
export function weightedLogisticLoss(
  kernels: Kernels,
  logits: Float32Array,
  labels: Float32Array,
  weights: Float32Array,
  n: number,
  grad: Float32Array,
): number {
  if (n === 0) return 0;
  return kernels.weightedLogistic(logits, labels, weights, n, grad, 1 / n) / n;
}
