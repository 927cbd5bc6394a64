/**
 * `experiment table1` on a tiny synthetic dataset through the runner (in process): the planned
 * cells (7 towers + 2 ablations per seed), a partial run whose report lists the missing cells, a
 * resumed run that skips the finished ones and keeps them byte for byte, and the report's table
 * and bar chart.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/load.js";
import type { Dataset } from "../src/data/dataset.js";
import { writeSynthetic } from "../src/data/synth.js";
import { runExperiment } from "../src/experiments/runner.js";
import { table1, TABLE1_VARIANTS } from "../src/experiments/table1.js";
import type { ExperimentOptions } from "../src/experiments/types.js";

let dir: string;
let dataset: Dataset;

const options: ExperimentOptions = {
  seeds: [1],
  protocols: ["loo"],
  temporal: {},
  candidates: {
    network: { depth: 1, outputDim: 16 },
    train: { epochs: 2, batchSize: 128, lr: 0.005 },
    features: { embeddingDim: { item: 16, token: 8 }, recentWatches: { counts: [1, 5] } },
  },
  ranker: { train: { epochs: 2, negativesPerList: 6 } },
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "wn-table1-"));
  await writeSynthetic(join(dir, "data"), { users: 100, items: 120, events: 3000, seed: 5 });
  dataset = await loadDataset(join(dir, "data"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ResultFile {
  cells: Array<{
    id: string;
    metrics: Record<string, number>;
    finishedAt: string;
    extra?: Record<string, unknown>;
  }>;
}

describe("experiment table1", () => {
  it("plans the seven towers and the two ablations per seed", () => {
    const cells = table1.cells(dataset, { ...options, seeds: [1, 2] });
    expect(cells.map((c) => c.id)).toEqual(
      [1, 2].flatMap((s) =>
        [
          "none",
          "256",
          "512",
          "1024",
          "512-256",
          "1024-512",
          "1024-512-256",
          "no-powers",
          "unit-weights",
        ].map((v) => `loo/${v}/seed${s}`),
      ),
    );
    const byName = new Map(TABLE1_VARIANTS.map((v) => [v.name, v.ranker]));
    expect(byName.get("none")?.network?.hidden).toEqual([]);
    expect(byName.get("1024-512")?.network?.hidden).toEqual([1024, 512]);
    expect(byName.get("no-powers")).toEqual({
      network: { hidden: [256] },
      features: { powers: false },
    });
    expect(byName.get("unit-weights")).toEqual({
      network: { hidden: [256] },
      train: { positiveWeight: "unit" },
    });
  });

  it("runs cells into result.json, reports the missing ones, and resumes without redoing finished cells", async () => {
    const out = join(dir, "out");
    const first = await runExperiment({
      experiment: table1,
      dataset,
      options,
      out,
      only: ["loo/none/seed1", "loo/256/seed1"],
      command: "watchnext experiment table1 --data tiny",
      progress: null,
    });
    expect(first.ran).toBe(2);
    const before = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as ResultFile;
    expect(before.cells.map((c) => c.id)).toEqual(["loo/none/seed1", "loo/256/seed1"]);
    for (const c of before.cells) {
      expect(c.metrics.weightedLoss).toBeGreaterThan(0);
      expect(c.metrics.weightedLoss).toBeLessThan(1);
      expect(c.metrics["valid weightedLoss"]).toBeGreaterThan(0);
      expect(c.metrics["DNN order weightedLoss"]).toBeGreaterThan(0);
      expect(c.extra?.testLists).toBeGreaterThan(0);
    }
    // The two towers differ, so they were really trained separately on the same lists.
    expect(before.cells[0].metrics.weightedLoss).not.toBe(before.cells[1].metrics.weightedLoss);
    expect(before.cells[0].metrics["DNN order weightedLoss"]).toBe(
      before.cells[1].metrics["DNN order weightedLoss"],
    );
    const partial = readFileSync(join(out, "report.md"), "utf8");
    expect(partial).toMatch(/Incomplete: 2 of 9 planned cells finished/);
    expect(partial).toContain("`loo/unit-weights/seed1`");

    const second = await runExperiment({
      experiment: table1,
      dataset,
      options,
      out,
      only: ["loo/none/seed1", "loo/256/seed1", "loo/no-powers/seed1"],
      command: "watchnext experiment table1 --data tiny",
      progress: null,
    });
    expect(second.skipped).toBe(2);
    expect(second.ran).toBe(1);
    const after = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as ResultFile;
    expect(after.cells.slice(0, 2)).toEqual(before.cells);
    expect(after.cells.map((c) => c.id)).toContain("loo/no-powers/seed1");

    const md = readFileSync(join(out, "report.md"), "utf8");
    expect(md).toMatch(/\| hidden layers \| paper \(YouTube\) \| weighted per-user loss here/);
    expect(md).toMatch(/\| none \| 41\.6 % \| \d+\.\d\d ± n\/a %/);
    expect(md).toMatch(/\| 1024→512→256 \| 34\.6 % \| — \|/);
    expect(md).toContain("Rows with fewer than 1 seeds: 512, 1024");
    expect(md).toContain("loo: cannot be judged yet (fewer than two seeds with both rows)");
    // The ablation is judged against its own tower, paired over the seeds.
    expect(md).toMatch(/Without x̃²\/√x̃ \(256 tower\) the loss changes by [+−]\d+\.\d\d ± n\/a points/);
    const svg = readFileSync(join(out, "table1-loo.svg"), "utf8");
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain("weighted per-user loss (%)");
    expect(svg).toContain("paper (YouTube, Table 1)");
    expect(readFileSync(join(out, "report.html"), "utf8")).toContain("<svg");
  }, 240_000);
});
