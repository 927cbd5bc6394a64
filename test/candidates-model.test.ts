/**
 * CandidateModel on small synthetic MovieLens-format data (all feature groups present): training
 * beats popularity, the same seed gives identical metrics, save/load gives identical scores, an
 * abort keeps the best model, and the library surface (encodeUser, itemVectors, recommend) agrees
 * with the scorer.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../src/data/dataset.js";
import { loadDataset } from "../src/data/load.js";
import { MANIFEST_FILE, ModelFileError } from "../src/engine/model-file/index.js";
import { manifestChecksum } from "../src/engine/model-file/manifest.js";
import { writeSynthetic } from "../src/data/synth.js";
import { evaluate } from "../src/eval/evaluate.js";
import { fitMostPop } from "../src/eval/baselines/most-pop.js";
import { sampleQueries } from "../src/eval/sample-queries.js";
import { splitLoo } from "../src/eval/split-loo.js";
import type { Split } from "../src/eval/types.js";
import type { CandidateConfigInput } from "../src/models/candidates/config.js";
import type { TrainingEvent } from "../src/models/candidates/train.js";
import { CandidateModel } from "../src/models/candidates/model.js";

const small: CandidateConfigInput = {
  network: { depth: 1, outputDim: 32 },
  train: { epochs: 3, batchSize: 128, lr: 0.005 },
  features: { embeddingDim: { item: 32, token: 16 }, recentWatches: { counts: [1, 5] } },
};

let dir: string;
let data: Dataset;
let split: Split;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "wn-cand-"));
  await writeSynthetic(join(dir, "data"), { users: 300, items: 400, events: 15_000, seed: 3 });
  data = await loadDataset(join(dir, "data"));
  split = splitLoo(data);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Best validation NDCG@10 of `model` over MostPop's on the same validation queries. */
function validRatio(model: CandidateModel, on: Split, d: Dataset): number {
  const pop = evaluate(fitMostPop(on.train), on.valid, { numItems: d.items.ids.length }).metrics;
  return (model.summary?.bestValid?.ndcg10 ?? 0) / pop["NDCG@10"];
}

/** validRatio of the `small` model (seed 7) on the synthetic data of `seed` (same sizes as `data`). */
async function popularityRatio(seed: number): Promise<number> {
  const path = join(dir, `data-${seed}`);
  await writeSynthetic(path, { users: 300, items: 400, events: 15_000, seed });
  const d = await loadDataset(path);
  const s = splitLoo(d);
  return validRatio(await CandidateModel.fit(s.train, { config: small, valid: s.valid, seed: 7 }), s, d);
}

const testMetrics = (m: CandidateModel) =>
  evaluate(m.asScorer(), split.test, { numItems: data.items.ids.length, metrics: "loo" }).metrics;

