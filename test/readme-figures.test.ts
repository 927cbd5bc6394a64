// scripts/readme-figures.mjs: the README's and docs' figure blocks are generated from the
// benchmark result files, and --check fails, naming the figure and the file, when they differ or
// when a result file cannot vouch for its figures (no commit, dirty tree, --quick run).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BLOCKS, run } from "../scripts/readme-figures.mjs";

const REPO = resolve(import.meta.dirname, "..");
const SCRIPT = join(REPO, "scripts", "readme-figures.mjs");
const GEMM_BLOCKS = BLOCKS.filter((b) => b.name === "gemm");
const COMPARE_BLOCKS = BLOCKS.filter((b) => b.name === "compare");

/** A compare result.json: EASE once per protocol, the candidate generator at the given loo HR@10 per seed. */
function compareResult(dataset: string, hr: readonly number[]): Record<string, unknown> {
  const cell = (
    id: string,
    model: string,
    protocol: string,
    seed: number,
    metrics: Record<string, number>,
  ) => ({
    id,
    config: { protocol, model },
    seed,
    dataset,
    metrics,
    trainSeconds: 1,
    command: "watchnext experiment compare",
  });
  return {
    format: 1,
    experiment: "compare",
    dataset: { name: dataset, source: `../shared/data/${dataset}` },
    settings: { temporal: {}, candidates: {}, ranker: {} },
    command: `watchnext experiment compare --data ../shared/data/${dataset}`,
    cells: [
      cell("loo/ease", "ease", "loo", 1, { "HR@10": 0.15, "NDCG@10": 0.07, MRR: 0.06 }),
      ...hr.map((h, i) => cell(`loo/candidates/seed${i + 1}`, "candidates", "loo", i + 1, { "HR@10": h })),
    ],
  };
}

function gemmResult(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const shapes = ["[512x512]·[512x1024]", "[512x1024]·[1024x512]"];
  const gemm = [];
  for (const threads of [1, 2])
    for (const shape of shapes)
      for (const op of ["NN", "NT", "TN"])
        gemm.push({
          shape,
          op,
          threads,
          gflops: 100 * threads + op.charCodeAt(1) / 10,
          gflopsMin: 1,
          gflopsMax: 2,
        });
  return {
    format: 1,
    benchmark: "gemm",
    commit: "0123456789abcdef0123456789abcdef01234567",
    dirty: false,
    command: "node dist/bench/gemm.js",
    quick: false,
    config: { threads: [1, 2], repeats: 15, minSeconds: 0.1 },
    machine: { cores: 2, cpuModel: "Test CPU", node: "v20", os: "linux x64", loadAverage1m: 0.1 },
    date: "2026-12-01T10:00:00.000Z",
    result: { gemm },
    ...overrides,
  };
}

