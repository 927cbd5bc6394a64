/**
 * `watchnext train candidates`, `evaluate` and `recommend` end to end through the compiled CLI
 * (dist/src/cli/main.js; `npm test` compiles first) on small synthetic data, including Ctrl-C
 * during training saving the best model so far.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/load.js";
import { writeSynthetic } from "../src/data/synth.js";
import { evaluateSplit } from "../src/eval/evaluate.js";
import { splitLoo } from "../src/eval/split-loo.js";
import { splitTemporal } from "../src/eval/split-temporal.js";
import type { EvaluationReport, QuerySet } from "../src/eval/types.js";
import { CandidateModel } from "../src/models/candidates/model.js";

const run = promisify(execFile);
const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
const config = JSON.stringify({
  network: { depth: 1, outputDim: 16 },
  train: { epochs: 2, batchSize: 128, lr: 0.005 },
  features: { embeddingDim: { item: 16, token: 8 }, recentWatches: { counts: [1, 5] } },
});

let dir: string;
let data: string;

beforeAll(async () => {
  if (!existsSync(main))
    throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), "wn-cand-cli-"));
  data = join(dir, "data");
  await writeSynthetic(data, { users: 200, items: 300, events: 8000, seed: 5 });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Expected HR@k of a uniformly random ranking of each query's unseen items: the target is one of
 * n_q = numItems − |distinct history| candidates, so it lands in the top k with probability k / n_q.
 */
function randomRankingHr(queries: QuerySet, k: number, numItems: number): number {
  let sum = 0;
  const n = queries.users.length;
  for (let q = 0; q < n; q++) {
    const seen = new Set(
      queries.historyItems.subarray(queries.historyOffsets[q], queries.historyOffsets[q + 1]),
    );
    sum += Math.min(1, k / (numItems - seen.size));
  }
  return sum / n;
}

/** Arguments of `node` running `watchnext train candidates` on the synthetic data. */
function trainArgs(out: string, configJson: string): string[] {
  return [main, "train", "candidates", "--data", data, "--out", out, "--config", configJson];
}

describe("candidate CLI", () => {
  it("trains, evaluates with the baselines' JSON shape, and recommends unseen items", async () => {
    const out = join(dir, "model");
    const train = await run("node", [...trainArgs(out, config), "--seed", "3"]);
    expect(train.stdout).toMatch(/saved .*model \(best epoch [12]/);
    expect(train.stderr).toMatch(/epoch 1\/2 .*valid HR@10 \d\.\d{4}/);
    // "auto" says which softmax it took, once.
    const softmax = train.stderr.match(/^softmax: .*$/gm);
    expect(softmax).toHaveLength(1);
    expect(softmax?.[0]).toMatch(/^softmax: full \(auto: \d+ items <= train\.fullSoftmaxMaxItems 20000\)$/);

    const ev = await run("node", [main, "evaluate", "--model", out, "--data", data, "--json"]);
    const report = JSON.parse(ev.stdout) as EvaluationReport;
    expect(report.protocol).toBe("loo");
    expect(report.results[0].model).toBe("candidates");
    const { test, valid } = report.results[0];

    // Independent of the model: a random ranking of each test user's unseen items, in closed form.
    const dataset = await loadDataset(data);
    const split = splitLoo(dataset);
    expect(report.n_items).toBe(dataset.items.ids.length);
    const chance = randomRankingHr(split.test, 10, dataset.items.ids.length);
    expect(chance).toBeGreaterThan(0.02);
    expect(test["HR@10"]).toBeGreaterThan(2 * chance); // a scrambled item mapping would sit at ~chance
    // The same model evaluated in-process on the same split gives the same numbers...
    const model = CandidateModel.load(out, split.train);
    expect(evaluateSplit(model.asScorer(), split, "test").metrics).toEqual(test);
    // ...and its validation HR@10 is the best one the training run printed.
    const best = /valid HR@10 (\d\.\d{4})/.exec(train.stdout);
    expect(best, train.stdout).not.toBeNull();
    expect(valid["HR@10"].toFixed(4)).toBe(best?.[1]);

    const rec = await run("node", [
      main,
      "recommend",
      "--model",
      out,
      "--data",
      data,
      "--user",
      "1",
      "-k",
      "7",
      "--json",
    ]);
    const recs = JSON.parse(rec.stdout) as {
      history: number;
      recommendations: Array<{ rank: number; item: string; title: string; genres: string[]; score: number }>;
    };
    expect(recs.history).toBeGreaterThan(0);
    expect(recs.recommendations).toHaveLength(7);
    const scores = recs.recommendations.map((r) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect(recs.recommendations[0].title.length).toBeGreaterThan(0);

    await expect(
      run("node", [main, "recommend", "--model", out, "--data", data, "--user", "no-such-user"]),
    ).rejects.toThrow(/no user "no-such-user"/);
  });

  it("evaluate reuses the protocol and temporal cut the model was trained with", async () => {
    const out = join(dir, "temporal");
    await run("node", [
      ...trainArgs(out, config),
      "--protocol",
      "temporal",
      "--cut-quantile",
      "0.8",
      "--quiet",
    ]);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as {
      metadata: { protocol: string; protocolParams: { cutTime: number } };
    };
    expect(manifest.metadata.protocol).toBe("temporal");
    const trainedCut = manifest.metadata.protocolParams.cutTime;
    // The default cut (quantile 0.9) is a different one, so falling back to it would show.
    expect(splitTemporal(await loadDataset(data)).params.cutTime).not.toBe(trainedCut);

    const ev = await run("node", [main, "evaluate", "--model", out, "--data", data, "--json"]);
    const report = JSON.parse(ev.stdout) as EvaluationReport;
    expect(report.protocol).toBe("temporal");
    expect(report.protocol_params?.cutTime).toBe(trainedCut);
    expect(Object.keys(report.results[0].test)).toContain("Recall@10");

    const loo = await run("node", [
      main,
      "evaluate",
      "--model",
      out,
      "--data",
      data,
      "--protocol",
      "loo",
      "--json",
    ]);
    expect((JSON.parse(loo.stdout) as EvaluationReport).protocol).toBe("loo");
  });

  it("rejects a bad config by key path before reading data", async () => {
    await expect(run("node", trainArgs(join(dir, "bad"), '{"network":{"depht":1}}'))).rejects.toThrow(
      /--config\.network: expected only the keys depth, widths, .*, got unknown key "depht"/,
    );
    // The feature part is checked by the same rules, with the same format.
    await expect(
      run("node", trainArgs(join(dir, "bad"), '{"features":{"search":{"vocabSize":0}}}')),
    ).rejects.toThrow(/--config\.features\.search\.vocabSize: expected an integer >= 1, got 0\n/);
    expect(existsSync(join(dir, "bad"))).toBe(false);
  });

  it("saves the best model so far on Ctrl-C", async () => {
    const out = join(dir, "interrupted");
    const longConfig = JSON.stringify({
      ...JSON.parse(config),
      train: { epochs: 500, patience: 500, batchSize: 64, lr: 0.005 },
    });
    const child = spawn("node", trainArgs(out, longConfig));
    let stderr = "";
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (/epoch 2\/500 .*valid/.test(stderr)) child.kill("SIGINT");
      });
      child.on("exit", (c) => resolve(c));
    });
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted/);
    expect(stdout).toMatch(/saved /);
    expect(existsSync(join(out, "manifest.json"))).toBe(true);
  });
});
