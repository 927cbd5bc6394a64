/**
 * The candidate generator's quality bar on real data: ml-100k, protocol loo, seen filtered, default
 * config, test split — above EASE (HR@10 0.1432, NDCG@10 0.0711) with the margins.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadDataset } from "../src/data/load.js";
import { getKernels } from "../src/engine/kernels/index.js";
import { evaluate } from "../src/eval/evaluate.js";
import { splitLoo } from "../src/eval/split-loo.js";
import { CandidateModel } from "../src/models/candidates/model.js";

const ml100k = fileURLToPath(new URL("../../shared/data/ml-100k", import.meta.url));

// Training to convergence takes ~15 s on the native kernels and ~100 s per epoch on the TypeScript
// references, so under WATCHNEXT_BACKEND=ts this one test is reported as skipped (by name, below).
const native = getKernels().backend === "native";

describe("candidate generator on ml-100k", () => {
  it.skipIf(!native)(
    "(native backend only) clears HR@10 >= 0.155 and NDCG@10 >= 0.077 on the loo test split with the default config",
    async () => {
      if (!existsSync(ml100k)) throw new Error(`${ml100k} is missing (the shared MovieLens data)`);
      const data = await loadDataset(ml100k);
      const split = splitLoo(data);
      const model = await CandidateModel.fit(split.train, { valid: split.valid, seed: 1 });
      const test = evaluate(model.asScorer(), split.test, {
        numItems: data.items.ids.length,
        metrics: "loo",
      }).metrics;
      expect(test["HR@10"]).toBeGreaterThanOrEqual(0.155);
      expect(test["NDCG@10"]).toBeGreaterThanOrEqual(0.077);
      // The budget is 60 s to the best epoch on an idle machine; a shared CI box gets slack.
      expect(model.summary?.secondsToBest).toBeLessThan(180);
    },
  );
});
