/**
 * The engine's hot loops. Every kernel exists twice: a C++ implementation behind N-API (SIMD,
 * the engine's own thread pool) and a TypeScript reference that tests compare it against. Matrices
 * are row-major Float32Array views; `ld*` is a row stride in elements. Kernels never allocate
 * per call beyond O(1) scratch, so training loops can call them with preallocated buffers.
 */
export interface Kernels {
  readonly backend: "native" | "ts";

  /** C[m×n] = alpha·op(A)·op(B) + beta·C, where op(A) is m×k and op(B) is k×n (transposed when the flag is set). */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;

  /** In place over rows×cols (row stride ld): x[r, c] += bias[c], then ReLU when `relu`. */
  biasAct(x: Float32Array, rows: number, cols: number, ld: number, bias: Float32Array, relu: boolean): void;

  /** grad[i] = out[i] > 0 ? grad[i] : 0 for i < n (out is the ReLU output). */
  reluBackward(grad: Float32Array, out: Float32Array, n: number): void;

  /** out[c] = beta·out[c] + Σ_r x[r, c] over rows×cols with row stride ld. */
  colSums(x: Float32Array, rows: number, cols: number, ld: number, out: Float32Array, beta: number): void;

  /**
   * Embedding bag: out[b, outOffset .. outOffset+dim) = Σ_{i ∈ bag b} w_i · table[indices[i], :],
   * where bag b is indices[offsets[b] .. offsets[b+1]) and w_i = weights[i], or 1/|bag| (the mean)
   * when weights is null. An empty bag contributes zeros. numBags = offsets.length - 1. With
   * `accumulate` the result is added to what out holds (several bags summed into one slot, e.g. an
   * item's id + genre + year embeddings), otherwise it overwrites.
   */
  embeddingBagForward(
    table: Float32Array,
    dim: number,
    offsets: Int32Array,
    indices: Int32Array,
    weights: Float32Array | null,
    out: Float32Array,
    ldOut: number,
    outOffset: number,
    accumulate: boolean,
  ): void;

  /** Sparse backward of embeddingBagForward: gradTable[indices[i], :] += w_i · gradOut[b, gradOffset .. +dim). */
  embeddingBagBackward(
    gradOut: Float32Array,
    ldGrad: number,
    gradOffset: number,
    dim: number,
    offsets: Int32Array,
    indices: Int32Array,
    weights: Float32Array | null,
    gradTable: Float32Array,
  ): void;

  /**
   * Full softmax cross-entropy over rows×cols logits with integer labels. Overwrites logits with
   * scale·w_r·dLoss/dlogits (softmax − onehot) and returns the summed (unscaled) loss Σ_r w_r·ℓ_r,
   * w = rowWeights (null: every row weighs 1).
   */
  softmaxCrossEntropy(
    logits: Float32Array,
    rows: number,
    cols: number,
    labels: Int32Array,
    scale: number,
    rowWeights: Float32Array | null,
  ): number;

  /**
   * Sampled softmax with K shared negatives. logits is rows×(1+K): column 0 holds u_b·v_label(b),
   * columns 1..K hold u_b·v_neg(j). Subtracts logQTrue[b] from column 0 and logQNeg[j] from column
   * 1+j (logQ correction), masks a negative equal to the row's label (accidental hit) to −∞, then
   * computes cross-entropy with the true item at column 0. Overwrites logits with scale·w_b·gradient
   * (masked entries get 0) and returns the summed loss Σ_b w_b·ℓ_b, w = rowWeights (null: all 1).
   */
  sampledSoftmax(
    logits: Float32Array,
    rows: number,
    numNeg: number,
    labels: Int32Array,
    negIds: Int32Array,
    logQTrue: Float32Array,
    logQNeg: Float32Array,
    scale: number,
    rowWeights: Float32Array | null,
  ): number;

  /**
   * Weighted logistic loss: Σ_i w_i·[−y_i·log σ(z_i) − (1−y_i)·log(1−σ(z_i))], y_i ∈ {0,1}.
   * Writes grad[i] = scale·w_i·(σ(z_i) − y_i) and returns the summed loss.
   */
  weightedLogistic(
    logits: Float32Array,
    labels: Float32Array,
    weights: Float32Array,
    n: number,
    grad: Float32Array,
    scale: number,
  ): number;

  /**
   * Adam with bias correction over n dense parameters (step counts from 1); decoupled weight decay
   * (AdamW) when weightDecay > 0.
   */
  adam(
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    n: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    step: number,
    weightDecay: number,
  ): void;

  /**
   * Lazy Adam over the listed rows (unique) of a [*×dim] table: the moments of untouched rows do
   * not decay. Updates each listed row from its gradient row, then zeroes that gradient row, so the
   * dense gradient table stays all-zero between steps without a full clear.
   */
  lazyAdam(
    table: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    dim: number,
    rows: Int32Array,
    numRows: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    step: number,
  ): void;

  /**
   * Top-k of U·Vᵀ for each of the numQueries rows of U (dim wide) against numItems rows of V, plus
   * itemBias[j] when given. Items excludeItems[excludeOffsets[q] .. excludeOffsets[q+1]) are skipped
   * for query q. Results are sorted by score descending, ties by lower item index; when fewer than
   * k items remain, the tail holds item −1 and score −∞.
   */
  topK(
    u: Float32Array,
    numQueries: number,
    v: Float32Array,
    numItems: number,
    dim: number,
    itemBias: Float32Array | null,
    k: number,
    excludeOffsets: Int32Array | null,
    excludeItems: Int32Array | null,
    outItems: Int32Array,
    outScores: Float32Array,
  ): void;

  /**
   * In-place inverse of a symmetric positive-definite n×n matrix via Cholesky (A = L·Lᵀ). Throws if
   * the matrix is not positive definite. Used by EASE on catalogs of 10k+ items.
   */
  spdInverse(a: Float32Array, n: number): void;

  /**
   * Skip-gram with negative sampling (word2vec's SGNS) over a corpus of sentences
   * tokens[offsets[s] .. offsets[s+1]) of word ids < vocab = keepProb.length, for `epochs` passes;
   * updates the input and output tables (vocab×dim) in place. Per sentence, word w is dropped when
   * keepProb[w] < 1 and a uniform draw is ≥ keepProb[w] (sub-sampling); per kept word, a dynamic
   * window b ~ U{0..window−1} gives the contexts within window − b; the window's contexts share
   * one draw of `negatives` entries of negTable (label 0, a draw equal to the word skipped; entry
   * ⌊r·len/2³²⌋ of a 32-bit draw r), and every (context, target) pair of the window, the word being
   * the label-1 target, takes word2vec's update from the values before the window's update
   * (pWord2Vec's batching), with σ from word2vec's 1000-entry table over (−6, 6) and
   * lr = startLr·max(1e-4, 1 − processed/(epochs·tokens + 1)), processed counted in raw tokens at
   * each sentence start. Random draws come from xorshift32 streams seeded from `seed` (see
   * sgns-reference.ts); the native kernel splits the corpus over its thread pool (Hogwild, not
   * deterministic beyond one thread) and equals the reference at one thread up to float rounding.
   * Returns the number of tokens trained on (after sub-sampling, over all epochs).
   */
  sgnsTrain(
    input: Float32Array,
    output: Float32Array,
    dim: number,
    tokens: Int32Array,
    offsets: Int32Array,
    keepProb: Float32Array,
    negTable: Int32Array,
    window: number,
    negatives: number,
    epochs: number,
    startLr: number,
    seed: number,
  ): number;
}
