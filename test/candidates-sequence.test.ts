/**
 * The `sequence` feature group end to end: every-position windows cover each example once with a
 * slot strictly before its label; perturbing a user's watch at position q leaves every example
 * whose label is at or before q bit-for-bit unchanged (no leakage — in particular an example never
 * sees its own label) while later examples change; an example's encoder output is the same
 * whether it shares its window (every-position training), runs alone, or is served as a query;
 * and a trained model with the encoder saves, loads and scores identically.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildCandidateFeatures, type CandidateFeatures } from "../src/features/candidate-features.js";
import { splitLoo } from "../src/eval/split-loo.js";
import { evaluate } from "../src/eval/evaluate.js";
import { resolveCandidateModelConfig, type CandidateConfigInput } from "../src/models/candidates/config.js";
import { CandidateModel } from "../src/models/candidates/model.js";
import { randomDataset } from "./features-fixtures.js";

const L = 6;
const input: CandidateConfigInput = {
  features: {
    sequence: { enabled: true, maxLen: L, blocks: 2, heads: 2, dropout: 0.1 },
    embeddingDim: { item: 8, token: 4 },
    recentWatches: { counts: [1, 3] },
  },
  network: { outputDim: 8 },
  train: { batchSize: 64, epochs: 2 },
};
const data = randomDataset(5, 10, 30, 40);

function setup(
  everyPosition: boolean,
  minContext = 0,
): { features: CandidateFeatures; model: CandidateModel } {
  const config = resolveCandidateModelConfig({
    ...input,
    features: { ...input.features, sequence: { ...input.features?.sequence, everyPosition, minContext } },
  });
  const features = buildCandidateFeatures(data, config.features);
  return { features, model: CandidateModel.create(config, features, 3) };
}

/** The concatenated input rows of examples `rows` (in that order), dropout off. */
function inputRows(features: CandidateFeatures, model: CandidateModel, rows: Int32Array): Float32Array[] {
  const set = features.examples();
  const batch = features.allocBatch(64);
  features.fillTrainBatch(set, rows, 0, rows.length, batch);
  const input = model.network.input;
  const x = new Float32Array(rows.length * input.width);
  input.forward(batch, x, false);
  return Array.from(rows, (_, b) => x.slice(b * input.width, (b + 1) * input.width));
}

/** The user with the most training events, and its examples in order. */
function busiestUser(features: CandidateFeatures): { user: number; rows: Int32Array } {
  const set = features.examples();
  let user = 0;
  for (let u = 0; u < features.numUsers; u++) {
    const n = (o: Int32Array, v: number) => o[v + 1] - o[v];
    if (n(features.seqOffsets, u) > n(features.seqOffsets, user)) user = u;
  }
  const rows = Int32Array.from(
    Array.from({ length: set.size }, (_, e) => e).filter((e) => set.user[e] === user),
  );
  return { user, rows };
}

describe("sequence config", () => {
  it("is off by default and checks its relations by path", () => {
    expect(resolveCandidateModelConfig({}).features.sequence.enabled).toBe(false);
    expect(() =>
      resolveCandidateModelConfig({ features: { sequence: { enabled: true, heads: 3 } } }),
    ).toThrow(/config\.features\.sequence\.heads: expected a divisor of embeddingDim\.item \(64\), got 3/);
    expect(() =>
      resolveCandidateModelConfig({
        features: { sequence: { enabled: true }, examples: { mode: "heldout" } },
      }),
    ).toThrow(/config\.features\.sequence\.everyPosition: expected false with examples\.mode "heldout"/);
    expect(() => resolveCandidateModelConfig({ features: { sequence: { maxLen: 0 } } })).toThrow(
      /config\.features\.sequence\.maxLen: expected an integer >= 1, got 0/,
    );
    expect(() =>
      resolveCandidateModelConfig({ features: { sequence: { enabled: true, maxLen: 10, minContext: 11 } } }),
    ).toThrow(
      /config\.features\.sequence\.minContext: expected an integer <= sequence\.maxLen \(10\), got 11/,
    );
    expect(() =>
      resolveCandidateModelConfig({
        features: { sequence: { enabled: true, everyPosition: false, minContext: 5 } },
      }),
    ).toThrow(/config\.features\.sequence\.minContext: expected 0 with sequence\.everyPosition false/);
  });
});