describe("CandidateModel on synthetic data", () => {
  it("learns more than popularity and is deterministic for a seed", async () => {
    const a = await CandidateModel.fit(split.train, { config: small, valid: split.valid, seed: 7 });
    const b = await CandidateModel.fit(split.train, { config: small, valid: split.valid, seed: 7 });
    const ma = testMetrics(a);
    expect(testMetrics(b)).toEqual(ma);
    expect(a.summary?.history.map((h) => h.loss)).toEqual(b.summary?.history.map((h) => h.loss));
    // Selected on validation, the model beats popularity there (test on 300 users is too noisy),
    // by 20% on average over the synthetic data of seeds 1, 2, 3: one draw of 300 users is noisy
    // (with this data, seed 3 alone gives a ratio of 1.00, seeds 1 and 2 give 1.53 and 1.77).
    const ratios = [await popularityRatio(1), await popularityRatio(2), validRatio(a, split, data)];
    expect(
      ratios.reduce((x, y) => x + y) / ratios.length,
      `ratios ${ratios.map((r) => r.toFixed(2))}`,
    ).toBeGreaterThan(1.2);
    expect(a.summary?.bestEpoch).toBeGreaterThan(0);

    // save / load: identical scores
    const modelDir = join(dir, "model");
    a.save(modelDir);
    const loaded = CandidateModel.load(modelDir, split.train);
    expect(testMetrics(loaded)).toEqual(ma);
    expect(loaded.itemVectors()).toEqual(a.itemVectors());
    // A re-signed manifest whose fitted features are not what training wrote: a ModelFileError.
    const manifestPath = join(modelDir, MANIFEST_FILE);
    const m = JSON.parse(readFileSync(manifestPath, "utf8")) as { config: { features: { version: number } } };
    m.config.features.version = 99;
    (m as Record<string, unknown>).manifestSha256 = manifestChecksum(m as Record<string, unknown>);
    const edited = join(dir, "edited");
    cpSync(modelDir, edited, { recursive: true });
    writeFileSync(join(edited, MANIFEST_FILE), JSON.stringify(m));
    expect(() => CandidateModel.load(edited, split.train)).toThrow(ModelFileError);
    expect(() => CandidateModel.load(edited, split.train)).toThrow(/manifest config\.features: .*version 99/);

    // recommend agrees with the scorer and excludes the history
    const q = split.test;
    const recs = a.recommend(q, 5);
    const scores = new Float32Array(q.users.length * a.numItems);
    a.scoreRange(q, 0, q.users.length, scores);
    for (let u = 0; u < 3; u++) {
      const history = new Set(q.historyItems.subarray(q.historyOffsets[u], q.historyOffsets[u + 1]));
      for (let r = 0; r < 5; r++) {
        const item = recs.items[u * 5 + r];
        expect(history.has(item)).toBe(false);
        expect(recs.scores[u * 5 + r]).toBeCloseTo(scores[u * a.numItems + item], 3);
      }
    }
    // user vectors · item vectors + bias = scores
    const users = a.encodeQueries(q);
    const v = a.itemVectors();
    const bias = a.itemBias();
    let dot = bias ? bias[11] : 0;
    for (let c = 0; c < a.userDim; c++) dot += users[c] * v[11 * a.userDim + c];
    expect(dot).toBeCloseTo(scores[11], 3);
  });

  it("stops cleanly on abort and keeps the best epoch", async () => {
    const controller = new AbortController();
    const m = await CandidateModel.fit(split.train, {
      config: { ...small, train: { ...small.train, epochs: 20 } },
      valid: split.valid,
      seed: 2,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.kind === "epoch" && e.epoch === 2) controller.abort();
      },
    });
    expect(m.summary?.stopReason).toBe("interrupted");
    expect(m.summary?.epochs).toBe(2);
    expect(m.summary?.bestEpoch).toBeGreaterThan(0);
  });

  it("reports the softmax that auto chose and loads manifests saved before it was recorded", async () => {
    const events: TrainingEvent[] = [];
    const m = await CandidateModel.fit(split.train, {
      config: { ...small, train: { ...small.train, epochs: 1, fullSoftmaxMaxItems: 100, numNegatives: 50 } },
      seed: 7,
      onProgress: (e) => events.push(e),
    });
    const softmax = {
      requested: "auto",
      used: "sampled",
      reason: `auto: ${m.numItems} items > train.fullSoftmaxMaxItems 100`,
    };
    expect(m.summary?.softmax).toEqual(softmax);
    expect(events[0]).toMatchObject({ kind: "start", softmax });
    expect(events.filter((e) => e.kind === "start")).toHaveLength(1);
    expect(m.network.shape.mode).toBe("sampled");
    // The model config holds the whole typed feature config, with the fit seed for the examples.
    expect(m.config.features.examples.seed).toBe(7);
    expect(m.config.features.recentWatches.counts).toEqual([1, 5]);

    const modelDir = join(dir, "model-sampled");
    m.save(modelDir);
    const path = join(modelDir, MANIFEST_FILE);
    const manifest = JSON.parse(readFileSync(path, "utf8")) as {
      config: { model: { features: unknown } };
      metadata: { summary: Record<string, unknown> };
    } & Record<string, unknown>;
    expect(manifest.metadata.summary.softmax).toEqual(softmax);
    // The shape saved before: the feature input as given, no softmax in the summary.
    manifest.config.model.features = small.features;
    delete manifest.metadata.summary.softmax;
    manifest.manifestSha256 = manifestChecksum(manifest);
    writeFileSync(path, JSON.stringify(manifest));
    const old = CandidateModel.load(modelDir, split.train);
    expect(old.summary?.softmax).toEqual(softmax);
    expect(old.itemVectors()).toEqual(m.itemVectors());
    expect(testMetrics(old)).toEqual(testMetrics(m));
  });

  it("validates on a seeded sample of validUsers queries when asked", async () => {
    const config = { ...small, train: { ...small.train, epochs: 1 } };
    const m = await CandidateModel.fit(split.train, { config, valid: split.valid, validUsers: 60, seed: 7 });
    const h = m.summary?.history[0];
    // One epoch: the final weights are the validated ones, so re-validating reproduces the figures.
    const sample = sampleQueries(split.valid, 60, 7);
    expect(sample.users.length).toBe(60);
    const onSample = m.validate(sample, "loo");
    expect(h?.ndcg10).toBe(onSample.ndcg10);
    expect(h?.hr10).toBe(onSample.hr10);
    // ...which differ from the whole set's (300 users), so the sample was what training scored.
    expect(m.validate(split.valid, "loo")).not.toEqual(onSample);
    expect(m.summary?.bestValid).toEqual(onSample);
    await expect(
      CandidateModel.fit(split.train, { config, valid: split.valid, validUsers: 0 }),
    ).rejects.toThrow(/sample size: expected an integer >= 1, got 0/);
  });

  it("rejects unknown config keys with their path", async () => {
    await expect(
      CandidateModel.fit(split.train, { config: { network: { depht: 2 } } as CandidateConfigInput }),
    ).rejects.toThrow(/^config\.network: expected only the keys depth, widths, .*, got unknown key "depht"$/);
  });
});
