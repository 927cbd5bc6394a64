import { describe, expect, it } from "vitest";
import { Rng } from "../src/engine/rng.js";
import { QuantileNormalizer } from "../src/features/quantile.js";
import { tagTokens, words } from "../src/features/tokenize.js";
import { Counter, Vocabulary } from "../src/features/vocabulary.js";

describe("Vocabulary", () => {
  const counts = new Map([
    ["b", 5],
    ["a", 5],
    ["c", 9],
    ["d", 1],
    ["e", 2],
  ]);

  it("keeps the top N by count (ties by value) with indices 1..N and maps the rest to 0", () => {
    const v = Vocabulary.fromCounts(counts, { maxSize: 3 });
    expect(v.values).toEqual(["c", "a", "b"]);
    expect(v.rows).toBe(4);
    expect(v.lookup("c")).toBe(1);
    expect(v.lookup("a")).toBe(2);
    expect(v.lookup("b")).toBe(3);
    expect(v.lookup("e")).toBe(0);
    expect(v.lookup("never seen")).toBe(0);
  });

  it("drops values below minCount", () => {
    const v = Vocabulary.fromCounts(counts, { minCount: 2 });
    expect(v.values).toEqual(["c", "a", "b", "e"]);
    expect(v.lookup("d")).toBe(0);
  });

  it("does not depend on insertion order and round-trips through JSON", () => {
    const c = new Counter();
    for (const [k, n] of [...counts].reverse()) c.add(k, n);
    const v = Vocabulary.fromCounts(c, { maxSize: 4 });
    expect(v.values).toEqual(Vocabulary.fromCounts(counts, { maxSize: 4 }).values);
    const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(v)));
    expect(back.values).toEqual(v.values);
    expect(back.counts).toEqual(v.counts);
    for (const k of ["a", "b", "c", "d", "e", "zz"]) expect(back.lookup(k)).toBe(v.lookup(k));
  });

  it("rejects malformed JSON", () => {
    expect(() => Vocabulary.fromJSON({ values: ["a", "a"], counts: [1, 1] })).toThrow(/duplicate/);
    expect(() => Vocabulary.fromJSON({ values: ["a"], counts: [] })).toThrow(/equal length/);
  });
});

describe("tagTokens", () => {
  it("lowercases and emits unigrams then bigrams", () => {
    expect(tagTokens("Sci-Fi classic")).toEqual(["sci", "fi", "classic", "sci fi", "fi classic"]);
    expect(tagTokens("funny")).toEqual(["funny"]);
    expect(tagTokens("  ")).toEqual([]);
  });

  it("drops apostrophes inside words and keeps digits and non-ASCII letters", () => {
    expect(words("Don't look UP 2")).toEqual(["dont", "look", "up", "2"]);
    expect(tagTokens("Amélie Poulain")).toEqual(["amélie", "poulain", "amélie poulain"]);
  });
});

describe("QuantileNormalizer", () => {
  it("maps the fitted distribution to [0, 1), monotone, roughly uniform", () => {
    const rng = new Rng(7);
    const values = Float64Array.from({ length: 20_000 }, () => Math.exp(3 * rng.normal()));
    const q = QuantileNormalizer.fit(values, 1000);
    const probes = Float64Array.from({ length: 5000 }, () => Math.exp(4 * rng.normal()));
    probes.sort();
    let prev = -1;
    for (const x of probes) {
      const t = q.transform(x);
      expect(t).toBeGreaterThanOrEqual(0);
      expect(t).toBeLessThan(1);
      expect(t).toBeGreaterThanOrEqual(prev);
      prev = t;
    }
    // F(x) of the training values is close to their rank fraction.
    const sorted = values.slice().sort();
    for (const f of [0.1, 0.25, 0.5, 0.9]) {
      expect(Math.abs(q.transform(sorted[Math.floor(f * sorted.length)]) - f)).toBeLessThan(0.01);
    }
    expect(q.transform(-1)).toBe(0);
    expect(q.transform(1e30)).toBeLessThan(1);
    expect(Math.fround(q.transform(1e30))).toBeLessThan(1);
  });

  it("interpolates linearly between knots and maps a tied run to its middle", () => {
    const q = new QuantileNormalizer([0, 10, 20, 20, 20, 40]); // Q = 5
    expect(q.transform(5)).toBeCloseTo(0.1, 12);
    expect(q.transform(15)).toBeCloseTo(0.3, 12);
    expect(q.transform(20)).toBeCloseTo(0.6, 12); // run of knots 2..4
    expect(q.transform(30)).toBeCloseTo(0.9, 12);
    expect(q.transform(19.999)).toBeLessThan(q.transform(20));
    expect(q.transform(20.001)).toBeGreaterThan(q.transform(20));
  });

  it("gives small integers (looked up after their first use) the same values on every call", () => {
    const q = new QuantileNormalizer([0, 10, 20, 20, 20, 40]);
    const fresh = new QuantileNormalizer([0, 10, 20, 20, 20, 40]);
    for (const x of [0, 5, 20, 30, 40, 41, 1023, 1024, -0, 5.5]) {
      const first = q.transform(x);
      expect(q.transform(x)).toBe(first);
      expect(fresh.transform(x)).toBe(first);
    }
    expect(q.transform(5)).toBeCloseTo(0.1, 12);
    expect(q.transform(20)).toBeCloseTo(0.6, 12);
    expect(q.transform(1023)).toBe(1 - 2 ** -24);
  });

  it("writes x̃, x̃², √x̃ and round-trips through JSON", () => {
    const q = QuantileNormalizer.fit([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4);
    const out = new Float32Array(5);
    q.transformInto(4, out, 1);
    const t = q.transform(4);
    expect(t).toBeGreaterThan(0);
    expect(Array.from(out)).toEqual([0, Math.fround(t), Math.fround(t * t), Math.fround(Math.sqrt(t)), 0]);
    const back = QuantileNormalizer.fromJSON(JSON.parse(JSON.stringify(q)));
    for (const x of [0, 1, 2.5, 7, 11]) expect(back.transform(x)).toBe(q.transform(x));
  });

  it("maps a constant or empty feature to 0 and rejects non-monotone knots", () => {
    expect(QuantileNormalizer.fit([3, 3, 3], 10).transform(3)).toBe(0);
    expect(QuantileNormalizer.fit([], 10).transform(5)).toBe(0);
    expect(() => new QuantileNormalizer([0, 2, 1])).toThrow(/non-decreasing/);
  });
});