describe("every-position windows", () => {
  it.each([0, L / 2])(
    "cover each example once, each reading a slot strictly before its label (minContext %i)",
    (minContext) => {
      const { features } = setup(true, minContext);
      const set = features.examples();
      const w = set.windows;
      if (w === undefined) throw new Error("no windows with sequence.everyPosition");
      expect(w.first[0]).toBe(0);
      expect(w.first[w.count]).toBe(set.size);
      for (let k = 0; k < w.count; k++) {
        expect(w.end[k] - w.start[k]).toBeLessThanOrEqual(L);
        for (let e = w.first[k]; e < w.first[k + 1]; e++) {
          expect(w.of[e]).toBe(k);
          expect(set.user[e]).toBe(set.user[w.first[k]]);
          const slot = set.pos[e] - 1 - w.start[k];
          // Inputs are positions start .. start + slot = pos − 1: the label's position is never among them.
          expect(slot).toBeGreaterThanOrEqual(set.pos[e] === 0 ? -1 : 0);
          expect(set.pos[e]).toBeLessThanOrEqual(w.end[k]);
          // At least minContext ordered watches, or the whole history when it is shorter.
          expect(slot + 1).toBeGreaterThanOrEqual(Math.min(minContext, set.pos[e]));
        }
      }
      // Several windows per busy user: the sequences are longer than L.
      expect(w.count).toBeGreaterThan(features.numUsers);
      // Consecutive windows of a user overlap exactly when minContext > 1.
      let overlaps = 0;
      for (let k = 1; k < w.count; k++)
        if (set.user[w.first[k]] === set.user[w.first[k - 1]] && w.start[k] < w.end[k - 1]) overlaps++;
      if (minContext > 1) expect(overlaps).toBeGreaterThan(0);
      else expect(overlaps).toBe(0);
    },
  );

  it("with minContext = maxLen every example reads exactly its own last maxLen watches", () => {
    const every = setup(true, L);
    const alone = setup(false);
    const set = every.features.examples();
    const w = set.windows;
    if (w === undefined) throw new Error("no windows");
    for (let e = 0; e < set.size; e++) expect(w.start[w.of[e]]).toBe(Math.max(0, set.pos[e] - L));
    const { rows } = busiestUser(every.features);
    const a = inputRows(every.features, every.model, rows);
    const b = inputRows(alone.features, alone.model, rows);
    const cols = every.model.network.input.sequenceOffset;
    rows.forEach((_, k) => {
      for (let c = 0; c < 8; c++) expect(a[k][cols + c]).toBeCloseTo(b[k][cols + c], 5);
    });
  });
});

describe("no leakage (every-position training)", () => {
  it.each([0, L / 2])(
    "a changed watch at position q changes no example whose label is at or before q (minContext %i)",
    (minContext) => {
      const { features, model } = setup(true, minContext);
      const { user, rows } = busiestUser(features);
      const set = features.examples();
      const base = features.seqOffsets[user];
      const n = features.seqOffsets[user + 1] - base;
      expect(n).toBeGreaterThan(3 * L);
      const before = inputRows(features, model, rows);
      const seqCols = model.network.input.sequenceOffset;
      expect(seqCols).toBeGreaterThan(0);
      for (const q of [L + 2, 2 * L, n - 2]) {
        const old = features.seqItems[base + q];
        features.seqItems[base + q] = (old + 7) % features.numItems;
        try {
          const after = inputRows(features, model, rows);
          let changedLater = 0;
          rows.forEach((e, b) => {
            const p = set.pos[e];
            if (p <= q) expect(after[b], `label ${p}, perturbed ${q}`).toEqual(before[b]);
            else {
              const w = set.windows?.of[e] ?? -1;
              // Its window's inputs (positions start .. p − 1) hold q: its encoder output must change.
              if (q >= (set.windows?.start[w] ?? Infinity)) {
                const seqPart = (x: Float32Array) => x.subarray(seqCols, seqCols + 8).join();
                expect(seqPart(after[b]), `label ${p}, perturbed ${q}`).not.toBe(seqPart(before[b]));
                changedLater++;
              }
            }
          });
          expect(changedLater, `examples after ${q} that saw it`).toBeGreaterThan(0);
        } finally {
          features.seqItems[base + q] = old;
        }
      }
    },
  );
});

