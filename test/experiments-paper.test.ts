/**
 * `watchnext experiment compare|figure5|figure6` end to end through the CLI on a tiny synthetic
 * dataset with a test-sized candidate generator (1-2 epochs, 16-d): each writes result.json with
 * every planned cell, report.md with the verdict, status, cost and result sections, a
 * self-contained report.html and SVG charts with one series per model / feature set; a rerun
 * skips every finished cell and --force --only recomputes just the named ones.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSynthetic } from "../src/data/synth.js";
import type { ResultFile } from "../src/experiments/result-file.js";
import { byClass, parseXml, textOf } from "./support/xml.js";

const main = fileURLToPath(new URL("../dist/src/cli/main.js", import.meta.url));
const TINY = '{"train":{"epochs":2,"patience":1},"network":{"outputDim":16,"tieOutput":false}}';
let dir: string;
let data: string;

beforeAll(async () => {
  if (!existsSync(main))
    throw new Error(`${main} is missing: run \`npx tsc -p tsconfig.json\` (npm test does)`);
  dir = await mkdtemp(join(tmpdir(), "watchnext-exp-paper-"));
  data = join(dir, "data");
  await writeSynthetic(data, { users: 60, items: 80, events: 1500, seed: 7 });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function experiment(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [main, "experiment", ...args], {
    env: { ...process.env, WATCHNEXT_THREADS: "1" },
    maxBuffer: 1 << 26,
  });
}

function read(out: string): { result: ResultFile; md: string; html: string } {
  return {
    result: JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as ResultFile,
    md: readFileSync(join(out, "report.md"), "utf8"),
    html: readFileSync(join(out, "report.html"), "utf8"),
  };
}

/** The report's shared structure: title, claim, verdict, status complete, cost, reproduce, cells. */
function expectReportStructure(md: string, html: string, cells: number): void {
  expect(md).toMatch(/^# .+: data\n/);
  expect(md).toContain("> The paper's claim: ");
  expect(md).toMatch(/\*\*Does it hold here\?\*\* \S/);
  expect(md).toContain(`**Complete**: all ${cells} planned cells finished.`);
  for (const h of ["## Status", "## Cost", "## Results", "## Reproduce", "## Cells"]) expect(md).toContain(h);
  expect(md).toMatch(/Wall time of the \d+ finished cells on this machine/);
  expect(html).toMatch(/^<!DOCTYPE html>/);
  expect(html).toContain("<svg xmlns=");
  expect(html).not.toMatch(/<(script|link|img)\b/);
}

function svgSeries(path: string): string[] {
  const root = parseXml(readFileSync(path, "utf8"));
  expect(byClass(root, "axis-label")).toHaveLength(2);
  expect(textOf(byClass(root, "title")[0])).not.toBe("");
  expect(byClass(root, "legend-item").length).toBe(byClass(root, "series").length);
  return byClass(root, "series").map((s) => s.attrs["data-series"]);
}

// Each test is a few node processes training tiny models: seconds alone, minutes on a loaded machine.
describe("watchnext experiment", { timeout: 300_000 }, () => {
  it("compare: every model under both protocols, one table and one chart; resume and --force --only", async () => {
    const out = join(dir, "compare");
    const args = ["compare", "--data", data, "--seeds", "1,2", "--out", out, "--candidates-config", TINY];
    const { stdout } = await experiment([...args, "--ranker-config", '{"train":{"epochs":2}}', "--quiet"]);
    expect(stdout).toContain("14 cell(s) run, 0 kept; 14 of 14 finished");
    const { result, md, html } = read(out);
    expect(result.cells.map((c) => c.id)).toEqual([
      "loo/mostpop",
      "loo/itemknn",
      "loo/ease",
      "temporal/mostpop",
      "temporal/itemknn",
      "temporal/ease",
      "loo/candidates/seed1",
      "temporal/candidates/seed1",
      "loo/candidates/seed2",
      "temporal/candidates/seed2",
      "loo/two-stage/seed1",
      "temporal/two-stage/seed1",
      "loo/two-stage/seed2",
      "temporal/two-stage/seed2",
    ]);
    for (const c of result.cells) {
      const metric = c.config.protocol === "loo" ? "HR@10" : "MAP@10";
      expect(c.metrics[metric]).toBeGreaterThanOrEqual(0);
      expect(c.metrics[`valid ${metric}`]).toBeGreaterThanOrEqual(0);
      expect(c.command).toContain(`--only ${c.id}`);
    }
    expectReportStructure(md, html, 14);
    for (const row of [
      "| MostPop |",
      "| ItemKNN |",
      "| EASE |",
      "| candidate generator |",
      "| two-stage recommender |",
    ])
      expect(md).toContain(row);
    expect(md).toContain("| model | loo NDCG@10 | loo HR@10 |");
    expect(svgSeries(join(out, "compare.svg"))).toEqual([
      "MostPop",
      "ItemKNN",
      "EASE",
      "candidate generator",
      "two-stage recommender",
    ]);

    const again = await experiment([...args, "--ranker-config", '{"train":{"epochs":2}}', "--quiet"]);
    expect(again.stdout).toContain("0 cell(s) run, 14 kept");
    const forced = await experiment([
      ...args,
      "--ranker-config",
      '{"train":{"epochs":2}}',
      "--quiet",
      "--force",
      "--only",
      "loo/ease",
    ]);
    expect(forced.stdout).toContain("1 cell(s) run, 0 kept; 14 of 14 finished");
    // EASE is deterministic: the recomputed cell has the same metrics.
    const ease = (r: ResultFile) => r.cells.find((c) => c.id === "loo/ease")!.metrics;
    expect(ease(read(out).result)).toEqual(ease(result));
    // Other settings than the recorded ones are refused (the cells would not compare).
    await expect(experiment([...args, "--quiet"])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/other settings/),
    });
  });

  it("figure5: rollback vs held-out examples under both protocols", async () => {
    const out = join(dir, "figure5");
    const { stdout, stderr } = await experiment([
      "figure5",
      "--data",
      data,
      "--seeds",
      "1,2",
      "--out",
      out,
      "--candidates-config",
      TINY,
    ]);
    expect(stdout).toContain("8 cell(s) run");
    // The progress display: cell i/n, the running cell's epochs, the experiment's ETA.
    expect(stderr).toMatch(/cell 1\/8 loo\/rollback\/seed1: started/);
    expect(stderr).toMatch(/cell 1\/8 loo\/rollback\/seed1: candidates epoch 1\/2 done/);
    expect(stderr).toMatch(/cell 2\/8 .*experiment ETA \d/);
    const { result, md, html } = read(out);
    expect(result.cells.map((c) => c.id).slice(0, 4)).toEqual([
      "loo/rollback/seed1",
      "loo/heldout/seed1",
      "temporal/rollback/seed1",
      "temporal/heldout/seed1",
    ]);
    // Same model, different examples: the two modes train different models.
    const loo = result.cells.filter((c) => c.id.startsWith("loo/") && c.seed === 1);
    expect(loo[0].metrics).not.toEqual(loo[1].metrics);
    expectReportStructure(md, html, 8);
    expect(md).toMatch(/\| rollback \(predict the next watch\) \| [0-9.]+ ± [0-9.]+/);
    expect(md).toContain("temporal MAP@10");
    expect(svgSeries(join(out, "figure5.svg"))).toHaveLength(2);
  });

  it("figure6: depth 0-4 × four feature sets, a line chart per protocol; a rerun skips every cell", async () => {
    const out = join(dir, "figure6");
    const args = ["figure6", "--data", data, "--seeds", "1", "--protocol", "loo", "--out", out, "--quiet"];
    const { stdout } = await experiment([
      ...args,
      "--candidates-config",
      '{"train":{"epochs":1},"network":{"outputDim":16,"tieOutput":false}}',
    ]);
    expect(stdout).toContain("20 cell(s) run");
    const { result, md, html } = read(out);
    expect(new Set(result.cells.map((c) => c.config.depth))).toEqual(new Set([0, 1, 2, 3, 4]));
    expect(new Set(result.cells.map((c) => c.config.features))).toEqual(
      new Set(["watches", "watches+search", "watches+search+age", "all"]),
    );
    expectReportStructure(md, html, 20);
    expect(md).toContain("a reduced epoch budget");
    expect(md).toContain("| features \\ depth (loo HR@10) | 0 | 1 | 2 | 3 | 4 |");
    const root = parseXml(readFileSync(join(out, "figure6-loo.svg"), "utf8"));
    const series = byClass(root, "series");
    expect(series.map((s) => s.attrs["data-series"])).toEqual([
      "watches only",
      "watches + search",
      "watches + search + example age",
      "all features",
    ]);
    for (const s of series) expect(byClass(s, "point")).toHaveLength(5);
    const again = await experiment([
      ...args,
      "--candidates-config",
      '{"train":{"epochs":1},"network":{"outputDim":16,"tieOutput":false}}',
    ]);
    expect(again.stdout).toContain("0 cell(s) run, 20 kept");
  });

  it("Ctrl-C (SIGINT) keeps every finished cell, discards the running one, exits 130, and a rerun finishes", async () => {
    const out = join(dir, "sigint");
    const args = [
      main,
      "experiment",
      "figure5",
      "--data",
      data,
      "--seeds",
      "1,2",
      "--out",
      out,
      "--candidates-config",
      TINY,
    ];
    const child = spawn(process.execPath, args, { env: { ...process.env, WATCHNEXT_THREADS: "1" } });
    let stderr = "";
    let sent = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on("data", (b: Buffer) => {
        stderr += b.toString();
        // Interrupt while the third cell trains (two are finished).
        if (!sent && /cell 3\/8 \S+: started/.test(stderr)) sent = child.kill("SIGINT");
      });
      child.on("exit", (c) => resolve(c));
    });
    expect(code).toBe(130);
    // The cell running at the signal is discarded (on a fast machine that may be a later one than the third).
    const m = /interrupted: cell (\S+) discarded; (\d+) finished cell\(s\) kept/.exec(stderr);
    expect(m, stderr).not.toBeNull();
    const kept = Number(m![2]);
    expect(kept).toBeGreaterThanOrEqual(2);
    const { result, md } = read(out);
    expect(result.cells).toHaveLength(kept);
    expect(result.cells.map((c) => c.id)).not.toContain(m![1]);
    expect(result.cells.slice(0, 2).map((c) => c.id)).toEqual(["loo/rollback/seed1", "loo/heldout/seed1"]);
    expect(md).toContain(`**Incomplete: ${kept} of 8 planned cells finished.**`);
    const rest = await experiment(args.slice(2).concat("--quiet"));
    expect(rest.stdout).toContain(`${8 - kept} cell(s) run, ${kept} kept; 8 of 8 finished`);
  });
});
