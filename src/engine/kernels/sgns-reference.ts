/**
 * The TypeScript reference of the SGNS kernel (contract in kernels.ts, native code in
 * native/src/sgns_impl.inc). One pass, one chunk, in the native kernel's order of random draws:
 * the xorshift32 stream of chunk 0, seeded as native/src/sgns.cc seeds it, so native at one
 * thread and this reference train the same vectors up to float rounding (the native dot product
 * sums in SIMD lanes, this one in order). Per centre word, the contexts of its window share one
 * draw of negatives and the window's K×T block (contexts × targets) is updated from the values
 * before the block, as the native kernel does (pWord2Vec's batching).
 */

const MAX_EXP = 6;
const SIGMOID_TABLE = 1000;

/** word2vec's table of σ over (−6, 6), rounded to float as the native table is. */
const sigmoidTable = ((): Float32Array => {
  const t = new Float32Array(SIGMOID_TABLE);
  for (let i = 0; i < SIGMOID_TABLE; i++) {
    const e = Math.exp(((i / SIGMOID_TABLE) * 2 - 1) * MAX_EXP);
    t[i] = e / (e + 1);
  }
  return t;
})();

/** murmur3's 32-bit finalizer. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The xorshift32 seed of chunk `chunk` (native/src/sgns.cc chunk_seed). */
export function sgnsChunkSeed(seed: number, chunk: number): number {
  const s = mix((seed ^ mix((chunk + 0x9e3779b9) >>> 0)) >>> 0);
  return s === 0 ? 1 : s;
}

export function sgnsTrain(
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
): number {
  const vocab = keepProb.length;
  const numSentences = offsets.length - 1;
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError("sgnsTrain: dim must be at least 1");
  if (!Number.isInteger(window) || window < 1) throw new RangeError("sgnsTrain: window must be at least 1");
  if (!Number.isInteger(negatives) || negatives < 0)
    throw new RangeError("sgnsTrain: negatives must be non-negative");
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
    throw new RangeError(`sgnsTrain: seed must be an integer in [0, 2^32), got ${seed}`);
  if (negTable.length < 1) throw new RangeError("sgnsTrain: the negative table is empty");
  if (input.length < vocab * dim || output.length < vocab * dim)
    throw new RangeError(`sgnsTrain: input and output must hold vocab × dim = ${vocab * dim} floats`);
  if (numSentences < 0 || offsets[0] !== 0 || offsets[numSentences] !== tokens.length)
    throw new RangeError(`sgnsTrain: offsets must run from 0 to the ${tokens.length} tokens`);
  let longest = 0;
  for (let s = 0; s < numSentences; s++) {
    const len = offsets[s + 1] - offsets[s];
    if (len < 0) throw new RangeError(`sgnsTrain: offsets[${s + 1}] is below offsets[${s}]`);
    longest = Math.max(longest, len);
  }
  for (let i = 0; i < tokens.length; i++) {
    if (tokens[i] < 0 || tokens[i] >= vocab)
      throw new RangeError(`sgnsTrain: token ${tokens[i]} at ${i} is outside the vocabulary of ${vocab}`);
  }
  for (let i = 0; i < negTable.length; i++) {
    if (negTable[i] < 0 || negTable[i] >= vocab)
      throw new RangeError(
        `sgnsTrain: negative table entry ${negTable[i]} at ${i} is outside the vocabulary of ${vocab}`,
      );
  }

  let state = sgnsChunkSeed(seed, 0);
  const next = (): number => {
    let x = state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    state = x >>> 0;
    return state;
  };
  const buf = new Int32Array(Math.max(1, longest));
  const ctx = new Int32Array(2 * window);
  const target = new Int32Array(negatives + 1);
  const grad = new Float32Array(2 * window * (negatives + 1));
  const err = new Float32Array(2 * window * dim);
  const tableLen = negTable.length;
  const totalWork = epochs * tokens.length + 1;
  const minLr = startLr * 1e-4;
  let processed = 0;
  let kept = 0;
  for (let e = 0; e < epochs; e++) {
    for (let s = 0; s < numSentences; s++) {
      const begin = offsets[s];
      const end = offsets[s + 1];
      const lr = Math.fround(Math.max(minLr, startLr * (1 - processed / totalWork)));
      let n = 0;
      for (let i = begin; i < end; i++) {
        const w = tokens[i];
        const p = keepProb[w];
        if (p < 1 && p <= (next() >>> 8) / 16777216) continue;
        buf[n++] = w;
      }
      kept += n;
      for (let pos = 0; pos < n; pos++) {
        const word = buf[pos];
        const b = next() % window;
        let kn = 0;
        for (let c = pos - window + b; c <= pos + window - b; c++) {
          if (c === pos || c < 0 || c >= n) continue;
          ctx[kn++] = buf[c];
        }
        if (kn === 0) continue;
        // One draw of negatives shared by the window's contexts; ⌊r·len/2³²⌋ computed exactly.
        let tn = 1;
        target[0] = word;
        for (let d = 0; d < negatives; d++) {
          const r = next();
          const hi = (r >>> 16) * tableLen + Math.floor(((r & 0xffff) * tableLen) / 65536);
          const t = negTable[Math.floor(hi / 65536)];
          if (t !== word) target[tn++] = t;
        }
        for (let k = 0; k < kn; k++) {
          const l1 = ctx[k] * dim;
          for (let j = 0; j < tn; j++) {
            const l2 = target[j] * dim;
            let f = 0;
            for (let i = 0; i < dim; i++) f = Math.fround(f + Math.fround(input[l1 + i] * output[l2 + i]));
            let sig: number;
            if (f >= MAX_EXP) sig = 1;
            else if (f <= -MAX_EXP) sig = 0;
            else sig = sigmoidTable[Math.trunc((f + MAX_EXP) * (SIGMOID_TABLE / (2 * MAX_EXP)))];
            grad[k * tn + j] = Math.fround(((j === 0 ? 1 : 0) - sig) * lr);
          }
        }
        // Input errors from the targets before their update, then targets, then inputs.
        for (let k = 0; k < kn; k++) {
          const e0 = k * dim;
          err.fill(0, e0, e0 + dim);
          for (let j = 0; j < tn; j++) {
            const g = grad[k * tn + j];
            const l2 = target[j] * dim;
            for (let i = 0; i < dim; i++) err[e0 + i] += Math.fround(g * output[l2 + i]);
          }
        }
        for (let j = 0; j < tn; j++) {
          const l2 = target[j] * dim;
          for (let k = 0; k < kn; k++) {
            const g = grad[k * tn + j];
            const l1 = ctx[k] * dim;
            for (let i = 0; i < dim; i++) output[l2 + i] += Math.fround(g * input[l1 + i]);
          }
        }
        for (let k = 0; k < kn; k++) {
          const l1 = ctx[k] * dim;
          for (let i = 0; i < dim; i++) input[l1 + i] += err[k * dim + i];
        }
      }
      processed += end - begin;
    }
  }
  return kept;
}
