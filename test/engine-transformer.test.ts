// The Transformer kernels and layers: the reference against float64 formulas and hand-worked
// cases, the native kernels against the reference (every SIMD level this CPU runs, 1 and 2
// threads), finite-difference gradient checks of every backward (kernels, layers, the whole
// encoder with dropout on), and the encoder's causal rule: slot i's output depends on slots ≤ i
// of its own sequence only.
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
import { dropoutHash } from "../src/engine/kernels/transformer-reference.js";
import { CausalSelfAttention } from "../src/engine/layers/attention.js";
import { LayerNorm } from "../src/engine/layers/layer-norm.js";
import type { Parameter } from "../src/engine/layers/parameter.js";
import {
  TransformerEncoder,
  type TransformerEncoderConfig,
} from "../src/engine/layers/transformer-encoder.js";
import { Adam } from "../src/engine/optim/adam.js";
import { Rng } from "../src/engine/rng.js";
import { checkGradient, sampleIndices } from "./support/gradient-check.js";
import { worstRatio } from "./support/tolerance.js";

const ref = getReferenceKernels();
let native: Kernels | null = null;
try {
  native = getNativeKernels();
} catch {
  native = null; // engine-native.test.ts fails the run when the addon should have loaded
}

function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * rng.normal();
  return a;
}

/** Σ r_i·x_i in float64. */
function dot(r: Float32Array, x: Float32Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += r[i] * x[i];
  return s;
}

function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) expect(actual[i], `${what} [${i}]`).toBe(expected[i]);
  }
}

function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}

/** Within abs·max|expected| + rel·|expected_i| entry by entry. */
function expectNear(actual: Float32Array, expected: Float32Array, rel: number, what: string): void {
  const ratio = worstRatio(actual, expected, rel * Math.max(maxAbs(expected), 1e-30), rel);
  expect(ratio, what).toBeLessThanOrEqual(1);
}

/** CSR offsets of sequences of the given lengths packed one after another from row `start`. */
function offsetsOf(lengths: readonly number[], start = 0): Int32Array {
  const o = new Int32Array(lengths.length + 1);
  o[0] = start;
  lengths.forEach((n, b) => (o[b + 1] = o[b] + n));
  return o;
}

