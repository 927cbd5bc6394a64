// bench/train-phases.ts: every part of the benchmark step is timed around the network's own
// method (a wrapper that never ran would leave its part at 0) and the parts add up to the step.
import { describe, expect, it } from "vitest";
import { PHASES, timePhases } from "../bench/train-phases.js";

describe("bench train-phases", () => {
  it("times every part of two fp32 steps and leaves a small remainder", () => {
    const r = timePhases("fp32", 2, 1);
    expect(r.steps).toBe(2);
    for (const p of PHASES) expect(r.ms[p], p).toBeGreaterThan(0);
    const parts = PHASES.reduce((s, p) => s + r.ms[p], 0);
    expect(parts).toBeLessThanOrEqual(r.msPerStep + 1e-9);
    expect(r.ms.other).toBeGreaterThanOrEqual(0);
    expect(r.ms.other).toBeLessThan(r.msPerStep / 2);
    for (const g of Object.values(r.gflops)) expect(Number.isFinite(g) && g > 0).toBe(true);
  }, 60_000);
});
