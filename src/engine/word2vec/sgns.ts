/**
 * Word2vec's skip-gram with negative sampling over any corpus of integer-coded sentences: builds
 * the frequency-sorted vocabulary (min count), the sub-sampling keep probabilities (word2vec's
 * formula with sample = 1e-3), the unigram^0.75 negative table and the seeded initial tables, then
 * runs the engine's sgnsTrain kernel. Defaults are the word2vec tool's (window 5, 5 negatives,
 * sub-sampling 1e-3, lr 0.025 decaying linearly, 5 epochs). Deterministic for a seed when the
 * native pool has one thread (WATCHNEXT_THREADS=1); with more threads the kernel runs Hogwild
 * (lock-free shared updates), faster but not reproducible bit for bit.
 */
import { getKernels, type Kernels } from "../kernels/index.js";
import { Rng } from "../rng.js";

export interface SgnsOptions {
  readonly dim: number;
  readonly window: number;
  readonly negatives: number;
  readonly epochs: number;
  /** Sub-sampling threshold t: a word of frequency f is kept with probability (√(f/t) + 1)·t/f. 0 = off. */
  readonly sample: number;
  /** Starting learning rate (decays linearly to lr·1e-4). */
  readonly lr: number;
  /** Words seen fewer times are dropped from the corpus before training. */
  readonly minCount: number;
  readonly seed: number;
}

export const SGNS_DEFAULTS: SgnsOptions = {
  dim: 100,
  window: 5,
  negatives: 5,
  epochs: 5,
  sample: 1e-3,
  lr: 0.025,
  minCount: 1,
  seed: 1,
};

/** Sentences of word ids: sentence s is tokens[offsets[s] .. offsets[s+1]), ids index `keys`. */
export interface IdCorpus {
  readonly keys: readonly string[];
  readonly tokens: Int32Array;
  readonly offsets: Int32Array;
}

/** Trained vectors: row r of `vectors` (dim wide) belongs to keys[r]; keys by descending count. */
export interface WordVectors {
  readonly keys: readonly string[];
  readonly counts: Int32Array;
  readonly dim: number;
  readonly vectors: Float32Array;
}

/** What one training run did, for the caller's display. */
export interface SgnsStats {
  readonly vocab: number;
  readonly corpusTokens: number;
  readonly trainedTokens: number;
}

/** Entries of the negative table: enough resolution for the vocabulary, small enough to stay in cache. */
function negTableSize(vocab: number): number {
  return Math.min(10_000_000, Math.max(100_000, 200 * vocab));
}

/** word2vec's unigram table: word w fills a share ∝ count(w)^0.75 of the entries. */
export function negativeTable(counts: Int32Array, size = negTableSize(counts.length)): Int32Array {
  const table = new Int32Array(size);
  let total = 0;
  for (let w = 0; w < counts.length; w++) total += Math.pow(counts[w], 0.75);
  let w = 0;
  let cum = Math.pow(counts[0], 0.75) / total;
  for (let i = 0; i < size; i++) {
    table[i] = w;
    if (i / size > cum && w < counts.length - 1) {
      w++;
      cum += Math.pow(counts[w], 0.75) / total;
    }
  }
  return table;
}

/** Sub-sampling keep probabilities (word2vec's formula), 1 when sample = 0. */
export function keepProbabilities(counts: Int32Array, totalWords: number, sample: number): Float32Array {
  const keep = new Float32Array(counts.length).fill(1);
  if (sample <= 0) return keep;
  const t = sample * totalWords;
  for (let w = 0; w < counts.length; w++)
    keep[w] = Math.min(1, (Math.sqrt(counts[w] / t) + 1) * (t / counts[w]));
  return keep;
}

function checkOptions(o: SgnsOptions): void {
  const intAtLeast = (name: keyof SgnsOptions, min: number): void => {
    const v = o[name];
    if (!Number.isInteger(v) || v < min)
      throw new RangeError(`sgns: ${name} must be an integer >= ${min}, got ${v}`);
  };
  intAtLeast("dim", 1);
  intAtLeast("window", 1);
  intAtLeast("negatives", 0);
  intAtLeast("epochs", 1);
  intAtLeast("minCount", 1);
  if (!(o.sample >= 0)) throw new RangeError(`sgns: sample must be >= 0, got ${o.sample}`);
  if (!(o.lr > 0)) throw new RangeError(`sgns: lr must be > 0, got ${o.lr}`);
}

/** Trains SGNS vectors on a corpus; throws RangeError when the corpus has no word with minCount occurrences. */
export function trainSgns(
  corpus: IdCorpus,
  options: Partial<SgnsOptions> = {},
  kernels: Kernels = getKernels(),
): { vectors: WordVectors; stats: SgnsStats } {
  const o: SgnsOptions = { ...SGNS_DEFAULTS, ...options };
  checkOptions(o);
  const raw = new Int32Array(corpus.keys.length);
  for (let i = 0; i < corpus.tokens.length; i++) raw[corpus.tokens[i]]++;
  // Vocabulary by descending count, ties by key order (word2vec sorts by count too).
  const order: number[] = [];
  for (let k = 0; k < raw.length; k++) if (raw[k] >= o.minCount) order.push(k);
  order.sort((a, b) => raw[b] - raw[a] || a - b);
  if (order.length === 0)
    throw new RangeError(`sgns: no word occurs at least minCount = ${o.minCount} times`);
  const remap = new Int32Array(raw.length).fill(-1);
  const counts = new Int32Array(order.length);
  order.forEach((k, r) => {
    remap[k] = r;
    counts[r] = raw[k];
  });
  // The corpus in vocabulary ids, words under minCount removed (as word2vec and gensim do).
  const tokens = new Int32Array(corpus.tokens.length);
  const offsets = new Int32Array(corpus.offsets.length);
  let n = 0;
  for (let s = 0; s + 1 < corpus.offsets.length; s++) {
    for (let i = corpus.offsets[s]; i < corpus.offsets[s + 1]; i++) {
      const r = remap[corpus.tokens[i]];
      if (r >= 0) tokens[n++] = r;
    }
    offsets[s + 1] = n;
  }
  const kept = tokens.subarray(0, n);
  const vocab = order.length;
  const input = new Float32Array(vocab * o.dim);
  const rng = new Rng(o.seed);
  // Uniform in (−1/dim, 1/dim), gensim 4's range (word2vec.c uses ±0.5/dim): with the narrower
  // range item2vec recommended worse than gensim on the same corpus (HR@10 under loo,
  // docs/results/embeddings.md), with this one it matches.
  for (let i = 0; i < input.length; i++) input[i] = (rng.nextFloat() * 2 - 1) / o.dim;
  const output = new Float32Array(vocab * o.dim);
  const trained = kernels.sgnsTrain(
    input,
    output,
    o.dim,
    kept,
    offsets,
    keepProbabilities(counts, n, o.sample),
    negativeTable(counts),
    o.window,
    o.negatives,
    o.epochs,
    o.lr,
    o.seed >>> 0,
  );
  return {
    vectors: { keys: order.map((k) => corpus.keys[k]), counts, dim: o.dim, vectors: input },
    stats: { vocab, corpusTokens: n, trainedTokens: trained },
  };
}
