// The SGNS kernel: native (one thread, every SIMD level this CPU runs) against the TypeScript
// reference on a small seeded corpus, the vectors it learns (words that share contexts end up
// closer than words that never do), Hogwild at two threads still learning, and bad input refused.
import { afterAll, describe, expect, it } from "vitest";
import { getNativeKernels, getReferenceKernels } from "../src/engine/kernels/index.js";
import type { Kernels } from "../src/engine/kernels/kernels.js";
import {
  nativeSimdInfo,
  nativeThreads,
  setNativeSimdLevel,
  setNativeThreads,
  type NativeSimdInfo,
} from "../src/engine/kernels/native.js";
import { Rng } from "../src/engine/rng.js";
import { trainSgns, type IdCorpus, type WordVectors } from "../src/engine/word2vec/sgns.js";

const native: Kernels | null = (() => {
  try {
    return getNativeKernels();
  } catch {
    return null;
  }
})();
const forcedTs = process.env.WATCHNEXT_BACKEND === "ts";
const ref = getReferenceKernels();

/** Two topics of 10 words each; a sentence draws all its 12 words from one topic. */
function topicCorpus(sentences: number, seed: number): IdCorpus {
  const rng = new Rng(seed);
  const keys = Array.from({ length: 20 }, (_, i) => `w${i}`);
  const tokens = new Int32Array(sentences * 12);
  const offsets = new Int32Array(sentences + 1);
  for (let s = 0; s < sentences; s++) {
    const topic = s % 2;
    for (let j = 0; j < 12; j++) tokens[s * 12 + j] = topic * 10 + rng.nextInt(10);
    offsets[s + 1] = (s + 1) * 12;
  }
  return { keys, tokens, offsets };
}

function cosine(v: WordVectors, a: string, b: string): number {
  const ia = v.keys.indexOf(a) * v.dim;
  const ib = v.keys.indexOf(b) * v.dim;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let d = 0; d < v.dim; d++) {
    ab += v.vectors[ia + d] * v.vectors[ib + d];
    aa += v.vectors[ia + d] ** 2;
    bb += v.vectors[ib + d] ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Mean cosine within topics minus mean cosine across them. */
function topicSeparation(v: WordVectors): number {
  let within = 0;
  let across = 0;
  let nw = 0;
  let na = 0;
  for (let i = 0; i < 20; i++) {
    for (let j = i + 1; j < 20; j++) {
      const c = cosine(v, `w${i}`, `w${j}`);
      if (Math.floor(i / 10) === Math.floor(j / 10)) {
        within += c;
        nw++;
      } else {
        across += c;
        na++;
      }
    }
  }
  return within / nw - across / na;
}

const options = { dim: 24, window: 3, negatives: 4, epochs: 3, sample: 0.01, seed: 7 };

describe("SGNS kernel", () => {
  it("the native addon loads for the comparison", () => {
    if (!forcedTs) expect(native).not.toBeNull();
  });

  const initialThreads = native !== null ? nativeThreads() : 1;
  const best: NativeSimdInfo["level"] = native !== null ? nativeSimdInfo().best : "portable";
  const levels = (["portable", "avx2", "avx512"] as const).filter(
    (l) => ["portable", "avx2", "avx512"].indexOf(l) <= ["portable", "avx2", "avx512"].indexOf(best),
  );
  afterAll(() => {
    if (native !== null) {
      setNativeThreads(initialThreads);
      setNativeSimdLevel(best);
    }
  });

  it.runIf(native !== null).each(levels)("native at one thread equals the reference (%s)", (level) => {
    setNativeThreads(1);
    setNativeSimdLevel(level);
    const corpus = topicCorpus(60, 3);
    const a = trainSgns(corpus, options, native as Kernels);
    const b = trainSgns(corpus, options, ref);
    expect(a.stats).toEqual(b.stats);
    expect(a.stats.trainedTokens).toBeLessThan(a.stats.corpusTokens * options.epochs); // sub-sampling dropped some
    expect(a.vectors.keys).toEqual(b.vectors.keys);
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < a.vectors.vectors.length; i++) {
      worst = Math.max(worst, Math.abs(a.vectors.vectors[i] - b.vectors.vectors[i]));
      scale = Math.max(scale, Math.abs(b.vectors.vectors[i]));
    }
    expect(scale).toBeGreaterThan(0.05); // training moved the vectors far from their ±1/dim start
    expect(worst).toBeLessThan(1e-4 * scale);
    // Same seed, same result; another seed, other vectors.
    const again = trainSgns(corpus, options, native as Kernels);
    expect(again.vectors.vectors).toEqual(a.vectors.vectors);
    const other = trainSgns(corpus, { ...options, seed: 8 }, native as Kernels);
    expect(other.vectors.vectors).not.toEqual(a.vectors.vectors);
  });

  it("learns shared contexts (reference)", () => {
    const v = trainSgns(topicCorpus(200, 5), { ...options, epochs: 5 }, ref).vectors;
    expect(topicSeparation(v)).toBeGreaterThan(0.3);
  });

  it.runIf(native !== null)("learns shared contexts with two Hogwild threads", () => {
    setNativeThreads(2);
    setNativeSimdLevel(best);
    const v = trainSgns(topicCorpus(400, 6), { ...options, epochs: 5 }, native as Kernels).vectors;
    expect(topicSeparation(v)).toBeGreaterThan(0.3);
  });

  it("sub-sampling keeps frequent words less often and min count drops rare ones", () => {
    const corpus: IdCorpus = {
      keys: ["a", "b", "c"],
      tokens: Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 2]),
      offsets: Int32Array.from([0, 9]),
    };
    const r = trainSgns(corpus, { dim: 4, minCount: 2, epochs: 1 }, ref);
    expect(r.vectors.keys).toEqual(["a", "b"]);
    expect(Array.from(r.vectors.counts)).toEqual([6, 2]);
    expect(r.stats.corpusTokens).toBe(8);
    expect(() => trainSgns(corpus, { minCount: 10 }, ref)).toThrow(/minCount = 10/);
  });

  for (const [name, k] of [
    ["reference", ref],
    ["native", native],
  ] as const) {
    it.runIf(k !== null)(`${name} refuses out-of-range tokens and bad offsets`, () => {
      const kk = k as Kernels;
      const t = new Float32Array(8);
      const keep = new Float32Array(2).fill(1);
      const table = Int32Array.from([0, 1]);
      const call = (tokens: number[], offsets: number[], tab = table): number =>
        kk.sgnsTrain(
          t,
          new Float32Array(8),
          4,
          Int32Array.from(tokens),
          Int32Array.from(offsets),
          keep,
          tab,
          5,
          5,
          1,
          0.025,
          1,
        );
      expect(() => call([0, 2], [0, 2])).toThrow(/token 2 at 1 is outside the vocabulary of 2/);
      expect(() => call([0, 1], [0, 1])).toThrow(/offsets must run from 0 to the 2 tokens/);
      expect(() => call([0, 1], [0, 2], Int32Array.from([3]))).toThrow(/negative table entry 3/);
      expect(call([0, 1], [0, 2])).toBe(2);
    });
  }
});
