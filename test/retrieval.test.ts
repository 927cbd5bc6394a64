import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getKernels, referenceKernels } from "../src/engine/kernels/index.js";
import { Rng } from "../src/engine/rng.js";
import { UserError } from "../src/errors.js";
import {
  createIndex,
  ExactIndex,
  HnswIndex,
  loadHnswIndex,
  recallAgainstExact,
  saveHnswIndex,
  syntheticVectors,
  type Exclusion,
} from "../src/retrieval/index.js";

/** Plain brute force: all items by score desc, ties by lower index, minus the excluded ones. */
function bruteForce(
  u: Float32Array,
  numQueries: number,
  v: Float32Array,
  size: number,
  dim: number,
  k: number,
  exclude?: Exclusion,
): { items: number[][]; scores: number[][] } {
  const items: number[][] = [];
  const scores: number[][] = [];
  for (let q = 0; q < numQueries; q++) {
    const skip = new Set(
      exclude ? Array.from(exclude.items.subarray(exclude.offsets[q], exclude.offsets[q + 1])) : [],
    );
    const all: [number, number][] = [];
    for (let j = 0; j < size; j++) {
      if (skip.has(j)) continue;
      let s = 0;
      for (let d = 0; d < dim; d++) s += u[q * dim + d] * v[j * dim + d];
      all.push([Math.fround(s), j]);
    }
    all.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const top = all.slice(0, k);
    items.push([...top.map((t) => t[1]), ...Array<number>(k - top.length).fill(-1)]);
    scores.push([...top.map((t) => t[0]), ...Array<number>(k - top.length).fill(-Infinity)]);
  }
  return { items, scores };
}

function rows<T extends Int32Array | Float32Array>(a: T, k: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < a.length; i += k) out.push(Array.from(a.subarray(i, i + k)));
  return out;
}

function randomExclusion(rng: Rng, numQueries: number, size: number, maxPerQuery: number): Exclusion {
  const offsets = new Int32Array(numQueries + 1);
  const list: number[] = [];
  for (let q = 0; q < numQueries; q++) {
    const n = rng.nextInt(maxPerQuery + 1);
    for (let i = 0; i < n; i++) list.push(rng.nextInt(size));
    offsets[q + 1] = list.length;
  }
  return { offsets, items: Int32Array.from(list) };
}

describe("ExactIndex", () => {
  const dim = 8;
  const size = 300;
  const numQueries = 7;
  const rng = new Rng(11);
  // Coordinates on a coarse grid so that many scores tie exactly.
  const v = Float32Array.from({ length: size * dim }, () => rng.nextInt(5) - 2);
  const u = Float32Array.from({ length: numQueries * dim }, () => rng.nextInt(3) - 1);

  for (const kernels of [referenceKernels, getKernels()]) {
    it(`matches brute force with ties and exclusion (${kernels.backend} kernels)`, () => {
      const index = new ExactIndex(v, size, dim, { kernels });
      const exclude = randomExclusion(rng, numQueries, size, 40);
      for (const [k, ex] of [
        [10, undefined],
        [25, exclude],
      ] as const) {
        const got = index.search(u, numQueries, k, ex);
        const want = bruteForce(u, numQueries, v, size, dim, k, ex);
        expect(rows(got.items, k)).toEqual(want.items);
        expect(rows(got.scores, k)).toEqual(want.scores);
      }
    });
  }

  it("pads with −1 / −∞ when exclusion leaves fewer than k items", () => {
    const index = new ExactIndex(v.subarray(0, 6 * dim), 6, dim, { kernels: referenceKernels });
    const exclude = { offsets: Int32Array.of(0, 4), items: Int32Array.of(0, 2, 4, 2) };
    const got = index.search(u, 1, 5, exclude);
    const want = bruteForce(u, 1, v, 6, dim, 5, exclude);
    expect(Array.from(got.items)).toEqual(want.items[0]);
    expect(Array.from(got.items.subarray(3))).toEqual([-1, -1]);
    expect(Array.from(got.scores.subarray(3))).toEqual([-Infinity, -Infinity]);
  });

  it("rejects malformed input with a clear message", () => {
    expect(() => new ExactIndex(new Float32Array(10), 3, 4)).toThrow(/expected size·dim = 3·4/);
    expect(() => new ExactIndex(Float32Array.of(1, Number.NaN), 1, 2)).toThrow(/item 0 coordinate 1/);
    const index = new ExactIndex(v, size, dim, { kernels: referenceKernels });
    expect(() => index.search(u, 2, 5, { offsets: Int32Array.of(0, 1), items: Int32Array.of(3) })).toThrow(
      /numQueries \+ 1 = 3/,
    );
  });
});

