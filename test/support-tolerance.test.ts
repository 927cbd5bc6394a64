/** The tolerance helpers every native-vs-reference and reference-vs-formula check relies on. */
import { describe, expect, it } from "vitest";
import { expectClose, worstRatio } from "./support/tolerance.js";

describe("worstRatio", () => {
  it("is the largest scaled difference, and 0 for identical arrays", () => {
    expect(worstRatio([1, 2, 3], [1, 2, 3], 1e-6, 0)).toBe(0);
    expect(worstRatio([1.5, 2], [1, 2], 1, 0)).toBeCloseTo(0.5, 12);
    expect(worstRatio([11, 2], [10, 2], 0, 0.05)).toBeCloseTo(2, 12);
    expect(worstRatio([2, 2], [1, 1], 0, 1, [4, 0.5])).toBeCloseTo(2, 12);
  });

  it("fails on a NaN anywhere, even after a larger difference and before a small one", () => {
    // The old running maximum `if (!(r <= worst)) worst = r` let the NaN reset it: this gave 0.1.
    expect(worstRatio([5, NaN, 1.0000001], [1, 1, 1], 1e-6, 0)).toBe(Infinity);
    expect(worstRatio([1, 1, 1], [5, NaN, 1.0000001], 1e-6, 0)).toBe(Infinity);
    expect(worstRatio([NaN], [NaN], 1, 1)).toBe(Infinity);
    expect(worstRatio([1, 1], [1, 1], 1e-6, 0, [NaN, 0])).toBe(0); // equal entries need no scale
    expect(worstRatio([1, 2], [1, 1], 1e-6, 1, [1, NaN])).toBe(Infinity);
  });

  it("fails on an infinity where the reference is finite, accepts the same infinity both sides", () => {
    expect(worstRatio([Infinity, 1], [1, 1], 1e6, 1e6)).toBe(Infinity);
    expect(worstRatio([1, 1], [-Infinity, 1], 1e6, 1e6)).toBe(Infinity);
    expect(worstRatio([Infinity], [-Infinity], 1e6, 1e6)).toBe(Infinity);
    expect(worstRatio([-Infinity, 3], [-Infinity, 3], 0, 0)).toBe(0);
  });

  it("with a zero tolerance, only exact equality passes", () => {
    expect(worstRatio([1], [1 + 2 ** -20], 0, 0)).toBe(Infinity);
    expect(worstRatio([0], [-0], 0, 0)).toBe(0);
  });

  it("refuses arrays of different lengths", () => {
    expect(() => worstRatio([1], [1, 2], 1, 0)).toThrow(/lengths differ/);
  });
});

describe("expectClose", () => {
  it("passes within tolerance and names the first index outside it", () => {
    expect(() => expectClose([1, 2.000001], [1, 2], 1e-5)).not.toThrow();
    expect(() => expectClose([1, 2.1], [1, 2], 1e-5)).toThrow(/index 1: got 2.1, expected 2/);
  });

  it("fails on NaN and on an infinity against a finite value", () => {
    expect(() => expectClose([1, NaN], [1, 2])).toThrow(/index 1/);
    expect(() => expectClose([NaN], [NaN])).toThrow(/index 0/);
    expect(() => expectClose([Infinity], [1])).toThrow(/index 0/);
    expect(() => expectClose([Infinity], [Infinity])).not.toThrow();
  });
});