function geluExact(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

describe("Transformer kernels: reference semantics", () => {
  it("layerNormForward normalises each row and applies gamma and beta", () => {
    const rng = new Rng(1);
    const [rows, dim] = [5, 12];
    const x = randomArray(rng, rows * dim, 3);
    const gamma = randomArray(rng, dim);
    const beta = randomArray(rng, dim);
    const out = new Float32Array(rows * dim);
    const mean = new Float32Array(rows);
    const rstd = new Float32Array(rows);
    ref.layerNormForward(x, rows, dim, gamma, beta, 1e-5, out, mean, rstd);
    const expected = new Float32Array(rows * dim);
    for (let r = 0; r < rows; r++) {
      let mu = 0;
      for (let c = 0; c < dim; c++) mu += x[r * dim + c] / dim;
      let v = 0;
      for (let c = 0; c < dim; c++) v += (x[r * dim + c] - mu) ** 2 / dim;
      expect(mean[r]).toBeCloseTo(mu, 5);
      expect(rstd[r]).toBeCloseTo(1 / Math.sqrt(v + 1e-5), 4);
      for (let c = 0; c < dim; c++) {
        expected[r * dim + c] = ((x[r * dim + c] - mu) / Math.sqrt(v + 1e-5)) * gamma[c] + beta[c];
      }
    }
    expectNear(out, expected, 1e-5, "layer norm");
  });

  it("gelu is the tanh form and gelu(x) − gelu(−x) = x", () => {
    const x = Float32Array.from([-6, -2, -1, -0.1, 0, 1e-4, 0.5, 1, 3, 8]);
    const out = new Float32Array(x.length);
    ref.gelu(x, out, x.length);
    for (let i = 0; i < x.length; i++) expect(out[i]).toBeCloseTo(geluExact(x[i]), 6);
    expect(out[7]).toBeCloseTo(0.841192, 5);
    const neg = x.map((v) => -v);
    const outNeg = new Float32Array(x.length);
    ref.gelu(neg, outNeg, x.length);
    for (let i = 0; i < x.length; i++) expect(out[i] - outNeg[i]).toBeCloseTo(x[i], 5);
  });

  it("dropout keeps ≈ 1 − rate of the entries, scales them, and is a function of (seed, index)", () => {
    const n = 100_000;
    const x = new Float32Array(n).fill(1);
    ref.dropout(x, n, 0.3, 12345);
    let kept = 0;
    let wrong = 0;
    for (let i = 0; i < n; i++) {
      if (x[i] !== 0) kept++;
      // The documented rule, entry by entry.
      const keep = dropoutHash(12345, i) >= Math.floor(0.3 * 2 ** 32);
      if (x[i] !== (keep ? Math.fround(1 / 0.7) : 0)) wrong++;
    }
    expect(wrong).toBe(0);
    expect(kept / n).toBeGreaterThan(0.69);
    expect(kept / n).toBeLessThan(0.71);
    const again = new Float32Array(n).fill(1);
    ref.dropout(again, n, 0.3, 12345);
    expectSame(again, x, "same seed");
    const other = new Float32Array(n).fill(1);
    ref.dropout(other, n, 0.3, 12346);
    let same = 0;
    for (let i = 0; i < n; i++) if ((other[i] !== 0) === (x[i] !== 0)) same++;
    expect(same / n).toBeLessThan(0.62); // independent masks agree on 0.7² + 0.3² = 58 %
    const untouched = new Float32Array(10).fill(2);
    ref.dropout(untouched, 10, 0, 1);
    expect(Array.from(untouched)).toEqual(new Array(10).fill(2));
    expect(() => ref.dropout(x, 1, 1, 0)).toThrow(/rate/);
    expect(() => ref.dropout(x, 1, 0.5, -1)).toThrow(/seed/);
  });

  it("causal attention: a hand-worked two-slot head, masks, rows outside the sequences", () => {
    // One head of width 1, len 2: slot 0 sees itself only; slot 1 mixes both by softmax(q1·k).
    const qkv = Float32Array.from([/* slot 0: q k v */ 0.5, 1, 3, /* slot 1 */ 2, -1, 5]);
    const probs = new Float32Array(4);
    const out = new Float32Array(2);
    ref.causalAttentionForward(qkv, 1, 2, 1, 1, Int32Array.of(0, 2), 0, 0, probs, out);
    const s0 = 2 * 1;
    const s1 = 2 * -1;
    const p0 = Math.exp(s0) / (Math.exp(s0) + Math.exp(s1));
    expect(Array.from(probs)).toEqual([1, 0, Math.fround(p0), Math.fround(1 - p0)]);
    expect(out[0]).toBeCloseTo(3, 6);
    expect(out[1]).toBeCloseTo(p0 * 3 + (1 - p0) * 5, 5);
    // Length 1: row 1 belongs to no sequence and is left as it was; probability row 1 is 0.
    out.fill(-7);
    ref.causalAttentionForward(qkv, 1, 2, 1, 1, Int32Array.of(0, 1), 0, 0, probs, out);
    expect(Array.from(probs)).toEqual([1, 0, 0, 0]);
    expect(Array.from(out)).toEqual([3, -7]);
    expect(() => ref.causalAttentionForward(qkv, 1, 2, 1, 1, Int32Array.of(0, 3), 0, 0, probs, out)).toThrow(
      /sequence 0 spans offsets 0\.\.3/,
    );
  });

  it("causal attention: rows are distributions over slots 0..i, out = dropout(p)·v", () => {
    const rng = new Rng(2);
    const [batch, len, heads, hd] = [3, 9, 2, 4];
    const d = heads * hd;
    const lengths = [9, 4, 0];
    const offsets = offsetsOf(lengths);
    const qkv = randomArray(rng, 13 * 3 * d);
    const probs = new Float32Array(batch * heads * len * len).fill(Number.NaN);
    const out = new Float32Array(13 * d).fill(Number.NaN);
    const rate = 0.25;
    const seed = 77;
    ref.causalAttentionForward(qkv, batch, len, heads, hd, offsets, rate, seed, probs, out);
    const { floor } = Math;
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < len; i++) {
          const p = ((b * heads + h) * len + i) * len;
          let sum = 0;
          for (let j = 0; j < len; j++) {
            if (j > i || i >= lengths[b]) expect(probs[p + j]).toBe(0);
            sum += probs[p + j];
          }
          expect(sum).toBeCloseTo(i < lengths[b] ? 1 : 0, 5);
          if (i >= lengths[b]) continue;
          for (let c = 0; c < hd; c++) {
            let o = 0;
            for (let j = 0; j <= i; j++) {
              const keep = dropoutHash(seed, p + j) >= floor(rate * 2 ** 32) ? 1 / (1 - rate) : 0;
              o += probs[p + j] * keep * qkv[(offsets[b] + j) * 3 * d + 2 * d + h * hd + c];
            }
            expect(out[(offsets[b] + i) * d + h * hd + c]).toBeCloseTo(o, 5);
          }
        }
      }
    }
  });
});

