/**
 * The baselines on the real MovieLens releases under `loo`, against the reference figures of
 * docs/reference-results.md (an independent NumPy implementation of the same protocol): MostPop
 * within ±0.001, ItemKNN and EASE within ±0.003 on test HR@10 and NDCG@10.
 */
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/load.js";
import type { Dataset } from "../src/data/dataset.js";
import { getKernels } from "../src/engine/kernels/index.js";
import { fitEase } from "../src/eval/baselines/ease.js";
import { evaluateSplit } from "../src/eval/evaluate.js";
import { runBaselines } from "../src/eval/run-baselines.js";
import { splitLoo } from "../src/eval/split-loo.js";
import type { EvaluationReport } from "../src/eval/types.js";

const shared = fileURLToPath(new URL("../../shared/data/", import.meta.url));
const native = getKernels().backend === "native";

interface Reference {
  model: string;
  hr10: number;
  ndcg10: number;
  tolerance: number;
  lambda?: number;
}

function expectReference(report: EvaluationReport, ref: Reference): void {
  const r = report.results.find((x) => x.model === ref.model);
  expect(r, ref.model).toBeDefined();
  if (!r) return;
  expect(Math.abs(r.test["HR@10"] - ref.hr10), `${ref.model} HR@10 ${r.test["HR@10"]}`).toBeLessThanOrEqual(
    ref.tolerance,
  );
  expect(
    Math.abs(r.test["NDCG@10"] - ref.ndcg10),
    `${ref.model} NDCG@10 ${r.test["NDCG@10"]}`,
  ).toBeLessThanOrEqual(ref.tolerance);
  if (ref.lambda !== undefined) expect(r.params.lambda).toBe(ref.lambda);
  expect(r.target_in_history).toBe(0);
}

describe("baselines on ml-100k (loo)", () => {
  let data: Dataset;
  beforeAll(async () => {
    data = await loadDataset(`${shared}ml-100k`);
  });

  it("matches the reference figures: MostPop, ItemKNN, and EASE with λ picked on validation (users form)", () => {
    const report = runBaselines(data);
    expect(report).toMatchObject({ n_users: 943, n_items: 1682, protocol: "loo" });
    expect(report.protocol_params?.evaluatedUsers).toBe(943);
    expectReference(report, { model: "MostPop", hr10: 0.0838, ndcg10: 0.0432, tolerance: 0.001 });
    expectReference(report, { model: "ItemKNN", hr10: 0.1018, ndcg10: 0.0545, tolerance: 0.003 });
    expectReference(report, { model: "EASE", hr10: 0.1432, ndcg10: 0.0711, tolerance: 0.003, lambda: 100 });
  });

  it.runIf(native)(
    "EASE items form (a 1682² spdInverse, native backend only: ~11 s per λ on the TS reference) gives the same figures",
    () => {
      const split = splitLoo(data);
      const test = evaluateSplit(fitEase(split.train, { lambda: 100, form: "items" }), split, "test").metrics;
      expect(Math.abs(test["HR@10"] - 0.1432)).toBeLessThanOrEqual(0.003);
      expect(Math.abs(test["NDCG@10"] - 0.0711)).toBeLessThanOrEqual(0.003);
    },
  );
});

describe("baselines on ml-latest-small (loo)", () => {
  it("matches the reference figures; EASE runs in its users form (a 610² inverse, fast on either backend)", async () => {
    const data = await loadDataset(`${shared}ml-latest-small`);
    const report = runBaselines(data);
    expect(report).toMatchObject({ n_users: 610, n_items: 9724 });
    expectReference(report, { model: "MostPop", hr10: 0.0377, ndcg10: 0.0178, tolerance: 0.001 });
    expectReference(report, { model: "ItemKNN", hr10: 0.059, ndcg10: 0.0262, tolerance: 0.003 });
    expectReference(report, { model: "EASE", hr10: 0.0918, ndcg10: 0.0449, tolerance: 0.003, lambda: 50 });
  });
});
