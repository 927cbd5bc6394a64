/**
 * The README table from compare result files (src/experiments/compare.ts compareReadmeTable):
 * mean ± sample sd over the seeds in the file, baselines as one value, n when a model has fewer
 * seeds than the others, "—" for a model with no finished cell.
 */
import { expect, it } from "vitest";
import { compareReadmeTable } from "../src/experiments/compare.js";
import type { ResultFile } from "../src/experiments/result-file.js";
import type { CellResult } from "../src/experiments/types.js";

function cell(protocol: string, model: string, seed: number, metrics: Record<string, number>): CellResult {
  return {
    id: `${protocol}/${model}/seed${seed}`,
    config: { protocol, model },
    seed,
    dataset: "toy",
    metrics,
    trainSeconds: 1,
    wallSeconds: 1,
    loadAverage: 0,
    command: "x",
    finishedAt: "2026-12-01T00:00:00Z",
  };
}

it("builds one row per model with mean ± sd over seeds", () => {
  const file: ResultFile = {
    format: 1,
    experiment: "compare",
    dataset: { name: "toy", source: "/toy" },
    settings: {},
    command: "watchnext experiment compare --data /toy",
    cells: [
      cell("loo", "ease", 1, { "HR@10": 0.1, "NDCG@10": 0.05, MRR: 0.04 }),
      cell("temporal", "ease", 1, { "MAP@10": 0.2, "Recall@10": 0.3 }),
      ...[1, 2, 3].map((s) =>
        cell("loo", "candidates", s, { "HR@10": 0.1 + s / 100, "NDCG@10": 0.05, MRR: 0.04 }),
      ),
      ...[1, 2].map((s) => cell("temporal", "candidates", s, { "MAP@10": 0.1 * s, "Recall@10": 0.2 })),
    ],
  };
  const lines = compareReadmeTable([file]).split("\n");
  expect(lines[0]).toBe(
    "| data | model | loo HR@10 | loo NDCG@10 | loo MRR | temporal MAP@10 | temporal Recall@10 |",
  );
  expect(lines).toContain("| toy | EASE | 0.1000 | 0.0500 | 0.0400 | 0.2000 | 0.3000 |");
  expect(lines).toContain(
    "| toy | candidate generator | 0.1200 ± 0.0100 | 0.0500 ± 0.0000 | 0.0400 ± 0.0000 | 0.1500 ± 0.0707 (n=2) | 0.2000 ± 0.0000 (n=2) |",
  );
  expect(lines).toContain("| toy | two-stage recommender | — | — | — | — | — |");
  expect(() => compareReadmeTable([{ ...file, experiment: "figure6" }])).toThrow(/expected compare/);
});