describe("gradient checks: Transformer kernels and layers", () => {
  it("layer norm: dx (written and accumulated), dgamma, dbeta", () => {
    const rng = new Rng(3);
    const [rows, dim] = [4, 7];
    const ln = new LayerNorm(ref, "ln", dim, 8, 1e-5);
    ln.gamma.data.set(randomArray(rng, dim, 0.5).map((v) => 1 + v));
    ln.beta.data.set(randomArray(rng, dim, 0.3));
    const x = randomArray(rng, rows * dim, 2);
    const r = randomArray(rng, rows * dim);
    const loss = () => dot(r, ln.forward(x, rows), rows * dim);
    loss();
    const dx = new Float32Array(rows * dim);
    ln.backward(x, r, rows, dx, false);
    checkGradient("x", x, dx.slice(), loss, sampleIndices(rng, rows * dim));
    checkGradient("gamma", ln.gamma.data, ln.gamma.grad.slice(), loss, sampleIndices(rng, dim));
    checkGradient("beta", ln.beta.data, ln.beta.grad.slice(), loss, sampleIndices(rng, dim));
    const acc = new Float32Array(rows * dim).fill(1);
    ln.backward(x, r, rows, acc, true);
    for (let i = 0; i < rows * dim; i++) expect(acc[i]).toBeCloseTo(1 + dx[i], 5);
  });

  it("gelu backward", () => {
    const rng = new Rng(4);
    const n = 40;
    const x = randomArray(rng, n, 2);
    const r = randomArray(rng, n);
    const out = new Float32Array(n);
    const loss = () => {
      ref.gelu(x, out, n);
      return dot(r, out, n);
    };
    const g = r.slice();
    ref.geluBackward(x, g, n);
    checkGradient("x", x, g, loss, sampleIndices(rng, n));
  });

  for (const rate of [0, 0.3]) {
    it(`causal attention backward, sequences of 6, 2 and 0 slots${rate > 0 ? ", dropout" : ""}`, () => {
      const rng = new Rng(5);
      const [batch, len, heads, hd] = [3, 6, 2, 3];
      const d = heads * hd;
      const offsets = offsetsOf([6, 2, 0]);
      const rows = 9; // the last row belongs to no sequence
      const qkv = randomArray(rng, rows * 3 * d);
      const probs = new Float32Array(batch * heads * len * len);
      const out = new Float32Array(rows * d);
      const r = randomArray(rng, rows * d);
      const loss = () => {
        ref.causalAttentionForward(qkv, batch, len, heads, hd, offsets, rate, 99, probs, out);
        return dot(r, out, out.length);
      };
      loss();
      const grad = new Float32Array(qkv.length).fill(7);
      ref.causalAttentionBackward(qkv, batch, len, heads, hd, offsets, rate, 99, probs, r, grad);
      checkGradient("qkv", qkv, grad.slice(0, 8 * 3 * d), loss, sampleIndices(rng, 8 * 3 * d, 60));
      expect(Array.from(grad.subarray(8 * 3 * d))).toEqual(new Array(3 * d).fill(7));
    });
  }

  it("CausalSelfAttention layer: projections and input", () => {
    const rng = new Rng(6);
    const [n, len, dim] = [2, 5, 6];
    const attn = new CausalSelfAttention(ref, "attn", dim, 2, len, 3, rng, new Rng(60), 0);
    const offsets = offsetsOf([5, 3]);
    const rows = 8;
    const x = randomArray(rng, rows * dim);
    const r = randomArray(rng, rows * dim);
    const loss = () => dot(r, attn.forward(x, rows, n, offsets, false), rows * dim);
    loss();
    const dx = attn.backward(x, r, rows).slice(0, rows * dim);
    checkGradient("x", x, dx, loss, sampleIndices(rng, x.length));
    for (const p of attn.parameters()) {
      checkGradient(p.name, p.data, p.grad.slice(), loss, sampleIndices(rng, p.size, 12));
    }
  });
});

/** Loss Σ r·encoder(x) at fixed dropout masks (the dropout stream is rewound before each forward). */
function encoderLoss(
  enc: TransformerEncoder,
  x: Float32Array,
  n: number,
  lengths: Int32Array,
  r: Float32Array,
  training: boolean,
): () => number {
  const state = enc.dropoutRng.getState();
  return () => {
    enc.dropoutRng.setState(state);
    return dot(r, enc.forward(x, n, lengths, training), n * enc.maxLen * enc.dim);
  };
}

