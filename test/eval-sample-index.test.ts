/**
 * Evaluation at scale: the seeded query sample (`sampleQueries`) and evaluation through a
 * retrieval index (`evaluateIndex`): through an exact index it gives the shared evaluate() path's
 * HR/NDCG exactly, through HNSW its recall against exact is reported and the metrics follow; and
 * `watchnext evaluate --sample-users --retrieval hnsw` end to end on small synthetic data.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSynthetic } from "../src/data/synth.js";
import { Rng } from "../src/engine/rng.js";
import { evaluate } from "../src/eval/evaluate.js";
import { sampleQueries, sampleQueryIndices, selectQueries } from "../src/eval/sample-queries.js";
import type { EvaluationReport, QueryBatch, QuerySet, Scorer } from "../src/eval/types.js";
import { evaluateIndex } from "../src/retrieval/evaluate-index.js";
import { ExactIndex } from "../src/retrieval/exact-index.js";
import { HnswIndex } from "../src/retrieval/hnsw-index.js";
import { syntheticVectors } from "../src/retrieval/synthetic-vectors.js";
import { querySet } from "./eval-fixtures.js";

const run = promisify(execFile);
const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));

describe("sampleQueries", () => {
  it("picks a seeded, sorted, distinct sample of the requested size, uniform over the queries", () => {
    const a = sampleQueryIndices(50, 10, 3);
    expect(Array.from(a)).toEqual(Array.from(sampleQueryIndices(50, 10, 3)));
    expect(Array.from(a)).not.toEqual(Array.from(sampleQueryIndices(50, 10, 4)));
    expect(a.length).toBe(10);
    for (let i = 1; i < a.length; i++) expect(a[i]).toBeGreaterThan(a[i - 1]);
    expect(sampleQueryIndices(5, 10, 1)).toEqual(Int32Array.from([0, 1, 2, 3, 4]));
    // Over many seeds every query is taken with probability n / total = 0.2.
    const taken = new Float64Array(50);
    for (let seed = 1; seed <= 2000; seed++) for (const q of sampleQueryIndices(50, 10, seed)) taken[q]++;
    for (const t of taken) expect(Math.abs(t / 2000 - 0.2)).toBeLessThan(0.04);
    expect(() => sampleQueryIndices(50, 0, 1)).toThrow(/expected an integer >= 1, got 0/);
  });

  it("keeps each chosen query's history, times and targets, rebased", () => {
    const qs = querySet([[1, 2], [], [3, 4, 5], [6]], [[7], [8, 9], [10], [11]]);
    const times = Float64Array.from([10, 20, 30, 40]);
    const historyTimes = Float64Array.from([1, 2, 3, 4, 5, 6]);
    const full: QuerySet = { ...qs, times, historyTimes };
    const s = selectQueries(full, Int32Array.from([1, 2]));
    expect(Array.from(s.users)).toEqual([1, 2]);
    expect(Array.from(s.times)).toEqual([20, 30]);
    expect(Array.from(s.historyOffsets)).toEqual([0, 0, 3]);
    expect(Array.from(s.historyItems)).toEqual([3, 4, 5]);
    expect(Array.from(s.historyTimes)).toEqual([3, 4, 5]);
    expect(Array.from(s.targetOffsets)).toEqual([0, 2, 3]);
    expect(Array.from(s.targetItems)).toEqual([8, 9, 10]);
    expect(sampleQueries(full, 4, 1)).toBe(full); // the whole set is returned as is
    expect(() => selectQueries(full, Int32Array.from([4]))).toThrow(/index 4 outside the 4 queries/);
  });
});

describe("evaluateIndex", () => {
  const numItems = 3000;
  const dim = 16;
  const numQueries = 300;
  const { items, queries: users } = syntheticVectors({ numItems, numQueries, dim, seed: 11 });
  const bias = new Float32Array(numItems);
  const rng = new Rng(5);
  for (let i = 0; i < numItems; i++) bias[i] = 0.1 * rng.normal();
  const exact = new ExactIndex(items, numItems, dim, { itemBias: bias });
  // Targets: an item at a random exact rank in 1..150 (hits at 10, 50, 100 and misses); histories:
  // five other items, one of them sometimes the target (then hidden, a miss).
  const top = exact.search(users, numQueries, 150);
  const histories: number[][] = [];
  const targets: number[][] = [];
  for (let q = 0; q < numQueries; q++) {
    targets.push([top.items[q * 150 + rng.nextInt(150)]]);
    const h = [0, 1, 2, 3].map(() => rng.nextInt(numItems));
    h.push(q % 10 === 0 ? targets[q][0] : rng.nextInt(numItems));
    histories.push(h);
  }
  const qs = querySet(histories, targets);
  const scorer: Scorer = {
    name: "dot",
    params: {},
    score(batch: QueryBatch, out: Float32Array) {
      for (let b = 0; b < batch.users.length; b++) {
        const u = batch.users[b];
        for (let i = 0; i < numItems; i++) {
          let s = bias[i];
          for (let d = 0; d < dim; d++) s += users[u * dim + d] * items[i * dim + d];
          out[b * numItems + i] = s;
        }
      }
    },
  };
  const reference = evaluate(scorer, qs, { numItems }).metrics;

  it("through an exact index gives evaluate()'s HR/NDCG@10/50/100, and MRR truncated at 100", () => {
    const r = evaluateIndex(exact, users, qs, { exact, batchSize: 64 });
    expect(r.users).toBe(numQueries);
    expect(r.depth).toBe(100);
    expect(r.recallAgainstExact).toBe(1);
    for (const k of [10, 50, 100]) {
      expect(r.metrics[`HR@${k}`]).toBeCloseTo(reference[`HR@${k}`], 10);
      expect(r.metrics[`NDCG@${k}`]).toBeCloseTo(reference[`NDCG@${k}`], 10);
    }
    expect(reference["HR@100"]).toBeGreaterThan(0.4);
    expect(reference["HR@100"]).toBeLessThan(0.8); // some targets fall past 100 or are hidden
    expect(r.metrics.MRR).toBeLessThan(reference.MRR);
    expect(r.metrics.MRR).toBeGreaterThan(reference.MRR - 0.5 / 101); // only ranks > 100 are lost
    // Without seen filtering the hidden targets come back.
    const open = evaluateIndex(exact, users, qs, { filterSeen: false });
    expect(open.metrics["HR@100"]).toBeGreaterThan(r.metrics["HR@100"]);
  });

  it("through HNSW reports its recall against exact, and its metrics follow that recall", () => {
    const hnsw = HnswIndex.build(
      items,
      numItems,
      dim,
      { M: 8, efConstruction: 40, efSearch: 10 },
      { itemBias: bias },
    );
    const r = evaluateIndex(hnsw, users, qs, { exact });
    expect(r.recallAgainstExact).not.toBeNull();
    const recall = r.recallAgainstExact as number;
    expect(recall).toBeGreaterThan(0.5);
    expect(recall).toBeLessThanOrEqual(1);
    // A weak graph (M 8, ef 10) misses some of the exact top 100; the metrics move by about as much
    // (a target just past rank 100 can also enter an approximate list, so either way).
    expect(recall).toBeLessThan(1);
    expect(Math.abs(r.metrics["HR@100"] - reference["HR@100"])).toBeLessThan(1 - recall + 0.05);
    const good = evaluateIndex(HnswIndex.build(items, numItems, dim, {}, { itemBias: bias }), users, qs, {
      exact,
    });
    expect(good.recallAgainstExact).toBeGreaterThan(recall);
    expect(() => evaluateIndex(hnsw, users.subarray(0, dim), qs)).toThrow(/expected 300 queries × 16/);
  });
});

describe("watchnext evaluate --sample-users --retrieval hnsw", () => {
  let dir: string;
  let data: string;
  let model: string;
  beforeAll(async () => {
    if (!existsSync(main))
      throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
    dir = mkdtempSync(join(tmpdir(), "wn-eval-sample-"));
    data = join(dir, "data");
    model = join(dir, "model");
    await writeSynthetic(data, { users: 200, items: 300, events: 8000, seed: 5 });
    const config = JSON.stringify({
      network: { depth: 1, outputDim: 16 },
      train: { epochs: 1, batchSize: 128, lr: 0.005, softmax: "sampled", numNegatives: 50 },
      features: {
        embeddingDim: { item: 16, token: 8 },
        recentWatches: { counts: [1, 5] },
        examples: { perUserCap: 20 },
      },
    });
    await run("node", [
      main,
      "train",
      "candidates",
      "--data",
      data,
      "--out",
      model,
      "--config",
      config,
      "--valid-users",
      "40",
      "--quiet",
    ]);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const evaluateJson = async (...extra: string[]): Promise<EvaluationReport> => {
    const ev = await run("node", [main, "evaluate", "--model", model, "--data", data, "--json", ...extra]);
    return JSON.parse(ev.stdout) as EvaluationReport;
  };

  it("evaluates the same seeded sample exactly and through HNSW, with recall against exact", async () => {
    const sampled = await evaluateJson("--sample-users", "60", "--sample-seed", "2");
    expect(sampled.protocol_params?.sample).toEqual({ users: 60, seed: 2, valid: 60, test: 60 });
    const again = await evaluateJson("--sample-users", "60", "--sample-seed", "2");
    expect(again.results[0].test).toEqual(sampled.results[0].test);
    const other = await evaluateJson("--sample-users", "60", "--sample-seed", "3");
    expect(other.results[0].test).not.toEqual(sampled.results[0].test);

    const hnsw = await evaluateJson("--sample-users", "60", "--sample-seed", "2", "--retrieval", "hnsw");
    const result = hnsw.results[0] as (typeof hnsw.results)[number] & {
      retrieval: { kind: string; depth: number; test_recall_vs_exact: number; valid_recall_vs_exact: number };
    };
    expect(result.retrieval.kind).toBe("hnsw");
    expect(result.retrieval.depth).toBe(100);
    // 300 items: HNSW at its defaults finds the exact top 100, so the metrics at k ≤ 100 agree.
    expect(result.retrieval.test_recall_vs_exact).toBeGreaterThan(0.99);
    for (const k of ["HR@10", "NDCG@10", "HR@100"])
      expect(result.test[k]).toBeCloseTo(sampled.results[0].test[k], 2);
  }, 60_000);

  it("train candidates --valid-users validates on the sample evaluate --sample-users draws", async () => {
    const manifest = JSON.parse(readFileSync(join(model, "manifest.json"), "utf8")) as {
      metadata: { validUsers: number; summary: { bestValid: { hr10: number; ndcg10: number } } };
    };
    expect(manifest.metadata.validUsers).toBe(40);
    // One epoch, model seed 1: the validated weights are the saved ones, and the sample is the
    // one `--sample-users 40 --sample-seed 1` picks, so evaluate reproduces the training figures.
    const sampled = await evaluateJson("--sample-users", "40", "--sample-seed", "1");
    expect(sampled.results[0].valid["HR@10"]).toBe(manifest.metadata.summary.bestValid.hr10);
    expect(sampled.results[0].valid["NDCG@10"]).toBeCloseTo(manifest.metadata.summary.bestValid.ndcg10, 12);
    await expect(
      run("node", [
        main,
        "train",
        "candidates",
        "--data",
        data,
        "--out",
        join(dir, "x"),
        "--valid-users",
        "0",
      ]),
    ).rejects.toThrow(/--valid-users: expected a positive integer, got "0"/);
  });

  it("rejects retrieval options that do not apply", async () => {
    const base = [main, "evaluate", "--model", model, "--data", data];
    await expect(run("node", [...base, "--retrieval", "annoy"])).rejects.toThrow(
      /--retrieval: expected exact or hnsw, got "annoy"/,
    );
    await expect(run("node", [...base, "--ef-search", "50"])).rejects.toThrow(
      /--ef-search applies to --retrieval hnsw only/,
    );
    await expect(run("node", [...base, "--sample-seed", "4"])).rejects.toThrow(
      /--sample-seed applies to --sample-users only/,
    );
    await expect(run("node", [...base, "--sample-users", "0"])).rejects.toThrow(/--sample-users/);
  });
});
