import { describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { loadDataset } from "../src/data/load.js";
import { buildCandidateFeatures } from "../src/features/candidate-features.js";

const DATA = fileURLToPath(new URL("../../shared/data/", import.meta.url));

describe("candidate features on MovieLens", () => {
  it("ml-100k: demographics on (age in years as a dense value), search off for lack of tags", async () => {
    const d = await loadDataset(`${DATA}ml-100k`);
    const f = buildCandidateFeatures(d);
    expect(f.config.search.enabled).toBe(false);
    expect(f.config.autoOff.search).toMatch(/no tag events/);
    const names = f.schema.features.map((x) => x.name);
    expect(names).toEqual(
      expect.arrayContaining(["watches", "watchGenres", "watchYears", "gender", "occupation", "zip", "age"]),
    );
    expect(names).not.toContain("searchTokens");
    expect(names).not.toContain("ageBucket");
    const set = f.examples();
    const batch = f.allocBatch(256);
    const order = Int32Array.from({ length: set.size }, (_, i) => i);
    f.fillTrainBatch(set, order, 0, 256, batch);
    const ageCol = 1; // after exampleAge
    let sawAge = false;
    for (let b = 0; b < 256; b++) {
      const a = batch.dense[b * batch.denseWidth + ageCol];
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThanOrEqual(1);
      sawAge ||= a > 0 && a < 1;
      expect(batch.categorical.gender[b]).toBeGreaterThan(0);
    }
    expect(sawAge).toBe(true);
  });

  it("ml-latest-small: search on, demographics off; one epoch is featurized quickly", async () => {
    const d = await loadDataset(`${DATA}ml-latest-small`);
    const t0 = performance.now();
    const f = buildCandidateFeatures(d, { examples: { perUserCap: 0 } });
    const set = f.examples();
    const B = 512;
    const batch = f.allocBatch(B);
    const order = Int32Array.from({ length: set.size }, (_, i) => i);
    let tokens = 0;
    let maxTokens = 0;
    let maxWatches = 0;
    for (let s = 0; s < set.size; s += B) {
      const n = f.fillTrainBatch(set, order, s, Math.min(set.size, s + B), batch);
      const tb = batch.bags.searchTokens;
      const wb = batch.bags.watches;
      tokens += tb.offsets[n];
      for (let b = 0; b < n; b++) {
        maxTokens = Math.max(maxTokens, tb.offsets[b + 1] - tb.offsets[b]);
        maxWatches = Math.max(maxWatches, wb.offsets[b + 1] - wb.offsets[b]);
      }
    }
    const ms = performance.now() - t0;
    console.log(`ml-latest-small: build + ${set.size} examples + fill one epoch: ${ms.toFixed(0)} ms`);
    expect(f.config.demographics.enabled).toBe(false);
    expect(f.config.autoOff.demographics).toMatch(/no users file/);
    expect(f.config.search.enabled).toBe(true);
    expect(set.size).toBe(d.events.user.length - d.users.ids.length); // every event but each user's first
    expect(tokens).toBeGreaterThan(0);
    expect(maxTokens).toBe(50);
    expect(maxWatches).toBe(50);
    // Well under a second alone; allow for a machine shared with other jobs.
    expect(ms).toBeLessThan(5000);
  });
});
