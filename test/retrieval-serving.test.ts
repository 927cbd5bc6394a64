// Retrieval as the service uses it: scores with the candidate model's item bias (u·v + b), items
// added while the index serves (ids stay dense; items without a vector are reserved and never
// returned), on both index kinds, and the HNSW file keeping all of it across save/load.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { getKernels, referenceKernels } from "../src/engine/kernels/index.js";
import { Rng } from "../src/engine/rng.js";
import {
  createIndex,
  ExactIndex,
  HnswIndex,
  loadHnswIndex,
  recallAgainstExact,
  saveHnswIndex,
  syntheticVectors,
  type Exclusion,
  type VectorIndex,
} from "../src/retrieval/index.js";

/** Brute force in float64 from the bias (as the kernels accumulate), rounded to float32; skips `skip`. */
function bruteForce(
  u: Float32Array,
  numQueries: number,
  v: Float32Array,
  bias: Float32Array | null,
  size: number,
  dim: number,
  k: number,
  skip: (q: number, item: number) => boolean,
): { items: number[]; scores: number[] } {
  const items: number[] = [];
  const scores: number[] = [];
  for (let q = 0; q < numQueries; q++) {
    const all: [number, number][] = [];
    for (let j = 0; j < size; j++) {
      if (skip(q, j)) continue;
      let s = bias === null ? 0 : bias[j];
      for (let d = 0; d < dim; d++) s += u[q * dim + d] * v[j * dim + d];
      all.push([Math.fround(s), j]);
    }
    all.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const top = all.slice(0, k);
    items.push(...top.map((t) => t[1]), ...Array<number>(k - top.length).fill(-1));
    scores.push(...top.map((t) => t[0]), ...Array<number>(k - top.length).fill(-Infinity));
  }
  return { items, scores };
}

const intGrid = (rng: Rng, n: number): Float32Array =>
  Float32Array.from({ length: n }, () => rng.nextInt(5) - 2);

describe("ExactIndex at serving time", () => {
  const dim = 8;
  const size = 300;
  const rng = new Rng(21);
  // Integer coordinates and biases: every score is exact in float32, so results must match exactly.
  const v = intGrid(rng, size * dim);
  const bias = Float32Array.from({ length: size }, () => rng.nextInt(3) - 1);
  const u = intGrid(rng, 5 * dim);

  for (const kernels of [referenceKernels, getKernels()]) {
    it(`adds items one at a time and in batches, reserves ids, scores u·v + b (${kernels.backend})`, () => {
      const index = new ExactIndex(v.subarray(0, 200 * dim), 200, dim, {
        itemBias: bias.subarray(0, 200),
        kernels,
      });
      for (let j = 200; j < 250; j++) {
        expect(index.addItems(v.subarray(j * dim, (j + 1) * dim), 1, bias.subarray(j, j + 1))).toBe(j);
      }
      // Items 250 and 251 have no vector yet: their ids are taken, they are never returned.
      expect(index.addItems(null, 2)).toBe(250);
      expect(index.addItems(v.subarray(252 * dim), size - 252, bias.subarray(252))).toBe(252);
      expect(index.size).toBe(size);
      expect(index.isSearchable(250)).toBe(false);
      expect(index.isSearchable(252)).toBe(true);
      const exclude: Exclusion = {
        offsets: Int32Array.of(0, 3, 3, 5, 6, 6),
        items: Int32Array.of(1, 250, 299, 7, 8, 251),
      };
      const banned = (q: number, j: number): boolean =>
        j === 250 ||
        j === 251 ||
        exclude.items.subarray(exclude.offsets[q], exclude.offsets[q + 1]).includes(j);
      for (const k of [10, 299]) {
        const got = index.search(u, 5, k, exclude);
        const want = bruteForce(u, 5, v, bias, size, dim, k, banned);
        expect(Array.from(got.items)).toEqual(want.items);
        expect(Array.from(got.scores)).toEqual(want.scores);
      }
    });
  }

  it("rejects additions that do not fit the index, naming what was expected", () => {
    const index = new ExactIndex(v.subarray(0, 10 * dim), 10, dim, { itemBias: bias.subarray(0, 10) });
    expect(() => index.addItems(v.subarray(0, dim), 1)).toThrow(
      /itemBias \(one entry per new item\) is required/,
    );
    expect(() => index.addItems(new Float32Array(dim - 1), 1, Float32Array.of(0))).toThrow(
      /expected size·dim = 1·8/,
    );
    expect(() => index.addItems(new Float32Array(dim), 1, Float32Array.of(Number.NaN))).toThrow(
      /item bias of item 10 is NaN/,
    );
    expect(() => index.addItems(null, 1, Float32Array.of(0))).toThrow(/reserved items/);
    const plain = new ExactIndex(v.subarray(0, 10 * dim), 10, dim);
    expect(() => plain.addItems(v.subarray(0, dim), 1, Float32Array.of(1))).toThrow(
      /built without an item bias/,
    );
    expect(() => plain.addItems(v, -1)).toThrow(/count must be a non-negative integer/);
    expect(index.size).toBe(10);
  });

  it("does not copy or change the caller's arrays", () => {
    const vectors = v.slice(0, 20 * dim);
    const index = new ExactIndex(vectors, 20, dim);
    expect(index.vectors.buffer).toBe(vectors.buffer);
    index.addItems(v.subarray(20 * dim, 21 * dim), 1);
    expect(index.vectors.buffer).not.toBe(vectors.buffer);
    expect(Array.from(vectors)).toEqual(Array.from(v.subarray(0, 20 * dim)));
    expect(Array.from(index.vectors)).toEqual(Array.from(v.subarray(0, 21 * dim)));
  });
});

