// bench/support.ts: the result envelope every benchmark writes (commit, command, config, machine,
// date), the median/spread of timing windows, and quick runs kept away from bench/results/.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { repoRoot, resultsDir, spread, takeQuick, writeBenchResult } from "../bench/support.js";

describe("bench support", () => {
  const saved = process.env.WATCHNEXT_BENCH_OUT;
  afterEach(() => {
    if (saved === undefined) delete process.env.WATCHNEXT_BENCH_OUT;
    else process.env.WATCHNEXT_BENCH_OUT = saved;
  });

  it("spread gives the median (odd and even counts) with min, max and the windows in order", () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, windows: [3, 1, 2] });
    expect(spread([10, 40, 20, 30]).median).toBe(25);
    expect(spread([1.26], 1).median).toBe(1.3);
    expect(() => spread([])).toThrow(/no values/);
  });

  it("takeQuick splits --quick off wherever it stands", () => {
    expect(takeQuick(["--rows", "5", "--quick"])).toEqual({ quick: true, rest: ["--rows", "5"] });
    expect(takeQuick(["--rows", "5"])).toEqual({ quick: false, rest: ["--rows", "5"] });
  });

  it("quick results never go to bench/results/", () => {
    const committed = join(repoRoot(), "bench", "results");
    delete process.env.WATCHNEXT_BENCH_OUT;
    expect(resultsDir(false)).toBe(committed);
    expect(resultsDir(true)).not.toBe(committed);
    process.env.WATCHNEXT_BENCH_OUT = committed;
    expect(() => resultsDir(true)).toThrow(/never go to/);
  });

  it("writeBenchResult wraps the figures in the envelope with this checkout's commit", () => {
    const dir = mkdtempSync(join(tmpdir(), "watchnext-bench-support-"));
    try {
      process.env.WATCHNEXT_BENCH_OUT = dir;
      const path = writeBenchResult(
        { benchmark: "gemm", args: ["--x", "1"], quick: true, config: { repeats: 2 } },
        { figure: 42 },
      );
      expect(path).toBe(join(dir, "gemm.json"));
      const doc = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
      expect(doc.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(typeof doc.dirty).toBe("boolean");
      expect(doc).toMatchObject({
        format: 1,
        benchmark: "gemm",
        command: "node dist/bench/gemm.js --quick --x 1",
        quick: true,
        config: { repeats: 2 },
        result: { figure: 42 },
      });
      const machine = doc.machine as { cores: number; cpuModel: string };
      expect(machine.cores).toBeGreaterThan(0);
      expect(machine.cpuModel.length).toBeGreaterThan(0);
      expect(Number.isNaN(Date.parse(doc.date as string))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