function checkEncoder(kernels: Kernels, config: TransformerEncoderConfig, seed: number): void {
  const rng = new Rng(seed);
  const n = 3;
  const enc = new TransformerEncoder(kernels, "seq", config, 4, rng);
  for (const p of enc.parameters()) {
    // Non-trivial gains and biases so their gradients are exercised away from the initial values.
    if (p.name.endsWith(".gamma")) p.data.set(randomArray(rng, p.size, 0.3).map((v) => 1 + v));
    if (p.name.endsWith(".bias") || p.name.endsWith(".beta")) p.data.set(randomArray(rng, p.size, 0.2));
  }
  const size = n * config.maxLen * config.dim;
  const x = randomArray(rng, size);
  const lengths = Int32Array.of(config.maxLen, 2, 0);
  const r = randomArray(rng, size);
  const loss = encoderLoss(enc, x, n, lengths, r, true);
  loss();
  const dx = enc.backward(r.slice(), n).slice();
  const relu = config.activation === "relu";
  const pattern = relu
    ? () => Array.from(enc.blocks[0].ffn1.output.subarray(0, size), (v) => (v > 0 ? 1 : 0)).join("")
    : undefined;
  const valid = Array.from({ length: size }, (_, i) => i).filter((i) => {
    const row = Math.floor(i / config.dim);
    return row % config.maxLen < lengths[Math.floor(row / config.maxLen)];
  });
  const sampled = sampleIndices(rng, valid.length, 30).map((i) => valid[i]);
  checkGradient("x", x, dx, loss, sampled, pattern, 2e-3);
  for (let i = 0; i < size; i++) if (!valid.includes(i)) expect(dx[i]).toBe(0);
  const params: Parameter[] = enc.parameters();
  expect(params.map((p) => p.name)).toContain("seq.pos");
  expect(params.map((p) => p.name)).toContain("seq.b1.attn.qkv.weight");
  for (const p of params) {
    const grad = p.grad.slice();
    if (p.name === "seq.pos") {
      // Slots past the longest sequence receive no gradient; check the used rows.
      checkGradient(
        p.name,
        p.data,
        grad,
        loss,
        sampleIndices(rng, config.maxLen * config.dim, 10),
        pattern,
        2e-3,
      );
      continue;
    }
    checkGradient(p.name, p.data, grad, loss, sampleIndices(rng, p.size, 6), pattern, 2e-3);
  }
}

describe("gradient check: the whole TransformerEncoder (2 blocks, dropout on)", () => {
  const base = { dim: 8, heads: 2, blocks: 2, maxLen: 5, ffnDim: 12, dropout: 0.2, attentionDropout: 0.1 };
  it("GELU, reference kernels", () => checkEncoder(ref, { ...base, activation: "gelu" }, 7));
  it("ReLU, reference kernels", () => checkEncoder(ref, { ...base, activation: "relu" }, 8));
  it.skipIf(native === null)("GELU, native kernels", () =>
    checkEncoder(native as Kernels, { ...base, activation: "gelu" }, 9),
  );
  it.skipIf(native === null)("ReLU, native kernels", () =>
    checkEncoder(native as Kernels, { ...base, activation: "relu" }, 10),
  );
});

