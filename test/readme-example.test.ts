/**
 * The README's library example, run as written (through the package's public index) on a small
 * synthetic dataset, so the documented API cannot drift from the real one.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CandidateModel, evaluateSplit, loadDataset, splitLoo, writeSynthetic } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "watchnext-readme-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("README library example", () => {
  it("loads, splits, fits, evaluates, saves and reloads a candidate model", async () => {
    await writeSynthetic(join(dir, "data"), { users: 300, items: 400, events: 15_000, seed: 3 });
    const data = await loadDataset(join(dir, "data"));
    const split = splitLoo(data);
    const model = await CandidateModel.fit(split.train, {
      valid: split.valid,
      seed: 1,
      config: { train: { epochs: 3 } },
    });
    const test = evaluateSplit(model.asScorer(), split, "test").metrics;
    expect(test["HR@10"]).toBeGreaterThan(0);
    expect(test["NDCG@10"]).toBeLessThanOrEqual(test["HR@10"]);
    model.save(join(dir, "model"));
    const again = CandidateModel.load(join(dir, "model"), data);
    expect(evaluateSplit(again.asScorer(), split, "test").metrics).toEqual(test);
  });
});