describe("one encoder output per example, however it is batched", () => {
  it("window rows at full context = the example alone = the serving query", () => {
    const every = setup(true);
    const alone = setup(false);
    const { user, rows } = busiestUser(every.features);
    const set = every.features.examples();
    const w = set.windows;
    if (w === undefined) throw new Error("no windows");
    const a = inputRows(every.features, every.model, rows);
    const b = inputRows(alone.features, alone.model, rows);
    const cols = every.model.network.input.sequenceOffset;
    const base = every.features.seqOffsets[user];
    let compared = 0;
    rows.forEach((e, k) => {
      const p = set.pos[e];
      if (w.start[w.of[e]] !== Math.max(0, p - L)) return; // shorter context inside its window
      compared++;
      const got = Array.from(a[k].subarray(cols, cols + 8));
      const want = Array.from(b[k].subarray(cols, cols + 8));
      for (let c = 0; c < 8; c++) expect(got[c]).toBeCloseTo(want[c], 5);
      // The same history as a serving query: the user's first p watches.
      const hist = every.features.seqItems.slice(base, base + p);
      const times = every.features.seqTimes.slice(base, base + p);
      const queries = {
        users: Int32Array.of(user),
        times: Float64Array.of(set.time[e]),
        historyOffsets: Int32Array.of(0, p),
        historyItems: hist,
        historyTimes: times,
      };
      const qb = every.features.allocBatch(1);
      every.features.fillQueryBatch(queries, 0, 1, qb);
      const x = new Float32Array(every.model.network.input.width);
      every.model.network.input.forward(qb, x, false);
      for (let c = 0; c < 8; c++) expect(x[cols + c]).toBeCloseTo(got[c], 5);
    });
    expect(compared).toBeGreaterThan(2);
  });
});

describe("a model with the encoder", () => {
  it("trains, and saves / loads to identical scores", async () => {
    const split = splitLoo(data);
    const model = await CandidateModel.fit(split.train, { config: input, valid: split.valid, seed: 2 });
    expect(model.summary?.epochs).toBe(2);
    const names = [...model.network.namedTensors().keys()];
    expect(names).toContain("sequence.pos");
    expect(names.some((n) => n.startsWith("sequence.b1."))).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "wn-seq-"));
    try {
      model.save(join(dir, "m"));
      const loaded = CandidateModel.load(join(dir, "m"), split.train);
      expect(loaded.encodeQueries(split.test)).toEqual(model.encodeQueries(split.test));
      const score = (m: CandidateModel) =>
        evaluate(m.asScorer(), split.test, { numItems: data.items.ids.length }).metrics;
      expect(score(loaded)).toEqual(score(model));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("trains with the sampled softmax (logQ, hit masking) above the full-softmax catalog size", async () => {
    const split = splitLoo(data);
    const model = await CandidateModel.fit(split.train, {
      config: {
        ...input,
        train: { ...input.train, softmax: "auto", fullSoftmaxMaxItems: 10, numNegatives: 12 },
      },
      valid: split.valid,
      seed: 4,
    });
    expect(model.summary?.softmax.used).toBe("sampled");
    for (const h of model.summary?.history ?? []) expect(Number.isFinite(h.loss)).toBe(true);
    expect(model.summary?.history[1].loss).toBeLessThan(model.summary?.history[0].loss ?? 0);
  });
});
