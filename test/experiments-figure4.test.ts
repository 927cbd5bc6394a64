/**
 * `experiment figure4` on a tiny synthetic dataset: the test-window next-watch queries, the
 * probability-mass-by-release-age shares against direct counts and a uniform scorer, and a run
 * through the runner (report structure, charts) that a rerun resumes without recomputing.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../src/data/dataset.js";
import { loadDataset } from "../src/data/load.js";
import { writeSynthetic } from "../src/data/synth.js";
import { splitTemporal } from "../src/eval/split-temporal.js";
import { figure4, FIGURE4_BINS } from "../src/experiments/figure4.js";
import {
  ageShares,
  DAY_SECONDS,
  itemReleaseTimes,
  unreleasedSlot,
  windowQueries,
} from "../src/experiments/figure4-shares.js";
import { runExperiment } from "../src/experiments/runner.js";
import type { ExperimentOptions } from "../src/experiments/types.js";

let dir: string;
let dataset: Dataset;

const options: ExperimentOptions = {
  seeds: [1],
  protocols: ["temporal"],
  temporal: {},
  candidates: {
    network: { depth: 1, outputDim: 16 },
    train: { epochs: 2, batchSize: 128, lr: 0.005 },
    features: { embeddingDim: { item: 16, token: 8 }, recentWatches: { counts: [1, 5] } },
  },
  ranker: {},
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "wn-figure4-"));
  await writeSynthetic(join(dir, "data"), { users: 150, items: 200, events: 6000, seed: 3 });
  dataset = await loadDataset(join(dir, "data"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cutAndEnd(): { cut: number; end: number } {
  const split = splitTemporal(dataset);
  const cut = Number(split.params.cutTime);
  return { cut, end: cut + 30 * DAY_SECONDS };
}

describe("figure4 shares", () => {
  it("makes one query per window event of a user with earlier history, history strictly before it", () => {
    const { cut, end } = cutAndEnd();
    const { queries, repeats } = windowQueries(dataset, cut, end);
    const { user, time } = dataset.events;
    const firstTime = new Map<number, number>();
    for (let e = 0; e < user.length; e++)
      firstTime.set(user[e], Math.min(firstTime.get(user[e]) ?? Infinity, time[e]));
    let expected = 0;
    for (let e = 0; e < user.length; e++)
      if (time[e] > cut && time[e] <= end && (firstTime.get(user[e]) ?? Infinity) <= cut) expected++;
    expect(queries.users.length).toBeGreaterThan(5);
    expect(queries.users.length + repeats).toBe(expected);
    for (let q = 0; q < queries.users.length; q++) {
      const t = queries.times[q];
      expect(t > cut && t <= end).toBe(true);
      const target = queries.targetItems[queries.targetOffsets[q]];
      for (let h = queries.historyOffsets[q]; h < queries.historyOffsets[q + 1]; h++) {
        expect(queries.historyTimes[h]).toBeLessThanOrEqual(t);
        expect(queries.historyItems[h]).not.toBe(target);
      }
      expect(queries.historyOffsets[q + 1]).toBeGreaterThan(queries.historyOffsets[q]);
    }
  });

  it("gives a uniform scorer the candidates' shares and counts the targets by their age", () => {
    const { cut, end } = cutAndEnd();
    const { queries } = windowQueries(dataset, cut, end);
    const release = itemReleaseTimes(dataset);
    const n = dataset.items.ids.length;
    const bins = FIGURE4_BINS;
    const s = ageShares((_q, a, b, out) => out.fill(0, 0, (b - a) * n), queries, n, release, cut, bins, 7);
    const sum = (a: Float64Array) => a.reduce((x, y) => x + y, 0);
    expect(sum(s.model)).toBeCloseTo(1, 9);
    expect(sum(s.empirical)).toBeCloseTo(1, 9);
    expect(sum(s.modelKnown)).toBeCloseTo(1, 9);
    // A constant score spreads the mass evenly over the non-history items, released or not.
    let unreleasedShare = 0;
    for (let q = 0; q < queries.users.length; q++) {
      const hist = new Set(
        queries.historyItems.subarray(queries.historyOffsets[q], queries.historyOffsets[q + 1]),
      );
      let later = 0;
      for (let j = 0; j < n; j++) if (!hist.has(j) && release[j] > queries.times[q]) later++;
      unreleasedShare += later / (n - hist.size);
    }
    expect(s.model[unreleasedSlot(bins)]).toBeCloseTo(unreleasedShare / queries.users.length, 9);
    // The actual shares are direct counts of the targets' ages at their own time.
    const counts = new Float64Array(bins.numBins + 2);
    for (let q = 0; q < queries.users.length; q++) {
      const target = queries.targetItems[queries.targetOffsets[q]];
      const age = (queries.times[q] - release[target]) / DAY_SECONDS;
      counts[Math.min(Math.floor(age / bins.binDays), bins.numBins)]++;
    }
    for (let k = 0; k < counts.length; k++)
      expect(s.empirical[k]).toBeCloseTo(counts[k] / queries.users.length, 12);
    expect(s.empirical[unreleasedSlot(bins)]).toBe(0);
    expect(s.targetProbability).toBeGreaterThan(0);
  });
});

describe("experiment figure4", () => {
  it("runs both variants, writes the report and charts, and a rerun skips the finished cells", async () => {
    expect(figure4.cells(dataset, options).map((c) => c.id)).toEqual([
      "temporal/example-age/seed1",
      "temporal/no-example-age/seed1",
    ]);
    expect(() => figure4.cells(dataset, { ...options, protocols: ["loo"] })).toThrow(
      /temporal protocol only/,
    );
    const out = join(dir, "out");
    const run = () =>
      runExperiment({
        experiment: figure4,
        dataset,
        options,
        out,
        command: "watchnext experiment figure4 --data tiny",
        progress: null,
      });
    const first = await run();
    expect(first.ran).toBe(2);
    const before = readFileSync(join(out, "result.json"), "utf8");
    const cells = (JSON.parse(before) as { cells: Array<{ id: string; metrics: Record<string, number> }> })
      .cells;
    for (const c of cells) {
      let total = 0;
      for (const [k, v] of Object.entries(c.metrics))
        if (/^model share \d|^model share ≥|^model share not/.test(k)) total += v;
      expect(total).toBeCloseTo(1, 6);
      expect(c.metrics["model known share first 28 d"]).toBeGreaterThanOrEqual(0);
    }
    // The two variants differ (one of them has the example-age input).
    expect(cells[0].metrics["mean target probability"]).not.toBe(cells[1].metrics["mean target probability"]);
    const md = readFileSync(join(out, "report.md"), "utf8");
    // One seed: the report gives the numbers but does not judge the claim.
    expect(md).toContain("Not judged: fewer than two seeds with both variants");
    expect(md).toMatch(/the model with example age puts \d+\.\d\d ± n\/a % of its probability mass there/);
    expect(md).toContain("## Items known at the cut");
    expect(md).toMatch(/\| 0–6 d \| \d+\.\d\d % \| \d+\.\d\d ± n\/a % \| \d+\.\d\d ± n\/a % \|/);
    const svg = readFileSync(join(out, "figure4.svg"), "utf8");
    for (const name of [
      "actual next watches",
      "model with example age",
      "model without example age",
      "days since release",
    ])
      expect(svg).toContain(name);
    expect(readFileSync(join(out, "figure4-all-items.svg"), "utf8")).toContain("<svg");

    const second = await run();
    expect(second.ran).toBe(0);
    expect(second.skipped).toBe(2);
    expect(readFileSync(join(out, "result.json"), "utf8")).toBe(before);
  }, 240_000);
});
