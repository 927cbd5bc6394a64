/**
 * The experiment runner (src/experiments/runner.ts) on a fake experiment whose cells are instant:
 * every finished cell lands in result.json at once, a rerun skips finished cells, --force and
 * --only recompute exactly what they name, an abort keeps the finished cells and discards the
 * running one, a result.json of other settings is refused, and the report lists missing cells.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../src/data/dataset.js";
import { loadDataset } from "../src/data/load.js";
import { writeSynthetic } from "../src/data/synth.js";
import { markdownToHtml } from "../src/experiments/markdown-html.js";
import { readResultFile, ResultFileError } from "../src/experiments/result-file.js";
import { runExperiment } from "../src/experiments/runner.js";
import { compareMeans, formatMeanSd, meanSd } from "../src/experiments/stats.js";
import type { Experiment, ExperimentOptions } from "../src/experiments/types.js";
import { barChart } from "../src/charts/svg-chart.js";

let dir: string;
let dataset: Dataset;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "watchnext-exp-runner-"));
  await writeSynthetic(join(dir, "data"), { users: 40, items: 50, events: 600, seed: 3 });
  dataset = await loadDataset(join(dir, "data"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const options: ExperimentOptions = {
  seeds: [1, 2],
  protocols: ["loo"],
  temporal: {},
  candidates: {},
  ranker: {},
};

/** Cells a, b, c × seeds; the metric is a function of the cell; `calls` records every run. */
function fake(calls: string[], abortAfter?: { n: number; controller: AbortController }): Experiment {
  return {
    name: "fake",
    title: "Fake experiment",
    claim: "a fake claim.",
    defaultProtocols: ["loo"],
    cells: (d, o) =>
      o.seeds.flatMap((s) =>
        ["a", "b", "c"].map((k) => ({ id: `${k}/seed${s}`, config: { k }, seed: s, dataset: d.name })),
      ),
    async runCell(cell, ctx) {
      calls.push(cell.id);
      if (abortAfter && calls.length === abortAfter.n) abortAfter.controller.abort();
      // The split is computed by the runner and shared.
      expect(ctx.split("loo").protocol).toBe("loo");
      await Promise.resolve();
      return { metrics: { score: cell.seed * 10 + (cell.config.k === "a" ? 1 : 2) }, trainSeconds: 0.5 };
    },
    report: (results) => ({
      verdict: `finished ${results.finished.size}`,
      sections: [{ heading: "Numbers", markdown: "| a | b |\n|---|---:|\n| 1 | 2 |", charts: ["bars"] }],
      charts: [
        {
          name: "bars",
          svg: barChart({
            title: "t",
            xLabel: "x",
            yLabel: "y",
            series: ["s"],
            groups: [{ label: "g", values: [{ value: 1 }] }],
          }),
          caption: "A chart.",
        },
      ],
    }),
  };
}