describe("HnswIndex at serving time", () => {
  const dim = 16;
  const base = 3000;
  const added = 1000;
  const numQueries = 60;
  const k = 20;
  const { items, queries } = syntheticVectors({
    numItems: base + added,
    numQueries,
    dim,
    seed: 31,
    clusters: 32,
  });
  const rng = new Rng(32);
  // The last 50 added items are scaled past every built range, so they open a new norm range.
  for (let j = base + added - 50; j < base + added; j++)
    for (let d = 0; d < dim; d++) items[j * dim + d] *= 4;
  const bias = Float32Array.from({ length: base + added }, () => rng.uniform(-0.5, 0.5));
  const params = { M: 12, efConstruction: 80, efSearch: 200, seed: 4, normRanges: 4 };

  function grown(withBias: boolean): HnswIndex {
    const index = HnswIndex.build(items.subarray(0, base * dim), base, dim, params, {
      itemBias: withBias ? bias.subarray(0, base) : null,
    });
    for (let j = base; j < base + added; j += 100) {
      const n = Math.min(100, base + added - j);
      index.addItems(items.subarray(j * dim, (j + n) * dim), n, withBias ? bias.subarray(j, j + n) : null);
    }
    return index;
  }

  for (const withBias of [false, true]) {
    it(`finds added items as well as built ones: recall@20 >= 0.95 vs exact (${withBias ? "u·v + b" : "u·v"})`, () => {
      const index = grown(withBias);
      expect(index.size).toBe(base + added);
      expect(index.ranges.length).toBeGreaterThan(params.normRanges);
      const exact = new ExactIndex(items, base + added, dim, { itemBias: withBias ? bias : null });
      const truth = exact.search(queries, numQueries, k);
      const got = index.search(queries, numQueries, k);
      const recall = recallAgainstExact(got.items, truth.items, numQueries, k);
      expect(recall).toBeGreaterThanOrEqual(0.95);
      // Growing costs no recall against building over all items at once.
      const rebuilt = HnswIndex.build(items, base + added, dim, params, { itemBias: withBias ? bias : null });
      const rebuiltRecall = recallAgainstExact(
        rebuilt.search(queries, numQueries, k).items,
        truth.items,
        numQueries,
        k,
      );
      expect(recall).toBeGreaterThanOrEqual(rebuiltRecall - 0.02);
      // The scaled-up added items dominate many queries: they must come back.
      let fromAdded = 0;
      for (const item of got.items) if (item >= base) fromAdded++;
      expect(fromAdded).toBeGreaterThan(numQueries);
      // Scores are the exact u·v (+ b), accumulated from the bias in float64 and rounded once.
      for (let i = 0; i < got.items.length; i++) {
        const q = Math.floor(i / k);
        const item = got.items[i];
        let s = withBias ? bias[item] : 0;
        for (let d = 0; d < dim; d++) s += queries[q * dim + d] * items[item * dim + d];
        expect(got.scores[i]).toBe(Math.fround(s));
      }
    });
  }

  it("never returns reserved ids, and saves and loads bias, reserved ids and added ranges", () => {
    const index = grown(true);
    const first = index.addItems(null, 3);
    expect(first).toBe(base + added);
    index.addItems(items.subarray(0, dim), 1, Float32Array.of(0.25));
    const size = base + added + 4;
    const exclude: Exclusion = {
      offsets: Int32Array.from({ length: numQueries + 1 }, (_, q) => 2 * q),
      items: Int32Array.from({ length: 2 * numQueries }, (_, i) => (i % 2 === 0 ? first : (i * 37) % size)),
    };
    const got = index.search(queries, numQueries, k, exclude);
    for (const item of got.items) expect(item < first || item === size - 1).toBe(true);

    const dir = mkdtempSync(join(tmpdir(), "retrieval-serving-"));
    try {
      const path = join(dir, "items.hnsw");
      saveHnswIndex(index, path);
      const loaded = loadHnswIndex(path);
      expect(loaded.size).toBe(size);
      expect(loaded.isSearchable(first + 1)).toBe(false);
      expect(loaded.ranges.length).toBe(index.ranges.length);
      expect(Array.from(loaded.itemBias ?? [])).toEqual(Array.from(index.itemBias ?? []));
      expect(Array.from(loaded.vectors)).toEqual(Array.from(index.vectors));
      const again = loaded.search(queries, numQueries, k, exclude);
      expect(Array.from(again.items)).toEqual(Array.from(got.items));
      expect(Array.from(again.scores)).toEqual(Array.from(got.scores));
      // A loaded index keeps growing.
      loaded.addItems(items.subarray(5 * dim, 6 * dim), 1, Float32Array.of(0));
      expect(loaded.size).toBe(size + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("still loads version-1 files (no bias, no reserved ids)", () => {
    const small = HnswIndex.build(items.subarray(0, 500 * dim), 500, dim, { ...params, normRanges: 2 });
    const dir = mkdtempSync(join(tmpdir(), "retrieval-serving-"));
    try {
      const path = join(dir, "v1.hnsw");
      saveHnswIndex(small, path);
      const bytes = readFileSync(path);
      const headerLength = bytes.readUInt32LE(8);
      const header = JSON.parse(bytes.toString("utf8", 12, 12 + headerLength)) as Record<string, unknown>;
      delete header.itemBias;
      delete header.reserved;
      header.version = 1;
      const json = Buffer.from(JSON.stringify(header));
      const prefix = Buffer.alloc(12);
      bytes.copy(prefix, 0, 0, 8);
      prefix.writeUInt32LE(json.length, 8);
      writeFileSync(path, Buffer.concat([prefix, json, bytes.subarray(12 + headerLength)]));
      const loaded = loadHnswIndex(path);
      expect(loaded.itemBias).toBeNull();
      expect(Array.from(loaded.search(queries, 5, k).items)).toEqual(
        Array.from(small.search(queries, 5, k).items),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("grows from an empty index", () => {
    const index = HnswIndex.build(new Float32Array(0), 0, dim, params);
    expect(index.search(queries, 1, 5).items[0]).toBe(-1);
    index.addItems(items.subarray(0, 400 * dim), 400);
    const exact = new ExactIndex(items.subarray(0, 400 * dim), 400, dim);
    const truth = exact.search(queries, numQueries, k);
    expect(
      recallAgainstExact(index.search(queries, numQueries, k).items, truth.items, numQueries, k),
    ).toBeGreaterThanOrEqual(0.95);
  });
});

describe("createIndex for serving", () => {
  it("passes the item bias to either kind and validates exactBelow", () => {
    const { items, queries } = syntheticVectors({
      numItems: 300,
      numQueries: 4,
      dim: 8,
      seed: 5,
      clusters: 8,
    });
    const bias = Float32Array.from({ length: 300 }, (_, i) => (i % 7) / 10);
    const indexes: VectorIndex[] = [
      createIndex(items, 300, 8, { itemBias: bias }),
      createIndex(items, 300, 8, { itemBias: bias, exactBelow: 300, efSearch: 300 }),
    ];
    expect(indexes.map((index) => index.kind)).toEqual(["exact", "hnsw"]);
    const a = indexes[0].search(queries, 4, 10);
    const b = indexes[1].search(queries, 4, 10);
    expect(recallAgainstExact(b.items, a.items, 4, 10)).toBe(1);
    const want = bruteForce(queries, 4, items, bias, 300, 8, 10, () => false);
    expect(Array.from(b.items)).toEqual(want.items);
    expect(() => createIndex(items, 300, 8, { exactBelow: -1 })).toThrow(
      /exactBelow must be a non-negative integer/,
    );
  });
});

describe("createIndex with an HNSW cache file", () => {
  it("saves the built index, reuses it for the same items, rebuilds for others or a bad file", () => {
    const { items, queries } = syntheticVectors({
      numItems: 600,
      numQueries: 5,
      dim: 8,
      seed: 6,
      clusters: 8,
    });
    const bias = Float32Array.from({ length: 600 }, (_, i) => (i % 5) / 10);
    const dir = mkdtempSync(join(tmpdir(), "retrieval-cache-"));
    const build = vi.spyOn(HnswIndex, "build");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const cachePath = join(dir, "items.hnsw");
      const options = { kind: "hnsw" as const, itemBias: bias, cachePath, efSearch: 50, normRanges: 4 };
      const first = createIndex(items, 600, 8, options);
      expect(build).toHaveBeenCalledTimes(1);
      const bytes = readFileSync(cachePath);
      const again = createIndex(items, 600, 8, { ...options, efSearch: 70 });
      expect(build).toHaveBeenCalledTimes(1); // loaded, not rebuilt
      expect(again.kind === "hnsw" && again.getEfSearch()).toBe(70);
      expect(Array.from(again.search(queries, 5, 10).items)).toEqual(
        Array.from(first.search(queries, 5, 10).items),
      );

      // Other vectors, another bias, other build parameters: rebuilt and the file replaced.
      const moved = items.slice();
      moved[17] += 0.5;
      createIndex(moved, 600, 8, options);
      expect(build).toHaveBeenCalledTimes(2);
      expect(readFileSync(cachePath).equals(bytes)).toBe(false);
      createIndex(moved, 600, 8, { ...options, itemBias: bias.map((b) => b + 1) });
      createIndex(moved, 600, 8, { ...options, itemBias: null });
      createIndex(moved, 600, 8, { ...options, itemBias: null, M: 8 });
      expect(build).toHaveBeenCalledTimes(5);
      createIndex(moved, 600, 8, { ...options, itemBias: null, M: 8 });
      expect(build).toHaveBeenCalledTimes(5);

      writeFileSync(cachePath, "not an index");
      createIndex(items, 600, 8, options);
      expect(build).toHaveBeenCalledTimes(6);
      expect(readFileSync(cachePath).subarray(0, 8).toString("latin1")).toBe("WNHNSW01");

      // An unwritable cache only warns: the index is still served.
      const index = createIndex(items, 600, 8, { ...options, cachePath: join(dir, "missing", "items.hnsw") });
      expect(index.size).toBe(600);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(/could not save the HNSW index to .*missing/);
    } finally {
      build.mockRestore();
      warn.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
