/**
 * `watchnext train candidates`, `evaluate` and `recommend` end to end through the compiled CLI
 * (dist/src/cli/main.js; `npm test` compiles first) on small synthetic data, including Ctrl-C
 * during training saving the best model so far.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSynthetic } from "../src/data/synth.js";

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
    const report = JSON.parse(ev.stdout) as {
      protocol: string;
      n_items: number;
      results: Array<{ model: string; valid: Record<string, number>; test: Record<string, number> }>;
    };
    expect(report.protocol).toBe("loo");
    expect(report.n_items).toBeGreaterThan(0);
    expect(report.results[0].model).toBe("candidates");
    for (const key of ["HR@10", "NDCG@10", "HR@50", "NDCG@50", "MRR"]) {
      expect(report.results[0].test[key]).toBeGreaterThanOrEqual(0);
      expect(report.results[0].valid[key]).toBeGreaterThanOrEqual(0);
    }
    expect(report.results[0].test["HR@10"]).toBeGreaterThan(0);

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
