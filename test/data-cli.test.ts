/**
 * The shared `--data` flags (parseArgs options + loadFromArgs) and `watchnext data info`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { dataInfo } from "../src/cli/commands/data-info.js";
import { dataOptions, loadFromArgs } from "../src/cli/data-args.js";
import { CliError } from "../src/cli/errors.js";

let root: string;
let log: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "watchnext-cli-"));
  log = join(root, "views.tsv");
  await writeFile(
    log,
    "uid\tvid\twhen\tsecs\na\tx\t2024-01-01T00:00:00Z\t10\na\ty\t2024-01-02T00:00:00Z\t20\nb\tx\tnot-a-time\t5\nb\ty\t2024-01-03T00:00:00Z\t7\nc\tx\t2024-01-04T00:00:00Z\t1\na\tz\t2024-01-05T00:00:00Z\t2\n",
  );
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function capture(stream: "log" | "error"): { lines: string[]; restore: () => void } {
  const lines: string[] = [];
  const spy = vi.spyOn(console, stream).mockImplementation((...a: unknown[]) => {
    lines.push(a.map(String).join(" "));
  });
  return { lines, restore: () => spy.mockRestore() };
}

describe("loadFromArgs", () => {
  it("loads a log with the column flags and prints the load report to stderr", async () => {
    const { values } = parseArgs({
      args: [
        "--data",
        log,
        "--user-col",
        "uid",
        "--item-col",
        "vid",
        "--time-col",
        "when",
        "--weight-col",
        "secs",
        "--lenient",
      ],
      options: dataOptions,
    });
    const err = capture("error");
    try {
      const d = await loadFromArgs(values);
      expect(d.events.user.length).toBe(5);
      expect(Array.from(d.events.weight)).toEqual([10, 20, 7, 1, 2]);
    } finally {
      err.restore();
    }
    expect(err.lines[0]).toBe("watchnext: data: skipped 1 bad line in views.tsv; first:");
    expect(err.lines[1]).toMatch(
      /views\.tsv:4: field 'when': expected epoch seconds, epoch milliseconds or an ISO-8601/,
    );
  });

  it("requires --data", async () => {
    await expect(loadFromArgs({})).rejects.toBeInstanceOf(CliError);
  });
});

describe("data info", () => {
  it("prints counts, time range, quantiles and side information as JSON", async () => {
    const out = capture("log");
    try {
      const code = await dataInfo.run([
        log,
        "--json",
        "--user-col",
        "uid",
        "--item-col",
        "vid",
        "--time-col",
        "when",
        "--lenient",
      ]);
      expect(code).toBe(0);
    } finally {
      out.restore();
    }
    const s = JSON.parse(out.lines.join("\n"));
    expect([s.users, s.items, s.events]).toEqual([3, 3, 5]);
    expect(s.timeRange.minIso).toBe("2024-01-01T00:00:00.000Z");
    expect(s.timeRange.maxIso).toBe("2024-01-05T00:00:00.000Z");
    // events per user: c=1, b=1, a=3 (sorted 1,1,3).
    expect(s.eventsPerUser).toEqual({ min: 1, p25: 1, p50: 1, p75: 3, p90: 3, max: 3 });
    expect(s.sideInfo.titles).toBe(0);
    expect(s.sideInfo.tags).toBe(0);
    expect(s.report.skipped[0].count).toBe(1);
  });

  it("prints a readable summary", async () => {
    const out = capture("log");
    try {
      await dataInfo.run([log, "--user-col", "uid", "--item-col", "vid", "--time-col", "when", "--lenient"]);
    } finally {
      out.restore();
    }
    const text = out.lines.join("\n");
    expect(text).toMatch(/^users +3$/m);
    expect(text).toMatch(/events per user: min 1, 25% 1, 50% 1, 75% 3, 90% 3, max 3/);
    expect(text).toMatch(/titles +absent/);
    expect(text).toMatch(/skipped 1 bad line in views\.tsv/);
  });
});