describe("runExperiment", () => {
  it("writes every cell, resumes by skipping finished ones, and --force / --only rerun exactly what they name", async () => {
    const out = join(dir, "run1");
    const calls: string[] = [];
    const common = { dataset, options, out, command: "watchnext experiment fake", progress: null } as const;
    const first = await runExperiment({ ...common, experiment: fake(calls) });
    expect(first.ran).toBe(6);
    expect(calls).toEqual(["a/seed1", "b/seed1", "c/seed1", "a/seed2", "b/seed2", "c/seed2"]);
    const file = readResultFile(join(out, "result.json"))!;
    expect(file.cells.map((c) => c.id)).toEqual(calls);
    const a1 = file.cells[0];
    expect(a1).toMatchObject({ seed: 1, config: { k: "a" }, metrics: { score: 11 }, trainSeconds: 0.5 });
    expect(a1.command).toBe("watchnext experiment fake --seeds 1 --only 'a/seed1'");
    expect(a1.wallSeconds).toBeGreaterThanOrEqual(0);

    calls.length = 0;
    const again = await runExperiment({ ...common, experiment: fake(calls) });
    expect(again).toMatchObject({ ran: 0, skipped: 6 });
    expect(calls).toEqual([]);

    const forced = await runExperiment({ ...common, experiment: fake(calls), force: true, only: ["b/*"] });
    expect(forced.ran).toBe(2);
    expect(calls).toEqual(["b/seed1", "b/seed2"]);
    expect(readResultFile(join(out, "result.json"))!.cells).toHaveLength(6);

    // --report rewrites the report only; with more seeds planned, it lists their cells as missing.
    calls.length = 0;
    const more = { ...options, seeds: [1, 2, 3] };
    const report = await runExperiment({
      ...common,
      options: more,
      experiment: fake(calls),
      reportOnly: true,
      commit: "f".repeat(40),
    });
    expect(report.ran).toBe(0);
    expect(calls).toEqual([]);
    expect(readFileSync(join(out, "report.md"), "utf8")).toContain(
      "**Incomplete: 6 of 9 planned cells finished.**",
    );
  });

  it("an abort keeps the finished cells, discards the running one, and the report lists what is missing", async () => {
    const out = join(dir, "run2");
    const calls: string[] = [];
    const controller = new AbortController();
    const r = await runExperiment({
      experiment: fake(calls, { n: 3, controller }),
      dataset,
      options,
      out,
      command: "watchnext experiment fake --seeds 1,2",
      progress: null,
      signal: controller.signal,
    });
    expect(r.interrupted).toBe(true);
    expect(r.ran).toBe(2);
    expect(readResultFile(join(out, "result.json"))!.cells.map((c) => c.id)).toEqual(["a/seed1", "b/seed1"]);
    const md = readFileSync(join(out, "report.md"), "utf8");
    expect(md).toContain("**Incomplete: 2 of 6 planned cells finished.**");
    for (const id of ["c/seed1", "a/seed2", "b/seed2", "c/seed2"]) expect(md).toContain(`\`${id}\``);
    expect(md).toContain("watchnext experiment fake --seeds 1,2");

    // Resuming runs only the four missing cells.
    calls.length = 0;
    const rest = await runExperiment({
      experiment: fake(calls),
      dataset,
      options,
      out,
      command: "x",
      progress: null,
    });
    expect(calls).toEqual(["c/seed1", "a/seed2", "b/seed2", "c/seed2"]);
    expect(rest.results.finished.size).toBe(6);
    expect(readFileSync(join(out, "report.md"), "utf8")).toContain(
      "**Complete**: all 6 planned cells finished.",
    );
  });

  it("writes report.md, a self-contained report.html with the SVG inline, and the SVG file", () => {
    const out = join(dir, "run2");
    const md = readFileSync(join(out, "report.md"), "utf8");
    expect(md).toMatch(/^# Fake experiment: /);
    expect(md).toContain("**Does it hold here?** finished 6");
    expect(md).toContain("## Cost");
    expect(md).toContain("![A chart.](bars.svg)");
    expect(existsSync(join(out, "bars.svg"))).toBe(true);
    const html = readFileSync(join(out, "report.html"), "utf8");
    expect(html).toContain("<svg xmlns=");
    expect(html).toContain("<figcaption>A chart.</figcaption>");
    expect(html).toContain("<table>");
    expect(html).not.toMatch(/<(script|link|img)\b/);
    expect(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, "")).not.toMatch(/https?:\/\//);
  });

  it("refuses a result.json made with other settings, or one that is not a result file", async () => {
    const out = join(dir, "run1");
    const calls: string[] = [];
    const other = { ...options, candidates: { train: { epochs: 2 } } };
    await expect(
      runExperiment({ experiment: fake(calls), dataset, options: other, out, command: "x", progress: null }),
    ).rejects.toThrow(ResultFileError);
    const bad = join(dir, "bad");
    await runExperiment({
      experiment: fake([]),
      dataset,
      options,
      out: bad,
      command: "x",
      progress: null,
      only: ["none"],
    });
    writeFileSync(join(bad, "result.json"), '{"cells": 3}');
    await expect(
      runExperiment({ experiment: fake(calls), dataset, options, out: bad, command: "x", progress: null }),
    ).rejects.toThrow(/not an experiment result file/);
    expect(calls).toEqual([]);
  });
});

describe("stats and markdown", () => {
  it("mean ± sample sd, with n shown below the planned seeds", () => {
    const s = meanSd([1, 2, 3]);
    expect(s.mean).toBe(2);
    expect(s.sd).toBeCloseTo(1, 12);
    expect(formatMeanSd(s, 2)).toBe("2.00 ± 1.00");
    expect(formatMeanSd(meanSd([0.5, 0.7]), 2)).toBe("0.60 ± 0.14 (n=2)");
    expect(formatMeanSd(meanSd([]))).toBe("—");
    expect(compareMeans(meanSd([3, 3.1, 2.9]), meanSd([1, 1.1, 0.9]))).toBe("above");
    expect(compareMeans(meanSd([1, 2, 3]), meanSd([1.5, 2.5, 3.5]))).toBe("within");
    expect(compareMeans(meanSd([3]), meanSd([1, 1.1]))).toBe("single seed");
  });

  it("turns the report subset into HTML, escaping text", () => {
    const html = markdownToHtml(
      "## A <b>\n\npara **bold** `x<y`\n\n- one\n- two\n\n| h | n |\n|---|---:|\n| a | 1 |\n\n```\ncode <\n```",
    );
    expect(html).toContain("<h2>A &lt;b&gt;</h2>");
    expect(html).toContain("<strong>bold</strong> <code>x&lt;y</code>");
    expect(html).toContain("<ul><li>one</li><li>two</li></ul>");
    expect(html).toContain('<th style="text-align:right">n</th>');
    expect(html).toContain("<pre><code>code &lt;</code></pre>");
  });
});
