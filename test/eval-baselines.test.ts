/** The baselines against direct dense computations, the runner's report and the CLI on a tiny log. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { baselines } from "../src/cli/commands/baselines.js";
import { fitEase } from "../src/eval/baselines/ease.js";
import { fitItemKnn } from "../src/eval/baselines/item-knn.js";
import { fitMostPop } from "../src/eval/baselines/most-pop.js";
import { markdownReport, formatTable } from "../src/eval/report.js";
import { runBaselines } from "../src/eval/run-baselines.js";
import type { Dataset } from "../src/data/dataset.js";
import type { Scorer } from "../src/eval/types.js";
import { querySet, randomDataset, tinyDataset } from "./eval-fixtures.js";

/** Dense binary user × item matrix of a dataset (float64). */
function denseX(d: Dataset): number[][] {
  const x = d.users.ids.map(() => new Array<number>(d.items.ids.length).fill(0));
  for (let e = 0; e < d.events.user.length; e++) x[d.events.user[e]][d.events.item[e]] = 1;
  return x;
}

/** Gauss–Jordan inverse in float64. */
function invert(a: number[][]): number[][] {
  const n = a.length;
  const m = a.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    const d = m[c][c];
    for (let j = 0; j < 2 * n; j++) m[c][j] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c];
      for (let j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
    }
  }
  return m.map((row) => row.slice(n));
}

function scoreAll(scorer: Scorer, histories: number[][], n: number): Float32Array {
  const qs = querySet(
    histories,
    histories.map(() => [0]),
  );
  const out = new Float32Array(histories.length * n);
  scorer.score(qs, out);
  return out;
}

describe("MostPop", () => {
  it("scores every item by its training count, the same for every user", () => {
    const d = tinyDataset(3, 4, [
      [0, 1, 1],
      [1, 1, 2],
      [2, 3, 3],
      [0, 1, 4],
    ]);
    expect([...scoreAll(fitMostPop(d), [[0], [2, 3]], 4)]).toEqual([0, 3, 0, 1, 0, 3, 0, 1]);
  });
});

describe("ItemKNN", () => {
  it("sums the cosine similarities of each history item's kept neighbours, like a dense computation", () => {
    const d = randomDataset(3, 30, 15, 5);
    const k = 4;
    const x = denseX(d);
    const n = 15;
    const deg = Array.from({ length: n }, (_, j) => x.reduce((s, row) => s + row[j], 0));
    const sim = Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => {
        if (i === j || deg[i] === 0 || deg[j] === 0) return 0;
        return x.reduce((s, row) => s + row[i] * row[j], 0) / Math.sqrt(deg[i] * deg[j]);
      }),
    );
    // Keep each row's k largest positive similarities, ties to the lower index.
    const kept = sim.map((row) => {
      const order = row
        .map((s, j) => [s, j])
        .filter(([s]) => s > 0)
        .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      return new Map(order.slice(0, k).map(([s, j]) => [j, s]));
    });
    const histories = [[0, 1, 2], [5], [14, 3, 3], []];
    const got = scoreAll(fitItemKnn(d, { neighbours: k }), histories, n);
    histories.forEach((h, q) => {
      for (let j = 0; j < n; j++) {
        const want = [...new Set(h)].reduce((s, i) => s + (kept[i].get(j) ?? 0), 0);
        expect(got[q * n + j]).toBeCloseTo(want, 5);
      }
    });
  });
});

describe("EASE", () => {
  const d = randomDataset(11, 25, 40, 6); // fewer users than items: both forms apply
  const n = 40;
  const lambda = 3;
  const x = denseX(d);
  const g = Array.from({ length: n }, (_, i) =>
    Array.from(
      { length: n },
      (_, j) => x.reduce((s, row) => s + row[i] * row[j], 0) + (i === j ? lambda : 0),
    ),
  );
  const p = invert(g);
  const histories = [[0, 1, 2], [7, 7, 30], [39], []];
  const want = histories.map((h) =>
    Array.from({ length: n }, (_, j) =>
      [...new Set(h)].reduce((s, i) => s + (i === j ? 0 : -p[i][j] / p[j][j]), 0),
    ),
  );

  for (const [form, materializeMax] of [
    ["items", undefined],
    ["users", undefined],
    ["users", 0],
  ] as const) {
    const how = materializeMax === 0 ? ", scored per query" : form === "users" ? ", B kept dense" : "";
    it(`matches B = I − P·diag(1/diag P) from a float64 inverse (${form} form${how})`, () => {
      const got = scoreAll(fitEase(d, { lambda, form, materializeMax }), histories, n);
      histories.forEach((_, q) => {
        for (let j = 0; j < n; j++) expect(got[q * n + j]).toBeCloseTo(want[q][j], 4);
      });
    });
  }
});

