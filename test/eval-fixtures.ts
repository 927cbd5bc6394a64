/** Hand-built Datasets and scorers for the eval tests. */
import type { Dataset, IdDictionary } from "../src/data/dataset.js";
import type { QueryBatch, QuerySet, Scorer } from "../src/eval/types.js";
import { Rng } from "../src/engine/rng.js";

function dict(prefix: string, n: number): IdDictionary {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  return { ids, index: new Map(ids.map((id, i) => [id, i])) };
}

/** A dataset from [user, item, time] rows in file order. */
export function tinyDataset(
  numUsers: number,
  numItems: number,
  rows: Array<[number, number, number]>,
): Dataset {
  return {
    name: "tiny",
    format: "log",
    source: "memory",
    users: dict("u", numUsers),
    items: dict("i", numItems),
    events: {
      user: Int32Array.from(rows, (r) => r[0]),
      item: Int32Array.from(rows, (r) => r[1]),
      time: Float64Array.from(rows, (r) => r[2]),
      weight: new Float32Array(rows.length).fill(1),
    },
    itemInfo: {
      title: Array.from({ length: numItems }, () => ""),
      year: new Int16Array(numItems),
      genreOffsets: new Int32Array(numItems + 1),
      genreIds: new Int32Array(0),
      genreNames: [],
    },
    userInfo: null,
    tags: null,
    report: { skipped: [], duplicateEvents: 0, warnings: [] },
  };
}

/** A random dataset: each user rates `perUser` distinct items, popularity skewed to low indices. */
export function randomDataset(seed: number, numUsers: number, numItems: number, perUser: number): Dataset {
  const rng = new Rng(seed);
  const rows: Array<[number, number, number]> = [];
  for (let u = 0; u < numUsers; u++) {
    const chosen = new Set<number>();
    while (chosen.size < perUser) chosen.add(Math.floor(numItems * rng.nextFloat() ** 2));
    for (const i of chosen) rows.push([u, i, 1000 + rng.nextInt(100)]);
  }
  return tinyDataset(numUsers, numItems, rows);
}

/** Query sets from plain arrays: one entry per query. */
export function querySet(histories: number[][], targets: number[][]): QuerySet {
  const offsets = (lists: number[][]): Int32Array => {
    const o = new Int32Array(lists.length + 1);
    lists.forEach((l, q) => (o[q + 1] = o[q] + l.length));
    return o;
  };
  return {
    users: Int32Array.from(histories, (_, q) => q),
    times: new Float64Array(histories.length),
    historyOffsets: offsets(histories),
    historyItems: Int32Array.from(histories.flat()),
    historyTimes: new Float64Array(histories.flat().length),
    targetOffsets: offsets(targets),
    targetItems: Int32Array.from(targets.flat()),
  };
}

/** A scorer returning fixed rows per user (scores[user] is the row). */
export function fixedScorer(scores: number[][]): Scorer {
  return {
    name: "fixed",
    params: {},
    score(batch: QueryBatch, out: Float32Array): void {
      const n = scores[0].length;
      for (let q = 0; q < batch.users.length; q++) out.set(scores[batch.users[q]], q * n);
    },
  };
}
