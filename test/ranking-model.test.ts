/**
 * The ranker: finite-difference gradient check of the whole network (input layers with the
 * broadcast query part, tower, weighted logistic loss), learning a planted signal on synthetic
 * impressions, determinism for a seed, and the save/load round trip with corruption refused.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { referenceKernels } from "../src/engine/kernels/reference.js";
import { weightedLogisticLoss } from "../src/engine/layers/losses.js";
import { Rng } from "../src/engine/rng.js";
import { EngagementLookup, ImpressionLog, ItemTimeline } from "../src/features/ranking-context.js";
import { RankingFeatures, type RankingInput } from "../src/features/ranking-features.js";
import { resolveRankerConfig } from "../src/models/ranking/config.js";
import { RankingNetwork } from "../src/models/ranking/network.js";
import { Ranker } from "../src/models/ranking/ranker.js";
import type { QueryBatch } from "../src/eval/types.js";
import type { CandidateModel } from "../src/models/candidates/model.js";
import { TwoStage } from "../src/models/ranking/two-stage.js";
import type { FittedSource } from "../src/models/sources/source.js";
import { naivePairLoss, plantedImpressions, rankingDataset } from "./ranking-fixtures.js";

const data = rankingDataset(3);
const timeline = ItemTimeline.fromDataset(data);
const lookup = new EngagementLookup(data);
const users = Array.from({ length: 40 }, (_, u) => u);
const trainSet = plantedImpressions(data, 1, 3, 16, users.slice(0, 30));
const validSet = plantedImpressions(data, 2, 1, 16, users.slice(30));
const input = (set: typeof trainSet): RankingInput => ({
  set,
  historyWeights: lookup.historyWeights(set),
  impressions: ImpressionLog.fromLists(40, [trainSet]),
});
const train = input(trainSet);
const valid = input(validSet);
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("ranking network", () => {
  it("infers the logits forward() computes (query part of the first layer once per list)", () => {
    const config = resolveRankerConfig({ network: { hidden: [6, 4] }, features: { maxDim: 4 } });
    const features = RankingFeatures.fit(data, timeline, train, config.features);
    const net = new RankingNetwork(
      referenceKernels,
      config,
      features.schema,
      { lists: 4, candidates: 64 },
      new Rng(6),
    );
    const batch = features.allocBatch(4, 64);
    features.clear(batch);
    for (let l = 0; l < 3; l++) features.append(train, l, batch);
    const want = net.forward(batch, false).slice();
    const got = net.infer(batch).slice();
    expect(got.length).toBe(batch.size);
    expect(new Set(want).size).toBeGreaterThan(batch.size / 2);
    for (let c = 0; c < want.length; c++) expect(got[c]).toBeCloseTo(want[c], 5);
  });

  it("has analytic gradients that match central differences", () => {
    const config = resolveRankerConfig({ network: { hidden: [6, 4] }, features: { maxDim: 4 } });
    const features = RankingFeatures.fit(data, timeline, train, config.features);
    const net = new RankingNetwork(
      referenceKernels,
      config,
      features.schema,
      { lists: 4, candidates: 64 },
      new Rng(5),
    );
    const batch = features.allocBatch(4, 64);
    features.clear(batch);
    for (let l = 0; l < 3; l++) features.append(train, l, batch);
    const n = batch.size;
    const grad = new Float32Array(n);
    const loss = () => {
      const logits = net.forward(batch, false);
      let s = 0;
      // Sum in float64 of the same mean loss the kernel computes.
      const copy = Float32Array.from(logits.subarray(0, n));
      s = weightedLogisticLoss(referenceKernels, copy, batch.labels, batch.weights, n, grad);
      return s;
    };
    for (const p of net.parameters()) p.grad.fill(0);
    net.lossAndGradients(batch);
    let checked = 0;
    for (const p of net.parameters()) {
      const analytic = Float32Array.from(p.grad);
      let scale = 0;
      for (const g of analytic) scale = Math.max(scale, Math.abs(g));
      if (scale === 0) continue;
      const rng = new Rng(checked + 1);
      for (let k = 0; k < 6; k++) {
        // Prefer entries with a gradient (embedding rows the batch touched).
        let i = rng.nextInt(p.size);
        for (let tries = 0; tries < 50 && analytic[i] === 0; tries++) i = rng.nextInt(p.size);
        const orig = p.data[i];
        const eps = 1e-2;
        p.data[i] = orig + eps;
        const up = loss();
        p.data[i] = orig - eps;
        const down = loss();
        p.data[i] = orig;
        const numeric = (up - down) / (2 * eps);
        expect(Math.abs(numeric - analytic[i]), `${p.name}[${i}]`).toBeLessThanOrEqual(
          0.05 * Math.abs(numeric) + 0.01 * scale + 1e-5,
        );
        checked++;
      }
    }
    // Tables (item, genre, year, demographics) and every tower layer were checked.
    expect(checked).toBeGreaterThanOrEqual(6 * 8);
  });
});

describe("Ranker", () => {
  const config = {
    network: { hidden: [32] },
    train: { epochs: 8, patience: 8, lr: 3e-3, listsPerBatch: 8, negativesPerList: 8 },
  };

  it("learns the planted signal: held-out pair loss far below chance and below source b's order", async () => {
    const ranker = await Ranker.fit(data, timeline, train, {
      config,
      seed: 1,
      valid,
      validLoss: naivePairLoss,
    });
    const scores = ranker.score(valid);
    const loss = naivePairLoss(validSet, scores);
    const bOrder = Float32Array.from(
      { length: validSet.items.length },
      (_, c) => -validSet.sourceRanks[c * 2 + 1] || -99,
    );
    expect(loss).toBeLessThan(0.15);
    expect(loss).toBeLessThan(naivePairLoss(validSet, bOrder) - 0.2);
    expect(ranker.summary?.bestEpoch).toBeGreaterThan(0);
    expect(ranker.summary?.history.length).toBeGreaterThan(0);
  });

  it("is deterministic for a seed and differs across seeds", async () => {
    const short = { ...config, train: { ...config.train, epochs: 2 } };
    const a = (await Ranker.fit(data, timeline, train, { config: short, seed: 4 })).score(valid);
    const b = (await Ranker.fit(data, timeline, train, { config: short, seed: 4 })).score(valid);
    const c = (await Ranker.fit(data, timeline, train, { config: short, seed: 5 })).score(valid);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it("round-trips through a model directory and refuses a corrupted one", async () => {
    const short = { ...config, train: { ...config.train, epochs: 1 } };
    const ranker = await Ranker.fit(data, timeline, train, { config: short, seed: 2 });
    const dir = mkdtempSync(join(tmpdir(), "ranker-"));
    dirs.push(dir);
    const out = join(dir, "model");
    ranker.save(out);
    const loaded = Ranker.load(out, data, timeline);
    expect(Array.from(loaded.score(valid))).toEqual(Array.from(ranker.score(valid)));
    const file = join(out, "tensors.safetensors");
    const bytes = readFileSync(file);
    bytes[bytes.length - 3] ^= 0xff;
    writeFileSync(file, bytes);
    expect(() => Ranker.load(out, data, timeline)).toThrow(/SHA-256/);
  });
});

describe("two-stage scorer", () => {
  it("ranks the impression list by the ranker's logit, then every other item in stage-one order", async () => {
    const short = { network: { hidden: [8] }, train: { epochs: 1, negativesPerList: 4 } };
    const ranker = await Ranker.fit(data, timeline, train, { config: short, seed: 3 });
    const numItems = data.items.ids.length;
    // Stage one: item i scores −i (order 0, 1, 2, ...); sources "a" and "b" propose fixed lists.
    const candidates = {
      numItems,
      scoreRange: (q: QueryBatch, s: number, e: number, out: Float32Array) => {
        for (let k = 0; k < e - s; k++) for (let i = 0; i < numItems; i++) out[k * numItems + i] = -i;
      },
    } as unknown as CandidateModel;
    const fixed = (name: string, items: number[]) =>
      ({
        name,
        topN: (q: QueryBatch, n: number) => ({
          n,
          items: Int32Array.from({ length: q.users.length * n }, (_, j) => items[j % n] ?? -1),
          scores: Float32Array.from({ length: q.users.length * n }, (_, j) =>
            j % n < items.length ? 10 - (j % n) : NaN,
          ),
        }),
        observeEvents: () => undefined,
      }) as unknown as FittedSource;
    const model = new TwoStage(
      candidates,
      [
        { source: fixed("a", [40, 12, 33]), n: 3 },
        { source: fixed("b", [12, 50]), n: 2 },
      ],
      ranker,
      timeline,
      lookup,
      null,
    );
    const query = validSet; // 10 users' queries
    const out = new Float32Array(query.users.length * numItems);
    model.asScorer().score(query, out);
    const set = model.lists(query);
    const logits = ranker.score(model.input(set));
    for (let q = 0; q < query.users.length; q++) {
      const row = Array.from(out.subarray(q * numItems, (q + 1) * numItems));
      const order = row.map((_, i) => i).sort((x, y) => row[y] - row[x]);
      const list = [40, 12, 33, 50];
      const byLogit = [...list].sort(
        (x, y) => logits[set.listOffsets[q] + list.indexOf(y)] - logits[set.listOffsets[q] + list.indexOf(x)],
      );
      expect(order.slice(0, 4)).toEqual(byLogit);
      expect(order.slice(4)).toEqual(
        Array.from({ length: numItems }, (_, i) => i).filter((i) => !list.includes(i)),
      );
    }
  });
});
