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
   * Layer normalisation over each of `rows` contiguous rows of `dim`: with μ and σ² the row's mean
   * and (biased) variance and r = 1/√(σ² + eps), out = (x − μ)·r·gamma + beta. Stores μ and r per
   * row in mean[rows] and rstd[rows] for the backward pass. out may alias x.
   */
  layerNormForward(
    x: Float32Array,
    rows: number,
    dim: number,
    gamma: Float32Array,
    beta: Float32Array,
    eps: number,
    out: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
  ): void;

  /**
   * Backward of layerNormForward given its input x, mean and rstd: with x̂ = (x − μ)·r and
   * g = gradOut·gamma, dx = r·(g − mean(g) − x̂·mean(g·x̂)) per row, written into gradX (added to
   * it when `accumulate`, e.g. the residual stream's gradient); gradGamma += Σ_rows gradOut·x̂ and
   * gradBeta += Σ_rows gradOut.
   */
  layerNormBackward(
    x: Float32Array,
    rows: number,
    dim: number,
    gamma: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    gradOut: Float32Array,
    gradX: Float32Array,
    accumulate: boolean,
    gradGamma: Float32Array,
    gradBeta: Float32Array,
  ): void;

  /** GELU, tanh form: out[i] = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) for i < n. out may alias x. */
  gelu(x: Float32Array, out: Float32Array, n: number): void;

  /** grad[i] ·= GELU′(x[i]) for i < n (x is the GELU input, tanh form as in gelu). */
  geluBackward(x: Float32Array, grad: Float32Array, n: number): void;

  /**
   * Inverted dropout with a counter-based mask, in place over x[0 .. n): entry i is kept when
   * dropoutHash(seed, i) ≥ ⌊rate·2³²⌋ and then scaled by fround(1/(1 − rate)), else set to 0 (see
   * dropoutHash in transformer-reference.ts). The mask is a function of (seed, i) only, so the backward pass
   * is the same call on the gradient with the same seed, and every backend and thread count
   * draws the same mask. rate in [0, 1); rate 0 leaves x unchanged.
   */
  dropout(x: Float32Array, n: number, rate: number, seed: number): void;

  /** out[i] += x[i] for i < n (residual connections). */
  addInPlace(x: Float32Array, out: Float32Array, n: number): void;

  /**
   * Multi-head causal scaled-dot-product self-attention over numSeqs sequences of at most maxLen
   * slots, packed without padding: sequence b's slots 0, 1, … are rows offsets[b] .. offsets[b+1]
   * of qkv [rows, 3·d] (d = heads·headDim) and of out [rows, d]. A row holds its slot's query
   * (columns [0, d)), key ([d, 2d)) and value ([2d, 3d)); head h uses columns h·headDim .. +headDim
   * of each. Slot i attends to slots 0..i of its own sequence with p = softmax(q·kᵀ/√headDim).
   * probs [numSeqs, heads, maxLen, maxLen] receives p (before dropout; row i of (b, h) at
   * ((b·heads + h)·maxLen + i)·maxLen, zero outside the mask and for i ≥ the sequence's length).
   * Attention dropout: p̃ = dropout(p) with the mask of `dropout(·, seed)` indexed by the position
   * in probs. out = p̃·v per head, heads side by side. Rows outside every sequence are untouched.
   * Uses a grow-only maxLen×maxLen scratch per thread.
   */
  causalAttentionForward(
    qkv: Float32Array,
    numSeqs: number,
    maxLen: number,
    heads: number,
    headDim: number,
    offsets: Int32Array,
    dropoutRate: number,
    seed: number,
    probs: Float32Array,
    out: Float32Array,
  ): void;

  /**
   * Backward of causalAttentionForward from its qkv, probs and dropout seed: given gradOut
   * [rows, d], overwrites the sequences' rows of gradQkv [rows, 3·d] with dLoss/d(q, k, v). probs is
   * kept. Uses a grow-only maxLen×maxLen scratch per thread.
   */
  causalAttentionBackward(
    qkv: Float32Array,
    numSeqs: number,
    maxLen: number,
    heads: number,
    headDim: number,
    offsets: Int32Array,
    dropoutRate: number,
    seed: number,
    probs: Float32Array,
    gradOut: Float32Array,
    gradQkv: Float32Array,
  ): void;

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
