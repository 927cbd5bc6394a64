// The native topK kernel when a few queries meet a large catalog (the serving case): the catalog is
// split across the pool and the partial top-k lists are merged. Checked against the TypeScript
// reference bit for bit on integer data (every score exact in float32, many ties, so the "ties to
// the lower item" order is exercised across part boundaries), and 1 thread against 2 on real
// data, on every SIMD level this CPU runs. Shapes are chosen so the split happens (enough work per
// part), including partial lists shorter than k and k beyond the catalog.
import { afterAll, describe, expect, it } from "vitest";
import { getNativeKernels, getReferenceKernels } from "../src/engine/kernels/index.js";
import type { Kernels } from "../src/engine/kernels/kernels.js";
import {
  nativeSimdInfo,
  nativeThreads,
  setNativeSimdLevel,
  setNativeThreads,
  type NativeSimdInfo,
} from "../src/engine/kernels/native.js";
import { Rng } from "../src/engine/rng.js";

const forcedTs = process.env.WATCHNEXT_BACKEND === "ts";
const nat: Kernels | null = forcedTs ? null : getNativeKernels();
const ref = getReferenceKernels();
const LEVELS: NativeSimdInfo["level"][] = ["portable", "avx2", "avx512"];

/** Bitwise-equal arrays, reporting the first differing index. */
function expectSame(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    if (!Object.is(actual[i], expected[i])) expect(actual[i], `${what} [${i}]`).toBe(expected[i]);
  }
}

interface Case {
  readonly u: Float32Array;
  readonly v: Float32Array;
  readonly bias: Float32Array;
  readonly exOff: Int32Array;
  readonly exItems: Int32Array;
  readonly numQueries: number;
  readonly numItems: number;
  readonly dim: number;
  readonly k: number;
}

function makeCase(
  rng: Rng,
  [numQueries, numItems, dim, k]: readonly [number, number, number, number],
  draw: () => number,
): Case {
  const u = new Float32Array(numQueries * dim).map(draw);
  const v = new Float32Array(numItems * dim).map(draw);
  const bias = new Float32Array(numItems).map(() => rng.nextInt(3));
  const exOff = new Int32Array(numQueries + 1);
  const ex: number[] = [];
  for (let q = 0; q < numQueries; q++) {
    const count = rng.nextInt(60);
    for (let e = 0; e < count; e++) ex.push(rng.nextInt(numItems));
    exOff[q + 1] = ex.length;
  }
  return { u, v, bias, exOff, exItems: Int32Array.from(ex), numQueries, numItems, dim, k };
}

function run(kernels: Kernels, c: Case, withExtras: boolean): { items: Int32Array; scores: Float32Array } {
  const items = new Int32Array(c.numQueries * c.k);
  const scores = new Float32Array(c.numQueries * c.k);
  kernels.topK(
    c.u,
    c.numQueries,
    c.v,
    c.numItems,
    c.dim,
    withExtras ? c.bias : null,
    c.k,
    withExtras ? c.exOff : null,
    withExtras ? c.exItems : null,
    items,
    scores,
  );
  return { items, scores };
}

// [numQueries, numItems, dim, k]: each has enough multiply-adds for the kernel to split the catalog.
const SHAPES = [
  [1, 70_000, 32, 20],
  [2, 50_000, 64, 100],
  [5, 33_001, 16, 7],
  [1, 4_100, 256, 3_000], // partial lists shorter than k
  [1, 3_000, 512, 3_500], // k beyond the catalog: −1/−∞ tail after the merge
] as const;

describe.skipIf(nat === null)("native topK with the catalog split across threads", () => {
  const kernels = nat as Kernels;
  const best = forcedTs ? "portable" : nativeSimdInfo().best;
  const levels = LEVELS.slice(0, LEVELS.indexOf(best) + 1);
  const initialThreads = forcedTs ? 1 : nativeThreads();
  afterAll(() => {
    setNativeSimdLevel(best);
    setNativeThreads(initialThreads);
  });

  // Integer data: the reference is computed once per shape and every level × thread count must match it.
  const rng = new Rng(301);
  const intCases = SHAPES.map((shape) => makeCase(rng, shape, () => rng.nextInt(5) - 2));
  const expected = intCases.map((c) => [run(ref, c, false), run(ref, c, true)]);

  for (const level of levels) {
    for (const threads of [1, 2]) {
      it(`matches the reference bit for bit on integer data (${level}, ${threads} thread(s))`, () => {
        setNativeSimdLevel(level);
        setNativeThreads(threads);
        intCases.forEach((c, i) => {
          for (const withExtras of [false, true]) {
            const got = run(kernels, c, withExtras);
            const want = expected[i][withExtras ? 1 : 0];
            const what = `${c.numQueries}x${c.numItems}x${c.dim} k=${c.k}${withExtras ? " bias+exclusion" : ""}`;
            expectSame(got.items, want.items, `items ${what}`);
            expectSame(got.scores, want.scores, `scores ${what}`);
          }
        });
      });
    }

    it(`gives the same items, order and scores with 1 and 2 threads on real data (${level})`, () => {
      setNativeSimdLevel(level);
      const r = new Rng(302);
      for (const shape of [
        [1, 100_000, 64, 100],
        [3, 20_000, 48, 500],
      ] as const) {
        const c = makeCase(r, shape, () => r.uniform(-1, 1));
        for (const withExtras of [false, true]) {
          setNativeThreads(1);
          const one = run(kernels, c, withExtras);
          setNativeThreads(2);
          const two = run(kernels, c, withExtras);
          expectSame(two.items, one.items, `items ${shape.join("x")}`);
          expectSame(two.scores, one.scores, `scores ${shape.join("x")}`);
          // Sanity against the reference: real data differs only by float32 rounding.
          if (shape[0] === 3 && withExtras) {
            const want = run(ref, c, true);
            for (let i = 0; i < want.scores.length; i++) {
              expect(Math.abs(two.scores[i] - want.scores[i])).toBeLessThanOrEqual(1e-5 * c.dim);
            }
          }
          // Exclusions are honoured and rows are sorted best first.
          for (let q = 0; q < c.numQueries; q++) {
            const excluded = new Set(withExtras ? c.exItems.subarray(c.exOff[q], c.exOff[q + 1]) : []);
            for (let i = 0; i < c.k; i++) {
              expect(excluded.has(two.items[q * c.k + i])).toBe(false);
              if (i > 0) expect(two.scores[q * c.k + i]).toBeLessThanOrEqual(two.scores[q * c.k + i - 1]);
            }
          }
        }
      }
    });
  }
});