describe("runBaselines", () => {
  it("reports every model in the shared JSON shape, with EASE's λ picked on validation", () => {
    const d = randomDataset(5, 60, 30, 8);
    const report = runBaselines(d, { lambdas: [1, 10, 100] });
    expect(report).toMatchObject({ dataset: "tiny", protocol: "loo", n_users: 60, n_items: 30 });
    expect(report.results.map((r) => r.model)).toEqual(["MostPop", "ItemKNN", "EASE"]);
    for (const r of report.results) {
      expect(Object.keys(r.test)).toEqual([
        "HR@10",
        "NDCG@10",
        "HR@50",
        "NDCG@50",
        "HR@100",
        "NDCG@100",
        "MRR",
      ]);
      expect(Object.keys(r.valid)).toEqual(Object.keys(r.test));
    }
    const ease = report.results[2];
    const tuning = ease.tuning ?? [];
    expect(tuning.map((t) => t.params.lambda)).toEqual([1, 10, 100]);
    const best = Math.max(...tuning.map((t) => t.valid["NDCG@10"]));
    expect(ease.valid["NDCG@10"]).toBe(best);
    expect(tuning.find((t) => t.valid["NDCG@10"] === best)?.params.lambda).toBe(ease.params.lambda);
    expect(formatTable(report)).toContain("EASE (lambda=");
    expect(markdownReport(report, { command: "watchnext baselines" })).toMatch(/\| MostPop \| 0\.\d{4} \|/);
  });

  it("runs the temporal protocol with validation fitted before the validation cut", () => {
    const rows: Array<[number, number, number]> = [];
    const day = 86_400;
    for (let u = 0; u < 40; u++)
      for (let t = 0; t < 12; t++) rows.push([u, (u * 7 + t * 3) % 25, (t * 10 + (u % 5)) * day]);
    const report = runBaselines(tinyDataset(40, 25, rows), {
      protocol: "temporal",
      models: ["mostpop", "ease"],
      lambdas: [10],
    });
    expect(Object.keys(report.results[0].test)).toEqual([
      "Recall@10",
      "NDCG@10",
      "MAP@10",
      "Recall@50",
      "NDCG@50",
      "MAP@50",
      "Recall@100",
      "NDCG@100",
      "MAP@100",
    ]);
    expect(report.protocol_params?.validCutTime).toBeLessThan(report.protocol_params?.cutTime as number);
  });
});

describe("watchnext baselines", () => {
  it("prints one JSON object for a log file and writes the Markdown report", async () => {
    const dir = mkdtempSync(join(tmpdir(), "eval-cli-"));
    const lines = ["user,item,timestamp"];
    for (let u = 0; u < 12; u++)
      for (let t = 0; t < 5; t++) lines.push(`u${u},m${(u + t * 2) % 9},${1000 + t * 10 + u}`);
    writeFileSync(join(dir, "log.csv"), lines.join("\n") + "\n");
    const printed: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((s: string) => void printed.push(s));
    const err = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const md = join(dir, "report.md");
      const code = await baselines.run([
        "--data",
        join(dir, "log.csv"),
        "--models",
        "mostpop,itemknn",
        "--json",
        "--markdown",
        md,
      ]);
      expect(code).toBe(0);
      const report = JSON.parse(printed.join("\n"));
      expect(report).toMatchObject({ protocol: "loo", n_users: 12, n_items: 9 });
      expect(report.results.map((r: { model: string }) => r.model)).toEqual(["MostPop", "ItemKNN"]);
      expect(readFileSync(md, "utf8")).toContain("--models mostpop,itemknn");
      await expect(baselines.run(["--data", join(dir, "log.csv"), "--models", "pop"])).rejects.toThrow(
        /unknown model "pop"/,
      );
    } finally {
      log.mockRestore();
      err.mockRestore();
    }
  });
});