describe("TransformerEncoder behaviour", () => {
  const config: TransformerEncoderConfig = { dim: 16, heads: 2, blocks: 2, maxLen: 10, dropout: 0.1 };
  const backends = [ref, ...(native === null ? [] : [native])];

  for (const kernels of backends) {
    it(`slot i depends only on slots ≤ i of its own sequence (${kernels.backend})`, () => {
      const rng = new Rng(10);
      const n = 3;
      const enc = new TransformerEncoder(kernels, "seq", config, n, rng);
      const size = n * config.maxLen * config.dim;
      const x = randomArray(rng, size);
      const lengths = Int32Array.of(10, 6, 0);
      const before = enc.forward(x, n, lengths, false).slice();
      const { dim, maxLen } = config;
      // Padded rows are exactly zero; so is the whole empty sequence.
      for (let row = 6; row < maxLen; row++)
        for (let c = 0; c < dim; c++) expect(before[(maxLen + row) * dim + c]).toBe(0);
      for (let i = 2 * maxLen * dim; i < size; i++) expect(before[i]).toBe(0);
      for (const slot of [0, 3, 9]) {
        const x2 = x.slice();
        // A random change (a constant shift of a row would vanish in the layer norms).
        for (let c = 0; c < dim; c++) x2[slot * dim + c] += rng.normal();
        // Padding inputs must not matter either.
        for (let c = 0; c < dim; c++) x2[(maxLen + 7) * dim + c] = 1e3;
        const after = enc.forward(x2, n, lengths, false);
        for (let row = 0; row < n * maxLen; row++) {
          const changed = row < maxLen && row >= slot;
          let diff = 0;
          for (let c = 0; c < dim; c++)
            diff = Math.max(diff, Math.abs(after[row * dim + c] - before[row * dim + c]));
          if (changed) expect(diff, `slot ${slot} → row ${row}`).toBeGreaterThan(1e-4);
          else expect(diff, `slot ${slot} → row ${row}`).toBe(0);
        }
      }
    });
  }

  it("lastOutput and backwardLast read and seed the last valid slot", () => {
    const rng = new Rng(11);
    const n = 3;
    const enc = new TransformerEncoder(ref, "seq", config, n, rng);
    const { dim, maxLen } = config;
    const x = randomArray(rng, n * maxLen * dim);
    const lengths = Int32Array.of(4, 10, 0);
    const y = enc.forward(x, n, lengths, false);
    const ld = dim + 3;
    const last = new Float32Array(n * ld).fill(Number.NaN);
    enc.lastOutput(n, last, ld, 2);
    expect(Array.from(last.subarray(2, 2 + dim))).toEqual(Array.from(y.subarray(3 * dim, 4 * dim)));
    expect(Array.from(last.subarray(ld + 2, ld + 2 + dim))).toEqual(
      Array.from(y.subarray((maxLen + 9) * dim, (maxLen + 10) * dim)),
    );
    expect(Array.from(last.subarray(2 * ld + 2, 2 * ld + 2 + dim))).toEqual(new Array(dim).fill(0));
    const gLast = randomArray(rng, n * ld);
    const viaLast = enc.backwardLast(gLast, ld, 2, n).slice();
    const gradsLast = enc.parameters().map((p) => p.grad.slice());
    for (const p of enc.parameters()) p.zeroGrad();
    const full = new Float32Array(n * maxLen * dim);
    full.set(gLast.subarray(2, 2 + dim), 3 * dim);
    full.set(gLast.subarray(ld + 2, ld + 2 + dim), (maxLen + 9) * dim);
    enc.forward(x, n, lengths, false);
    expectSame(enc.backward(full, n), viaLast, "dx");
    enc.parameters().forEach((p, i) => expectSame(p.grad, gradsLast[i], p.name));
  });

  it("dropout: off at inference, fresh masks per training step, replayable from dropoutRng", () => {
    const rng = new Rng(12);
    const n = 2;
    const enc = new TransformerEncoder(ref, "seq", config, n, rng);
    const x = randomArray(rng, n * config.maxLen * config.dim);
    const lengths = Int32Array.of(10, 5);
    const a = enc.forward(x, n, lengths, false).slice();
    expectSame(enc.forward(x, n, lengths, false), a, "inference is deterministic");
    const state = enc.dropoutRng.getState();
    const t1 = enc.forward(x, n, lengths, true).slice();
    const t2 = enc.forward(x, n, lengths, true).slice();
    expect(maxAbs(t1.map((v, i) => v - t2[i]))).toBeGreaterThan(1e-3);
    expect(maxAbs(t1.map((v, i) => v - a[i]))).toBeGreaterThan(1e-3);
    enc.dropoutRng.setState(state);
    expectSame(enc.forward(x, n, lengths, true), t1, "replayed masks");
  });

  it("rejects bad configuration and input with the field named", () => {
    const rng = new Rng(13);
    expect(() => new TransformerEncoder(ref, "s", { ...config, heads: 3 }, 2, rng)).toThrow(
      /multiple of heads/,
    );
    expect(() => new TransformerEncoder(ref, "s", { ...config, maxLen: 0 }, 2, rng)).toThrow(/maxLen/);
    expect(() => new TransformerEncoder(ref, "s", { ...config, dropout: 1 }, 2, rng)).toThrow(/dropout/);
    const enc = new TransformerEncoder(ref, "s", config, 2, rng);
    const x = new Float32Array(2 * config.maxLen * config.dim);
    expect(() => enc.forward(x, 3, Int32Array.of(1, 1, 1), false)).toThrow(/batch 3 exceeds/);
    expect(() => enc.forward(x, 2, Int32Array.of(1, 11), false)).toThrow(/lengths\[1\] = 11/);
    expect(() => enc.forward(x.subarray(0, 5), 2, Int32Array.of(1, 1), false)).toThrow(/x holds 5/);
  });

  it("learns a task that needs attention: recall the first watch at every later slot", () => {
    // 6 tokens with fixed random embeddings; the target at slot i is the embedding of slot 0's token,
    // scored by a dot product against every token (softmax cross-entropy over the 6).
    const rng = new Rng(14);
    const kernels = native ?? ref;
    const vocab = 6;
    const { dim, maxLen } = config;
    const n = 32;
    const enc = new TransformerEncoder(kernels, "seq", { ...config, dropout: 0 }, n, rng);
    const table = randomArray(rng, vocab * dim);
    const opt = new Adam(kernels, enc.parameters(), { lr: 3e-3 });
    const x = new Float32Array(n * maxLen * dim);
    const lengths = new Int32Array(n).fill(maxLen);
    const logits = new Float32Array(n * maxLen * vocab);
    const labels = new Int32Array(n * maxLen);
    const grad = new Float32Array(n * maxLen * dim);
    const accuracy = (): number => {
      let hit = 0;
      for (let row = 0; row < n * maxLen; row++) {
        let best = 0;
        for (let t = 1; t < vocab; t++) if (logits[row * vocab + t] > logits[row * vocab + best]) best = t;
        if (best === labels[row]) hit++;
      }
      return hit / (n * maxLen);
    };
    let first = 0;
    let last = 0;
    for (let step = 0; step < 150; step++) {
      for (let b = 0; b < n; b++) {
        const t0 = rng.nextInt(vocab);
        for (let i = 0; i < maxLen; i++) {
          const t = i === 0 ? t0 : rng.nextInt(vocab);
          x.set(table.subarray(t * dim, (t + 1) * dim), (b * maxLen + i) * dim);
          labels[b * maxLen + i] = t0;
        }
      }
      const y = enc.forward(x, n, lengths, true);
      kernels.gemm(false, true, n * maxLen, vocab, dim, 1, y, dim, table, dim, 0, logits, vocab);
      const acc = accuracy();
      if (step === 0) first = acc;
      last = acc;
      kernels.softmaxCrossEntropy(logits, n * maxLen, vocab, labels, 1 / (n * maxLen), null);
      kernels.gemm(false, false, n * maxLen, dim, vocab, 1, logits, vocab, table, dim, 0, grad, dim);
      enc.backward(grad, n);
      opt.step();
    }
    expect(first).toBeLessThan(0.5);
    expect(last).toBeGreaterThan(0.95);
  });
});