describe("readme-figures", () => {
  let root: string;
  const doc = (): string => join(root, "native", "README.md");
  const put = (path: string, text: string): void => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  };
  const putResult = (result: Record<string, unknown>): void =>
    put(join(root, "bench", "results", "gemm.json"), JSON.stringify(result));

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "watchnext-readme-figures-"));
    putResult(gemmResult());
    put(doc(), "# Native\n\n<!-- gemm:begin -->\nold table\n<!-- gemm:end -->\n\nafter\n");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("--write fills the block from the result file, and --check then passes", () => {
    expect(run(root, { blocks: GEMM_BLOCKS }).problems.length).toBeGreaterThan(0);
    const { problems, written } = run(root, { write: true, blocks: GEMM_BLOCKS });
    expect(problems).toEqual([]);
    expect(written).toEqual(["native/README.md"]);
    const text = readFileSync(doc(), "utf8");
    expect(text).toContain("| [512x512]·[512x1024] | 107.8 / 108.4 / 107.8 | 207.8 / 208.4 / 207.8 |");
    expect(text).toContain("commit `0123456`");
    expect(text.endsWith("<!-- gemm:end -->\n\nafter\n")).toBe(true);
    expect(run(root, { blocks: GEMM_BLOCKS }).problems).toEqual([]);
  });

  it("--check names the figure and the result file when a quoted figure differs", () => {
    run(root, { write: true, blocks: GEMM_BLOCKS });
    put(doc(), readFileSync(doc(), "utf8").replace("| 207.8 / 208.4 / 207.8 |", "| 209.0 / 208.4 / 207.8 |"));
    const { problems } = run(root, { blocks: GEMM_BLOCKS });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('figure "GEMM [512x512]·[512x1024]" differs from bench/results/gemm.json');
    expect(problems[0]).toContain("209.0 / 208.4");
  });

  it("--check fails when the result file changes under an unchanged doc", () => {
    run(root, { write: true, blocks: GEMM_BLOCKS });
    const changed = gemmResult();
    (changed.result as { gemm: Array<{ gflops: number }> }).gemm[0].gflops = 50;
    putResult(changed);
    const { problems } = run(root, { blocks: GEMM_BLOCKS });
    expect(problems.some((p) => p.includes("bench/results/gemm.json") && p.includes("50.0"))).toBe(true);
  });

  it.each([
    ["no commit", { commit: undefined }, "records no commit"],
    ["a dirty tree", { dirty: true }, "uncommitted changes"],
    ["a --quick run", { quick: true }, "--quick run"],
    ["another envelope format", { format: 2 }, "envelope format 2"],
  ])("refuses a result file with %s, and --write then writes nothing", (_label, overrides, message) => {
    putResult(gemmResult(overrides));
    const before = readFileSync(doc(), "utf8");
    const { problems, written } = run(root, { write: true, blocks: GEMM_BLOCKS });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("bench/results/gemm.json");
    expect(problems[0]).toContain(message);
    expect(written).toEqual([]);
    expect(readFileSync(doc(), "utf8")).toBe(before);
  });

  it("refuses every result file without the envelope, even one no block quotes", () => {
    run(root, { write: true, blocks: GEMM_BLOCKS });
    put(join(root, "bench", "results", "load-1000.json"), JSON.stringify({ rows: 1000, rowsPerSecond: 5 }));
    const { problems } = run(root, { blocks: GEMM_BLOCKS });
    expect(problems).toEqual([expect.stringContaining("bench/results/load-1000.json records no commit")]);
  });

  it("reports a missing marker block and a missing result file", () => {
    put(doc(), "# Native\n\nno markers\n");
    expect(run(root, { blocks: GEMM_BLOCKS }).problems[0]).toContain("no block <!-- gemm:begin -->");
    rmSync(join(root, "bench"), { recursive: true });
    put(doc(), "<!-- gemm:begin -->\n<!-- gemm:end -->\n");
    expect(run(root, { blocks: GEMM_BLOCKS }).problems[0]).toContain(
      "bench/results/gemm.json does not exist",
    );
  });

  it("the README's compare table is the experiment's mean ± sd, and --check names a changed row", () => {
    put(join(root, "README.md"), "# R\n\n<!-- compare:begin -->\n<!-- compare:end -->\n");
    for (const [d, hr] of [
      ["ml-100k", [0.2, 0.21, 0.22]],
      ["ml-latest-small", [0.1, 0.12]],
    ] as const)
      put(join(root, "docs", "results", `compare-${d}`, "result.json"), JSON.stringify(compareResult(d, hr)));
    expect(run(root, { write: true, blocks: COMPARE_BLOCKS }).problems).toEqual([]);
    const text = readFileSync(join(root, "README.md"), "utf8");
    expect(text).toContain("| ml-100k | candidate generator | 0.2100 ± 0.0100 |");
    expect(text).toContain("| ml-100k | EASE | 0.1500 |");
    expect(text).toContain("| ml-latest-small | candidate generator | 0.1100 ± 0.0141 |");
    expect(text).toContain("| ml-100k | two-stage recommender | — |");
    expect(run(root, { blocks: COMPARE_BLOCKS }).problems).toEqual([]);
    put(
      join(root, "docs", "results", "compare-ml-100k", "result.json"),
      JSON.stringify(compareResult("ml-100k", [0.2, 0.21, 0.25])),
    );
    const { problems } = run(root, { blocks: COMPARE_BLOCKS });
    expect(problems[0]).toContain(
      'figure "ml-100k candidate generator" differs from docs/results/compare-ml-100k/result.json',
    );
    rmSync(join(root, "docs", "results", "compare-ml-latest-small"), { recursive: true });
    expect(run(root, { blocks: COMPARE_BLOCKS }).problems[0]).toContain(
      "docs/results/compare-ml-latest-small/result.json does not exist",
    );
  });

  it("the command line exits 1 with the problems on stderr, 0 when everything matches", () => {
    let status = 0;
    let stderr = "";
    try {
      execFileSync(process.execPath, [SCRIPT, "--check", "--root", root], {
        encoding: "utf8",
        stdio: "pipe",
      });
    } catch (error) {
      const e = error as { status: number; stderr: string };
      status = e.status;
      stderr = e.stderr;
    }
    expect(status).toBe(1);
    expect(stderr).toContain("README.md does not exist");
    expect(stderr).toContain("native/README.md <!-- gemm -->");
  });

  it("every block of the repository has its markers in place", () => {
    const { problems } = run(REPO);
    expect(problems.filter((p) => p.includes("no block") || /^\S+ does not exist$/.test(p))).toEqual([]);
  });
});
