/**
 * The two-stage CLI end to end through the compiled CLI (dist/src/cli/main.js) on small synthetic
 * data: `watchnext train` (both stages), `evaluate` (two stages by default with the ranking
 * metrics, `--stage candidates` from the same directory), `recommend --stage two|candidates`,
 * `train ranker` over a `train candidates` model, and a replaced part refused on load.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSynthetic } from "../src/data/synth.js";

const run = promisify(execFile);
const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
const candidates = JSON.stringify({
  network: { depth: 1, outputDim: 16 },
  train: { epochs: 2, batchSize: 128, lr: 0.005 },
  features: { embeddingDim: { item: 16, token: 8 }, recentWatches: { counts: [1, 5] } },
});
const ranker = JSON.stringify({ network: { hidden: [16] }, train: { epochs: 2, negativesPerList: 10 } });

let dir: string;
let data: string;

beforeAll(async () => {
  if (!existsSync(main))
    throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), "wn-rank-cli-"));
  data = join(dir, "data");
  await writeSynthetic(data, { users: 120, items: 150, events: 4000, seed: 7 });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Report {
  results: Array<{
    model: string;
    valid: Record<string, number>;
    test: Record<string, number>;
    ranking?: {
      lists: number;
      ranker: Record<string, number>;
      candidates_order: Record<string, number>;
      union_recall: Record<string, number>;
    };
  }>;
}

describe("two-stage CLI", () => {
  it("trains both stages, evaluates two stages and stage one, recommends with either", async () => {
    const out = join(dir, "two");
    const train = await run("node", [
      main,
      "train",
      "--data",
      data,
      "--out",
      out,
      "--seed",
      "2",
      "--candidates-config",
      candidates,
      "--config",
      ranker,
    ]);
    expect(train.stdout).toMatch(
      /saved .*two \(ranker best epoch [12], valid weighted per-user loss 0\.\d{4}/,
    );
    expect(train.stderr).toMatch(/ranker epoch 1: train loss/);

    const ev = await run("node", [main, "evaluate", "--model", out, "--data", data, "--json"]);
    const two = JSON.parse(ev.stdout) as Report;
    const r = two.results[0];
    expect(r.model).toBe("two-stage");
    for (const key of ["HR@10", "NDCG@10", "MRR"]) expect(r.test[key]).toBeGreaterThanOrEqual(0);
    expect(r.ranking?.lists).toBe(120);
    for (const side of ["ranker", "candidates_order"] as const) {
      const m = r.ranking?.[side] ?? {};
      expect(m.weightedLoss).toBeGreaterThanOrEqual(0);
      expect(m.weightedLoss).toBeLessThanOrEqual(1);
      expect(m.AUC).toBeGreaterThanOrEqual(0);
      expect(m["HR@10"]).toBeGreaterThanOrEqual(0);
    }
    expect(r.ranking?.union_recall.union).toBeGreaterThanOrEqual(r.ranking?.union_recall.dnn ?? 2);

    const one = JSON.parse(
      (
        await run("node", [
          main,
          "evaluate",
          "--model",
          out,
          "--data",
          data,
          "--stage",
          "candidates",
          "--json",
        ])
      ).stdout,
    ) as Report;
    expect(one.results[0].model).toBe("candidates");
    expect(one.results[0].ranking).toBeUndefined();

    const rec = JSON.parse(
      (
        await run("node", [
          main,
          "recommend",
          "--model",
          out,
          "--data",
          data,
          "--user",
          "1",
          "-k",
          "5",
          "--json",
        ])
      ).stdout,
    ) as {
      stage: string;
      recommendations: Array<{
        item: string;
        rankingLogit: number | null;
        sourceScores: Record<string, number>;
      }>;
    };
    expect(rec.stage).toBe("two");
    expect(rec.recommendations).toHaveLength(5);
    expect(new Set(rec.recommendations.map((x) => x.item)).size).toBe(5);
    const logits = rec.recommendations.map((x) => x.rankingLogit ?? NaN);
    for (let i = 1; i < logits.length; i++) expect(logits[i]).toBeLessThanOrEqual(logits[i - 1]);
    const seen = readFileSync(join(data, "ratings.csv"), "utf8")
      .split("\n")
      .slice(1)
      .filter((line) => line.startsWith("1,"))
      .map((line) => line.split(",")[1]);
    for (const x of rec.recommendations) expect(seen).not.toContain(x.item);

    const rec1 = JSON.parse(
      (
        await run("node", [
          main,
          "recommend",
          "--model",
          out,
          "--data",
          data,
          "--user",
          "1",
          "-k",
          "5",
          "--stage",
          "candidates",
          "--json",
        ])
      ).stdout,
    ) as { stage: string; recommendations: Array<{ rankingLogit: number | null }> };
    expect(rec1.stage).toBe("candidates");
    expect(rec1.recommendations.every((x) => x.rankingLogit === null)).toBe(true);

    // A part replaced by another training is refused.
    const manifest = join(out, "ranker", "manifest.json");
    const text = readFileSync(manifest, "utf8");
    writeFileSync(manifest, text.replace(/"createdAt": "[^"]*"/, '"createdAt": "2000-01-01T00:00:00.000Z"'));
    await expect(run("node", [main, "evaluate", "--model", out, "--data", data])).rejects.toMatchObject({
      stderr: expect.stringMatching(/manifest/),
    });
  }, 240_000);

  it("trains a ranker over a trained candidate generator", async () => {
    const cand = join(dir, "cand");
    await run("node", [
      main,
      "train",
      "candidates",
      "--data",
      data,
      "--out",
      cand,
      "--config",
      candidates,
      "--quiet",
    ]);
    const out = join(dir, "ranked");
    const res = await run("node", [
      main,
      "train",
      "ranker",
      "--data",
      data,
      "--candidates",
      cand,
      "--out",
      out,
      "--config",
      ranker,
      "--quiet",
    ]);
    expect(res.stdout).toMatch(/saved .*ranked/);
    const ev = JSON.parse(
      (await run("node", [main, "evaluate", "--model", out, "--data", data, "--json"])).stdout,
    ) as Report;
    expect(ev.results[0].model).toBe("two-stage");
    // The candidates part is the given model: stage one from either directory scores the same.
    const a = JSON.parse(
      (await run("node", [main, "evaluate", "--model", cand, "--data", data, "--json"])).stdout,
    ) as Report;
    const b = JSON.parse(
      (
        await run("node", [
          main,
          "evaluate",
          "--model",
          out,
          "--data",
          data,
          "--stage",
          "candidates",
          "--json",
        ])
      ).stdout,
    ) as Report;
    expect(b.results[0].test).toEqual(a.results[0].test);
  }, 240_000);
});