const LEVELS: NativeSimdInfo["level"][] = ["portable", "avx2", "avx512"];

describe.skipIf(native === null)("native Transformer kernels match the reference", () => {
  const nat = native as Kernels;
  const best = native === null ? "portable" : nativeSimdInfo().best;
  const levels = LEVELS.slice(0, LEVELS.indexOf(best) + 1);
  const initialThreads = native === null ? 1 : nativeThreads();
  afterAll(() => {
    setNativeSimdLevel(best);
    setNativeThreads(initialThreads);
  });
  const runs = levels.flatMap((level) =>
    (level === best ? [1, 2] : [2]).map((threads) => [level, threads] as const),
  );

  for (const [level, threads] of runs) {
    it(`layer norm forward/backward, gelu, dropout, addInPlace (${level}, ${threads} thread(s))`, () => {
      setNativeSimdLevel(level);
      setNativeThreads(threads);
      const rng = new Rng(20);
      for (const [rows, dim] of [
        [1, 1],
        [7, 5],
        [3, 16],
        [300, 64],
        [1200, 100],
      ]) {
        const n = rows * dim;
        const x = randomArray(rng, n, 2).map((v, i) => v + (i % 3));
        const gamma = randomArray(rng, dim);
        const beta = randomArray(rng, dim);
        const outs = [new Float32Array(n), new Float32Array(n)];
        const means = [new Float32Array(rows), new Float32Array(rows)];
        const rstds = [new Float32Array(rows), new Float32Array(rows)];
        [ref, nat].forEach((k, s) =>
          k.layerNormForward(x, rows, dim, gamma, beta, 1e-5, outs[s], means[s], rstds[s]),
        );
        const what = `${rows}x${dim}`;
        expectNear(outs[1], outs[0], 2e-5, `layerNormForward ${what}`);
        expectNear(means[1], means[0], 1e-5, `mean ${what}`);
        expectNear(rstds[1], rstds[0], 1e-5, `rstd ${what}`);
        const dy = randomArray(rng, n);
        for (const accumulate of [false, true]) {
          const start = randomArray(rng, n);
          const dxs = [start.slice(), start.slice()];
          const gg = [randomArray(rng, dim), new Float32Array(dim)];
          gg[1].set(gg[0]);
          const gb = [randomArray(rng, dim), new Float32Array(dim)];
          gb[1].set(gb[0]);
          [ref, nat].forEach((k, s) =>
            k.layerNormBackward(
              x,
              rows,
              dim,
              gamma,
              means[0],
              rstds[0],
              dy,
              dxs[s],
              accumulate,
              gg[s],
              gb[s],
            ),
          );
          // Relative to the size of the terms: with dim 1 the exact dx is 0 and only rounding remains.
          const termScale = maxAbs(rstds[0]) * maxAbs(dy) * maxAbs(gamma) + maxAbs(start);
          const ratio = worstRatio(dxs[1], dxs[0], 2e-5 * termScale, 2e-5);
          expect(ratio, `layerNormBackward dx ${what} acc=${accumulate}`).toBeLessThanOrEqual(1);
          expectNear(gg[1], gg[0], 1e-4, `dgamma ${what}`);
          expectNear(gb[1], gb[0], 1e-4, `dbeta ${what}`);
        }
      }
      const nan = new Float32Array(3).fill(Number.NaN);
      nat.gelu(Float32Array.of(Number.NaN, 1, Number.NaN), nan, 3);
      expect([Number.isNaN(nan[0]), Number.isNaN(nan[1]), Number.isNaN(nan[2])]).toEqual([true, false, true]);
      for (const n of [1, 7, 16, 33, 1000, 70_001]) {
        const x = randomArray(rng, n, 3);
        if (n > 10) x.set([0, -0, 1e-8, -1e-8, 9, -9, 20, -20, 1e5, -1e5], 1);
        const outs = [new Float32Array(n), new Float32Array(n)];
        ref.gelu(x, outs[0], n);
        nat.gelu(x, outs[1], n);
        expect(worstRatio(outs[1], outs[0], 1e-6, 1e-5), `gelu n=${n}`).toBeLessThanOrEqual(1);
        const inPlace = x.slice();
        nat.gelu(inPlace, inPlace, n);
        expectSame(inPlace, outs[1], `gelu in place n=${n}`);
        const g = randomArray(rng, n);
        const gs = [g.slice(), g.slice()];
        ref.geluBackward(x, gs[0], n);
        nat.geluBackward(x, gs[1], n);
        // Relative to the incoming gradient: GELU′ crosses 0 near x = −0.75, where a relative bound
        // on the product would demand exact cancellation.
        const gScale = g.map(Math.abs);
        expect(worstRatio(gs[1], gs[0], 1e-7, 2e-5, gScale), `geluBackward n=${n}`).toBeLessThanOrEqual(1);
        for (const rate of [0, 0.1, 0.5]) {
          const ds = [g.slice(), g.slice()];
          ref.dropout(ds[0], n, rate, 4242 + n);
          nat.dropout(ds[1], n, rate, 4242 + n);
          expectSame(ds[1], ds[0], `dropout n=${n} rate=${rate}`);
        }
        const sum = [g.slice(), g.slice()];
        ref.addInPlace(x, sum[0], n);
        nat.addInPlace(x, sum[1], n);
        expectSame(sum[1], sum[0], `addInPlace n=${n}`);
      }
    });

    it(`causal attention forward/backward with padding and dropout (${level}, ${threads} thread(s))`, () => {
      setNativeSimdLevel(level);
      setNativeThreads(threads);
      const rng = new Rng(21);
      const shapes: [number, number, number, number, number[]][] = [
        [1, 1, 1, 1, [1]],
        [3, 7, 2, 4, [0, 7, 3]],
        [2, 50, 2, 32, [50, 1]],
        // Large enough for one task per (sequence, head) on the pool.
        [40, 20, 2, 16, Array.from({ length: 40 }, (_, b) => (b * 7) % 21)],
      ];
      for (const [batch, len, heads, hd, lens] of shapes) {
        const d = heads * hd;
        // Packed from row 1, one spare row after: rows outside the sequences must stay as they were.
        const offsets = offsetsOf(lens, 1);
        const rows = offsets[batch] + 1;
        const qkv = randomArray(rng, rows * 3 * d);
        const gradOut = randomArray(rng, rows * d);
        for (const rate of [0, 0.2]) {
          const what = `${batch}x${len} h${heads}x${hd} rate ${rate}`;
          const probs = [0, 1].map(() => new Float32Array(batch * heads * len * len).fill(Number.NaN));
          const out = [0, 1].map(() => new Float32Array(rows * d).fill(7));
          const grad = [0, 1].map(() => new Float32Array(rows * 3 * d).fill(7));
          [ref, nat].forEach((k, s) => {
            k.causalAttentionForward(qkv, batch, len, heads, hd, offsets, rate, 5, probs[s], out[s]);
            k.causalAttentionBackward(
              qkv,
              batch,
              len,
              heads,
              hd,
              offsets,
              rate,
              5,
              probs[0],
              gradOut,
              grad[s],
            );
          });
          expect(worstRatio(probs[1], probs[0], 1e-6, 1e-4), `probs ${what}`).toBeLessThanOrEqual(1);
          expectNear(out[1], out[0], 1e-4, `out ${what}`);
          expectNear(grad[1], grad[0], 1e-4, `gradQkv ${what}`);
        }
      }
    });
  }

  it("attention and layer norm give bit-identical results with 1 and 2 threads", () => {
    setNativeSimdLevel(best);
    const rng = new Rng(22);
    const [batch, len, heads, hd] = [64, 30, 2, 32];
    const d = heads * hd;
    const qkv = randomArray(rng, batch * len * 3 * d);
    const offsets = offsetsOf(Array.from({ length: batch }, (_, b) => 1 + (b % len)));
    const gradOut = randomArray(rng, batch * len * d);
    const results = [1, 2].map((threads) => {
      setNativeThreads(threads);
      const probs = new Float32Array(batch * heads * len * len);
      const out = new Float32Array(batch * len * d);
      const grad = new Float32Array(batch * len * 3 * d);
      nat.causalAttentionForward(qkv, batch, len, heads, hd, offsets, 0.1, 3, probs, out);
      nat.causalAttentionBackward(qkv, batch, len, heads, hd, offsets, 0.1, 3, probs, gradOut, grad);
      const ln = new Float32Array(batch * len * d);
      nat.layerNormForward(
        out,
        batch * len,
        d,
        new Float32Array(d).fill(1),
        new Float32Array(d),
        1e-6,
        ln,
        new Float32Array(batch * len),
        new Float32Array(batch * len),
      );
      return [probs, out, grad, ln];
    });
    results[0].forEach((a, i) => expectSame(results[1][i], a, `result ${i}`));
  });

  it("a training step of the whole encoder is bit-identical with 1 and 2 threads", () => {
    setNativeSimdLevel(best);
    const config: TransformerEncoderConfig = { dim: 64, heads: 2, blocks: 2, maxLen: 20, dropout: 0.1 };
    const n = 32; // large enough for the parallel paths of attention, layer norm and the GEMMs
    const data = new Rng(23);
    const x = randomArray(data, n * 20 * 64);
    const g = randomArray(data, n * 20 * 64);
    const lengths = Int32Array.from({ length: n }, (_, b) => 1 + (b % 20));
    const runs = [1, 2].map((threads) => {
      setNativeThreads(threads);
      const enc = new TransformerEncoder(nat, "seq", config, n, new Rng(24));
      const y = enc.forward(x, n, lengths, true).slice();
      const dx = enc.backward(g.slice(), n).slice();
      return [y, dx, ...enc.parameters().map((p) => p.grad)];
    });
    runs[0].forEach((a, i) => expectSame(runs[1][i], a, `tensor ${i}`));
  });

  it("rejects bad arguments with the argument named", () => {
    const f = new Float32Array(8);
    expect(() => nat.dropout(f, 8, 1, 0)).toThrow(/rate/);
    expect(() => nat.dropout(f, 8, 0.5, 2 ** 32)).toThrow(/seed/);
    expect(() => nat.dropout(f, 9, 0.5, 1)).toThrow(/x holds 8/);
    expect(() =>
      nat.causalAttentionForward(new Float32Array(6), 1, 2, 1, 1, Int32Array.of(0, 3), 0, 0, f, f),
    ).toThrow(/sequence 0 spans offsets 0\.\.3/);
    expect(() =>
      nat.causalAttentionForward(new Float32Array(6), 2, 2, 1, 1, Int32Array.of(0, 2, 1), 0, 0, f, f),
    ).toThrow(/sequence 1 spans/);
    expect(() =>
      nat.causalAttentionForward(new Float32Array(6), 1, 4, 1, 1, Int32Array.of(0, 3), 0, 0, f, f),
    ).toThrow(/qkv holds 6/);
    expect(() => nat.layerNormForward(f, 2, 4, f, f, 0, f, f, f)).toThrow(/eps/);
  });
});