describe("HnswIndex", () => {
  const dim = 32;
  const size = 5000;
  const numQueries = 100;
  const k = 50;
  const { items, queries } = syntheticVectors({ numItems: size, numQueries, dim, seed: 7, clusters: 64 });
  const exact = new ExactIndex(items, size, dim);
  const hnsw = HnswIndex.build(items, size, dim, { M: 16, efConstruction: 100, efSearch: 100, seed: 3 });

  it("reaches recall@50 >= 0.95 against exact search on 5k clustered vectors", () => {
    const truth = exact.search(queries, numQueries, k);
    const got = hnsw.search(queries, numQueries, k);
    expect(recallAgainstExact(got.items, truth.items, numQueries, k)).toBeGreaterThanOrEqual(0.95);
    // Returned scores are exact inner products, sorted descending.
    for (let q = 0; q < numQueries; q++) {
      for (let i = 0; i < k; i++) {
        const item = got.items[q * k + i];
        let s = 0;
        for (let d = 0; d < dim; d++) s += queries[q * dim + d] * items[item * dim + d];
        expect(got.scores[q * k + i]).toBe(Math.fround(s));
        if (i > 0) expect(got.scores[q * k + i]).toBeLessThanOrEqual(got.scores[q * k + i - 1]);
      }
    }
  });

  it("excludes seen items exactly, without losing result slots", () => {
    // Exclude each query's true top 30 plus random items: none may come back, rows stay full,
    // and recall against exact search with the same exclusion stays high.
    const top = exact.search(queries, numQueries, 30);
    const offsets = new Int32Array(numQueries + 1);
    const list: number[] = [];
    const rng = new Rng(5);
    for (let q = 0; q < numQueries; q++) {
      list.push(...top.items.subarray(q * 30, q * 30 + 30));
      for (let i = 0; i < 20; i++) list.push(rng.nextInt(size));
      offsets[q + 1] = list.length;
    }
    const exclude = { offsets, items: Int32Array.from(list) };
    const got = hnsw.search(queries, numQueries, k, exclude);
    for (let q = 0; q < numQueries; q++) {
      const banned = new Set(list.slice(offsets[q], offsets[q + 1]));
      const row = Array.from(got.items.subarray(q * k, q * k + k));
      expect(row.every((item) => item >= 0 && !banned.has(item))).toBe(true);
      expect(new Set(row).size).toBe(k);
    }
    const truth = exact.search(queries, numQueries, k, exclude);
    expect(recallAgainstExact(got.items, truth.items, numQueries, k)).toBeGreaterThanOrEqual(0.95);
  });

  it("matches exact search on a tiny catalog, including padding after exclusion", () => {
    const small = syntheticVectors({ numItems: 40, numQueries: 5, dim: 6, seed: 2, clusters: 4 });
    const index = HnswIndex.build(small.items, 40, 6, { normRanges: 3, seed: 1 });
    const exclude = randomExclusion(new Rng(9), 5, 40, 38);
    const got = index.search(small.queries, 5, 12, exclude);
    const want = bruteForce(small.queries, 5, small.items, 40, 6, 12, exclude);
    expect(rows(got.items, 12)).toEqual(want.items);
    expect(rows(got.scores, 12)).toEqual(want.scores);
  });

  it("saves and loads to identical search results", () => {
    const dir = mkdtempSync(join(tmpdir(), "retrieval-test-"));
    try {
      const path = join(dir, "items.hnsw");
      hnsw.setEfSearch(60);
      saveHnswIndex(hnsw, path);
      const loaded = loadHnswIndex(path);
      expect(loaded.size).toBe(size);
      expect(loaded.dim).toBe(dim);
      expect(loaded.getEfSearch()).toBe(60);
      expect(Array.from(loaded.vectors)).toEqual(Array.from(items));
      const a = hnsw.search(queries, numQueries, k);
      const b = loaded.search(queries, numQueries, k);
      expect(Array.from(b.items)).toEqual(Array.from(a.items));
      expect(Array.from(b.scores)).toEqual(Array.from(a.scores));
      hnsw.setEfSearch(100);

      const bad = join(dir, "bad.hnsw");
      writeFileSync(bad, readFileSync(path).subarray(0, 2000));
      expect(() => loadHnswIndex(bad)).toThrow(
        /bad\.hnsw: not a valid watchnext HNSW index file: range 0 runs past/,
      );
      expect(() => loadHnswIndex(bad)).toThrow(UserError); // printed by the CLI without a stack
      expect(() => loadHnswIndex(join(dir, "missing.hnsw"))).toThrow(/missing\.hnsw: cannot read \(ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("createIndex", () => {
  it("chooses exact below exactBelow and HNSW from it", () => {
    const { items } = syntheticVectors({ numItems: 200, numQueries: 1, dim: 4, seed: 1 });
    expect(createIndex(items, 200, 4).kind).toBe("exact");
    expect(createIndex(items, 200, 4, { exactBelow: 200 }).kind).toBe("hnsw");
    expect(createIndex(items, 200, 4, { kind: "hnsw", exactBelow: 1000 }).kind).toBe("hnsw");
    expect(createIndex(items, 200, 4, { kind: "exact", exactBelow: 10 }).kind).toBe("exact");
  });
});
